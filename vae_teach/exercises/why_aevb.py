"""Checked exercises for notebook 09 (why learn an encoder?); references are hidden here."""

from __future__ import annotations

import torch

from vae_teach import models
from vae_teach.exercises._check import check


def _tiny_vae() -> models.VAE:
    """A fixed linear-Gaussian VAE (D = 3, J = 2) whose gradients are easy to compare."""
    return models.VAE(3, 2, hidden=(), likelihood="gaussian", sigma=0.5, seed=0)


def _wake_cases():
    """(x [7, 3], eps [7, 2]) pairs: the data batch and the noise that draws z ~ q(z|x)."""
    g = torch.Generator().manual_seed(9)
    return [(torch.randn(7, 3, generator=g), torch.randn(7, 2, generator=g)) for _ in range(2)]


def _wake_loss(model, x, eps):
    """-mean log p(x, z) with z = mu + sigma * eps computed from q without gradient (wake phase)."""
    with torch.no_grad():
        q = model.encode(x)
        z = q.mean + q.stddev * eps
    return -(model.prior().log_prob(z) + model.decode(z).log_prob(x)).mean()


def _gradients_of(fn):
    """Wrap fn(model, x, eps) -> loss as (x, eps) -> (loss, d loss / d decoder weight, |d loss / d encoder|)."""
    def run(x, eps):
        model = _tiny_vae()
        loss = fn(model, x.clone(), eps.clone())
        if loss is None or loss is Ellipsis:
            return loss
        loss.backward()
        enc = model.encoder[0].weight.grad
        return (loss.detach(), model.decoder[0].weight.grad.clone(), 0.0 if enc is None else float(enc.abs().sum()))
    return run


def check_wake_loss(fn) -> bool | None:
    """Check fn(model, x, eps) -> scalar: the wake phase's loss, whose gradient moves theta and never phi."""
    return check(
        "wake-phase loss", _gradients_of(fn), _gradients_of(_wake_loss), cases=_wake_cases(),
        hint="z = q.mean + q.stddev * eps inside torch.no_grad(); loss = -(log p(z) + log p(x|z)).mean(); "
             "the encoder must get no gradient.",
    )


def _gauss_grad(z):
    """Gradient of log N(z; 0, diag(0.5^2, 2^2)): [n, 2] -> [n, 2]."""
    return -z / torch.tensor([0.25, 4.0], dtype=z.dtype)


def _leapfrog(z, p, grad_log_p, step):
    """One leapfrog step: half step in p, full step in z, half step in p (Neal 2011 eq. 5.18-5.20)."""
    p = p + 0.5 * step * grad_log_p(z)
    z = z + step * p
    return z, p + 0.5 * step * grad_log_p(z)


def _leapfrog_cases():
    """(z [4, 2], p [4, 2], grad_log_p, step) cases on a 2-D Gaussian."""
    g = torch.Generator().manual_seed(10)
    return [(torch.randn(4, 2, generator=g), torch.randn(4, 2, generator=g), _gauss_grad, s) for s in (0.1, 0.4)]


def check_leapfrog(fn) -> bool | None:
    """Check fn(z, p, grad_log_p, step) -> (z, p): one leapfrog step of HMC."""
    def fresh(f):
        return lambda z, p, grad, step: f(z.clone(), p.clone(), grad, step)
    return check(
        "one leapfrog step", fresh(fn), fresh(_leapfrog), cases=_leapfrog_cases(),
        hint="p += step/2 * grad_log_p(z); z += step * p; p += step/2 * grad_log_p(z) (the new z).",
    )
