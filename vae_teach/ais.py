"""log p_theta(x) by annealed importance sampling (Neal 2001) with HMC moves: works for any decoder (taught in 09 §4).

AIS walks chains from the prior p(z) to the posterior p(z|x) through p_t(z) ∝ p(z) p(x|z)^{b_t}, 0 = b_0 < ... <
b_T = 1, and weights each chain by prod_t p(x|z_{t-1})^{b_t - b_{t-1}}. The mean weight is an unbiased estimate of
p(x), so its log is a lower bound in expectation. Unlike IWAE it needs no encoder, so it scores models trained by
AEVB, wake-sleep and Monte Carlo EM alike; unlike the paper's appendix-D estimator (a harmonic-mean-style
estimate) its variance cannot blow up when a fitted density has thin tails.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import distributions as D

from vae_teach._checks import count
from vae_teach.hmc import HMC


class Estimate(NamedTuple):
    """log p(x) estimates [n] and their standard errors [n] (delta method over the chains' weights), in nats.

    Returned by ais.ais_log_marginal (09 Going deeper D1); not called from a notebook.
    """

    log_px: torch.Tensor
    se: torch.Tensor


def schedule(n_temps: int) -> torch.Tensor:
    """Inverse temperatures 0 = b_0 < ... < b_T = 1, dense near 0 (a sigmoid schedule): -> [n_temps + 1].

    Used by ais.ais_log_marginal; not called from a notebook.
    """
    t = torch.linspace(-4.0, 4.0, n_temps + 1, dtype=torch.float64).sigmoid()
    return (t - t[0]) / (t[-1] - t[0])


def log_mean_exp(log_w: torch.Tensor) -> Estimate:
    """log (1/K) sum_k w_k over the last dim, with the delta-method standard error sd(w) / (mean(w) sqrt K): [n, K].

    Used by ais.ais_log_marginal; not called from a notebook.
    """
    k = log_w.shape[-1]
    log_px = torch.logsumexp(log_w, -1) - math.log(k)
    w = (log_w - log_px[..., None]).exp()      # weights divided by their mean
    return Estimate(log_px, w.std(-1) / math.sqrt(k))


@torch.no_grad()
def ais_log_marginal(
    x: torch.Tensor,
    prior: D.Distribution,
    likelihood: Callable[[torch.Tensor], D.Distribution],
    n_chains: int = 16,
    n_temps: int = 100,
    n_leapfrog: int = 2,
    generator: torch.Generator | None = None,
) -> Estimate:
    """AIS estimate of log p(x) with n_chains chains per row: x [n, D], prior over [J] -> Estimate of [n] nats.

    Taught in 09 Going deeper D1.
    """
    count("n_chains", n_chains)
    count("n_temps", n_temps)
    n, j = x.shape[0], prior.event_shape[0]
    xs = x.repeat_interleave(n_chains, 0)                               # chain c of row i is row i * K + c
    loc, scale = prior.mean, prior.stddev
    z = loc + scale * torch.randn((n * n_chains, j), generator=generator, dtype=loc.dtype)
    chains = HMC(z, step=0.5, n_leapfrog=n_leapfrog, target=0.8)
    b = schedule(n_temps).to(loc.dtype)
    log_w = torch.zeros(n * n_chains, dtype=loc.dtype)
    for t in range(1, n_temps + 1):
        log_w += (b[t] - b[t - 1]) * likelihood(chains.z).log_prob(xs)   # weight update at the old state
        bt = b[t]
        chains.step(lambda z, bt=bt: prior.log_prob(z) + bt * likelihood(z).log_prob(xs), generator=generator)
    return log_mean_exp(log_w.view(n, n_chains))
