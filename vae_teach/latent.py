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
    """n evenly spaced points strictly inside (0, 1): [n]; default margin 1/(2n), i.e. cell centres.

    Taught in 08 §2.
    """
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

    Used by latent.code_grid; not called from a notebook.
    """
    z = Normal(0.0, 1.0).icdf(unit_grid(n, margin))
    z1 = z.repeat(n)  # columns: left to right
    z2 = z.flip(0).repeat_interleave(n)  # rows: top to bottom, so z₂ decreases down the page
    return torch.stack([z1, z2], dim=1)


def interpolate(a, b, steps: int) -> torch.Tensor:
    """Straight line from a to b in `steps` points, both ends included: [d], [d] -> [steps, d].

    Taught in 08 Going deeper D3.
    """
    a, b = _as_float("a", a, ("d",)), _as_float("b", b, ("d",))
    check.same_shape("a and b", a, b)
    check.count("steps", steps, minimum=2)  # both ends are included
    t = torch.linspace(0.0, 1.0, steps, dtype=a.dtype).unsqueeze(1)
    return (1 - t) * a + t * b


def correlation_matrix(latents, factors) -> torch.Tensor:
    """Pearson correlation of every latent dim with every factor: [n, k], [n, m] -> [k, m] in [-1, 1].

    A constant column (zero variance) has no defined correlation; its row or column is 0.

    Taught in 08 Going deeper D4.
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
    """Euclidean distance from each point to its nearest reference point: [n, k], [m, k] -> [n].

    Taught in 07 §2.
    """
    p = _as_float("points", points, ("n", "k"))
    r = _as_float("reference", reference, ("m", p.shape[1]), min_rows=1)
    return torch.cdist(p, r.to(p.dtype)).min(dim=1).values


def aggregate_log_density(z, mu, sigma) -> torch.Tensor:
    """log q(z) of the aggregate posterior q(z) = (1/n) Σᵢ N(z; μᵢ, diag σᵢ²): [m, k], [n, k], [n, k] -> [m].

    Taught in 07 Going deeper D3.
    """
    mu = _as_float("mu", mu, ("n", "k"), min_rows=1)
    z, sigma = _as_float("z", z, ("m", mu.shape[1])), _as_float("sigma", sigma, tuple(mu.shape))
    check.in_range("sigma", sigma, 0, math.inf, "standard deviations", open_=True)
    log_q = Normal(mu.unsqueeze(0), sigma.unsqueeze(0)).log_prob(z.unsqueeze(1)).sum(-1)  # [m, n]
    return torch.logsumexp(log_q, dim=1) - torch.log(torch.tensor(float(len(mu)), dtype=log_q.dtype))


# notebooks 07–08 ---------------------------------------------------------------------------------------------
def grid_steps(images) -> torch.Tensor:
    """Pixel distance between every pair of side-by-side cells of an n×n decoded grid: [n*n, D] -> [2n(n-1)].

    Rows of `images` are in manifold_grid order (row by row); the first n(n-1) entries are the horizontal
    neighbours, the rest the vertical ones. Euclidean distance in the images' own units.

    Taught in 08 Going deeper D2.
    """
    imgs = _as_float("images", images)
    n = int(round(len(imgs) ** 0.5)) if imgs.dim() == 2 else 0
    if imgs.dim() != 2 or n < 2 or n * n != len(imgs):
        raise ValueError(f"images must be an n×n grid [n*n, D] with n >= 2, got {list(imgs.shape)}")
    cells = imgs.view(n, n, -1)
    across = (cells[:, 1:] - cells[:, :-1]).norm(dim=-1)  # [n, n-1]
    down = (cells[1:] - cells[:-1]).norm(dim=-1)  # [n-1, n]
    return torch.cat([across.flatten(), down.flatten()])


def grid_step_pairs(n: int) -> torch.Tensor:
    """The cell pairs that grid_steps compares, in its order: -> [2n(n-1), 2] indices into the n×n grid's rows.

    Taught in 08 Going deeper D2.
    """
    if not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be an int >= 2, got {n!r}")
    cell = torch.arange(n * n).view(n, n)
    across = torch.stack([cell[:, :-1].flatten(), cell[:, 1:].flatten()], dim=1)
    down = torch.stack([cell[:-1].flatten(), cell[1:].flatten()], dim=1)
    return torch.cat([across, down])


@torch.no_grad()
def decoder_samples(model, z, n_samples: int, generator: torch.Generator) -> torch.Tensor:
    """Draws x ~ p_θ(x|z) for each code, scaled to [0, 1] for display: z [n, J] -> [n_samples, n, D].

    Categorical pixels are drawn level by level (grey level / (levels - 1)), Bernoulli pixels as 0/1, Gaussian
    pixels as mean + σ_x·noise; every draw takes `generator`.

    Taught in 08 Going deeper D1.
    """
    if not isinstance(n_samples, int) or n_samples < 1:
        raise ValueError(f"n_samples must be an int >= 1, got {n_samples!r}")
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    base = model.decode(z).base_dist  # p_θ(x|z), one factor per pixel
    if isinstance(base, torch.distributions.Categorical):
        probs = base.probs  # [n, D, levels]
        flat = probs.reshape(-1, probs.shape[-1])
        levels = torch.multinomial(flat, n_samples, replacement=True, generator=generator)  # [n*D, S]
        return (levels.T.reshape(n_samples, *probs.shape[:-1]).to(probs.dtype)) / (probs.shape[-1] - 1)
    if isinstance(base, torch.distributions.Bernoulli):
        probs = base.probs
        return (torch.rand((n_samples, *probs.shape), generator=generator, dtype=probs.dtype) < probs).to(probs.dtype)
    loc, scale = base.loc, base.scale
    return loc + scale * torch.randn((n_samples, *loc.shape), generator=generator, dtype=loc.dtype)


