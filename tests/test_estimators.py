"""Encoder-gradient estimators against the exact gradient of a linear-Gaussian VAE (closed-form E_q[log p(x|z)])."""

import math

import pytest
import torch
from torch import nn
from torch.distributions import Independent, Normal

from vae_teach import estimators


class TinyVAE(nn.Module):
    """Linear encoder q(z|x) = N(Ax + a, diag e^s); linear-Gaussian decoder p(x|z) = N(Dz, s_x^2 I)."""

    def __init__(self, d=5, k=2, seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.enc = nn.Linear(d, k)
        self.log_sd = nn.Parameter(torch.randn(k, generator=g) * 0.3 - 0.5)
        self.D = nn.Parameter(torch.randn(d, k, generator=g), requires_grad=True)
        self.sx = 0.7
        with torch.no_grad():
            self.enc.weight.copy_(torch.randn(k, d, generator=g) * 0.3)
            self.enc.bias.copy_(torch.randn(k, generator=g) * 0.3)

    def encode(self, x):
        return Independent(Normal(self.enc(x), self.log_sd.exp().expand(x.shape[0], -1)), 1)

    def decode(self, z):
        return Independent(Normal(z @ self.D.T, self.sx), 1)

    def exact_recon(self, x):
        """E_q[log p(x|z)] in closed form, mean over rows."""
        q = self.encode(x)
        mu, var = q.mean, q.variance
        sq = ((x - mu @ self.D.T) ** 2).sum(1) + (var * (self.D**2).sum(0)).sum(1)
        d = x.shape[1]
        return (-sq / (2 * self.sx**2) - d * math.log(self.sx) - 0.5 * d * math.log(2 * math.pi)).mean()


@pytest.fixture
def setup():
    model = TinyVAE()
    x = torch.randn(8, 5, generator=torch.Generator().manual_seed(1))
    params = estimators.encoder_params(model, x)
    exact = torch.cat([g.reshape(-1) for g in torch.autograd.grad(model.exact_recon(x), params)])
    return model, x, params, exact


def test_finds_only_encoder_params(setup):
    model, x, params, _ = setup
    assert {id(p) for p in params} == {id(model.enc.weight), id(model.enc.bias), id(model.log_sd)}


@pytest.mark.parametrize("method", ["reparam", "score"])
def test_unbiased_against_exact_gradient(setup, method):
    model, x, params, exact = setup
    g = estimators.encoder_grad_samples(model, x, 2000, method, generator=torch.Generator().manual_seed(2))
    assert g.shape == (2000, exact.numel())
    se = g.std(0) / math.sqrt(g.shape[0])
    assert ((g.mean(0) - exact).abs() <= 5 * se + 1e-4).all(), (g.mean(0) - exact, se)


def test_score_function_has_larger_variance(setup):
    model, x, _, _ = setup
    gen = torch.Generator().manual_seed(3)
    v_rep = estimators.total_variance(estimators.encoder_grad_samples(model, x, 300, "reparam", generator=gen))
    v_sco = estimators.total_variance(estimators.encoder_grad_samples(model, x, 300, "score", generator=gen))
    assert v_sco > 10 * v_rep


def test_same_generator_seed_gives_same_estimates(setup):
    model, x, _, _ = setup
    a = estimators.encoder_grad_samples(model, x, 5, "score", generator=torch.Generator().manual_seed(4))
    b = estimators.encoder_grad_samples(model, x, 5, "score", generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b)


def test_bad_inputs_raise_clear_errors(setup):
    model, x, _, _ = setup
    with pytest.raises(ValueError, match="method must be one of"):
        estimators.encoder_grad_samples(model, x, 3, "pathwise")
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        estimators.encoder_grad_samples(model, x, 0, "score")
    with pytest.raises(ValueError, match=r"x must be a tensor \[m, D\]"):
        estimators.encoder_grad_samples(model, x[0], 3, "score")
    with pytest.raises(ValueError, match="chunk must be an int >= 1"):
        estimators.encoder_grad_samples(model, x, 3, "score", chunk=0)
    with pytest.raises(ValueError, match="n >= 2"):
        estimators.total_variance(torch.zeros(1, 4))
