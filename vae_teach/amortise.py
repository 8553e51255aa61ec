"""Amortised inference, measured: a Gaussian q fitted separately per x versus one encoder network for all x.

Both are trained by maximising the ELBO with the reparameterisation trick (AEVB eq. 7) on a
`toy.LinearGaussian` model, where the exact posterior is known, so the quality of q is measured exactly as
the gap log p(x) − ELBO = KL(q(z|x) ‖ p(z|x)) in nats (AEVB eq. 1).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.distributions import Independent, MultivariateNormal, Normal, kl_divergence

from vae_teach import _checks as check
from vae_teach import bounds, toy


@dataclass(frozen=True)
class QFit:
    """How one way of getting q did: mean gap (nats), its cost, and the fitted q on the evaluation x.

    Returned by amortise.fit_per_x and amortise.fit_encoder (02 §5); not called from a notebook.
    """

    method: str  # "per-x" or "encoder"
    gap: float  # mean KL(q(z|x) || p(z|x)) over the evaluation x, nats
    steps: int  # gradient steps taken (per-x: for this batch of x; encoder: training, once)
    seconds: float  # wall-clock seconds of those steps
    new_x_seconds: float  # seconds to produce q for the evaluation x once trained (encoder: one forward pass)
    mu: torch.Tensor  # [n, k] means of q on the evaluation x
    std: torch.Tensor  # [n, k] standard deviations of q on the evaluation x
    trace: list[tuple[int, float, float]] = field(default_factory=list)  # (steps, seconds, mean gap nats)


def diag_gaussian(mu: torch.Tensor, std: torch.Tensor) -> Independent:
    """q(z|x) = N(mu, diag(std²)), batch [n], event [k]: [n, k], [n, k] -> distribution (AEVB eq. 9).

    Used by tests/test_amortise.py to build q for exact_gap; not called from a notebook.
    """
    check.same_shape("mu and std", check.tensor("mu", mu, ("n", "k"), kind="float"),
                     check.in_range("std", check.tensor("std", std, ("n", "k"), kind="float"), 0, math.inf,
                                    "standard deviations", open_=True))
    return Independent(Normal(mu, std), 1)


def exact_gap(model, x: torch.Tensor, mu: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag std²) ‖ p(z|x)) = log p(x) − ELBO, exact (linear-Gaussian): [n, d] -> [n] nats.

    Used by tests/test_amortise.py as the oracle for the gaps of 02 §5; not called from a notebook.
    """
    x = _check_x(model, x)
    if not (isinstance(mu, torch.Tensor) and isinstance(std, torch.Tensor)) or (
            mu.shape != (x.shape[0], model.k) or std.shape != mu.shape):
        raise ValueError(f"mu and std must be [{x.shape[0]}, {model.k}], "
                         f"got {check.describe(mu)} and {check.describe(std)}")
    check.tensor("mu", mu, kind="float")
    check.in_range("std", check.tensor("std", std, kind="float"), 0, math.inf, "standard deviations", open_=True)
    return _gap(model, x, mu, std)


def _gap(model, x, mu, std) -> torch.Tensor:
    """KL(N(mu, diag std²) ‖ p(z|x)) on trusted inputs: [n, d], [n, k], [n, k] -> [n] nats."""
    q = MultivariateNormal(mu, scale_tril=torch.diag_embed(std))
    return kl_divergence(q, model.posterior(x))


class Encoder(nn.Module):
    """A small MLP x -> (mu, std) of a diagonal Gaussian q(z|x): [n, d] -> ([n, k], [n, k]) (AEVB C.2).

    Built by amortise.fit_encoder (02 §5); not called from a notebook.
    """

    def __init__(self, d: int, k: int, hidden: int = 32):
        super().__init__()
        d, k, hidden = check.count("d", d), check.count("k", k), check.count("hidden", hidden)
        self.net = nn.Sequential(nn.Linear(d, hidden), nn.Tanh(), nn.Linear(hidden, 2 * k))
        self.k = k

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """[n, d] -> mu [n, k], std [n, k] (std = exp of the log-std output).

        Called as enc(xb) inside amortise.fit_encoder (02 §5); not called from a notebook.
        """
        out = self.net(x)
        return out[:, : self.k], out[:, self.k :].exp()


def fit_per_x(model, x: torch.Tensor, steps: int = 300, lr: float = 0.1, seed: int = 0,
              record_every: int = 0) -> QFit:
    """Fit one Gaussian q per row of x by Adam on its own (mu, log std): [n, d] -> QFit (gap over these x).

    Taught in 02 §5.
    """
    x = _check_x(model, x)
    lr = _check_steps(steps, lr, seed, record_every)  # a one-element tensor becomes a float
    gen = torch.Generator().manual_seed(seed)
    mu = torch.zeros(x.shape[0], model.k, dtype=model.W.dtype, requires_grad=True)
    log_std = torch.zeros(x.shape[0], model.k, dtype=model.W.dtype, requires_grad=True)
    opt = torch.optim.Adam([mu, log_std], lr=lr)
    sched = _linear_decay(opt, steps)
    trace, seconds = [], 0.0
    for step in range(1, steps + 1):
        t0 = time.perf_counter()
        _elbo_step(model, x, mu, log_std.exp(), opt, gen)
        sched.step()
        seconds += time.perf_counter() - t0
        if record_every and (step % record_every == 0 or step == 1):
            trace.append((step, seconds, _mean_gap(model, x, mu, log_std.exp())))
    with torch.no_grad():
        mu_f, std_f = mu.detach().clone(), log_std.exp().detach().clone()
    gap = _mean_gap(model, x, mu_f, std_f)
    return QFit("per-x", gap, steps, seconds, seconds, mu_f, std_f, trace)


