"""Checked exercises for notebook 05 (gradients through a random sample); the references are hidden here."""

from __future__ import annotations

import torch

from vae_teach.exercises._check import check
from vae_teach.exercises._messages import text
from vae_teach.exercises._messages import use_language as use_language  # for the zh setup cell


def _inputs() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Fresh (mu, sigma, eps) tensors [4] for one check (never shared, so in-place edits cannot leak)."""
    return torch.tensor([0.0, 1.5, -2.0, 0.3]), torch.tensor([1.0, 0.5, 2.0, 0.1]), torch.tensor([0.7, -1.2, 0.0, 2.5])


def _reparam_sample(mu, sigma, eps):
    """z = mu + sigma * eps, elementwise: [n], [n], [n] -> [n] (AEVB section 2.4)."""
    return mu + sigma * eps


def _score(z, mu, sigma):
    """(d/dmu, d/dsigma) of log N(z; mu, sigma^2), elementwise: [n] x3 -> ([n], [n])."""
    return (z - mu) / sigma**2, ((z - mu) ** 2 - sigma**2) / sigma**3


def _pathwise_sin(mu, sigma, eps):
    """(d/dmu, d/dsigma) of f(mu + sigma*eps) for f(z) = sin z, one estimate per eps: [n] x3 -> ([n], [n])."""
    slope = torch.cos(mu + sigma * eps)
    return slope, slope * eps


def _exact_grad_exp(mu, sigma):
    """(d/dmu, d/dsigma) of E_{N(mu, sigma^2)}[e^z] = exp(mu + sigma^2 / 2): [n], [n] -> ([n], [n])."""
    mean = torch.exp(mu + sigma**2 / 2)
    return mean, sigma * mean


def _check_pair(name, fn, reference, cases, maths_hint) -> bool | None:
    """check() for answers that are a pair of tensors: a wrong form gets a form hint, not a maths hint."""
    return check(name, fn, reference, cases=cases, hint=maths_hint, form_hint=text("05.pair_form"))


def check_reparam_sample(fn) -> bool | None:
    """Check fn(mu, sigma, eps) -> z = mu + sigma * eps (elementwise tensors).

    Exercise in 05 Try it.
    """
    return check(
        text("05.reparam_sample.name"), fn, _reparam_sample, cases=[_inputs()],
        hint=text("05.reparam_sample.hint"),
    )


def check_score(fn) -> bool | None:
    """Check fn(z, mu, sigma) -> (d log q / d mu, d log q / d sigma) for q = N(mu, sigma^2), tensors [n].

    Exercise in 05 Try it.
    """
    mu, sigma, eps = _inputs()
    return _check_pair(
        text("05.score.name"), fn, _score, [(_reparam_sample(mu, sigma, eps), mu, sigma)],
        text("05.score.hint"),
    )


def check_pathwise_sin(fn) -> bool | None:
    """Check fn(mu, sigma, eps) -> per-sample pathwise gradient (d/dmu, d/dsigma) of f(z) = sin z, tensors [n].

    Exercise in 05 Try it.
    """
    return _check_pair(
        text("05.pathwise_sin.name"), fn, _pathwise_sin, [_inputs()],
        text("05.pathwise_sin.hint"),
    )


def check_exact_grad_exp(fn) -> bool | None:
    """Check fn(mu, sigma) -> the exact gradient (d/dmu, d/dsigma) of E[e^z] under N(mu, sigma^2), tensors [n].

    Exercise in 05 Try it.
    """
    return _check_pair(
        text("05.exact_grad_exp.name"), fn, _exact_grad_exp, [_inputs()[:2]],
        text("05.exact_grad_exp.hint"),
    )
