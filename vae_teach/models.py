"""The VAE of Kingma & Welling (2013): an MLP encoder q_phi(z|x) = N(mu, diag sigma^2) and an MLP decoder p_theta(x|z).

Three likelihoods p_theta(x|z), each a proper density or mass function, so every number is in nats:
- ``"categorical"`` (default, for digits): x holds integer grey levels 0..levels-1, one softmax per pixel.
- ``"bernoulli"``: x holds floats in [0, 1] (exact for binary images such as ``data.make_sprites``).
- ``"gaussian"``: x holds floats; ``sigma=0.1`` fixes the pixel noise, ``sigma="learned"`` learns one shared sigma.
The ELBO and IWAE estimates come from ``vae_teach.bounds``, the same code that serves the toy models.
"""

from __future__ import annotations

import contextlib
import math
from typing import NamedTuple

import torch
from torch import nn
from torch.distributions import Bernoulli, Categorical, Independent, Normal

from vae_teach import bounds
from vae_teach._checks import check_finite, count, number

LIKELIHOODS = ("categorical", "bernoulli", "gaussian")


class LossTerms(NamedTuple):
    """Batch means in nats per image: total = recon + beta * kl; kl_per_dim is [z_dim]; sigma is the mean σ_j.

    Returned by models.VAE.loss (06 §2); not called from a notebook.
    """

    total: torch.Tensor
    recon: torch.Tensor
    kl: torch.Tensor
    kl_per_dim: torch.Tensor
    sigma: torch.Tensor


