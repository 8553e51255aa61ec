"""Reconstruction terms as negative log-likelihoods: which familiar losses (BCE, MSE, cross-entropy) are NLLs, and when.

Every function returns nats per image (summed over the pixel dim), the unit of the ELBO in eq. 3 of
Kingma & Welling (2013). The familiar losses are written by hand only where the comparison is the lesson;
the likelihoods themselves come from torch.distributions.
"""

from __future__ import annotations

import math

import torch
from torch import distributions as D

_EPS = 1e-7


def _check_pair(x: torch.Tensor, param: torch.Tensor, name: str) -> None:
    """Raise ValueError unless x and param are float tensors of one shape [..., d]."""
    if not (isinstance(x, torch.Tensor) and isinstance(param, torch.Tensor)):
        raise ValueError(f"x and {name} must be tensors, got {type(x).__name__} and {type(param).__name__}")
    if x.shape != param.shape or x.dim() == 0:
        raise ValueError(f"x and {name} must have one shape [..., d], got {list(x.shape)} and {list(param.shape)}")


def bernoulli_nll(x: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
    """−log Bernoulli(x; probs) summed over pixels: [..., d] x [..., d] -> [...] (the decoder of AEVB appendix C.1)."""
    _check_pair(x, probs, "probs")
    if ((x != 0) & (x != 1)).any():
        raise ValueError("x must be binary {0, 1} for a Bernoulli likelihood, got values strictly between 0 and 1")
    return -D.Bernoulli(probs=probs.clamp(_EPS, 1 - _EPS)).log_prob(x.to(probs.dtype)).sum(-1)


def bce(x: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
    """BCE −[x log p + (1−x) log(1−p)] summed over pixels, for any x in [0, 1]: [..., d] -> [...]."""
    _check_pair(x, probs, "probs")
    if (x < 0).any() or (x > 1).any():
        raise ValueError("x must lie in [0, 1] for BCE, got values outside it")
    p = probs.clamp(_EPS, 1 - _EPS)
    return -(x * p.log() + (1 - x) * (1 - p).log()).sum(-1)


def bce_mass(probs: torch.Tensor) -> torch.Tensor:
    """∫₀¹ exp(−BCE(x; p)) dx = (2p − 1) / logit(p), the total 'probability' BCE gives grey values: [...] -> [...]."""
    if not isinstance(probs, torch.Tensor) or (probs <= 0).any() or (probs >= 1).any():
        raise ValueError("probs must be a tensor with values strictly inside (0, 1)")
    p = probs
    near_half = (p - 0.5).abs() < 1e-4
    safe = torch.where(near_half, torch.full_like(p, 0.25), p)
    mass = (2 * safe - 1) / torch.logit(safe)
    return torch.where(near_half, 0.5 - (2.0 / 3.0) * (p - 0.5) ** 2, mass)


def bce_mass_numeric(probs: torch.Tensor, n_grid: int = 2001) -> torch.Tensor:
    """The same integral ∫₀¹ p^x (1−p)^(1−x) dx by the trapezoid rule on n_grid points: [...] -> [...]."""
    if not isinstance(probs, torch.Tensor) or (probs <= 0).any() or (probs >= 1).any():
        raise ValueError("probs must be a tensor with values strictly inside (0, 1)")
    if n_grid < 2:
        raise ValueError(f"n_grid must be at least 2, got {n_grid}")
    x = torch.linspace(0, 1, n_grid, dtype=probs.dtype)
    p = probs.unsqueeze(-1)
    density = torch.exp(x * p.log() + (1 - x) * (1 - p).log())
    return torch.trapezoid(density, x, dim=-1)


def gaussian_nll(x: torch.Tensor, mean: torch.Tensor, sigma_x: float | torch.Tensor) -> torch.Tensor:
    """−log N(x; mean, σ_x²I) summed over pixels, σ_x the decoder's noise sd: [..., d] -> [...] (AEVB appendix C.2)."""
    _check_pair(x, mean, "mean")
    sigma_x = torch.as_tensor(sigma_x, dtype=mean.dtype)
    if (sigma_x <= 0).any():
        raise ValueError(f"sigma_x must be positive, got {sigma_x}")
    return -D.Normal(mean, sigma_x).log_prob(x).sum(-1)


def mse_as_gaussian_nll(x: torch.Tensor, mean: torch.Tensor, sigma_x: float) -> torch.Tensor:
    """The summed squared error rewritten as an NLL: SSE / (2σ_x²) + (d/2) log(2πσ_x²): [..., d] -> [...]."""
    _check_pair(x, mean, "mean")
    if not sigma_x > 0:
        raise ValueError(f"sigma_x must be positive, got {sigma_x}")
    d = x.shape[-1]
    sse = ((x - mean) ** 2).sum(-1)
    return sse / (2 * sigma_x**2) + 0.5 * d * math.log(2 * math.pi * sigma_x**2)


def categorical_nll(levels: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """−log Categorical(levels; softmax(logits)) summed over pixels: [..., d] ints x [..., d, L] -> [...]."""
    if not isinstance(levels, torch.Tensor) or levels.dtype not in (torch.int64, torch.int32):
        raise ValueError("levels must be an integer tensor [..., d] of grey levels")
    if logits.shape[:-1] != levels.shape:
        raise ValueError(f"logits must be [..., d, L] matching levels [..., d], got {list(logits.shape)}"
                         f" and {list(levels.shape)}")
    if (levels < 0).any() or (levels >= logits.shape[-1]).any():
        raise ValueError(f"levels must lie in 0..{logits.shape[-1] - 1}")
    return -D.Categorical(logits=logits).log_prob(levels.long()).sum(-1)
