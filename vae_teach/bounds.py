"""Lower bounds on log p(x): closed-form Gaussian KL, the ELBO (estimators A and B) and the IWAE bound.

Everything here speaks only torch.distributions, so the same code serves the toy models and a VAE.
Conventions: ``x`` is [n, ...] (one row per data point); ``q`` is a distribution over z with
batch shape [n] and event shape [k] (``Independent(Normal)`` or ``MultivariateNormal``); ``prior`` has
event shape [k]; ``likelihood`` is a callable taking z flattened to [m, k] (m = samples × n) and
returning a distribution over x with batch shape [m].
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import distributions as D

from vae_teach._checks import count

CHUNK = 256  # samples of z per likelihood call: a call sees CHUNK * n rows, or ROWS if n is small
ROWS = 8192  # for small n, take more samples per call, up to about this many rows (samples x n)

Likelihood = Callable[[torch.Tensor], D.Distribution]


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) summed over the last dim: [..., k] -> [...] (AEVB app. B)."""
    if not isinstance(mu, torch.Tensor) or not isinstance(logvar, torch.Tensor):
        raise ValueError(
            f"mu and logvar must be tensors [..., k], got {type(mu).__name__} and {type(logvar).__name__}"
        )
    if mu.shape != logvar.shape or mu.dim() < 1:
        raise ValueError(
            f"mu and logvar must have the same shape [..., k], got {list(mu.shape)} and {list(logvar.shape)}"
        )
    return 0.5 * (logvar.exp() + mu.pow(2) - 1.0 - logvar).sum(-1)


def _check_inputs(x, q, prior, likelihood) -> None:
    """Validate the shared arguments of the bound estimators."""
    if not isinstance(x, torch.Tensor) or x.dim() < 1:
        got = list(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"x must be a tensor [n, ...] with one row per data point, got {got}")
    if not isinstance(q, D.Distribution) or not isinstance(prior, D.Distribution):
        raise ValueError(
            "q and prior must be torch.distributions objects, "
            f"got {type(q).__name__} and {type(prior).__name__}"
        )
    if len(q.batch_shape) != 1 or q.batch_shape[0] != x.shape[0]:
        raise ValueError(
            f"q must have batch shape [n] = [{x.shape[0]}] (one q per row of x), got {list(q.batch_shape)}"
        )
    if prior.event_shape != q.event_shape:
        raise ValueError(
            f"prior and q must have the same event shape, got {list(prior.event_shape)} "
            f"and {list(q.event_shape)}"
        )
    if not callable(likelihood):
        raise ValueError(f"likelihood must be a callable z -> distribution, got {type(likelihood).__name__}")


