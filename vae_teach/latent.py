"""Looking at a latent space: the figure-4 manifold grid, interpolation, latents versus true factors."""

from __future__ import annotations

import torch
from torch.distributions import Normal


def _as_float(t) -> torch.Tensor:
    """`t` as a floating tensor (ints and numpy arrays are converted)."""
    t = torch.as_tensor(t)
    return t if t.is_floating_point() else t.to(torch.get_default_dtype())


def unit_grid(n: int, margin: float | None = None) -> torch.Tensor:
    """n evenly spaced points strictly inside (0, 1): [n]; default margin 1/(2n), i.e. cell centres."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if margin is None:
        margin = 0.5 / n
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
    a, b = _as_float(a), _as_float(b)
    if a.dim() != 1 or a.shape != b.shape:
        raise ValueError(f"a and b must be same-length vectors [d], got {list(a.shape)} and {list(b.shape)}")
    if not isinstance(steps, int) or steps < 2:
        raise ValueError(f"steps must be an int >= 2 (both ends are included), got {steps!r}")
    t = torch.linspace(0.0, 1.0, steps, dtype=a.dtype).unsqueeze(1)
    return (1 - t) * a + t * b


def correlation_matrix(latents, factors) -> torch.Tensor:
    """Pearson correlation of every latent dim with every factor: [n, k], [n, m] -> [k, m] in [-1, 1].

    A constant column (zero variance) has no defined correlation; its row or column is 0.
    """
    z, f = _as_float(latents), _as_float(factors)
    if f.dim() == 1:
        f = f.unsqueeze(1)
    if z.dim() != 2 or f.dim() != 2 or z.shape[0] != f.shape[0] or z.shape[0] < 2:
        raise ValueError(
            f"latents must be [n, k] and factors [n, m] with the same n >= 2, "
            f"got {list(z.shape)} and {list(f.shape)}"
        )
    dtype = torch.promote_types(z.dtype, f.dtype)
    z, f = z.to(dtype), f.to(dtype)
    zc, fc = z - z.mean(0), f - f.mean(0)
    zs, fs = zc.norm(dim=0), fc.norm(dim=0)
    cov = zc.T @ fc
    denom = zs.unsqueeze(1) * fs.unsqueeze(0)
    return torch.where(denom > 0, cov / denom.clamp_min(torch.finfo(dtype).tiny), torch.zeros_like(cov))


def nearest_distance(points, reference) -> torch.Tensor:
    """Euclidean distance from each point to its nearest reference point: [n, k], [m, k] -> [n]."""
    p, r = _as_float(points), _as_float(reference)
    if p.dim() != 2 or r.dim() != 2 or p.shape[1] != r.shape[1] or r.shape[0] < 1:
        raise ValueError(
            f"points must be [n, k] and reference [m, k] with m >= 1, got {list(p.shape)} and {list(r.shape)}"
        )
    return torch.cdist(p, r.to(p.dtype)).min(dim=1).values


def aggregate_log_density(z, mu, sigma) -> torch.Tensor:
    """log q(z) of the aggregate posterior q(z) = (1/n) Σᵢ N(z; μᵢ, diag σᵢ²): [m, k], [n, k], [n, k] -> [m]."""
    z, mu, sigma = _as_float(z), _as_float(mu), _as_float(sigma)
    if z.dim() != 2 or mu.dim() != 2 or mu.shape != sigma.shape or z.shape[1] != mu.shape[1] or len(mu) < 1:
        raise ValueError(
            f"z must be [m, k], mu and sigma [n, k] with n >= 1, "
            f"got {list(z.shape)}, {list(mu.shape)}, {list(sigma.shape)}"
        )
    if not bool((sigma > 0).all()):
        raise ValueError("sigma must be positive everywhere, got a value <= 0")
    log_q = Normal(mu.unsqueeze(0), sigma.unsqueeze(0)).log_prob(z.unsqueeze(1)).sum(-1)  # [m, n]
    return torch.logsumexp(log_q, dim=1) - torch.log(torch.tensor(float(len(mu)), dtype=log_q.dtype))
