"""Wake-sleep's two gradients against hand-derived ones on a linear model, and each phase touching only its half."""

import math

import torch

from vae_teach import models, wake_sleep

SIGMA_X = 0.5


def tiny():
    model = models.VAE(3, 2, hidden=(), likelihood="gaussian", sigma=SIGMA_X, seed=0)
    x = torch.randn(7, 3, generator=torch.Generator().manual_seed(1))
    return model, x


def grads(model, loss):
    model.zero_grad()
    loss.backward()
    return {name: (p.grad.clone() if p.grad is not None else None) for name, p in model.named_parameters()}


def test_wake_gradient_is_the_hand_derived_gaussian_regression_gradient():
    model, x = tiny()
    g = grads(model, wake_sleep.wake_loss(model, x, torch.Generator().manual_seed(2)))
    with torch.no_grad():                          # the same z, drawn from the same generator state
        q = model.encode(x)
        z = q.mean + q.stddev * torch.randn(q.mean.shape, generator=torch.Generator().manual_seed(2))
        A, a = model.decoder[0].weight, model.decoder[0].bias
        r = (x - z @ A.T - a) / SIGMA_X**2         # d log N(x; A z + a, sigma_x^2 I) / d mean
        dA, da = -(r.T @ z) / len(x), -r.mean(0)
    assert torch.allclose(g["decoder.0.weight"], dA, atol=1e-5)
    assert torch.allclose(g["decoder.0.bias"], da, atol=1e-5)
    assert g["encoder.0.weight"] is None           # the wake phase never moves phi


def test_sleep_gradient_is_the_hand_derived_gaussian_log_q_gradient():
    model, _ = tiny()
    g = grads(model, wake_sleep.sleep_loss(model, 9, torch.Generator().manual_seed(3)))
    z, x = wake_sleep.dream(model, 9, torch.Generator().manual_seed(3))
    with torch.no_grad():
        B, c = model.encoder[0].weight, model.encoder[0].bias
        mu, logvar = (x @ B.T + c).chunk(2, -1)
        var = logvar.exp()
        d_mu = -(z - mu) / var                      # d(-log q)/d mu
        d_logvar = 0.5 - 0.5 * (z - mu).pow(2) / var
        d_out = torch.cat([d_mu, d_logvar], -1) / len(x)
    assert torch.allclose(g["encoder.0.weight"], d_out.T @ x, atol=1e-5)
    assert torch.allclose(g["encoder.0.bias"], d_out.sum(0), atol=1e-5)
    assert g["decoder.0.weight"] is None            # the sleep phase never moves theta


def test_sleep_loss_is_minus_log_q_of_the_dream():
    model, _ = tiny()
    z, x = wake_sleep.dream(model, 5, torch.Generator().manual_seed(4))
    q = model.encode(x)
    by_hand = 0.5 * (math.log(2 * math.pi) + q.base_dist.scale.pow(2).log()
                     + ((z - q.mean) / q.stddev).pow(2)).sum(-1).mean()
    got = wake_sleep.sleep_loss(model, 5, torch.Generator().manual_seed(4))
    assert torch.allclose(got, by_hand, atol=1e-5)


def test_dreams_are_reproducible_and_leave_the_global_rng_alone():
    model, _ = tiny()
    state = torch.get_rng_state()
    a = wake_sleep.dream(model, 4, torch.Generator().manual_seed(5))
    b = wake_sleep.dream(model, 4, torch.Generator().manual_seed(5))
    assert torch.equal(torch.get_rng_state(), state)
    assert all(torch.equal(u, v) for u, v in zip(a, b, strict=True))


def test_split_params_partitions_the_model():
    model = models.VAE(3, 2, hidden=(4,), likelihood="gaussian", sigma="learned", seed=0)
    theta, phi = wake_sleep.split_params(model)
    assert len(theta) + len(phi) == len(list(model.parameters()))
    assert any(p is model.log_sigma for p in theta)
    assert {id(p) for p in phi} == {id(p) for p in model.encoder.parameters()}
