"""Hamiltonian Monte Carlo for p_theta(z|x) ∝ p_theta(x|z) p(z), one chain per row (Neal 2011; AEVB §5; 09 §3).

A log density here is a callable ``z [n, J] -> [n]``: row i is chain i's unnormalised log p(x_i, z_i). The paper's
Monte Carlo EM uses 10 leapfrog steps per transition with the step size tuned for about 90 % acceptance.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from vae_teach._checks import count

LogDensity = Callable[[torch.Tensor], torch.Tensor]


def value_and_grad(log_density: LogDensity, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """log density [n] and its gradient d/dz [n, J] at z [n, J] (no gradient reaches any model parameter).

    Used by hmc.hmc_step; not called from a notebook.
    """
    with torch.enable_grad():
        z = z.detach().requires_grad_(True)
        lp = log_density(z)
        (g,) = torch.autograd.grad(lp.sum(), z)
    return lp.detach(), g


def hmc_step(
    log_density: LogDensity,
    z: torch.Tensor,
    step: torch.Tensor,
    n_leapfrog: int = 10,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One HMC transition per chain: z [n, J], step sizes [n] -> (new z [n, J], acceptance probability [n]).

    Each transition scales the step by a random factor in [0.8, 1.2], so that no chain keeps a trajectory that
    returns to where it started (a fixed one does that on a Gaussian posterior).
    Momentum p ~ N(0, I); leapfrog on H(z, p) = -log p(x, z) + |p|^2 / 2 (Neal 2011 eq. 5.18-5.20); accept with
    probability min(1, exp(H_old - H_new)) (eq. 5.23), so the chain leaves p(z|x) invariant.

    Used by hmc.HMC.step; not called from a notebook.
    """
    jitter = 0.8 + 0.4 * torch.rand(step.shape, generator=generator, dtype=z.dtype)  # breaks periodic orbits
    s = (step * jitter)[:, None]
    p0 = torch.randn(z.shape, generator=generator, dtype=z.dtype)
    lp0, g = value_and_grad(log_density, z)
    z_new, p = z, p0 + 0.5 * s * g                     # half step in momentum
    for i in range(n_leapfrog):
        z_new = z_new + s * p                            # full step in position
        lp1, g = value_and_grad(log_density, z_new)
        p = p + (s if i < n_leapfrog - 1 else 0.5 * s) * g   # full steps, and a last half step
    log_ratio = (lp1 - 0.5 * p.pow(2).sum(-1)) - (lp0 - 0.5 * p0.pow(2).sum(-1))
    accept_prob = torch.nan_to_num(log_ratio, nan=-torch.inf).clamp(max=0.0).exp()
    accepted = torch.rand(accept_prob.shape, generator=generator, dtype=z.dtype) < accept_prob
    return torch.where(accepted[:, None], z_new, z), accept_prob


class HMC:
    """Persistent HMC chains z [n, J] whose step sizes adapt toward a target acceptance rate (paper §5: 90 %).

    Adaptation is Robbins-Monro on log step: log s += rate * (acceptance - target), per chain. Call
    ``step(..., adapt=False)`` after warm-up for an exact Markov chain.

    Taught in 09 §3.
    """

    def __init__(self, z0: torch.Tensor, step: float = 0.1, n_leapfrog: int = 10, target: float = 0.9,
                 rate: float = 0.1) -> None:
        if not isinstance(z0, torch.Tensor) or z0.dim() != 2 or not z0.is_floating_point():
            raise ValueError(f"z0 must be a float tensor [n, J], got {getattr(z0, 'shape', type(z0).__name__)}")
        if not 0.0 < target < 1.0:
            raise ValueError(f"target must be an acceptance rate in (0, 1), got {target!r}")
        if not (isinstance(step, int | float) and step > 0):
            raise ValueError(f"step must be a number > 0, got {step!r}")
        self.z = z0.detach().clone()
        self.log_step = torch.full((z0.shape[0],), float(step), dtype=z0.dtype).log()
        self.n_leapfrog = count("n_leapfrog", n_leapfrog)
        self.target, self.rate = float(target), float(rate)

    @property
    def step_size(self) -> torch.Tensor:
        """Current step size of each chain: [n].

        Read by tests/test_hmc.py (step-size adaptation); not called from a notebook.
        """
        return self.log_step.exp()

    def step(self, log_density: LogDensity, idx: torch.Tensor | None = None, adapt: bool = True,
             generator: torch.Generator | None = None) -> torch.Tensor:
        """Advance chains idx (all by default) by one transition; return their acceptance probabilities [len(idx)].

        Taught in 09 §3.
        """
        idx = torch.arange(self.z.shape[0]) if idx is None else idx
        z, accept = hmc_step(log_density, self.z[idx], self.log_step[idx].exp(), self.n_leapfrog, generator)
        self.z[idx] = z
        if adapt:
            self.log_step[idx] += self.rate * (accept - self.target)
        return accept


def sample(log_density: LogDensity, z0: torch.Tensor, n_samples: int, burn_in: int = 100, thin: int = 1,
           step: float = 0.1, n_leapfrog: int = 10, target: float = 0.9,
           generator: torch.Generator | None = None) -> tuple[torch.Tensor, float]:
    """HMC draws: adapt during burn_in, then keep every thin-th state: z0 [n, J] -> ([n_samples, n, J], acceptance).

    Taught in 09 §3.
    """
    count("n_samples", n_samples)
    count("thin", thin)
    chains = HMC(z0, step, n_leapfrog, target)
    for _ in range(burn_in):
        chains.step(log_density, generator=generator)
    draws, accepts = [], []
    for i in range(n_samples * thin):
        accepts.append(chains.step(log_density, adapt=False, generator=generator).mean())
        if (i + 1) % thin == 0:
            draws.append(chains.z.clone())
    return torch.stack(draws), float(torch.stack(accepts).mean())
