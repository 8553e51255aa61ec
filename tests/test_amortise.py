"""Per-x q versus an amortised encoder on a linear-Gaussian model, where the gap KL(q ‖ p(z|x)) is exact."""

import math

import pytest
import torch

from vae_teach import amortise, bounds, toy


@pytest.fixture(scope="module")
def setup():
    g = torch.Generator().manual_seed(0)
    model = toy.LinearGaussian(torch.randn(4, 2, generator=g), torch.randn(4, generator=g), 0.5)
    _, x = model.sample(30, generator=g)
    return model, x


def test_exact_gap_is_log_evidence_minus_elbo(setup):
    model, x = setup
    noise = 0.5 * torch.randn(30, 2, generator=torch.Generator().manual_seed(1))
    mu, std = model.posterior(x).mean + noise, torch.full((30, 2), 0.4)  # a q near, not at, the posterior
    q = amortise.diag_gaussian(mu, std)
    s = 20_000
    per_sample = bounds.elbo_samples(x, q, model.prior(), model.likelihood, n_samples=s,
                                     generator=torch.Generator().manual_seed(2))  # [s, 30]
    mc_gap = model.log_marginal(x) - per_sample.mean(0)
    tol = 5 * per_sample.std(0) / s**0.5  # 5 standard errors of the Monte Carlo mean, per row
    gap = amortise.exact_gap(model, x, mu, std)
    assert ((gap - mc_gap).abs() <= tol).all(), ((gap - mc_gap).abs() / (tol / 5)).max()
    assert ((gap + 2.0 - mc_gap).abs() > tol).all()  # tight enough to catch a 2-nat error in every row


def test_gap_is_zero_only_at_the_posterior_and_best_diagonal_is_a_floor(setup):
    model, x = setup
    post = model.posterior(x)
    floor = amortise.best_diagonal_gap(model, x)
    assert floor >= 0
    std = post.covariance_matrix.diagonal(dim1=-2, dim2=-1).sqrt()  # marginal stds: a worse diagonal choice
    assert amortise.exact_gap(model, x, post.mean, std).mean() >= floor - 1e-6


def test_per_x_fit_shrinks_the_gap(setup):
    model, x = setup
    fit = amortise.fit_per_x(model, x, steps=150, record_every=50)
    assert fit.method == "per-x" and fit.mu.shape == (30, 2) and fit.std.shape == (30, 2)
    assert fit.trace[0][2] > 5 * fit.gap and fit.gap < 0.3
    assert [t[0] for t in fit.trace] == [1, 50, 100, 150]


def test_encoder_generalises_to_new_x(setup):
    model, x = setup
    enc, fit = amortise.fit_encoder(model, x, n_train=500, steps=300, batch=50)
    assert fit.method == "encoder" and fit.gap < 0.3
    assert fit.gap >= amortise.best_diagonal_gap(model, x) - 1e-6  # no diagonal q beats the floor
    assert fit.seconds > 0 and fit.new_x_seconds >= 0  # timings are recorded, never compared here
    mu, std = enc(x)
    assert mu.shape == (30, 2) and (std > 0).all()


def test_deterministic_given_seed(setup):
    model, x = setup
    a = amortise.fit_per_x(model, x, steps=20, seed=3)
    b = amortise.fit_per_x(model, x, steps=20, seed=3)
    torch.testing.assert_close(a.mu, b.mu)


def test_rejects_bad_inputs(setup):
    model, x = setup
    with pytest.raises(ValueError, match=r"x must be a float tensor \[n, 4\]"):
        amortise.fit_per_x(model, x[:, :3])
    with pytest.raises(ValueError, match="steps must be"):
        amortise.fit_per_x(model, x, steps=0)
    with pytest.raises(ValueError, match="mu and std must be"):
        amortise.exact_gap(model, x, torch.zeros(30, 3), torch.ones(30, 3))
    with pytest.raises(ValueError, match="n_train >= batch"):
        amortise.fit_encoder(model, x, n_train=10, batch=50)


@pytest.mark.parametrize("fit", [amortise.fit_per_x, amortise.fit_encoder])
def test_a_one_element_tensor_lr_works_and_a_huge_one_is_named(setup, fit):
    model, x = setup
    small = fit(model, x, steps=3, lr=torch.tensor([0.01]))  # a tensor lr is read as the float it holds
    assert math.isfinite(small.gap if isinstance(small, amortise.QFit) else small[1].gap)
    with pytest.raises(ValueError, match=r"lr = 1e\+30 is too large"):
        fit(model, x, steps=2, lr=torch.tensor([1e30]))
