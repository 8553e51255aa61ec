"""AEVB, wake-sleep and Monte Carlo EM trained side by side under one budget (AEVB §5, Figures 2 and 3; notebook 09).

Every algorithm trains the same ``models.VAE`` (MCEM ignores its encoder) on minibatches of M training points.
The x-axis of the paper's figures, "training samples evaluated", counts the training points the algorithm has
looked at: M per step for all three.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch

from vae_teach import ais
from vae_teach._checks import count
from vae_teach.mcem import MCEM
from vae_teach.models import VAE, eval_mode
from vae_teach.wake_sleep import split_params, wake_sleep_step

ALGORITHMS = ("aevb", "wake-sleep", "mcem")


class Curve(NamedTuple):
    """Bounds recorded during training: seen [T] training samples evaluated, then per-point nats [T] each.

    Returned by compare.train (09 §3) and read by compare.figure2 (09 §2); not called from a notebook.
    """

    seen: list[int]
    train: list[float]
    test: list[float]


def _stepper(algorithm: str, model: VAE, x: torch.Tensor, lr: float,
             generator: torch.Generator) -> Callable[[torch.Tensor], None]:
    """A function that takes one training step of `algorithm` on the training points idx [M]."""
    if algorithm == "aevb":
        opt = torch.optim.Adam(model.parameters(), lr=lr)

        def step(idx):
            opt.zero_grad()
            model.loss(x[idx]).total.backward()   # -ELBO, estimator B (eq. 7, 10)
            opt.step()
        return step
    if algorithm == "wake-sleep":
        theta, phi = split_params(model)
        opt_theta, opt_phi = torch.optim.Adam(theta, lr=lr), torch.optim.Adam(phi, lr=lr)
        return lambda idx: wake_sleep_step(model, x[idx], opt_theta, opt_phi, generator)
    em = MCEM(model, x, lr=lr, generator=generator)
    return lambda idx: em.step(idx, generator)


def train(algorithm: str, model: VAE, x: torch.Tensor, n_seen: int, batch_size: int = 100, lr: float = 3e-3,
          seed: int = 0, every: int | None = None,
          evaluate: Callable[[VAE], tuple[float, float]] | None = None) -> Curve:
    """Train model by algorithm on x [N, D] until n_seen samples are evaluated; call evaluate every `every` samples.

    Taught in 09 §3.
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    x = model.check_x(x)
    count("n_seen", n_seen)
    count("batch_size", batch_size)
    gen = torch.Generator().manual_seed(seed)
    curve = Curve([], [], [])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)                  # model.loss draws its epsilon from the global RNG
        step = _stepper(algorithm, model, x, lr, gen)
        seen = 0
        while seen < n_seen:
            for idx in torch.randperm(x.shape[0], generator=gen).split(batch_size):
                step(idx)
                seen += len(idx)
                if evaluate is not None and every and (seen // every > (seen - len(idx)) // every or seen >= n_seen):
                    curve.seen.append(seen)
                    for part, value in zip((curve.train, curve.test), evaluate(model), strict=True):
                        part.append(value)
                if seen >= n_seen:
                    break
    return curve


def elbo_evaluator(x_train: torch.Tensor, x_test: torch.Tensor, seed: int = 0) -> Callable[[VAE], tuple[float, float]]:
    """evaluate(model) -> (mean ELBO on x_train, on x_test) in nats per point, one z per point (eq. 7).

    Used by compare.figure2 (09 §2); not called from a notebook.
    """
    def evaluate(model: VAE) -> tuple[float, float]:
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad(), eval_mode(model):
            return float(model.elbo(x_train, generator=gen).mean()), float(model.elbo(x_test, generator=gen).mean())
    return evaluate


def log_marginal(model: VAE, x: torch.Tensor, n_chains: int = 8, n_temps: int = 100,
                 seed: int = 0) -> ais.Estimate:
    """AIS estimate of log p_theta(x) for any of the three models: x [n, D] -> Estimate of [n] nats.

    Used by compare.figure3 (09 §4); not called from a notebook.
    """
    gen = torch.Generator().manual_seed(seed)
    with eval_mode(model):
        return ais.ais_log_marginal(model.check_x(x), model.prior(), model.decode, n_chains, n_temps, generator=gen)


def iwae(model: VAE, x: torch.Tensor, n_samples: int = 1000, seed: int = 0) -> torch.Tensor:
    """IWAE bound ℒ_S with the model's own encoder, S = n_samples: x [n, D] -> [n] nats (Burda et al. 2015).

    Used by compare.figure3 (09 §4); not called from a notebook.
    """
    with eval_mode(model):
        return model.log_likelihood(x, n_samples, generator=torch.Generator().manual_seed(seed))


HIDDEN = (128,)   # one hidden layer, as in the paper's §5 (500 units for MNIST; our digits are 8x8)


def figure2(x_train: torch.Tensor, x_test: torch.Tensor, z_dims=(2, 5, 10, 20), n_seen: int = 20_000,
            every: int = 2_000, seed: int = 0) -> dict[int, dict[str, Curve]]:
    """Paper Figure 2: the ELBO on train and test during training, AEVB against wake-sleep, for each J in z_dims.

    Taught in 09 §2.
    """
    evaluate = elbo_evaluator(x_train, x_test, seed)
    return {j: {alg: train(alg, VAE(x_train.shape[1], j, hidden=HIDDEN, seed=seed), x_train, n_seen, seed=seed,
                           every=every, evaluate=evaluate)
                for alg in ("aevb", "wake-sleep")}
            for j in z_dims}


class Fig3Row(NamedTuple):
    """One model of Figure 3: AIS log p(x) (mean ± se over points) on train and test, and IWAE where q exists.

    Returned by compare.figure3 (09 §4); not called from a notebook.
    """

    algorithm: str
    n_train: int
    train: float
    train_se: float
    test: float
    test_se: float
    iwae_test: float | None
    seconds: float


def figure3(x_train: torch.Tensor, x_test: torch.Tensor, n_trains=(100, 1000), z_dim: int = 3,
            n_seen: int = 10_000, n_eval: int = 100, n_chains: int = 4, n_temps: int = 50, iwae_samples: int = 1000,
            aevb_more: int = 10, seed: int = 0) -> list[Fig3Row]:
    """Paper Figure 3: estimated log p(x) of AEVB, wake-sleep and MCEM models trained on the first n_train points.

    Every algorithm sees n_seen training samples; the row "aevb ×{aevb_more}" gives AEVB aevb_more times as many,
    about the decoder passes MCEM spends (10 leapfrog gradients and 5 weight updates per sample).

    Taught in 09 §4.
    """
    import time

    rows = []
    runs = [(alg, n_seen) for alg in ALGORITHMS] + [(f"aevb ×{aevb_more}", n_seen * aevb_more)]
    for n in n_trains:
        xs, xe = x_train[:n], x_test[:n_eval]
        for alg, budget in runs:
            model = VAE(x_train.shape[1], z_dim, hidden=HIDDEN, seed=seed)
            start = time.perf_counter()
            train(alg.split()[0], model, xs, budget, seed=seed)
            seconds = time.perf_counter() - start
            tr = log_marginal(model, xs[:n_eval], n_chains, n_temps, seed)
            te = log_marginal(model, xe, n_chains, n_temps, seed)
            iw = None if alg == "mcem" else float(iwae(model, xe, iwae_samples, seed).mean())
            rows.append(Fig3Row(alg, n, float(tr.log_px.mean()), _se_of_mean(tr), float(te.log_px.mean()),
                                _se_of_mean(te), iw, seconds))
    return rows


def _se_of_mean(est: ais.Estimate) -> float:
    """Standard error of the mean of per-point AIS estimates, from their own standard errors."""
    return float(est.se.pow(2).mean().sqrt() / est.se.numel() ** 0.5)
