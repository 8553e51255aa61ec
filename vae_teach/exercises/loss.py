"""Checked exercises for notebook 04 (the VAE loss, term by term); the references are hidden here."""

from __future__ import annotations

import math

import torch

from vae_teach.exercises._check import check
from vae_teach.exercises._messages import text, use_language  # noqa: F401 (use_language: re-exported)


def _inputs() -> dict[str, torch.Tensor]:
    """Fresh fixed tensors for one check: mu, logvar [6, 3]; x, mean [6, 10]; recon [6, 10]; kl_dim [6, 3]."""
    g = torch.Generator().manual_seed(4)
    names = ("mu", "logvar", "x", "mean", "recon", "kl_dim")
    shapes = ((6, 3), (6, 3), (6, 10), (6, 10), (6, 10), (6, 3))
    draw = (torch.randn, torch.randn, torch.rand, torch.rand, torch.rand, torch.rand)
    out = {k: f(*s, generator=g, dtype=torch.float64) for k, s, f in zip(names, shapes, draw, strict=True)}
    out["recon"] = out["recon"] * 2  # −log p(x_i|z) per pixel [n, d]; kl_dim is the KL per latent dim [n, k]
    return out


def _gaussian_kl(mu, logvar):
    """KL(N(mu, diag exp(logvar)) ‖ N(0, I)) = ½ Σ (mu² + σ² − 1 − log σ²): [n, k] -> [n] (appendix B)."""
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(-1)


def _gaussian_nll(x, mean, sigma_x):
    """−log N(x; mean, σ_x²I) summed over pixels, constant included: [n, d] -> [n] (appendix C.2)."""
    d = x.shape[-1]
    return ((x - mean) ** 2).sum(-1) / (2 * sigma_x**2) + 0.5 * d * math.log(2 * math.pi * sigma_x**2)


def _bce_mass(p):
    """∫₀¹ p^x (1 − p)^(1−x) dx, the total mass BCE assigns to grey values in [0, 1]: [m] -> [m]."""
    x = torch.linspace(0, 1, 4001, dtype=torch.float64)
    p = torch.as_tensor(p, dtype=torch.float64).unsqueeze(-1)
    return torch.trapezoid(torch.exp(x * p.log() + (1 - x) * (1 - p).log()), x, dim=-1)


def _loss_per_image(recon_per_pixel, kl_per_dim):
    """−ELBO in nats per image, averaged over the batch: [n, d], [n, k] -> [] (sum inside an image, mean across)."""
    return (recon_per_pixel.sum(-1) + kl_per_dim.sum(-1)).mean()


def check_gaussian_kl(fn) -> bool | None:
    """Check fn(mu, logvar) -> KL(q ‖ N(0, I)) [n] for diagonal Gaussian q.

    Exercise in 04 Try it.
    """
    return check(
        text("04.gaussian_kl.name"), fn, _gaussian_kl, cases=[(_inputs()["mu"], _inputs()["logvar"])],
        hint=text("04.gaussian_kl.hint"),
    )


def check_gaussian_nll(fn) -> bool | None:
    """Check fn(x, mean, sigma_x) -> −log N(x; mean, σ_x²I) [n], summed over pixels, constant included.

    Exercise in 04 Try it.
    """
    t = _inputs()
    return check(
        text("04.gaussian_nll.name"), fn, _gaussian_nll,
        cases=[(t["x"], t["mean"], 0.1), (t["x"], t["mean"], 1.0)],
        hint=text("04.gaussian_nll.hint"),
    )


def check_bce_mass(fn) -> bool | None:
    """Check fn(p) -> ∫₀¹ exp(−BCE(x; p)) dx for a tensor of pixel probabilities p (tested away from p = ½).

    Exercise in 04 Try it.
    """
    # p = ½ is left out on purpose: there the closed form (2p − 1) / log(p / (1 − p)) is 0/0 (its limit is ½),
    # and the notebook's task says so. Numerical integration and the closed form are both accepted.
    p = torch.tensor([0.05, 0.3, 0.7, 0.9], dtype=torch.float64)
    return check(
        text("04.bce_mass.name"), fn, _bce_mass, cases=[(p,)], atol=1e-4, rtol=1e-3,
        hint=text("04.bce_mass.hint"),
    )


def _explain_loss(got, want, case) -> str | None:
    """A hint naming the reduction a wrong loss most likely used (batch summed, pixels averaged), else None."""
    recon, kl_dim = case
    got = torch.as_tensor(got, dtype=torch.float64)
    n, d = recon.shape
    if got.shape != want.shape:
        return None
    if torch.allclose(got, n * want, rtol=1e-4):
        return text("04.loss.batch_summed", n=n)
    if torch.allclose(got, recon.mean() + kl_dim.sum(-1).mean(), rtol=1e-4):
        return text("04.loss.pixels_averaged", d=d, sum_mean=text("04.loss.sum_mean"))
    return None


def check_loss_per_image(fn) -> bool | None:
    """Check fn(recon_per_pixel [n, d], kl_per_dim [n, k]) -> −ELBO in nats per image, averaged over the batch.

    Exercise in 04 Try it.
    """
    t = _inputs()
    hint = text("04.loss.hint", sum_mean=text("04.loss.sum_mean"))
    return check(text("04.loss.name"), fn, _loss_per_image, cases=[(t["recon"], t["kl_dim"])], hint=hint,
                 explain=_explain_loss)
