"""Encoder gradient samples (encoder_gradients.py) against exact gradients.

The exact gradient comes from a linear-Gaussian VAE with a closed-form E_q[log p(x|z)].
"""

import math

import pytest
import torch
from torch import nn
from torch.distributions import Independent, Normal

from vae_teach import encoder_gradients as eg


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
    params = eg.encoder_params(model, x)
    exact = torch.cat([g.reshape(-1) for g in torch.autograd.grad(model.exact_recon(x), params)])
    return model, x, params, exact


def test_finds_only_encoder_params(setup):
    model, x, params, _ = setup
    assert {id(p) for p in params} == {id(model.enc.weight), id(model.enc.bias), id(model.log_sd)}


@pytest.mark.parametrize("method", ["reparam", "score"])
def test_unbiased_against_exact_gradient(setup, method):
    model, x, params, exact = setup
    g = eg.encoder_grad_samples(model, x, 2000, method, generator=torch.Generator().manual_seed(2))
    assert g.shape == (2000, exact.numel())
    se = g.std(0) / math.sqrt(g.shape[0])
    assert ((g.mean(0) - exact).abs() <= 5 * se + 1e-4).all(), (g.mean(0) - exact, se)


def test_score_function_has_larger_variance(setup):
    model, x, _, _ = setup
    gen = torch.Generator().manual_seed(3)
    v_rep = eg.total_variance(eg.encoder_grad_samples(model, x, 300, "reparam", generator=gen))
    v_sco = eg.total_variance(eg.encoder_grad_samples(model, x, 300, "score", generator=gen))
    assert v_sco > 10 * v_rep


def test_same_generator_seed_gives_same_estimates(setup):
    model, x, _, _ = setup
    a = eg.encoder_grad_samples(model, x, 5, "score", generator=torch.Generator().manual_seed(4))
    b = eg.encoder_grad_samples(model, x, 5, "score", generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b)


def test_bad_inputs_raise_clear_errors(setup):
    model, x, _, _ = setup
    with pytest.raises(ValueError, match="method must be one of"):
        eg.encoder_grad_samples(model, x, 3, "pathwise")
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        eg.encoder_grad_samples(model, x, 0, "score")
    with pytest.raises(ValueError, match=r"x must be a tensor \[m, D\]"):
        eg.encoder_grad_samples(model, x[0], 3, "score")
    with pytest.raises(ValueError, match="chunk must be an int >= 1"):
        eg.encoder_grad_samples(model, x, 3, "score", chunk=0)
    with pytest.raises(ValueError, match="n >= 2"):
        eg.total_variance(torch.zeros(1, 4))
    with pytest.raises(ValueError, match="n must be an int >= 1, got True"):
        eg.encoder_grad_samples(model, x, True, "score")
    with pytest.raises(ValueError, match=r"samples must be \[n, P\]"):
        eg.total_variance([[1.0, 2.0], [3.0, 4.0]])


def test_a_real_vae_gives_the_same_gradient_as_autograd_through_its_loss():
    """The pathwise sample with one ε equals autograd of VAE.loss's reconstruction term with that ε."""
    from vae_teach import models

    m = models.VAE(6, 2, hidden=(8,), likelihood="gaussian", seed=0)
    x = torch.rand(4, 6, generator=torch.Generator().manual_seed(0))
    params = eg.encoder_params(m, x)
    g = eg.encoder_grad_samples(m, x, 1, "reparam", generator=torch.Generator().manual_seed(7), params=params)
    recon = m.loss(x, generator=torch.Generator().manual_seed(7)).recon
    want = torch.cat([p.reshape(-1) for p in torch.autograd.grad(-recon, params)])
    assert torch.allclose(g[0], want, atol=1e-5)


def test_a_model_whose_q_has_no_parameters_is_refused():
    class Fixed(TinyVAE):
        def encode(self, x):
            return Independent(Normal(torch.zeros(x.shape[0], 2), torch.ones(x.shape[0], 2)), 1)

    with pytest.raises(ValueError, match="found no encoder parameters"):
        eg.encoder_grad_samples(Fixed(), torch.zeros(3, 5), 2, "score")
