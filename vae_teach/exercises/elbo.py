"""Checked exercises for notebook 03 (where the ELBO comes from, and its gap); the references are hidden here.

All cases use a linear-Gaussian model z ~ N(0, I_k), x|z ~ N(Wz + b, σ²I_d) and a Gaussian
q(z|x) = N(mu, diag(std²)), so every answer has an exact value to compare with.
"""

from __future__ import annotations

import torch
from torch import distributions as D

from vae_teach.exercises._check import check
from vae_teach.exercises._messages import text
from vae_teach.exercises._messages import use_language as use_language  # re-exported for zh setup cells


def _case(seed: int = 0, n: int = 4, d: int = 3, k: int = 2):
    """A small fixed linear-Gaussian problem: (W [d,k], b [d], sigma, x [n,d], mu [n,k], std [n,k])."""
    g = torch.Generator().manual_seed(seed)
    dt = torch.float64
    W = torch.randn(d, k, generator=g, dtype=dt)
    b = torch.randn(d, generator=g, dtype=dt)
    sigma = 0.7
    x = torch.randn(n, d, generator=g, dtype=dt) * 2
    mu = torch.randn(n, k, generator=g, dtype=dt)
    std = torch.rand(n, k, generator=g, dtype=dt) + 0.3
    return W, b, sigma, x, mu, std


def _log_marginal(W, b, sigma, x):
    """log p(x) = log N(x; b, WWᵀ + σ²I): [n, d] -> [n] (the evidence of the linear-Gaussian model)."""
    cov = W @ W.T + sigma**2 * torch.eye(W.shape[0], dtype=W.dtype)
    return D.MultivariateNormal(b, covariance_matrix=cov).log_prob(x)


def _elbo_estimate(x, mu, std, eps, W, b, sigma):
    """Monte Carlo ELBO with given noise eps [S, n, k]: mean_s log p(x, z_s) − log q(z_s): -> [n] (eq. 6)."""
    z = mu + std * eps
    log_lik = D.Normal(z @ W.T + b, sigma).log_prob(x).sum(-1)
    log_prior = D.Normal(0.0, 1.0).log_prob(z).sum(-1)
    log_q = D.Normal(mu, std).log_prob(z).sum(-1)
    return (log_lik + log_prior - log_q).mean(0)


def _posterior(W, b, sigma, x):
    """Exact p(z|x) = N(m, Σ), Σ = (I + WᵀW/σ²)⁻¹, m = Σ Wᵀ(x − b)/σ²: batched over rows of x."""
    k = W.shape[1]
    cov = torch.linalg.inv(torch.eye(k, dtype=W.dtype) + W.T @ W / sigma**2)
    mean = (x - b) @ W @ cov / sigma**2
    return D.MultivariateNormal(mean, covariance_matrix=cov)


def _gap_kl(x, mu, std, W, b, sigma):
    """KL(q(z|x) ‖ p(z|x)) with q = N(mu, diag std²) and the exact posterior: -> [n] (the ELBO's gap)."""
    q = D.MultivariateNormal(mu, scale_tril=torch.diag_embed(std))
    return D.kl_divergence(q, _posterior(W, b, sigma, x))


def _iwae_from_log_weights(log_w):
    """IWAE bound from log weights log w_i = log p(x, z_i) − log q(z_i): [k, n] -> [n] (log of the mean weight)."""
    return torch.logsumexp(log_w, dim=0) - torch.log(torch.tensor(float(log_w.shape[0]), dtype=log_w.dtype))


def check_log_marginal(fn) -> bool | None:
    """Check fn(W, b, sigma, x) -> log p(x) [n] for the linear-Gaussian model.

    Exercise in 03 Try it.
    """
    W, b, sigma, x, _, _ = _case()
    return check(
        text("03.log_marginal.name"), fn, _log_marginal, cases=[(W, b, sigma, x)],
        hint=text("03.log_marginal.hint"),
    )


def check_elbo_estimate(fn) -> bool | None:
    """Check fn(x, mu, std, eps, W, b, sigma) -> Monte Carlo ELBO [n] using the given noise eps [S, n, k].

    Exercise in 03 Try it.
    """
    W, b, sigma, x, mu, std = _case(1)
    eps = torch.randn(50, *mu.shape, generator=torch.Generator().manual_seed(5), dtype=mu.dtype)
    return check(
        text("03.elbo_estimate.name"), fn, _elbo_estimate, cases=[(x, mu, std, eps, W, b, sigma)],
        hint=text("03.elbo_estimate.hint"),
    )


def check_gap_kl(fn) -> bool | None:
    """Check fn(x, mu, std, W, b, sigma) -> KL(q ‖ p(z|x)) [n], the gap log p(x) − ELBO.

    Exercise in 03 Try it.
    """
    W, b, sigma, x, mu, std = _case(2)
    return check(
        text("03.gap_kl.name"), fn, _gap_kl, cases=[(x, mu, std, W, b, sigma)],
        hint=text("03.gap_kl.hint"),
    )


def check_iwae_from_log_weights(fn) -> bool | None:
    """Check fn(log_w) -> IWAE bound [n] from log weights [k, n].

    Exercise in 03 Try it.
    """
    g = torch.Generator().manual_seed(3)
    log_w = torch.randn(16, 5, generator=g, dtype=torch.float64) * 3 - 800.0
    return check(
        text("03.iwae.name"), fn, _iwae_from_log_weights, cases=[(log_w,)],
        hint=text("03.iwae.hint"),
    )
