"""Gradient samples for a VAE encoder's parameters φ: pathwise (reparameterised) versus score function.

Both estimate ∇_φ E_{q_φ(z|x)}[log p_θ(x|z)], the reconstruction term of the ELBO (AEVB eq. 7), one ε per image
per sample, averaged over the rows of x. The KL term is left out: it has a closed form, so its gradient is exact
under either method and would add the same exact vector to both. (The paper's ELBO estimators A and B live in
bounds.py.) Taught in notebook 05 (§ variance of the two gradients).
"""

from __future__ import annotations

import torch

from vae_teach import bounds
from vae_teach._checks import count

METHODS = ("reparam", "score")


def encoder_params(model, x: torch.Tensor) -> list[torch.nn.Parameter]:
    """The parameters φ that q(z|x) = model.encode(x) depends on (found by autograd, not by attribute names).

    Taught in 05 §3.
    """
    q = model.encode(x)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params or not (q.mean.requires_grad or q.stddev.requires_grad):
        return []
    grads = torch.autograd.grad(q.mean.sum() + q.stddev.sum(), params, allow_unused=True)
    return [p for p, g in zip(params, grads, strict=True) if g is not None]


def encoder_grad_samples(model, x: torch.Tensor, n: int, method: str, generator: torch.Generator | None = None,
                         params: list[torch.nn.Parameter] | None = None, chunk: int = 64) -> torch.Tensor:
    """n single-sample gradients ∇_φ mean_rows E_q[log p(x|z)], flattened over φ: x [m, D] -> [n, P] (eq. 7).

    q(z|x) must be a diagonal Gaussian (model.encode(x).mean / .stddev [m, J]). The n samples are computed
    together: first each sample's gradient with respect to (μ, σ), then one batched backward pass through
    the encoder (the chain rule, ∂φ = ∂μ/∂φ · ∂μ + ∂σ/∂φ · ∂σ).

    Taught in 05 Going deeper D4.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    count("n", n)
    count("chunk", chunk)
    if not torch.is_tensor(x) or x.dim() != 2 or x.shape[0] < 1:
        raise ValueError(f"x must be a tensor [m, D] with m >= 1, got {type(x).__name__} "
                         f"{tuple(x.shape) if torch.is_tensor(x) else ''}")
    params = encoder_params(model, x) if params is None else list(params)
    if not params:
        raise ValueError("found no encoder parameters: model.encode(x) must depend on trainable parameters")
    q = model.encode(x)
    mu, sd = q.mean, q.stddev                                  # [m, J], attached to φ
    out = []
    for start in range(0, n, chunk):
        b = min(chunk, n - start)
        mu_b = mu.detach().expand(b, *mu.shape).clone().requires_grad_(True)   # one copy of (μ, σ) per sample
        sd_b = sd.detach().expand(b, *sd.shape).clone().requires_grad_(True)
        z = bounds.reparameterise(mu_b, sd_b, generator)      # z = μ + σ ⊙ ε = g_φ(ε, x), section 2.4
        g_mu, g_sd = torch.autograd.grad(_objective(model, x, z, mu_b, sd_b, method), [mu_b, sd_b])  # [b, m, J]
        grads = torch.autograd.grad([mu, sd], params, grad_outputs=[g_mu, g_sd], retain_graph=True,
                                    is_grads_batched=True)
        out.append(torch.cat([g.reshape(b, -1) for g in grads], dim=1))
    return torch.cat(out)


def _objective(model, x, z, mu_b, sd_b, method: str) -> torch.Tensor:
    """The surrogate whose gradient in (μ, σ) is the chosen single-sample gradient, summed over samples."""
    if method == "reparam":
        return model.decode(z).log_prob(x).sum() / len(x)     # gradient flows through z
    z = z.detach()                                             # a plain sample: no path from z back to (μ, σ)
    f = model.decode(z).log_prob(x).detach()                   # [b, m]
    log_q = torch.distributions.Normal(mu_b, sd_b).log_prob(z).sum(-1)
    return (f * log_q).sum() / len(x)                          # f(z) ∇ log q(z|x): the log-derivative trick


def total_variance(samples: torch.Tensor) -> float:
    """Trace of the covariance of gradient samples, Σ_p Var(g_p): [n, P] -> float (n >= 2).

    Taught in 05 Going deeper D4.
    """
    if not isinstance(samples, torch.Tensor) or samples.dim() != 2 or samples.shape[0] < 2:
        got = tuple(samples.shape) if isinstance(samples, torch.Tensor) else type(samples).__name__
        raise ValueError(f"samples must be [n, P] with n >= 2, got {got}")
    return float(samples.var(0).sum())
