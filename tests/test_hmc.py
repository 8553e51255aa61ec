"""HMC against the exact linear-Gaussian posterior, and AIS against the exact log p(x)."""

import math

import pytest
import torch

from vae_teach import ais, hmc, toy


@pytest.fixture(scope="module")
def lg():
    g = torch.Generator().manual_seed(0)
    W = torch.randn(5, 2, generator=g, dtype=torch.float64)
    return toy.LinearGaussian(W, torch.zeros(5, dtype=torch.float64), 0.5)


def log_joint(model, x):
    return lambda z: model.prior().log_prob(z) + model.likelihood(z).log_prob(x)


def test_leapfrog_keeps_energy_nearly_constant_and_accepts(lg):
    x = lg.sample(64, generator=torch.Generator().manual_seed(1))[1]
    z = torch.zeros(64, 2, dtype=torch.float64)
    _, accept = hmc.hmc_step(log_joint(lg, x), z, torch.full((64,), 0.01, dtype=torch.float64), 10,
                             torch.Generator().manual_seed(2))
    assert accept.min() > 0.99              # tiny steps: H changes by O(step^2)


def test_hmc_samples_match_the_exact_posterior_within_5_standard_errors(lg):
    g = torch.Generator().manual_seed(3)
    x = lg.sample(1, generator=g)[1]
    n = 2000                                    # independent chains; the last state of each is one draw
    draws, accept = hmc.sample(log_joint(lg, x.expand(n, 5)), torch.zeros(n, 2, dtype=torch.float64),
                               n_samples=1, burn_in=200, generator=g)
    z = draws[-1]
    post = lg.posterior(x)
    mean, cov = post.mean[0], post.covariance_matrix[0]
    assert 0.8 < accept < 0.97                  # adapted toward 90 %
    se_mean = (cov.diagonal() / n).sqrt()
    assert ((z.mean(0) - mean).abs() <= 5 * se_mean).all(), (z.mean(0), mean)
    se_cov = ((cov**2 + cov.diagonal()[:, None] * cov.diagonal()[None, :]) / n).sqrt()   # Wishart variance
    assert ((torch.cov(z.T) - cov).abs() <= 5 * se_cov).all(), (torch.cov(z.T), cov)


def test_adaptation_moves_the_step_toward_the_target():
    def target(z):                              # a narrow Gaussian: step 1.0 would reject everything
        return -0.5 * (z / 0.05).pow(2).sum(-1)

    chains = hmc.HMC(torch.zeros(200, 1, dtype=torch.float64), step=1.0, target=0.9)
    g = torch.Generator().manual_seed(4)
    for _ in range(150):
        chains.step(target, generator=g)
    accept = torch.stack([chains.step(target, adapt=False, generator=g) for _ in range(20)]).mean()
    assert chains.step_size.max() < 0.1
    assert abs(float(accept) - 0.9) < 0.05


def test_ais_matches_the_exact_log_marginal_within_its_stated_error(lg):
    g = torch.Generator().manual_seed(5)
    x = lg.sample(50, generator=g)[1]
    est = ais.ais_log_marginal(x, lg.prior(), lg.likelihood, n_chains=16, n_temps=200, generator=g)
    err = est.log_px - lg.log_marginal(x)
    assert (err.abs() <= 5 * est.se).all(), (err / est.se).abs().max()
    assert abs(float(err.mean())) <= 5 * float(est.se.pow(2).mean().div(50).sqrt())   # no bias across points


def test_ais_error_shrinks_with_more_temperatures(lg):
    x = lg.sample(50, generator=torch.Generator().manual_seed(6))[1]
    se = [float(ais.ais_log_marginal(x, lg.prior(), lg.likelihood, 16, t, generator=torch.Generator().manual_seed(7))
                .se.mean()) for t in (20, 320)]
    assert se[1] < se[0] / 2


def test_log_mean_exp_matches_direct_formula():
    log_w = torch.tensor([[0.0, math.log(3.0)], [1.0, 1.0]], dtype=torch.float64)
    est = ais.log_mean_exp(log_w)
    assert torch.allclose(est.log_px, torch.tensor([math.log(2.0), 1.0], dtype=torch.float64))
    assert torch.allclose(est.se, torch.tensor([math.sqrt(2) / 2 / math.sqrt(2), 0.0], dtype=torch.float64))


@pytest.mark.parametrize("bad", [dict(target=1.5), dict(step=0.0), dict(step="0.1"), dict(n_leapfrog=0)])
def test_hmc_rejects_bad_settings(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        hmc.HMC(torch.zeros(3, 2), **bad)
