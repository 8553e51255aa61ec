"""Lower bounds on log p(x): closed-form Gaussian KL, the ELBO (estimators A and B) and the IWAE bound.

Everything here speaks only torch.distributions, so the same code serves the toy models and a VAE.
Conventions: ``x`` is [n, ...] (one row per data point); ``q`` is a Gaussian over z (``Normal``,
``Independent(Normal)`` or ``MultivariateNormal``) with batch shape [n] and event shape [J]; ``prior`` has
event shape [J]; ``likelihood`` is a callable taking z flattened to [m, J] (m = samples × n) and returning a
distribution over x with batch shape [m]. Every draw comes from ``generator`` (None: torch's global RNG).
Taught in notebooks 03 (§ the ELBO) and 04 (§ estimators A and B).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import torch
from torch import distributions as D

from vae_teach._checks import bound_inputs, count, kl_inputs

CHUNK = 256  # samples of z per likelihood call: a call sees CHUNK * n rows, or ROWS if n is small
ROWS = 8192  # for small n, take more samples per call, up to about this many rows (samples x n)

Likelihood = Callable[[torch.Tensor], D.Distribution]


# ---- closed forms ---------------------------------------------------------------------------------------
def gaussian_kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu_j, exp(logvar_j)) || N(0, 1)) for each dim j: [..., J] -> [..., J] nats (AEVB appendix B).

    Used inside VAE.loss on every step, so it checks only shapes: NaN in gives NaN out (fit reports it).

    Used by models.VAE.loss (06 §2) and models.kl_per_dim (06 §5); not called from a notebook.
    """
    kl_inputs(mu, logvar)
    return 0.5 * (logvar.exp() + mu.pow(2) - 1.0 - logvar)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) summed over the last dim: [..., J] -> [...] (AEVB app. B).

    Taught in 04 §2; first used in 00 §1.
    """
    kl_inputs(mu, logvar, finite_values=True)
    return gaussian_kl_per_dim(mu, logvar).sum(-1)


def _as_mvn(d: D.Distribution) -> D.Distribution:
    """Turn Independent(Normal, 1) into the equal MultivariateNormal; leave anything else as is."""
    diag = isinstance(d, D.Independent) and d.reinterpreted_batch_ndims == 1
    if diag and isinstance(d.base_dist, D.Normal):
        scale = d.base_dist.scale.expand_as(d.base_dist.loc)
        return D.MultivariateNormal(d.base_dist.loc, scale_tril=torch.diag_embed(scale))
    return d


def kl(q: D.Distribution, prior: D.Distribution) -> torch.Tensor | None:
    """Closed-form KL(q || prior) from torch.distributions, or None if none is registered: -> [n].

    Taught in 03 §2.
    """
    try:
        return D.kl_divergence(q, prior)
    except NotImplementedError:
        pass
    try:
        return D.kl_divergence(_as_mvn(q), _as_mvn(prior))
    except NotImplementedError:
        return None


# ---- reparameterised sampling ---------------------------------------------------------------------------
def reparameterise(mu: torch.Tensor, sigma: torch.Tensor, generator: torch.Generator | None = None,
                   n_samples: int | None = None) -> torch.Tensor:
    """z = mu + sigma ⊙ eps, eps ~ N(0, I) from generator: [..., J] -> [..., J], or [n_samples, ..., J] (§2.4).

    Used by models.VAE.loss (06 §2) and bounds.rsample; not called from a notebook.
    """
    shape = mu.shape if n_samples is None else (n_samples, *mu.shape)
    eps = torch.randn(shape, generator=generator, dtype=mu.dtype, device=mu.device)
    return mu + sigma * eps


def rsample(q: D.Distribution, s: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """s reparameterised draws z = g(eps, x) from a Gaussian q: -> [s, *batch, *event] (AEVB eq. 4, §2.4).

    Used by bounds.elbo_samples (04 §1) and evidence.naive_mc_log_evidence (01 §3); not called from a notebook.
    """
    if isinstance(q, D.MultivariateNormal):  # z = mu + L eps, with L the Cholesky factor of the covariance
        eps = torch.randn((s, *q.batch_shape, *q.event_shape), generator=generator, dtype=q.loc.dtype,
                          device=q.loc.device)
        return q.loc + (q.scale_tril @ eps.unsqueeze(-1)).squeeze(-1)
    base = q.base_dist if isinstance(q, D.Independent) else q
    return reparameterise(base.loc, base.scale, generator, s)


# ---- the bounds -----------------------------------------------------------------------------------------
def _in_chunks(f: Callable[[int], torch.Tensor], total: int, n: int) -> list[torch.Tensor]:
    """f(s) for s = a few of the total samples at a time, to bound memory: -> list of [s, n] (s summing to total)."""
    step = max(CHUNK, ROWS // max(n, 1))
    return [f(min(step, total - done)) for done in range(0, total, step)]


def _log_lik(x: torch.Tensor, z: torch.Tensor, likelihood: Likelihood) -> torch.Tensor:
    """log p(x|z) for z [s, n, J], calling likelihood on z flattened to [s*n, J]: -> [s, n]."""
    s, n = z.shape[:2]
    px = likelihood(z.reshape(s * n, *z.shape[2:]))
    if not isinstance(px, D.Distribution):
        raise ValueError(f"likelihood(z) must return a torch distribution, got {type(px).__name__}")
    xs = x.unsqueeze(0).expand(s, *x.shape).reshape(s * n, *x.shape[1:])
    lp = px.log_prob(xs)
    if lp.shape != (s * n,):
        raise ValueError(
            f"likelihood(z) for z [m, J] must give log_prob of shape [m] = [{s * n}] (one value per row), "
            f"got {list(lp.shape)}; wrap per-pixel distributions in Independent(..., 1)"
        )
    return lp.reshape(s, n)


def _estimates(x, q, prior, likelihood, s: int, kl_qp: torch.Tensor | None, generator) -> torch.Tensor:
    """s single-sample ELBO estimates per row: A (eq. 6) if kl_qp is None, else B (eq. 7): -> [s, n]."""
    z = rsample(q, s, generator)  # z = g_phi(eps, x), eps ~ N(0, I)                      (eq. 4)
    log_lik = _log_lik(x, z, likelihood)  # log p_theta(x | z)                            [s, n]
    if kl_qp is None:  # estimator A: log p(x, z) - log q(z | x)                         (eq. 6)
        return log_lik + prior.log_prob(z) - q.log_prob(z)
    return log_lik - kl_qp  # estimator B: the KL in closed form, only log p(x|z) sampled (eq. 7)


def elbo_samples(
    x: torch.Tensor,
    q: D.Distribution,
    prior: D.Distribution,
    likelihood: Likelihood,
    n_samples: int = 1,
    analytic_kl: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Single-sample ELBO estimates, A (eq. 6) or B (eq. 7), one per draw z ~ q: -> [n_samples, n].

    Taught in 04 §1.
    """
    bound_inputs(x, q, prior, likelihood)
    count("n_samples", n_samples)
    kl_qp = kl(q, prior) if analytic_kl else None  # estimator B needs a closed-form KL
    if analytic_kl and kl_qp is None:
        raise ValueError(f"analytic_kl=True needs a closed-form KL(q || prior), and torch.distributions has none "
                         f"for {type(q).__name__} and {type(prior).__name__}; pass analytic_kl=False (estimator A)")
    return torch.cat(_in_chunks(lambda s: _estimates(x, q, prior, likelihood, s, kl_qp, generator), n_samples, len(x)))