def fit_encoder(model, x_eval: torch.Tensor, n_train: int = 2000, steps: int = 1500, batch: int = 100,
                hidden: int = 32, lr: float = 0.02, seed: int = 0,
                record_every: int = 0) -> tuple[Encoder, QFit]:
    """Train one encoder on x drawn from the model, then q for new x_eval in one pass: -> (Encoder, QFit).

    Taught in 02 §5.
    """
    x_eval = _check_x(model, x_eval, "x_eval")
    lr = _check_steps(steps, lr, seed, record_every)  # a one-element tensor becomes a float
    check.count("hidden", hidden)
    if check.count("n_train", n_train) < check.count("batch", batch):
        raise ValueError(f"need n_train >= batch >= 1, got n_train={n_train}, batch={batch}")
    gen = torch.Generator().manual_seed(seed)
    _, x_train = model.sample(n_train, generator=gen)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # local: the network's initial weights, restored on exit
        enc = Encoder(model.d, model.k, hidden).to(model.W.dtype)
    opt = torch.optim.Adam(enc.parameters(), lr=lr)
    sched = _linear_decay(opt, steps)
    trace, seconds = [], 0.0
    for step in range(1, steps + 1):
        t0 = time.perf_counter()
        idx = torch.randint(n_train, (batch,), generator=gen)
        xb = x_train[idx]
        mu, std = enc(xb)
        _elbo_step(model, xb, mu, std, opt, gen)
        sched.step()
        seconds += time.perf_counter() - t0
        if record_every and (step % record_every == 0 or step == 1):
            with torch.no_grad():
                trace.append((step, seconds, _mean_gap(model, x_eval, *enc(x_eval))))
    t0 = time.perf_counter()
    with torch.no_grad():
        mu_e, std_e = enc(x_eval)
    new_x_seconds = time.perf_counter() - t0
    return enc, QFit("encoder", _mean_gap(model, x_eval, mu_e, std_e), steps, seconds, new_x_seconds,
                     mu_e, std_e, trace)


def best_diagonal_gap(model, x: torch.Tensor) -> float:
    """Least mean KL(q ‖ p(z|x)) over diagonal Gaussian q (posterior mean, var 1/diag(Λ)): [n, d] -> nats.

    Taught in 02 §5.
    """
    x = _check_x(model, x)
    post = model.posterior(x)
    precision_diag = torch.diagonal(post.precision_matrix, dim1=-2, dim2=-1)
    return _mean_gap(model, x, post.mean, precision_diag.rsqrt())


def _elbo_step(model, x, mu, std, opt, gen) -> None:
    """One Adam step on −mean ELBO (estimator B, AEVB eq. 7) for q = N(mu, diag std²)."""
    if not (mu.isfinite().all() and std.isfinite().all() and (std > 0).all()):
        raise ValueError(f"lr = {opt.param_groups[0]['initial_lr']:g} is too large: q's mean or sd left the finite "
                         "numbers during training; try a smaller lr")
    q = Independent(Normal(mu, std), 1)  # q(z|x) = N(mu, diag std²), eq. 9
    loss = -bounds.elbo(x, q, model.prior(), model.likelihood, n_samples=1, analytic_kl=True,
                        generator=gen).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()


def _linear_decay(opt, steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Learning rate falling linearly to 0 over `steps`, so the single-sample gradient noise dies out."""
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda i: max(0.0, 1.0 - i / steps))


def _mean_gap(model, x, mu, std) -> float:
    """Mean exact gap over rows, as a Python float in nats."""
    with torch.no_grad():
        return float(_gap(model, x, mu.detach(), std.detach()).mean())


def _check_x(model, x, name: str = "x") -> torch.Tensor:
    """x cast to the model's dtype, once model is a toy.LinearGaussian and x a finite float [n >= 1, d] tensor."""
    if not isinstance(model, toy.LinearGaussian):
        raise ValueError(f"model must be a toy.LinearGaussian (its exact posterior scores q), "
                         f"got {type(model).__name__}")
    return check.tensor(name, x, ("n", model.d), kind="float", min_rows=1).to(model.W.dtype)


def _check_steps(steps, lr, seed, record_every) -> float:
    """lr as a float; ValueError unless steps is an int >= 1, lr a number > 0, seed and record_every ints >= 0."""
    check.count("steps", steps)
    lr = check.number("lr", lr, above=0)
    check.count("seed", seed, minimum=0)
    check.count("record_every", record_every, minimum=0)
    return lr
