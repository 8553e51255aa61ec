"""Naive Monte Carlo estimates of the evidence log p(x) = log ∫ p(x|z) p(z) dz, sampling z from the prior."""

from __future__ import annotations

import math

import torch

from vae_teach import _checks as check
from vae_teach import bounds


def naive_mc_log_evidence(model, x: torch.Tensor, n: int, generator: torch.Generator | None = None,
                          chunk: int = 4096) -> torch.Tensor:
    """log (1/n) Σ_s p(x|z_s), z_s ~ p(z): x [m, d] (or [m] for a 1-D model) -> [m] (AEVB §2.1).

    Taught in 01 §3.
    """
    if not (hasattr(model, "prior") and hasattr(model, "likelihood")):
        raise ValueError(f"model must have .prior() and .likelihood(z), got {type(model).__name__}")
    d = getattr(model, "d", None)  # the toy models say their data dimension; others are trusted
    x = check.tensor("x", x, kind="float", finite=False)
    if x.dim() == 1 and d in (1, None):
        x = x.unsqueeze(1)  # a 1-D model's x [m] as [m, 1], matching its event shape [1]
    check.tensor("x", x, ("m", "d" if d is None else d), kind="float", min_rows=1)
    check.count("n", n)
    check.count("chunk", chunk)
    check.generator("generator", generator)
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
    """|p̂(x)/p(x) − 1| from log values: [m], [m] -> [m] (how far the evidence estimate is, as a fraction).

    Taught in 01 §3.
    """
    check.tensor("log_estimate", log_estimate, allow_inf=True)  # -inf: every sample missed x
    check.tensor("log_exact", log_exact, allow_inf=True)
    check.same_shape("log_estimate and log_exact", log_estimate, log_exact)
    return torch.expm1(log_estimate - log_exact).abs()
