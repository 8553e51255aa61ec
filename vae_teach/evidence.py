"""Naive Monte Carlo estimates of the evidence log p(x) = log ∫ p(x|z) p(z) dz, sampling z from the prior."""

from __future__ import annotations

import math

import torch

from vae_teach import bounds


def naive_mc_log_evidence(model, x: torch.Tensor, n: int, generator: torch.Generator | None = None,
                          chunk: int = 4096) -> torch.Tensor:
    """log (1/n) Σ_s p(x|z_s), z_s ~ p(z): x [m, d] (or [m] for a 1-D model) -> [m] (AEVB §2.1)."""
    if not isinstance(x, torch.Tensor) or x.dim() not in (1, 2) or not x.is_floating_point():
        got = f"{type(x).__name__} {list(x.shape) if isinstance(x, torch.Tensor) else ''}".strip()
        raise ValueError(f"x must be a float tensor [m, d] (or [m] for a 1-D model), got {got}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int (number of prior samples), got {n!r}")
    if not (hasattr(model, "prior") and hasattr(model, "likelihood")):
        raise ValueError(f"model must have .prior() and .likelihood(z), got {type(model).__name__}")
    if x.dim() == 1:
        x = x.unsqueeze(1)  # a 1-D model's x [m] as [m, 1], matching its event shape [1]
    prior = model.prior()
    parts = []
    done = 0
    while done < n:
        s = min(chunk, n - done)
        z = bounds.rsample(prior, s, generator)
        # batch [s] likelihoods against rows of x: x[:, None] broadcasts to log p(x_i | z_j), [m, s]
        parts.append(model.likelihood(z).log_prob(x.unsqueeze(1)))
        done += s
    log_px_given_z = torch.cat(parts, dim=1)
    return torch.logsumexp(log_px_given_z, dim=1) - math.log(n)


def relative_error(log_estimate: torch.Tensor, log_exact: torch.Tensor) -> torch.Tensor:
    """|p̂(x)/p(x) − 1| from log values: [m], [m] -> [m] (how far the evidence estimate is, as a fraction)."""
    if log_estimate.shape != log_exact.shape:
        raise ValueError("log_estimate and log_exact must have the same shape, got "
                         f"{list(log_estimate.shape)} "
                         f"and {list(log_exact.shape)}")
    return torch.expm1(log_estimate - log_exact).abs()
