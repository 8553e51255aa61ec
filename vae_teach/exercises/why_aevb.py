"""Checked exercises for notebook 09 (why learn an encoder?); references are hidden here."""

from __future__ import annotations

import torch

from vae_teach.exercises._check import check
from vae_teach.exercises._messages import text
from vae_teach.exercises._messages import use_language as use_language  # re-exported for zh setup cells


def _wake_sleep_cases():
    """(log p(z) [M], log p(x|z) [M], log q(z_dream | x_dream) [M]) triples, as the two phases would compute them."""
    g = torch.Generator().manual_seed(9)
    return [(-2 - torch.rand(m, generator=g), -90 - 10 * torch.rand(m, generator=g), -3 * torch.rand(m, generator=g))
            for m in (7, 100)]


def _wake_sleep_losses(log_prior, log_lik, log_q_dream):
    """(wake, sleep) losses: -mean log p(x, z) at z ~ q(z|x), and -mean log q(z|x) on dreams (Hinton et al. 1995)."""
    return -(log_prior + log_lik).mean(), -log_q_dream.mean()


def check_wake_sleep_losses(fn) -> bool | None:
    """Check fn(log_prior, log_lik, log_q_dream) -> (wake loss, sleep loss), two scalars.

    Exercise in 09 Try it.
    """
    return check(
        text("09.wake_sleep.name"), fn, _wake_sleep_losses, cases=_wake_sleep_cases(),
        hint=text("09.wake_sleep.hint"),
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
    """Check fn(z, p, grad_log_p, step) -> (z, p): one leapfrog step of HMC.

    Exercise in 09 Try it.
    """
    def fresh(f):
        return lambda z, p, grad, step: f(z.clone(), p.clone(), grad, step)
    return check(
        text("09.leapfrog.name"), fresh(fn), fresh(_leapfrog), cases=_leapfrog_cases(),
        hint=text("09.leapfrog.hint"),
    )