def _mlp(sizes: list[int], dropout: float = 0.0) -> nn.Sequential:
    """Linear layers with LeakyReLU between them (none after the last): sizes [in, h1, ..., out]."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class VAE(nn.Module):
    """MLP VAE: encode x [n, x_dim] -> q(z|x) over [n, z_dim]; decode z -> p(x|z) over [n, x_dim] (AEVB app. C).

    The model's dtype (float32 by default; call ``.double()`` for float64) is the dtype of every result: float
    inputs are cast to it.

    Taught in 04 §1 (its two loss terms) and 06 §2 (one training step by hand).
    """

    def __init__(
        self,
        x_dim: int,
        z_dim: int,
        hidden: tuple[int, ...] = (256, 256),
        likelihood: str = "categorical",
        levels: int = 17,
        sigma: float | str = 0.1,
        dropout: float = 0.0,
        seed: int | None = None,
    ):
        super().__init__()
        x_dim, z_dim, hidden, levels, sigma, dropout = _check_config(x_dim, z_dim, hidden, likelihood, levels,
                                                                     sigma, dropout, seed)
        self.x_dim, self.z_dim, self.hidden = x_dim, z_dim, hidden
        self.likelihood, self.levels, self.sigma, self.dropout = likelihood, levels, sigma, dropout
        out = x_dim * levels if likelihood == "categorical" else x_dim
        with torch.random.fork_rng(devices=[], enabled=seed is not None):
            if seed is not None:
                torch.manual_seed(seed)
            self.encoder = _mlp([x_dim, *hidden, 2 * z_dim], dropout)
            self.decoder = _mlp([z_dim, *reversed(hidden), out], dropout)
        if likelihood == "gaussian" and sigma == "learned":
            self.log_sigma = nn.Parameter(torch.zeros(()))
        self.register_buffer("_level_values", torch.arange(levels, dtype=torch.float32) / max(levels - 1, 1))

    def config(self) -> dict:
        """The constructor arguments as a JSON-able dict (what ``train.save`` stores beside the weights).

        Used by checkpoint.save; not called from a notebook.
        """
        return {
            "x_dim": self.x_dim, "z_dim": self.z_dim, "hidden": list(self.hidden), "likelihood": self.likelihood,
            "levels": self.levels, "sigma": self.sigma, "dropout": self.dropout,
        }

    @property
    def dtype(self) -> torch.dtype:
        """The floating dtype of the weights (and of every float this model returns).

        Used inside models.VAE (check_x, prior, sample) to match the weights' dtype; not called from a notebook.
        """
        return self._level_values.dtype

    # ---- input validation (the public edge) ---------------------------------------------------------------
    def check_x(self, x, name: str = "x") -> torch.Tensor:
        """Validate x against the likelihood and return it as the model reads it: [n, x_dim], n >= 1.

        Used by models.VAE.encode, models.VAE.loss, models.encoder_stats and compare.train; not called from a notebook.
        """
        if not isinstance(x, torch.Tensor) or x.dim() != 2 or x.shape[1] != self.x_dim:
            got = f"shape {list(x.shape)} {x.dtype}" if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"{name} must be a tensor [n, {self.x_dim}] ({self._x_form()}), got {got}")
        if len(x) == 0:
            raise ValueError(f"{name} must hold at least one row [n >= 1, {self.x_dim}], got an empty batch [0, "
                             f"{self.x_dim}]")
        if self.likelihood == "categorical":
            if x.is_floating_point() or x.dtype == torch.bool or x.is_complex():
                raise ValueError(f"{name} must be [n, {self.x_dim}] {self._x_form()}, got {x.dtype}")
            if int(x.min()) < 0 or int(x.max()) >= self.levels:
                raise ValueError(
                    f"{name} must be [n, {self.x_dim}] {self._x_form()}, got levels {int(x.min())}..{int(x.max())}"
                )
            return x.long()
        x = check_finite(name, x.to(self.dtype), f" ({self._x_form()})")
        if self.likelihood == "bernoulli" and (float(x.min()) < 0 or float(x.max()) > 1):
            raise ValueError(
                f"{name} must be [n, {self.x_dim}] {self._x_form()}, "
                f"got values in {float(x.min()):.3g}..{float(x.max()):.3g}"
            )
        return x

    def _x_form(self) -> str:
        """Human-readable form of valid x for error messages."""
        return {
            "categorical": f"integer grey levels in 0..{self.levels - 1}",
            "bernoulli": "floats in [0, 1]",
            "gaussian": "finite floats",
        }[self.likelihood]

    def _check_z(self, z) -> torch.Tensor:
        """Validate latent codes z [..., z_dim] and cast them to the model's dtype."""
        if not isinstance(z, torch.Tensor) or z.dim() < 1 or z.shape[-1] != self.z_dim or not z.is_floating_point():
            got = f"shape {list(z.shape)} {z.dtype}" if isinstance(z, torch.Tensor) else type(z).__name__
            raise ValueError(f"z must be a float tensor [..., {self.z_dim}], got {got}")
        return z.to(self.dtype)

    # ---- the two halves ---------------------------------------------------------------------------------
    def _encode_params(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Encoder outputs (mu, logvar), each [n, z_dim], for validated x (grey levels are scaled to [0, 1])."""
        inputs = (x / (self.levels - 1)).to(self.dtype) if self.likelihood == "categorical" else x
        mu, logvar = self.encoder(inputs).chunk(2, dim=-1)
        return mu, logvar

    def encode(self, x: torch.Tensor) -> Independent:
        """q_phi(z|x) = N(mu(x), diag sigma^2(x)): x [n, x_dim] -> distribution batch [n], event [z_dim] (eq. 9).

        Taught in 04 §1.
        """
        mu, logvar = self._encode_params(self.check_x(x))
        return Independent(Normal(mu, (0.5 * logvar).exp(), validate_args=False), 1, validate_args=False)

    def decode(self, z: torch.Tensor) -> Independent:
        """p_theta(x|z): z [..., z_dim] -> distribution over x, batch [...], event [x_dim] (AEVB appendix C).

        Taught in 04 §1.
        """
        out = self.decoder(self._check_z(z))
        if self.likelihood == "categorical":
            base = Categorical(logits=out.unflatten(-1, (self.x_dim, self.levels)), validate_args=False)
        elif self.likelihood == "bernoulli":
            base = Bernoulli(logits=out, validate_args=False)
        else:
            base = Normal(out, self._sigma_x().expand_as(out), validate_args=False)
        return Independent(base, 1, validate_args=False)

    def _sigma_x(self) -> torch.Tensor:
        """The Gaussian likelihood's pixel noise sigma_x (fixed, or learned as exp(log_sigma)): -> scalar."""
        return self.log_sigma.exp() if self.sigma == "learned" else torch.tensor(float(self.sigma), dtype=self.dtype)

    def prior(self) -> Independent:
        """p(z) = N(0, I) over [z_dim].

        Taught in 04 §1.
        """
        zeros = torch.zeros(self.z_dim, dtype=self.dtype, device=self._level_values.device)
        return Independent(Normal(zeros, torch.ones_like(zeros)), 1)

    # ---- objectives -------------------------------------------------------------------------------------
    def loss(self, x: torch.Tensor, beta: float = 1.0, generator: torch.Generator | None = None) -> LossTerms:
        """Negative ELBO with beta on the KL, one z per image: x [n, x_dim] -> LossTerms of batch means (eq. 10).

        -log p(x|z) is summed over pixels and the KL over latent dims, then both are averaged over the batch,
        so every term is in nats per image; at beta = 1, total is -ELBO (estimator B, eq. 7). ε comes from
        `generator` (None: torch's global RNG).

        Taught in 06 §2.
        """
        x, beta = self.check_x(x), number("beta", beta, at_least=0, plain=True)
        mu, logvar = self._encode_params(x)  # q_phi(z|x) = N(μ, diag σ²), each [n, J]          (eq. 9)
        sigma = (0.5 * logvar).exp()  # σ = exp(½ log σ²)
        z = bounds.reparameterise(mu, sigma, generator)  # z = μ + σ ⊙ ε, ε ~ N(0, I)          (§2.4, eq. 10)
        recon = -self.decode(z).log_prob(x)  # -log p_theta(x|z), one value per image [n]     (eq. 10)
        kl_per_dim = bounds.gaussian_kl_per_dim(mu, logvar)  # KL(q(z_j|x) || N(0, 1)) [n, J]  (appendix B)
        kl = kl_per_dim.sum(-1)  # KL(q_phi(z|x) || p(z)) [n]
        total = recon + beta * kl  # -ELBO with beta on the KL [n]                            (eq. 10)
        return LossTerms(total.mean(), recon.mean(), kl.mean(), kl_per_dim.mean(0), sigma.mean())

    def elbo(self, x: torch.Tensor, n_samples: int = 1, generator: torch.Generator | None = None) -> torch.Tensor:
        """ELBO per image with analytic KL, averaged over n_samples z draws: x [n, x_dim] -> [n] nats (eq. 7).

        Taught in 06 Going deeper D3.
        """
        x = self.check_x(x)
        q = self.encode(x)
        return bounds.elbo(x, q, self.prior(), self.decode, n_samples=n_samples, analytic_kl=True,
                           generator=generator)

    @torch.no_grad()
    def log_likelihood(self, x: torch.Tensor, n_samples: int = 1000, generator: torch.Generator | None = None,
                       max_elements: int = 2**24) -> torch.Tensor:
        """IWAE bound ℒ_S on log p(x) with S = n_samples importance samples (bounds.iwae_bound): x [n, x_dim] -> [n].

        In nats; rows go through in groups small enough that one likelihood call holds about max_elements numbers.

        Taught in 06 Going deeper D4.
        """
        count("n_samples", n_samples)
        count("max_elements", max_elements)
        x = self.check_x(x)
        per_row = min(n_samples, bounds.CHUNK) * self.x_dim * (self.levels if self.likelihood == "categorical" else 1)
        rows = max(1, max_elements // per_row)
        return torch.cat([bounds.iwae_bound(xb, self.encode(xb), self.prior(), self.decode, n_samples,
                                            generator=generator) for xb in x.split(rows)])

    # ---- display helpers --------------------------------------------------------------------------------
    @torch.no_grad()
    def decode_mean(self, z: torch.Tensor) -> torch.Tensor:
        """Pixel means of p(x|z) scaled to [0, 1] for display: z [n, z_dim] -> [n, x_dim] floats.

        Taught in 06 §4.
        """
        out = self.decoder(self._check_z(z))
        if self.likelihood == "categorical":
            return out.unflatten(-1, (self.x_dim, self.levels)).softmax(-1) @ self._level_values
        if self.likelihood == "bernoulli":
            return out.sigmoid()
        return out.clamp(0.0, 1.0)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Pixel means of p(x | z = mu(x)) in [0, 1]: x [n, x_dim] -> [n, x_dim] floats.

        Taught in 04 §3.
        """
        return self.decode_mean(self.encode(x).mean)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Ancestral samples z ~ N(0, I), x ~ p(x|z): -> [n, x_dim] (levels as int64, else float32).

        Taught in 06 Going deeper D2.
        """
        count("n", n)
        z = torch.randn(n, self.z_dim, generator=generator, dtype=self.dtype)
        out = self.decoder(z)
        if self.likelihood == "categorical":
            probs = out.unflatten(-1, (self.x_dim, self.levels)).softmax(-1).reshape(-1, self.levels)
            return torch.multinomial(probs, 1, generator=generator).view(n, self.x_dim)
        if self.likelihood == "bernoulli":
            return (torch.rand(out.shape, generator=generator, dtype=self.dtype) < out.sigmoid()).to(self.dtype)
        scale = self.log_sigma.exp() if self.sigma == "learned" else float(self.sigma)
        return out + scale * torch.randn(out.shape, generator=generator, dtype=self.dtype)


@contextlib.contextmanager
def eval_mode(model: nn.Module):
    """Run the block in eval mode (no dropout), then restore the model's training flag.

    Used by compare.elbo_evaluator and compare.log_marginal; not called from a notebook.
    """
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


@torch.no_grad()
def encoder_stats(model: VAE, x: torch.Tensor, batch_size: int = 4096) -> tuple[torch.Tensor, torch.Tensor]:
    """Encoder means and log-variances over a dataset: x [n, x_dim] -> (mu [n, z_dim], logvar [n, z_dim]).

    Taught in 06 Going deeper D1.
    """
    x = model.check_x(x)
    with eval_mode(model):
        parts = [model._encode_params(xb) for xb in x.split(batch_size)]
    return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])


