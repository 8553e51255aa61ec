"""The wake-sleep algorithm (Hinton et al. 1995) on a VAE's own encoder and decoder, AEVB's baseline in §5 (09 §2).

Wake phase: z ~ q_phi(z|x) for real x, then a theta-step up log p_theta(x, z).
Sleep phase: a dream z ~ p(z), x ~ p_theta(x|z), then a phi-step up log q_phi(z|x).
The phi-step fits q to the model's own dreams, not to the data, and nothing ties both steps to one objective:
that is what AEVB's single ELBO gradient (eq. 8) replaces.
"""

from __future__ import annotations

import torch

from vae_teach.models import VAE


def _seed_from(generator: torch.Generator | None) -> int:
    """A fresh seed drawn from generator (or from the global RNG when it is None)."""
    return int(torch.randint(2**62, (1,), generator=generator))


def wake_loss(model: VAE, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """-log p_theta(x, z), z ~ q_phi(z|x) held fixed, mean over the batch: x [M, D] -> scalar nats (wake phase).

    Used by wake_sleep.wake_sleep_step; not called from a notebook.
    """
    with torch.no_grad():
        q = model.encode(x)
        z = q.mean + q.stddev * torch.randn(q.mean.shape, generator=generator)
    return -(model.prior().log_prob(z) + model.decode(z).log_prob(x)).mean()


def dream(model: VAE, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Ancestral samples from the generative model: z ~ p(z), x ~ p_theta(x|z) -> (z [n, J], x [n, D]).

    Used by wake_sleep.sleep_loss; not called from a notebook.
    """
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(_seed_from(generator))
        z = torch.randn(n, model.z_dim)
        return z, model.decode(z).sample()


def sleep_loss(model: VAE, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """-log q_phi(z|x) on n dreams (z, x), mean: -> scalar nats (sleep phase).

    Used by wake_sleep.wake_sleep_step; not called from a notebook.
    """
    z, x = dream(model, n, generator)
    return -model.encode(x).log_prob(z).mean()


def split_params(model: VAE) -> tuple[list[torch.nn.Parameter], list[torch.nn.Parameter]]:
    """(theta, phi): the generative model's parameters (decoder, learned sigma_x) and the encoder's.

    Used by compare.train (09 §3); not called from a notebook.
    """
    phi = list(model.encoder.parameters())
    ids = {id(p) for p in phi}
    return [p for p in model.parameters() if id(p) not in ids], phi


def wake_sleep_step(model: VAE, x: torch.Tensor, opt_theta: torch.optim.Optimizer, opt_phi: torch.optim.Optimizer,
                    generator: torch.Generator | None = None) -> tuple[float, float]:
    """One wake theta-step on the batch x [M, D] and one sleep phi-step on M dreams -> (wake, sleep) losses.

    Used by compare.train (09 §3); not called from a notebook.
    """
    opt_theta.zero_grad()
    wake = wake_loss(model, x, generator)
    wake.backward()
    opt_theta.step()
    opt_phi.zero_grad()
    sleep = sleep_loss(model, x.shape[0], generator)
    sleep.backward()
    opt_phi.step()
    return wake.item(), sleep.item()
