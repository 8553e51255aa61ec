"""Monte Carlo EM with an HMC E-step (AEVB §5, Figure 3's baseline; taught in 09 §4): no encoder at all.

Each training point keeps its own persistent chain z_i. The E-step moves the chains of a batch by one HMC
transition (10 leapfrog steps, step size tuned for about 90 % acceptance) toward p_theta(z|x_i); the M-step then
takes a few gradient steps on theta up log p_theta(x_i, z_i) at those samples. Because the chains belong to the
training points, MCEM is not an online algorithm: a new point needs a new chain, and a test point needs one too.
"""

from __future__ import annotations

import torch

from vae_teach._checks import count
from vae_teach.hmc import HMC
from vae_teach.models import VAE


def log_joint(model: VAE, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """log p_theta(x, z) = log p(z) + log p_theta(x|z): x [n, D], z [n, J] -> [n] nats.

    Taught in 09 §3.
    """
    return model.prior().log_prob(z) + model.decode(z).log_prob(x)


class MCEM:
    """Persistent chains z [N, J] for the N training points x, and an optimizer over the decoder's parameters.

    Used by compare.train (09 §3); not called from a notebook.
    """

    def __init__(self, model: VAE, x: torch.Tensor, lr: float = 1e-3, n_leapfrog: int = 10, m_steps: int = 5,
                 target: float = 0.9, generator: torch.Generator | None = None) -> None:
        self.model, self.x = model, model.check_x(x)
        self.m_steps = count("m_steps", m_steps)
        z0 = torch.randn(self.x.shape[0], model.z_dim, generator=generator)
        self.chains = HMC(z0, step=0.1, n_leapfrog=n_leapfrog, target=target)
        enc = {id(p) for p in model.encoder.parameters()}
        self.opt = torch.optim.Adam([p for p in model.parameters() if id(p) not in enc], lr=lr)

    def step(self, idx: torch.Tensor, generator: torch.Generator | None = None) -> tuple[float, float]:
        """E-step then M-step on training points idx [M] -> (mean acceptance, -log p(x, z) after the M-step).

        Used by compare.train (09 §3); not called from a notebook.
        """
        x = self.x[idx]
        accept = self.chains.step(lambda z: log_joint(self.model, x, z), idx=idx, generator=generator)
        z = self.chains.z[idx]
        for _ in range(self.m_steps):
            self.opt.zero_grad()
            loss = -log_joint(self.model, x, z).mean()
            loss.backward()
            self.opt.step()
        return accept.mean().item(), loss.item()
