"""Two Monte Carlo estimators of the gradient of E_{z~N(mu, sigma^2)}[f(z)]: pathwise and score function."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from vae_teach._checks import count

METHODS = ("reparam", "score")


def grad_samples(
    f: Callable[[torch.Tensor], torch.Tensor],
    mu: float,
    sigma: float,
    n: int,
    method: str,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """n one-sample estimates of (d/dmu, d/dsigma) E[f(z)], z = mu + sigma*eps: -> ([n], [n]) (AEVB §2.4)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if not callable(f):
        raise ValueError(f"f must be a callable tensor -> tensor (elementwise), got {type(f).__name__}")
    count("n", n)
    try:
        mu, sigma = float(mu), float(sigma)
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(f"mu and sigma must be numbers, got {mu!r} and {sigma!r}") from None
    if not math.isfinite(mu) or not math.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"mu must be finite and sigma a number > 0, got mu={mu!r}, sigma={sigma!r}")
    eps = torch.randn(n, generator=generator, dtype=torch.float64)
    if method == "reparam":
        z = (mu + sigma * eps).requires_grad_(True)
        fz = f(z)
        if fz.shape != z.shape:
            raise ValueError(f"f must act elementwise: for z [{n}] it returned {list(fz.shape)}")
        if not fz.requires_grad:
            raise ValueError("method 'reparam' needs f differentiable in torch; got an f without a gradient")
        (dfdz,) = torch.autograd.grad(fz.sum(), z)
        return dfdz, dfdz * eps
    with torch.no_grad():
        fz = f(mu + sigma * eps)
    if fz.shape != eps.shape:
        raise ValueError(f"f must act elementwise: for z [{n}] it returned {list(fz.shape)}")
    return fz * eps / sigma, fz * (eps * eps - 1) / sigma


def true_gradient(f: Callable[[torch.Tensor], torch.Tensor], mu: float, sigma: float) -> tuple[float, float]:
    """Exact (d/dmu, d/dsigma) of E_{N(mu, sigma^2)}[f(z)]: 80-node Gauss–Hermite quadrature and autograd."""
    from vae_teach.toy import gauss_hermite

    t, w = gauss_hermite(80)
    p = torch.tensor([mu, sigma], dtype=torch.float64, requires_grad=True)
    value = (w * f(p[0] + math.sqrt(2.0) * p[1] * t)).sum()
    (g,) = torch.autograd.grad(value, p)
    return float(g[0]), float(g[1])