def code_grid(mu, n: int, margin: float | None = None) -> torch.Tensor:
    """The figure-4 grid stretched to a cloud of codes: m + s·Φ⁻¹(u) per dim: mu [N, 2] -> [n*n, 2] (notebook 08 §2).

    m and s are the codes' mean and standard deviation per dimension; for codes shaped like the prior N(0, I)
    this is manifold_grid(n, margin) itself. Same row-by-row order as manifold_grid.

    Taught in 08 §2.
    """
    mu = _as_float("mu", mu)
    if mu.dim() != 2 or mu.shape[1] != 2 or len(mu) < 2:
        raise ValueError(f"mu must be [N, 2] codes with N >= 2, got {list(mu.shape)}")
    return mu.mean(0) + mu.std(0) * manifold_grid(n, margin)


def codes_inside(mu, sigma, nsig: float = 2.0) -> torch.Tensor:
    """For each q(z|x_i) = N(μ_i, diag σ_i²), how many other codes μ_j lie inside its nsig-σ ellipse: [N, J] -> [N].

    Inside means Σ_j ((μ_j - μ_i)/σ_i)² < nsig²: the other digit's code is a likely draw from q(z|x_i).

    Taught in 08 §3.
    """
    mu, sigma = _as_float("mu", mu), _as_float("sigma", sigma)
    if mu.dim() != 2 or mu.shape != sigma.shape or len(mu) < 2:
        raise ValueError(f"mu and sigma must both be [N, J] with N >= 2, got {list(mu.shape)} and {list(sigma.shape)}")
    if not bool((sigma > 0).all()):
        raise ValueError("sigma must be positive everywhere, got a value <= 0")
    if not nsig > 0:
        raise ValueError(f"nsig must be positive, got {nsig!r}")
    d2 = (((mu.unsqueeze(0) - mu.unsqueeze(1)) / sigma.unsqueeze(1)) ** 2).sum(-1)  # [i, j]
    return (d2 < nsig**2).sum(1) - 1  # minus the code itself


@torch.no_grad()
def rate_split(mu, sigma, n_samples: int, generator: torch.Generator, chunk: int = 1000) -> tuple[float, float, float]:
    """Mean rate E_x KL(q(z|x) || p(z)) split as I_q(x; z) + KL(q(z) || p(z)), by Monte Carlo (notebook 07).

    mu, sigma [N, J] are the encoder's outputs on the N data points; q(z) is their mixture (the aggregate
    posterior). Draws n_samples z per point; returns (rate, information, mismatch) in nats, rate = the sum.
    The information term is at most log N: a mixture of N codes cannot tell more than N images apart.

    Taught in 07 Going deeper D4.
    """
    mu, sigma = _as_float("mu", mu), _as_float("sigma", sigma)
    if mu.dim() != 2 or mu.shape != sigma.shape or len(mu) < 1:
        raise ValueError(f"mu and sigma must both be [N, J] with N >= 1, got {list(mu.shape)} and {list(sigma.shape)}")
    if not bool((sigma > 0).all()):
        raise ValueError("sigma must be positive everywhere, got a value <= 0")
    if not isinstance(n_samples, int) or n_samples < 1:
        raise ValueError(f"n_samples must be an int >= 1, got {n_samples!r}")
    z = mu + sigma * torch.randn((n_samples, *mu.shape), generator=generator, dtype=mu.dtype)  # [S, N, J]
    log_q_given_x = Normal(mu, sigma).log_prob(z).sum(-1)  # [S, N]  log q(z|x_i)
    flat = z.reshape(-1, mu.shape[1])
    log_q = torch.cat([aggregate_log_density(part, mu, sigma) for part in flat.split(chunk)]).view(n_samples, -1)
    log_p = Normal(0.0, 1.0).log_prob(z).sum(-1)  # [S, N]  log p(z)
    information = float((log_q_given_x - log_q).mean())
    mismatch = float((log_q - log_p).mean())
    return information + mismatch, information, mismatch


# notebooks 07–08
@torch.no_grad()
def sigmas_to_nearest_code(z, mu, sigma) -> torch.Tensor:
    """Distance from each z_m to the nearest code μ_i, in that code's σ_i: min_i |(z_m - μ_i)/σ_i|, [M, J] -> [M].

    mu, sigma [N, J] are the encoder's outputs; a draw from q(z|x_i) lies |ε| of its own σ from μ_i.

    Taught in 08 §3.
    """
    z, mu, sigma = _as_float("z", z), _as_float("mu", mu), _as_float("sigma", sigma)
    if mu.dim() != 2 or mu.shape != sigma.shape or len(mu) < 1 or z.dim() != 2 or z.shape[1] != mu.shape[1]:
        raise ValueError(f"z must be [M, J] and mu, sigma both [N, J], got {list(z.shape)}, {list(mu.shape)} "
                         f"and {list(sigma.shape)}")
    if not bool((sigma > 0).all()):
        raise ValueError("sigma must be positive everywhere, got a value <= 0")
    d2 = (((z.unsqueeze(1) - mu.unsqueeze(0)) / sigma.unsqueeze(0)) ** 2).sum(-1)  # [M, N]
    return d2.min(1).values.sqrt()
