"""Checked exercises for notebook 01 (the generative story); the references are hidden here."""

from __future__ import annotations

import math

import torch
from torch.distributions import Independent, Normal

from vae_teach.exercises._check import check
from vae_teach.exercises._messages import text
from vae_teach.exercises._messages import use_language as use_language  # re-exported for zh setup cells


def _model_case(seed: int = 1, n: int = 5, d: int = 3, k: int = 2) -> tuple[torch.Tensor, ...]:
    """A fixed linear-Gaussian case: W [d, k], b [d], sigma (tensor), eps_z [n, k], eps_x [n, d]."""
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(d, k, generator=g)
    b = torch.randn(d, generator=g)
    sigma = torch.tensor(0.5)
    return w, b, sigma, torch.randn(n, k, generator=g), torch.randn(n, d, generator=g)


def _sample_x(w, b, sigma, eps_z, eps_x):
    """Ancestral sample z = eps_z ~ N(0, I), then x = W z + b + sigma * eps_x: -> [n, d] (AEVB 2.1)."""
    z = eps_z
    return z @ w.T + b + sigma * eps_x


def _log_joint(x, z, w, b, sigma):
    """log p(x, z) = log N(z; 0, I) + log N(x; W z + b, sigma² I): [n, d], [n, k] -> [n]."""
    prior = Independent(Normal(torch.zeros_like(z), torch.ones_like(z)), 1)
    lik = Independent(Normal(z @ w.T + b, sigma * torch.ones_like(x)), 1)
    return prior.log_prob(z) + lik.log_prob(x)


def _naive_log_evidence(log_lik):
    """log p̂(x) = log (1/S) Σ_s exp(log p(x|z_s)), stably: [S] -> scalar (AEVB §2.1, by Monte Carlo)."""
    return torch.logsumexp(log_lik, dim=0) - math.log(log_lik.shape[0])


def _explain_tuple(got, want, case) -> str | None:
    """The form hint for a common slip: returning (z, x) like LinearGaussian.sample instead of x."""
    if isinstance(got, tuple | list):
        return text("01.sample_x.tuple")
    return None


def check_sample_x(fn) -> bool | None:
    """Check fn(W, b, sigma, eps_z, eps_x) -> x [n, d], an ancestral sample of the linear-Gaussian model.

    Exercise in 01 Try it.
    """
    return check(
        text("01.sample_x.name"), fn, _sample_x, cases=[_model_case(1), _model_case(2, n=4, d=5, k=3)],
        hint=text("01.sample_x.hint"),
        explain=_explain_tuple,
    )


def check_log_joint(fn) -> bool | None:
    """Check fn(x, z, W, b, sigma) -> log p(x, z) per row [n].

    Exercise in 01 Try it.
    """
    cases = []
    for seed in (3, 4):
        w, b, sigma, eps_z, eps_x = _model_case(seed)
        cases.append((_sample_x(w, b, sigma, eps_z, eps_x), eps_z, w, b, sigma))
    return check(
        text("01.log_joint.name"), fn, _log_joint, cases=cases,
        hint=text("01.log_joint.hint"),
    )


def check_naive_log_evidence(fn) -> bool | None:
    """Check fn(log_lik [S]) -> scalar log of the mean of exp(log_lik).

    Exercise in 01 Try it.
    """
    g = torch.Generator().manual_seed(5)
    cases = [(torch.randn(50, generator=g) * 3 - 40,), (torch.tensor([-1000.0, -1001.0, -1002.5]),)]
    return check(
        text("01.naive_evidence.name"), fn, _naive_log_evidence, cases=cases,
        hint=text("01.naive_evidence.hint"),
    )
