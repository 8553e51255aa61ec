"""Checked exercises for notebook 06 (what training a VAE looks like); references are hidden here."""

from __future__ import annotations

import math

import torch

from vae_teach.exercises._check import check
from vae_teach.exercises._messages import text
from vae_teach.exercises._messages import use_language as use_language  # for the zh setup cell


def _cases_mu_logvar():
    """Two fixed (mu, logvar) batches [n, k] with some dimensions switched off (mu ≈ 0, logvar ≈ 0)."""
    g = torch.Generator().manual_seed(6)
    mu = torch.randn(50, 4, generator=g) * torch.tensor([1.0, 0.0, 0.5, 0.0])
    spread, shift = torch.tensor([0.3, 0.0, 0.2, 0.0]), torch.tensor([2.0, 0.0, 1.0, 0.0])
    logvar = torch.randn(50, 4, generator=g) * spread - shift
    return [(mu, logvar), (mu[:10] * 2, logvar[:10] * 0.5)]


def _kl_per_dim(mu, logvar):
    """Batch-mean KL(N(mu_j, e^logvar_j) || N(0, 1)) per latent dim: [n, k], [n, k] -> [k] (appendix B)."""
    return (0.5 * (mu**2 + logvar.exp() - 1 - logvar)).mean(0)


def _active_units(mu, threshold=0.01):
    """Number of dims j whose encoder mean varies across the data, Var_x(mu_j) > threshold: [n, k] -> int."""
    return int((mu.var(0) > threshold).sum())


def _bits_per_dim(nats_per_image, n_pixels=64):
    """Convert a loss in nats per image to bits per pixel: nats / (n_pixels * ln 2)."""
    return nats_per_image / (n_pixels * math.log(2))


def check_kl_per_dim(fn) -> bool | None:
    """Check fn(mu, logvar) -> [k], the batch-mean closed-form KL to N(0, 1) of each latent dimension.

    Exercise in 06 Try it.
    """
    return check(
        text("06.kl_per_dim.name"), fn, _kl_per_dim, cases=_cases_mu_logvar(),
        hint=text("06.kl_per_dim.hint"),
    )


def check_active_units(fn) -> bool | None:
    """Check fn(mu) -> int, the number of active units (Burda et al. 2015) given encoder means mu [n, k].

    Exercise in 06 Try it.
    """
    return check(
        text("06.active_units.name"), fn, _active_units, cases=[(c[0],) for c in _cases_mu_logvar()],
        hint=text("06.active_units.hint"),
    )


def check_bits_per_dim(fn) -> bool | None:
    """Check fn(nats_per_image) -> bits per pixel for an 8x8 digit.

    Exercise in 06 Try it.
    """
    return check(
        text("06.bits_per_dim.name"), fn, _bits_per_dim, cases=[(96.0,), (140.5,), (1.0,)],
        hint=text("06.bits_per_dim.hint"),
    )
