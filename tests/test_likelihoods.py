"""Reconstruction terms against torch.distributions and against each other."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import distributions as D

from vae_teach import likelihoods as L


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_bernoulli_nll_is_summed_bce_on_binary_pixels():
    g = _gen()
    x = (torch.rand(5, 12, generator=g, dtype=torch.float64) > 0.5).double()
    p = torch.rand(5, 12, generator=g, dtype=torch.float64) * 0.9 + 0.05
    want = -D.Bernoulli(probs=p).log_prob(x).sum(-1)
    assert torch.allclose(L.bernoulli_nll(x, p), want)
    assert torch.allclose(L.bce(x, p), want)
    assert torch.allclose(F.binary_cross_entropy(p, x, reduction="none").sum(-1), want)


def test_bernoulli_nll_rejects_grey_pixels():
    with pytest.raises(ValueError, match="binary"):
        L.bernoulli_nll(torch.full((2, 3), 0.5), torch.full((2, 3), 0.5))


def test_bce_mass_closed_form_numeric_and_continuous_bernoulli_agree():
    p = torch.tensor([0.01, 0.2, 0.49995, 0.5, 0.50003, 0.7, 0.99], dtype=torch.float64)
    closed, numeric = L.bce_mass(p), L.bce_mass_numeric(p, n_grid=20001)
    assert torch.allclose(closed, numeric, atol=1e-7)
    # the continuous Bernoulli adds exactly the missing log normaliser: log C(p) = -log mass
    x = torch.full_like(p, 0.3)
    cb = D.ContinuousBernoulli(probs=p)
    bce_logp = x * p.log() + (1 - x) * (1 - p).log()
    assert torch.allclose(cb.log_prob(x) - bce_logp, -closed.log(), atol=1e-4)
    assert (closed <= 0.5 + 1e-12).all()


def test_gaussian_nll_matches_mse_rewrite_and_distribution():
    g = _gen(1)
    x, m = torch.randn(4, 10, generator=g, dtype=torch.float64), torch.randn(4, 10, generator=g, dtype=torch.float64)
    for s in (0.1, 1.0, 1 / math.sqrt(2)):
        want = -D.Normal(m, s).log_prob(x).sum(-1)
        assert torch.allclose(L.gaussian_nll(x, m, s), want)
        assert torch.allclose(L.mse_as_gaussian_nll(x, m, s), want)
        assert torch.allclose(L.gaussian_nll(x, m, sigma_x=s), want)   # σ_x: the decoder's noise sd


def test_categorical_nll_is_summed_cross_entropy():
    g = _gen(2)
    logits = torch.randn(3, 8, 17, generator=g)
    levels = torch.randint(0, 17, (3, 8), generator=g)
    want = F.cross_entropy(logits.reshape(-1, 17), levels.reshape(-1), reduction="none").reshape(3, 8).sum(-1)
    assert torch.allclose(L.categorical_nll(levels, logits), want, atol=1e-5)


def test_inputs_are_validated():
    with pytest.raises(ValueError, match="one shape"):
        L.gaussian_nll(torch.zeros(2, 3), torch.zeros(2, 4), 1.0)
    with pytest.raises(ValueError, match=r"sigma_x must be a number > 0, got 0\.0"):
        L.mse_as_gaussian_nll(torch.zeros(2, 3), torch.zeros(2, 3), 0.0)
    with pytest.raises(ValueError, match="inside"):
        L.bce_mass(torch.tensor([0.0, 0.5]))
    with pytest.raises(ValueError, match="integer"):
        L.categorical_nll(torch.zeros(2, 3), torch.zeros(2, 3, 5))
