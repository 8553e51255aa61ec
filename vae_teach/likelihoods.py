"""Reconstruction terms as negative log-likelihoods: which familiar losses (BCE, MSE, cross-entropy) are NLLs, and when.

Every function returns nats per image (summed over the pixel dim), the unit of the ELBO in eq. 3 of
Kingma & Welling (2013). The familiar losses are written by hand only where the comparison is the lesson;
the likelihoods themselves come from torch.distributions.
"""

from __future__ import annotations

import math

import torch
from torch import distributions as D

from vae_teach import _checks as check

_EPS = 1e-7
_PROBS = (0, 1, "probabilities; for logits, pass torch.sigmoid(logits)")


def _check_open_probs(probs) -> None:
    """Raise ValueError unless probs is a finite float tensor with every value strictly inside (0, 1)."""
    check.in_range("probs", check.tensor("probs", probs, kind="float"), 0, 1, "probabilities", open_=True)


def _check_sigma_x(sigma_x, dtype: torch.dtype) -> float:
    """sigma_x as a float > 0 whose square is a normal number in dtype (else the NLL is 0/0)."""
    check.number("sigma_x", sigma_x, above=0)
    info = torch.finfo(dtype)
    return check.number("sigma_x", sigma_x, above=info.tiny**0.5, below=info.max**0.5,
                        why=f"so that sigma_x² is a normal {str(dtype).removeprefix('torch.')} number")


def _check_pair(x, param, name: str, x_range=None, param_range=None) -> torch.Tensor:
    """x (ints and bools cast to param's dtype), once x and param are finite, of one shape [..., d], in range."""
    x, param = check.tensor("x", x, ("...", "d"), kind="any"), check.tensor(name, param, ("...", "d"), kind="float")
    check.same_shape(f"x and {name}", x, param)
    if x_range:
        check.in_range("x", x, *x_range)
    if param_range:
        check.in_range(name, param, *param_range)
    return x if x.is_floating_point() else x.to(param.dtype)


def bernoulli_nll(x: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
    """−log Bernoulli(x; probs) summed over pixels: [..., d] x [..., d] -> [...] (the decoder of AEVB appendix C.1).

    Taught in 04 §3.
    """
    x = _check_pair(x, probs, "probs", param_range=_PROBS)
    if ((x != 0) & (x != 1)).any():
        raise ValueError("x must be binary {0, 1} for a Bernoulli likelihood, got values strictly between 0 and 1")
    return -D.Bernoulli(probs=probs.clamp(_EPS, 1 - _EPS)).log_prob(x).sum(-1)


def bce(x: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
    """BCE −[x log p + (1−x) log(1−p)] summed over pixels, for any x in [0, 1]: [..., d] -> [...].

    Taught in 04 Going deeper D2.
    """
    x = _check_pair(x, probs, "probs", x_range=(0, 1, "grey values for BCE"), param_range=_PROBS)
    p = probs.clamp(_EPS, 1 - _EPS)
    return -(x * p.log() + (1 - x) * (1 - p).log()).sum(-1)


def bce_mass(probs: torch.Tensor) -> torch.Tensor:
    """∫₀¹ exp(−BCE(x; p)) dx = (2p − 1) / logit(p), the total 'probability' BCE gives grey values: [...] -> [...].

    Taught in 04 Going deeper D2.
    """
    _check_open_probs(probs)
    p = probs
    near_half = (p - 0.5).abs() < 1e-4
    safe = torch.where(near_half, torch.full_like(p, 0.25), p)
    mass = (2 * safe - 1) / torch.logit(safe)
    return torch.where(near_half, 0.5 - (2.0 / 3.0) * (p - 0.5) ** 2, mass)


def bce_mass_numeric(probs: torch.Tensor, n_grid: int = 2001) -> torch.Tensor:
    """The same integral ∫₀¹ p^x (1−p)^(1−x) dx by the trapezoid rule on n_grid points: [...] -> [...].

    Taught in 04 Going deeper D2.
    """
    _check_open_probs(probs)
    check.count("n_grid", n_grid, minimum=2)
    x = torch.linspace(0, 1, n_grid, dtype=probs.dtype)
    p = probs.unsqueeze(-1)
    density = torch.exp(x * p.log() + (1 - x) * (1 - p).log())
    return torch.trapezoid(density, x, dim=-1)


def gaussian_nll(x: torch.Tensor, mean: torch.Tensor, sigma_x: float | torch.Tensor) -> torch.Tensor:
    """−log N(x; mean, σ_x²I) summed over pixels, σ_x the decoder's noise sd: [..., d] -> [...] (AEVB appendix C.2).

    Taught in 04 §3.
    """
    x = _check_pair(x, mean, "mean")
    if isinstance(sigma_x, torch.Tensor):  # kept a tensor, so a learnt sigma_x keeps its gradient
        check.in_range("sigma_x", check.tensor("sigma_x", sigma_x, kind="float"), 0, math.inf, open_=True)
        check.broadcastable("sigma_x", sigma_x, "mean", mean)
    else:
        sigma_x = _check_sigma_x(sigma_x, mean.dtype)
    return -D.Normal(mean, sigma_x).log_prob(x).sum(-1)


def mse_as_gaussian_nll(x: torch.Tensor, mean: torch.Tensor, sigma_x: float) -> torch.Tensor:
    """The summed squared error rewritten as an NLL: SSE / (2σ_x²) + (d/2) log(2πσ_x²): [..., d] -> [...].

    Used by tests/test_likelihoods.py (MSE as a Gaussian NLL, 04 §3); not called from a notebook.
    """
    x = _check_pair(x, mean, "mean")
    sigma_x = _check_sigma_x(sigma_x, mean.dtype)
    d = x.shape[-1]
    sse = ((x - mean) ** 2).sum(-1)
    return sse / (2 * sigma_x**2) + 0.5 * d * math.log(2 * math.pi * sigma_x**2)


def categorical_nll(levels: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """−log Categorical(levels; softmax(logits)) summed over pixels: [..., d] ints x [..., d, L] -> [...].

    Taught in 04 §3.
    """
    check.tensor("levels", levels, ("...", "d"), kind="int", nonempty=True)
    check.tensor("logits", logits, ("...", "d", "L"), kind="float")
    if logits.shape[:-1] != levels.shape or logits.shape[-1] < 1:
        raise ValueError(f"logits must be [..., d, L >= 1] matching levels [..., d], got {list(logits.shape)}"
                         f" and {list(levels.shape)}")
    check.in_range("levels", levels, 0, logits.shape[-1] - 1, f"grey levels, L = {logits.shape[-1]}")
    return -D.Categorical(logits=logits).log_prob(levels.long()).sum(-1)
