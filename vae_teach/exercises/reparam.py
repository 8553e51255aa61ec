"""Checked exercises for notebook 05 (gradients through a random sample); the references are hidden here."""

from __future__ import annotations

import torch

from vae_teach.exercises._check import check

_MU = torch.tensor([0.0, 1.5, -2.0, 0.3])
_SIGMA = torch.tensor([1.0, 0.5, 2.0, 0.1])
_EPS = torch.tensor([0.7, -1.2, 0.0, 2.5])


def _reparam_sample(mu, sigma, eps):
    """z = mu + sigma * eps, elementwise: [n], [n], [n] -> [n] (AEVB section 2.4)."""
    return mu + sigma * eps


def _score(z, mu, sigma):
    """(d/dmu, d/dsigma) of log N(z; mu, sigma^2), elementwise: [n] x3 -> ([n], [n])."""
    return (z - mu) / sigma**2, ((z - mu) ** 2 - sigma**2) / sigma**3


def _pathwise_z2(mu, sigma, eps):
    """(d/dmu, d/dsigma) of f(mu + sigma*eps) for f(z) = z^2, one estimate per eps: [n] x3 -> ([n], [n])."""
    z = mu + sigma * eps
    return 2 * z, 2 * z * eps


def _exact_grad_z2(mu, sigma):
    """(d/dmu, d/dsigma) of E_{N(mu, sigma^2)}[z^2] = mu^2 + sigma^2: [n], [n] -> ([n], [n])."""
    return 2 * mu, 2 * sigma


def check_reparam_sample(fn) -> bool | None:
    """Check fn(mu, sigma, eps) -> z = mu + sigma * eps (elementwise tensors)."""
    return check(
        "reparameterised sample", fn, _reparam_sample, cases=[(_MU, _SIGMA, _EPS)],
        hint="z is a deterministic function of (mu, sigma) and the noise eps: shift by mu, scale by sigma.",
    )


def check_score(fn) -> bool | None:
    """Check fn(z, mu, sigma) -> (d log q / d mu, d log q / d sigma) for q = N(mu, sigma^2)."""
    z = _reparam_sample(_MU, _SIGMA, _EPS)
    return check(
        "score of a Gaussian", fn, _score, cases=[(z, _MU, _SIGMA)],
        hint="log q = -log sigma - (z - mu)^2 / (2 sigma^2) + const; differentiate by mu, then by sigma.",
    )


def check_pathwise_z2(fn) -> bool | None:
    """Check fn(mu, sigma, eps) -> per-sample pathwise gradient (d/dmu, d/dsigma) of f(z) = z^2."""
    return check(
        "pathwise gradient of z^2", fn, _pathwise_z2, cases=[(_MU, _SIGMA, _EPS)],
        hint="chain rule: d f / d mu = f'(z) * dz/dmu with dz/dmu = 1, and dz/dsigma = eps.",
    )


def check_exact_grad_z2(fn) -> bool | None:
    """Check fn(mu, sigma) -> the exact gradient (d/dmu, d/dsigma) of E[z^2] under N(mu, sigma^2)."""
    return check(
        "exact gradient of E[z^2]", fn, _exact_grad_z2, cases=[(_MU, _SIGMA)],
        hint="first write E[z^2] in closed form (mean squared plus variance), then differentiate.",
    )