def elbo(
    x: torch.Tensor,
    q: D.Distribution,
    prior: D.Distribution,
    likelihood: Likelihood,
    n_samples: int = 1,
    analytic_kl: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """ELBO per row, averaged over n_samples draws: [n, ...] -> [n]; A = eq. 6, B = eq. 7 (analytic_kl).

    Taught in 03 §2.
    """
    return elbo_samples(x, q, prior, likelihood, n_samples, analytic_kl, generator).mean(0)


def iwae_bound(
    x: torch.Tensor,
    q: D.Distribution,
    prior: D.Distribution,
    likelihood: Likelihood,
    n_samples: int,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """IWAE bound log (1/S) sum_s p(x, z_s) / q(z_s), S = n_samples draws z_s ~ q: [n, ...] -> [n] (Burda 2015, eq. 8).

    Taught in 03 Going deeper D6.
    """
    bound_inputs(x, q, prior, likelihood)
    count("n_samples", n_samples)
    def draws(s: int) -> torch.Tensor:  # s draws of estimator A's log w: [s, n]
        return _estimates(x, q, prior, likelihood, s, None, generator)

    log_w = _in_chunks(draws, n_samples, len(x))
    log_sum_w = functools.reduce(torch.logaddexp, [torch.logsumexp(part, 0) for part in log_w])  # log sum_s w_s
    return log_sum_w - math.log(n_samples)