def _chunk(n: int) -> int:
    """Samples of z per likelihood call for n data rows: max(CHUNK, ROWS // n)."""
    return max(CHUNK, ROWS // max(n, 1))


def rsample(q: D.Distribution, s: int, generator: torch.Generator | None) -> torch.Tensor:
    """s reparameterised samples from q using generator: -> [s, *batch, *event] (AEVB eq. 4)."""
    base = q.base_dist if isinstance(q, D.Independent) else q
    if isinstance(base, D.Normal):
        loc, scale = base.loc, base.scale
        eps = torch.randn((s, *loc.shape), generator=generator, dtype=loc.dtype, device=loc.device)
        return loc + scale * eps
    if isinstance(q, D.MultivariateNormal):
        shape = (s, *q.batch_shape, *q.event_shape)
        eps = torch.randn(shape, generator=generator, dtype=q.loc.dtype, device=q.loc.device)
        return q.loc + (q.scale_tril @ eps.unsqueeze(-1)).squeeze(-1)
    if generator is None:
        return q.rsample((s,))
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return q.rsample((s,))


def _log_lik(x: torch.Tensor, z: torch.Tensor, likelihood: Likelihood) -> torch.Tensor:
    """log p(x|z) for z [s, n, k] by flattening to [s*n, k]: -> [s, n]."""
    s, n = z.shape[:2]
    px = likelihood(z.reshape(s * n, *z.shape[2:]))
    if not isinstance(px, D.Distribution):
        raise ValueError(f"likelihood(z) must return a torch distribution, got {type(px).__name__}")
    xs = x.unsqueeze(0).expand(s, *x.shape).reshape(s * n, *x.shape[1:])
    lp = px.log_prob(xs)
    if lp.shape != (s * n,):
        raise ValueError(
            f"likelihood(z) for z [m, k] must give log_prob of shape [m] = [{s * n}] (one value per row), "
            f"got {list(lp.shape)}; wrap per-pixel distributions in Independent(..., 1)"
        )
    return lp.reshape(s, n)


def _as_mvn(d: D.Distribution) -> D.Distribution:
    """Turn Independent(Normal, 1) into the equal MultivariateNormal; leave anything else as is."""
    diag = isinstance(d, D.Independent) and d.reinterpreted_batch_ndims == 1
    if diag and isinstance(d.base_dist, D.Normal):
        scale = d.base_dist.scale.expand_as(d.base_dist.loc)
        return D.MultivariateNormal(d.base_dist.loc, scale_tril=torch.diag_embed(scale))
    return d


def kl(q: D.Distribution, prior: D.Distribution) -> torch.Tensor | None:
    """Closed-form KL(q || prior) from torch.distributions, or None if none is registered: -> [n]."""
    try:
        return D.kl_divergence(q, prior)
    except NotImplementedError:
        pass
    try:
        return D.kl_divergence(_as_mvn(q), _as_mvn(prior))
    except NotImplementedError:
        return None


def elbo_samples(
    x: torch.Tensor,
    q: D.Distribution,
    prior: D.Distribution,
    likelihood: Likelihood,
    n_samples: int = 1,
    analytic_kl: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Single-sample ELBO estimates, A (eq. 6) or B (eq. 7), one per draw z ~ q: -> [n_samples, n]."""
    _check_inputs(x, q, prior, likelihood)
    count("n_samples", n_samples)
    kl_qp = kl(q, prior) if analytic_kl else None
    chunks, done, step = [], 0, _chunk(x.shape[0])
    while done < n_samples:
        s = min(step, n_samples - done)
        z = rsample(q, s, generator)
        term = _log_lik(x, z, likelihood)
        if kl_qp is not None:
            term = term - kl_qp
        else:
            term = term + prior.log_prob(z) - q.log_prob(z)
        chunks.append(term)
        done += s
    return torch.cat(chunks, 0)


def elbo(
    x: torch.Tensor,
    q: D.Distribution,
    prior: D.Distribution,
    likelihood: Likelihood,
    n_samples: int = 1,
    analytic_kl: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """ELBO per row, averaged over n_samples draws: [n, ...] -> [n]; A = eq. 6, B = eq. 7 (analytic_kl)."""
    return elbo_samples(x, q, prior, likelihood, n_samples, analytic_kl, generator).mean(0)


def iwae_bound(
    x: torch.Tensor,
    q: D.Distribution,
    prior: D.Distribution,
    likelihood: Likelihood,
    k: int,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """IWAE bound log (1/k) sum_i p(x, z_i) / q(z_i), z_i ~ q: [n, ...] -> [n] (Burda et al. 2015, eq. 8)."""
    _check_inputs(x, q, prior, likelihood)
    count("k", k)
    acc, done, step = None, 0, _chunk(x.shape[0])
    while done < k:
        s = min(step, k - done)
        z = rsample(q, s, generator)
        log_w = _log_lik(x, z, likelihood) + prior.log_prob(z) - q.log_prob(z)
        part = torch.logsumexp(log_w, 0)
        acc = part if acc is None else torch.logaddexp(acc, part)
        done += s
    return acc - math.log(k)
