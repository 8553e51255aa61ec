"""Two Monte Carlo estimators of the gradient of E_{z~N(mu, sigma^2)}[f(z)]: pathwise and score function."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from vae_teach import _checks as check
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
    """n one-sample estimates of (d/dmu, d/dsigma) E[f(z)], z = mu + sigma*eps: -> ([n], [n]) (AEVB §2.4).

    Taught in 05 §4.
    """
    check.choice("method", method, METHODS)
    check.function("f", f)
    count("n", n)
    check.generator("generator", generator)
    mu, sigma = check.number("mu", mu), check.number("sigma", sigma)
    if sigma <= 0:
        raise ValueError(f"mu must be finite and sigma a number > 0, got mu={mu!r}, sigma={sigma!r}")
    eps = torch.randn(n, generator=generator, dtype=torch.float64)
    if method == "reparam":
        z = (mu + sigma * eps).requires_grad_(True)
        fz = check.returned_like("f", f(z), z)
        if not fz.requires_grad:
            raise ValueError("method 'reparam' needs f differentiable in torch; got an f without a gradient")
        (dfdz,) = torch.autograd.grad(fz.sum(), z)
        return dfdz, dfdz * eps
    with torch.no_grad():
        fz = check.returned_like("f", f(mu + sigma * eps), eps)
    return fz * eps / sigma, fz * (eps * eps - 1) / sigma


def true_gradient(f: Callable[[torch.Tensor], torch.Tensor], mu: float, sigma: float) -> tuple[float, float]:
    """Exact (d/dmu, d/dsigma) of E_{N(mu, sigma^2)}[f(z)]: 80-node Gauss–Hermite quadrature and autograd.

    Used by the GradientExplorer of 05 Going deeper D6; not called from a notebook.
    """
    from vae_teach.toy import gauss_hermite

    t, w = gauss_hermite(80)
    p = torch.tensor([mu, sigma], dtype=torch.float64, requires_grad=True)
    value = (w * f(p[0] + math.sqrt(2.0) * p[1] * t)).sum()
    (g,) = torch.autograd.grad(value, p)
    return float(g[0]), float(g[1])
