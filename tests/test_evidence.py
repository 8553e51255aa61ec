"""Naive Monte Carlo evidence: unbiased for p(x), right on easy models, and honest about hard ones."""

import math

import pytest
import torch

from vae_teach import evidence, toy


def _model(d=3, k=1, seed=0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return toy.LinearGaussian(scale * torch.randn(d, k, generator=g), torch.randn(d, generator=g), 0.8)


def _log_se(model, x, n, seed):
    """Standard error of log p̂(x) with n prior samples, by the delta method: sd(w) / (√n mean(w)), w = p(x|z)."""
    xs = x.unsqueeze(1) if x.dim() == 1 else x
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, *model.prior().event_shape, generator=g, dtype=xs.dtype)  # the prior is N(0, I)
    w = (model.likelihood(z).log_prob(xs.unsqueeze(1)) - model.log_marginal(x).unsqueeze(1)).exp()  # [m, n]
    return w.std(1) / (n**0.5 * w.mean(1))


def test_matches_exact_log_marginal_in_one_dim():
    model = _model()
    _, x = model.sample(5, generator=torch.Generator().manual_seed(1))
    est = evidence.naive_mc_log_evidence(model, x, 20_000, generator=torch.Generator().manual_seed(2))
    assert est.shape == (5,)
    tol = 5 * _log_se(model, x, 20_000, seed=9)  # 5 standard errors, from an independent set of samples
    assert ((est - model.log_marginal(x)).abs() <= tol).all(), (est - model.log_marginal(x), tol)


def test_reproducible_with_generator_and_chunking_does_not_change_the_answer():
    model = _model(k=2)
    _, x = model.sample(3, generator=torch.Generator().manual_seed(1))
    a = evidence.naive_mc_log_evidence(model, x, 1000, generator=torch.Generator().manual_seed(5), chunk=1000)
    b = evidence.naive_mc_log_evidence(model, x, 1000, generator=torch.Generator().manual_seed(5), chunk=64)
    torch.testing.assert_close(a, b)


def test_underestimates_badly_in_high_dimensions():
    model = _model(d=25, k=20, scale=1.0)
    _, x = model.sample(4, generator=torch.Generator().manual_seed(1))
    est = evidence.naive_mc_log_evidence(model, x, 2000, generator=torch.Generator().manual_seed(2))
    assert (model.log_marginal(x) - est).min() > 5  # more than 5 nats short with 2000 prior samples


def test_works_on_the_1d_model_with_flat_x():
    model = toy.Nonlinear1D(sigma=0.5)
    x = torch.tensor([0.5, 2.0], dtype=torch.float64)
    est = evidence.naive_mc_log_evidence(model, x, 50_000, generator=torch.Generator().manual_seed(3))
    tol = 5 * _log_se(model, x, 50_000, seed=9)
    assert ((est - model.log_marginal(x)).abs() <= tol).all(), (est - model.log_marginal(x), tol)


def test_relative_error():
    got = evidence.relative_error(torch.tensor([math.log(1.1), 0.0]), torch.tensor([0.0, 0.0]))
    torch.testing.assert_close(got, torch.tensor([0.1, 0.0]))


@pytest.mark.parametrize("bad", [torch.zeros(2, 3, 4), torch.zeros(3, dtype=torch.long), [[1.0]]])
def test_rejects_bad_x(bad):
    with pytest.raises(ValueError, match="x must be"):
        evidence.naive_mc_log_evidence(_model(), bad, 10)


def test_rejects_bad_n():
    with pytest.raises(ValueError, match="n must be"):
        evidence.naive_mc_log_evidence(_model(), torch.zeros(2, 3), 0)