def kl_per_dim(model: VAE, x: torch.Tensor) -> torch.Tensor:
    """Data-mean KL(q(z_j|x) || N(0, 1)) for each latent dim: x [n, x_dim] -> [z_dim] nats (appendix B).

    Taught in 06 §5.
    """
    mu, logvar = encoder_stats(model, x)
    return bounds.gaussian_kl_per_dim(mu, logvar).mean(0)


def unit_activity(model: VAE, x: torch.Tensor) -> torch.Tensor:
    """Activity Cov_x(E_q[z_j]) of each latent dim (Burda et al. 2015): x [n, x_dim] -> [z_dim].

    Taught in 06 §5.
    """
    mu, _ = encoder_stats(model, x)
    return mu.var(0)


def active_units(model: VAE, x: torch.Tensor, threshold: float = 0.01) -> int:
    """Number of latent dims with Cov_x(E_q[z_j]) > threshold (Burda et al. 2015, sec. 5.2): -> int.

    Taught in 06 §5.
    """
    threshold = number("threshold", threshold, at_least=0, plain=True)
    return int((unit_activity(model, x) > threshold).sum())


def _check_config(x_dim, z_dim, hidden, likelihood, levels, sigma, dropout, seed) -> tuple:
    """Validate VAE's constructor arguments: -> (x_dim, z_dim, hidden, levels, sigma, dropout) as stored."""
    count("x_dim", x_dim)
    count("z_dim", z_dim)
    hidden = tuple(hidden) if isinstance(hidden, tuple | list) else hidden
    if not isinstance(hidden, tuple) or not all(isinstance(h, int) and not isinstance(h, bool) and h >= 1
                                                for h in hidden):
        raise ValueError(f"hidden must be a tuple of positive ints, got {hidden!r}")
    if likelihood not in LIKELIHOODS:
        raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
    if likelihood == "categorical" and (isinstance(levels, bool) or not isinstance(levels, int) or levels < 2):
        raise ValueError(f"levels must be an int >= 2 for the categorical likelihood, got {levels!r}")
    if likelihood == "gaussian" and sigma != "learned":
        if isinstance(sigma, bool) or not isinstance(sigma, int | float) or not 0 < sigma < math.inf:
            raise ValueError(f"sigma must be a finite number > 0 or 'learned', got {sigma!r}")
    dropout = number("dropout", dropout, at_least=0, below=1, plain=True)
    if seed is not None:
        count("seed", seed, 0, typed=True)
    return x_dim, z_dim, hidden, int(levels), sigma, dropout
