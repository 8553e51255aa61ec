"""Checkers for notebook 07 (KL versus reconstruction): the β loss, a warm-up schedule, dimensions in use."""

from __future__ import annotations

import torch

from vae_teach.exercises._check import check
from vae_teach.exercises._messages import text, use_language  # noqa: F401 (use_language: re-exported)


def _beta_loss(distortion, rate, beta):
    """β-weighted loss: distortion + β·rate, per image: [n], [n], float -> [n] (AEVB eq. 10 when β = 1)."""
    return distortion + beta * rate


def _warmup(epoch, warmup_epochs):
    """Linear KL warm-up: β grows from 0 at epoch 0 to 1 at `warmup_epochs`, then stays 1."""
    return min(1.0, epoch / warmup_epochs)


def _dims_in_use(kl_per_dim, threshold=0.1):
    """How many latent dims carry strictly more than `threshold` nats of KL: [k] -> int."""
    return int((torch.as_tensor(kl_per_dim) > threshold).sum())


def check_beta_loss(answer):
    """Check `answer(distortion, rate, beta) -> [n]`, the loss minimised for a given β.

    Exercise in 07 Try it.
    """
    g = torch.Generator().manual_seed(7)
    d, r = 50 + 10 * torch.rand(4, generator=g), 5 * torch.rand(4, generator=g)
    cases = [(d, r, 0.0), (d, r, 1.0), (d, r, 4.0)]
    return check(
        text("07.beta_loss.name"), answer, _beta_loss, cases,
        hint=text("07.beta_loss.hint"),
    )


def check_warmup(answer):
    """Check `answer(epoch, warmup_epochs) -> float`, a linear warm-up from β = 0 to β = 1.

    Exercise in 07 Try it.
    """
    cases = [(0, 10), (3, 10), (10, 10), (25, 10), (1, 4)]
    return check(
        text("07.warmup.name"), answer, _warmup, cases,
        hint=text("07.warmup.hint"),
    )


def check_dims_in_use(answer):
    """Check `answer(kl_per_dim, threshold) -> int`, the count of latent dims carrying more than `threshold` nats.

    Exercise in 07 Try it.
    """
    cases = [
        (torch.tensor([2.3, 0.001, 0.5, 0.0]), 0.01),
        (torch.tensor([0.02, 0.005, 0.011]), 0.01),
        (torch.zeros(8), 0.01),
        (torch.tensor([1.0, 0.3, 0.2]), 0.25),
        (torch.tensor([0.1, 0.25, 0.05, 0.1]), 0.1),  # entries equal to the threshold do not count
    ]
    return check(
        text("07.dims_in_use.name"), answer, _dims_in_use, cases, atol=0, rtol=0, integer=True,
        form_hint=text("07.dims_in_use.form"),
        hint=text("07.dims_in_use.hint"),
    )
