"""LinearGaussian.expected_log_lik: the closed-form E_q[log p(x|z)] against torch.distributions and Monte Carlo."""

import pytest
import torch
from torch import distributions as D

from vae_teach import toy


def _model(gen, d=4, k=3):
    W = torch.randn(d, k, generator=gen, dtype=torch.float64)
    return toy.LinearGaussian(W, torch.randn(d, generator=gen, dtype=torch.float64), 0.7)


def test_matches_a_monte_carlo_average_of_torch_log_prob():
    gen = torch.Generator().manual_seed(0)
    model = _model(gen)
    _, x = model.sample(5, generator=gen)
    mu = torch.randn(5, 3, generator=gen, dtype=torch.float64)
    sigma = torch.rand(5, 3, generator=gen, dtype=torch.float64) + 0.2
    z = D.Normal(mu, sigma).sample((200_000,))  # [S, 5, 3]; torch's own sampler, not ours
    log_lik = D.Independent(D.Normal(z @ model.W.T + model.b, 0.7), 1).log_prob(x)  # the oracle's log p(x|z)
    mc, se = log_lik.mean(0), log_lik.std(0) / 200_000**0.5
    exact = model.expected_log_lik(mu, sigma, x)
    assert exact.shape == (5,)
    assert torch.all((exact - mc).abs() < 5 * se), (exact - mc, se)


def test_a_point_mass_q_gives_the_log_likelihood_itself():
    gen = torch.Generator().manual_seed(1)
    model = _model(gen)
    z, x = model.sample(6, generator=gen)
    exact = model.expected_log_lik(z, torch.zeros_like(z), x)
    assert torch.allclose(exact, model.likelihood(z).log_prob(x), atol=1e-12)


def test_elbo_from_it_plus_the_gap_is_log_evidence():
    gen = torch.Generator().manual_seed(2)
    model = _model(gen)
    _, x = model.sample(3, generator=gen)
    post = model.posterior(x)
    mu, sigma = post.mean, post.covariance_matrix.diagonal(dim1=-2, dim2=-1).sqrt()
    q = D.Independent(D.Normal(mu, sigma), 1)
    elbo = model.expected_log_lik(mu, sigma, x) - D.kl_divergence(q, model.prior())
    gap = D.kl_divergence(D.MultivariateNormal(mu, torch.diag_embed(sigma**2)), post)
    assert torch.allclose(elbo + gap, model.log_marginal(x), atol=1e-9)


def test_tau_names_the_observation_noise():
    assert toy.LinearGaussian(torch.ones(2, 1), torch.zeros(2), 0.3).tau == 0.3
    assert toy.Nonlinear1D(sigma=0.4).tau == 0.4


@pytest.mark.parametrize(
    ("mu", "sigma", "match"),
    [(torch.zeros(2, 2), torch.ones(2, 2), "mu and sigma"), (torch.zeros(2, 1), -torch.ones(2, 1), "sigma must be")],
)
def test_bad_q_is_a_clear_error(mu, sigma, match):
    model = toy.LinearGaussian(torch.ones(2, 1), torch.zeros(2), 0.3)
    with pytest.raises(ValueError, match=match):
        model.expected_log_lik(mu, sigma, torch.zeros(2, 2))
