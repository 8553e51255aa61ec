"""Checked exercises for notebook 02 (the exact posterior p(z|x)); the references are hidden here."""

from __future__ import annotations

import torch
from torch.distributions import Normal

from vae_teach.exercises._check import check
from vae_teach.exercises._messages import text
from vae_teach.exercises._messages import use_language as use_language  # re-exported for zh setup cells


def _grid_posterior(z_grid, log_prior, log_lik):
    """p(z|x) on an even grid by Bayes: p(x|z) p(z) / Σ p(x|z) p(z) Δz: [G], [G], [G] -> density [G]."""
    dz = z_grid[1] - z_grid[0]
    log_joint = log_prior + log_lik
    log_evidence = torch.logsumexp(log_joint, dim=0) + torch.log(dz)
    return (log_joint - log_evidence).exp()


def _lg_posterior(w, b, sigma, x):
    """Linear-Gaussian posterior: mean [n, k], cov [k, k] = (I + WᵀW/σ²)⁻¹ (Bishop PRML 12.42)."""
    k = w.shape[1]
    cov = torch.linalg.inv(torch.eye(k, dtype=w.dtype) + w.T @ w / sigma**2)
    mean = (x - b) @ w @ cov.T / sigma**2
    return mean, cov


def _grid_case(x: float, sigma: float = 0.5) -> tuple[torch.Tensor, ...]:
    """The 1-D model z ~ N(0, 1), x|z ~ N(z², σ²) on a grid: z [G], log p(z) [G], log p(x|z) [G]."""
    z = torch.linspace(-4, 4, 801, dtype=torch.float64)
    return z, Normal(0.0, 1.0).log_prob(z), Normal(z**2, sigma).log_prob(torch.tensor(x, dtype=torch.float64))


def _lg_case(seed: int, n: int = 4, d: int = 3, k: int = 2) -> tuple[torch.Tensor, ...]:
    """A fixed linear-Gaussian case: W [d, k], b [d], sigma, x [n, d] (float64)."""
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(d, k, generator=g, dtype=torch.float64)
    b = torch.randn(d, generator=g, dtype=torch.float64)
    x = torch.randn(n, d, generator=g, dtype=torch.float64) * 2
    return w, b, torch.tensor(0.7, dtype=torch.float64), x


def check_grid_posterior(fn) -> bool | None:
    """Check fn(z_grid, log_prior, log_lik) -> posterior density on the grid (integrates to 1).

    Exercise in 02 Try it.
    """
    return check(
        text("02.grid_posterior.name"), fn, _grid_posterior,
        cases=[_grid_case(1.5), _grid_case(-0.3), _grid_case(3.0, 0.2)],
        hint=text("02.grid_posterior.hint"),
        atol=1e-6, rtol=1e-4,
    )


def check_linear_gaussian_posterior(fn) -> bool | None:
    """Check fn(W, b, sigma, x) -> (mean [n, k], cov [k, k]) of p(z|x) for the linear-Gaussian model.

    Exercise in 02 Try it.
    """
    return check(
        text("02.lg_posterior.name"), fn, _lg_posterior, cases=[_lg_case(7), _lg_case(8, n=2, d=4, k=3)],
        hint=text("02.lg_posterior.hint"),
        atol=1e-6, rtol=1e-5,
    )
