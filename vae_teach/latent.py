"""Looking at a latent space: the figure-4 manifold grid, interpolation, latents versus true factors."""

from __future__ import annotations

import math

import torch
from torch.distributions import Normal

from vae_teach import _checks as check


def _as_float(name: str, t, shape=None, min_rows: int = 0) -> torch.Tensor:
    """`t` as a finite float32/64 tensor of the given shape (ints, bools, halves and numpy arrays are converted)."""
    t = check.tensor(name, t, shape, kind="any", convert=True, min_rows=min_rows)
    return t if t.dtype in (torch.float32, torch.float64) else t.to(torch.get_default_dtype())


def unit_grid(n: int, margin: float | None = None) -> torch.Tensor:
    """n evenly spaced points strictly inside (0, 1): [n]; default margin 1/(2n), i.e. cell centres."""
    n = check.count("n", n)
    margin = 0.5 / n if margin is None else check.number("margin", margin)
    if n == 1 and margin == 0.5:
        return torch.tensor([0.5])
    if not 0.0 < margin < 0.5:
        raise ValueError(f"margin must lie in (0, 0.5) so the grid stays inside (0, 1), got {margin!r}")
    return torch.linspace(margin, 1.0 - margin, n)


def manifold_grid(n: int, margin: float | None = None) -> torch.Tensor:
    """An n×n grid on the unit square mapped through the Gaussian inverse CDF: [n*n, 2] z (AEVB figure 4).

    Row r, column c of the picture is z = (Φ⁻¹(u_c), Φ⁻¹(u_{n-1-r})): z₁ grows to the right, z₂ grows upward.
    """
    z = Normal(0.0, 1.0).icdf(unit_grid(n, margin))
    z1 = z.repeat(n)  # columns: left to right
    z2 = z.flip(0).repeat_interleave(n)  # rows: top to bottom, so z₂ decreases down the page
    return torch.stack([z1, z2], dim=1)


def interpolate(a, b, steps: int) -> torch.Tensor:
    """Straight line from a to b in `steps` points, both ends included: [d], [d] -> [steps, d]."""
    a, b = _as_float("a", a, ("d",)), _as_float("b", b, ("d",))
    check.same_shape("a and b", a, b)
    check.count("steps", steps, minimum=2)  # both ends are included
    t = torch.linspace(0.0, 1.0, steps, dtype=a.dtype).unsqueeze(1)
    return (1 - t) * a + t * b


def correlation_matrix(latents, factors) -> torch.Tensor:
    """Pearson correlation of every latent dim with every factor: [n, k], [n, m] -> [k, m] in [-1, 1].

    A constant column (zero variance) has no defined correlation; its row or column is 0.
    """
    z, f = _as_float("latents", latents, ("n", "k"), min_rows=2), _as_float("factors", factors)
    f = check.tensor("factors", f, (len(z),) if f.dim() == 1 else (len(z), "m")).reshape(len(z), -1)
    dtype = torch.promote_types(z.dtype, f.dtype)
    zs, fs = _standardise(z.to(dtype)), _standardise(f.to(dtype))
    return (zs.T @ fs).clamp(-1.0, 1.0)


def _standardise(x: torch.Tensor) -> torch.Tensor:
    """Columns centred and scaled to unit norm, a constant column to 0: [n, k] -> [n, k].

    Each column is first divided by its largest |value|, so squares neither overflow (1e30) nor underflow.
    """
    peak = x.abs().amax(0)
    x = x / torch.where(peak > 0, peak, torch.ones_like(peak))
    xc = x - x.mean(0)
    norm = xc.norm(dim=0)
    return xc / torch.where(norm > 0, norm, torch.ones_like(norm))


def nearest_distance(points, reference) -> torch.Tensor:
    """Euclidean distance from each point to its nearest reference point: [n, k], [m, k] -> [n]."""
    p = _as_float("points", points, ("n", "k"))
    r = _as_float("reference", reference, ("m", p.shape[1]), min_rows=1)
    return torch.cdist(p, r.to(p.dtype)).min(dim=1).values


def aggregate_log_density(z, mu, sigma) -> torch.Tensor:
    """log q(z) of the aggregate posterior q(z) = (1/n) Σᵢ N(z; μᵢ, diag σᵢ²): [m, k], [n, k], [n, k] -> [m]."""
    mu = _as_float("mu", mu, ("n", "k"), min_rows=1)
    z, sigma = _as_float("z", z, ("m", mu.shape[1])), _as_float("sigma", sigma, tuple(mu.shape))
    check.in_range("sigma", sigma, 0, math.inf, "standard deviations", open_=True)
    log_q = Normal(mu.unsqueeze(0), sigma.unsqueeze(0)).log_prob(z.unsqueeze(1)).sum(-1)  # [m, n]
    return torch.logsumexp(log_q, dim=1) - torch.log(torch.tensor(float(len(mu)), dtype=log_q.dtype))
