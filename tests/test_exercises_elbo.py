"""Notebook-03 checkers: accept the reference, reject a typical mistake, report `...` as unanswered."""

import torch
from exercise_contract import contract
from torch import distributions as D

from vae_teach.exercises import elbo


def _no_noise(W, b, sigma, x):
    return D.MultivariateNormal(b, covariance_matrix=W @ W.T).log_prob(x)


def _no_entropy(x, mu, std, eps, W, b, sigma):
    z = mu + std * eps
    return (D.Normal(z @ W.T + b, sigma).log_prob(x).sum(-1) + D.Normal(0.0, 1.0).log_prob(z).sum(-1)).mean(0)


def _reversed_kl(x, mu, std, W, b, sigma):
    q = D.MultivariateNormal(mu, scale_tril=torch.diag_embed(std))
    return D.kl_divergence(elbo._posterior(W, b, sigma, x), q)


CASES = [
    (elbo.check_log_marginal, elbo._log_marginal, _no_noise),
    (elbo.check_elbo_estimate, elbo._elbo_estimate, _no_entropy),
    (elbo.check_gap_kl, elbo._gap_kl, _reversed_kl),
    (elbo.check_iwae_from_log_weights, elbo._iwae_from_log_weights, lambda log_w: log_w.mean(0)),
]


globals().update(contract(CASES))


def test_naive_exp_of_log_weights_is_rejected_not_raised(capsys):
    def naive(log_w):
        return log_w.exp().mean(0).log()  # underflows to -inf

    assert elbo.check_iwae_from_log_weights(naive) is False


def test_reference_gap_equals_log_marginal_minus_exact_elbo():
    W, b, sigma, x, mu, std = elbo._case(2)
    eps = torch.randn(200000, *mu.shape, generator=torch.Generator().manual_seed(0), dtype=mu.dtype)
    gap_mc = elbo._log_marginal(W, b, sigma, x) - elbo._elbo_estimate(x, mu, std, eps, W, b, sigma)
    assert torch.allclose(gap_mc, elbo._gap_kl(x, mu, std, W, b, sigma), atol=0.05)
