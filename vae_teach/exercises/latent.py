"""Checkers for notebook 08 (the latent space): the inverse-CDF grid, interpolation, and correlation."""

from __future__ import annotations

import torch
from torch.distributions import Normal

from vae_teach import latent
from vae_teach.exercises._check import check
from vae_teach.exercises._messages import text
from vae_teach.exercises._messages import use_language as use_language  # re-exported for zh setup cells


def _inverse_cdf(u):
    """Standard-normal inverse CDF Φ⁻¹, elementwise: [...] in (0, 1) -> [...] z (AEVB figure 4)."""
    return Normal(0.0, 1.0).icdf(torch.as_tensor(u, dtype=torch.float32))


def _pearson(x, y):
    """Pearson correlation of two samples: [n], [n] -> scalar in [-1, 1]."""
    x, y = torch.as_tensor(x).reshape(-1, 1), torch.as_tensor(y).reshape(-1, 1)
    return latent.correlation_matrix(x, y)[0, 0]


def check_inverse_cdf(answer):
    """Check `answer(u) -> z`, the standard-normal inverse CDF applied to every entry of u.

    Exercise in 08 Try it.
    """
    cases = [(torch.tensor([0.5]),), (torch.tensor([0.05, 0.25, 0.75, 0.95]),), (torch.tensor([[0.1, 0.9]]),)]
    return check(
        text("08.inverse_cdf.name"), answer, _inverse_cdf, cases, atol=1e-4,
        hint=text("08.inverse_cdf.hint"),
    )


def check_interpolate(answer):
    """Check `answer(a, b, steps) -> [steps, d]`, the straight line from a to b with both ends included.

    Exercise in 08 Try it.
    """
    cases = [
        (torch.tensor([0.0, 0.0]), torch.tensor([1.0, 2.0]), 3),
        (torch.tensor([-1.0, 0.5, 2.0]), torch.tensor([1.0, 0.5, -2.0]), 5),
    ]
    return check(
        text("08.interpolate.name"), answer, latent.interpolate, cases,
        hint=text("08.interpolate.hint"),
    )


def check_correlation(answer):
    """Check `answer(x, y) -> float`, the Pearson correlation of two equally long samples.

    Exercise in 08 Try it.
    """
    g = torch.Generator().manual_seed(3)
    x = torch.randn(100, generator=g)
    cases = [(x, 2 * x + 1), (x, -x), (x, x + torch.randn(100, generator=g))]
    return check(
        text("08.correlation.name"), answer, _pearson, cases, atol=1e-4,
        hint=text("08.correlation.hint"),
    )
