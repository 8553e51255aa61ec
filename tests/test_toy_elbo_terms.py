"""toy.linear_elbo_terms (notebooks 01–04) against LinearGaussian's closed forms and torch.distributions."""

import torch
from torch import distributions as D

from vae_teach import bounds, toy


def _setup(seed=0):
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(3, 2, generator=g, dtype=torch.float64)
    b = torch.randn(3, generator=g, dtype=torch.float64)
    model = toy.LinearGaussian(W, b, 0.7)
    _, x = model.sample(5, generator=g)
    mu = torch.randn(5, 2, generator=g, dtype=torch.float64)
    sigma = torch.rand(5, 2, generator=g, dtype=torch.float64) + 0.2
    return model, W, b, x, mu, sigma


def test_terms_match_the_model_closed_forms():
    model, W, b, x, mu, sigma = _setup()
    t = toy.linear_elbo_terms(W, b, 0.7, mu, sigma, x)
    q = D.Independent(D.Normal(mu, sigma), 1)
    assert torch.allclose(t["log_px"], model.log_marginal(x), atol=1e-10)
    assert torch.allclose(t["elbo"], model.expected_log_lik(mu, sigma, x) - bounds.kl(q, model.prior()), atol=1e-10)
    assert torch.allclose(t["gap"], bounds.kl(q, model.posterior(x)), atol=1e-10)
    assert torch.allclose(t["log_px"], t["elbo"] + t["gap"], atol=1e-9) and torch.all(t["gap"] > 0)


def test_terms_are_differentiable_and_phi_leaves_log_px_alone():
    _, W, b, x, mu, sigma = _setup(1)
    W, mu = W.clone().requires_grad_(), mu.clone().requires_grad_()
    t = toy.linear_elbo_terms(W, b, 0.7, mu, sigma, x)
    g_w, g_mu = torch.autograd.grad(t["log_px"].sum(), [W, mu], allow_unused=True)
    assert g_w is not None and g_w.abs().max() > 0
    assert g_mu is None or g_mu.abs().max() == 0  # log p(x) does not involve q
    (g_elbo,) = torch.autograd.grad(t["elbo"].sum(), [mu])
    (g_gap,) = torch.autograd.grad(t["gap"].sum(), [mu])
    assert torch.allclose(g_elbo, -g_gap, atol=1e-9)  # in φ, raising the ELBO is lowering the gap
