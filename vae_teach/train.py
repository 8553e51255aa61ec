"""Training a VAE: a short, reproducible loop (`fit`), beta sweeps, and `save`/`load` (from checkpoint.py).

`fit` keeps the whole dataset as one tensor and slices shuffled index batches (no per-sample Dataset or
DataLoader). All randomness flows from `seed`: a torch.Generator shuffles, and the dropout masks and each
`model.loss`'s ε come from the global RNG inside ``torch.random.fork_rng`` seeded with it, so the same seed gives a
bit-identical History and the caller's global RNG is left untouched. Weight averaging, learning-rate schedules
and the digits recipe live in recipes.py. Taught in notebook 06 (§ 3, train it).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import NamedTuple

import torch

from vae_teach._checks import count, number
from vae_teach.checkpoint import FORMAT, load, save
from vae_teach.models import VAE, eval_mode

__all__ = ["FORMAT", "BetaRun", "History", "TrainingDiverged", "beta_sweep", "fit",
           "fit_digits", "load", "rate_distortion", "save"]


class TrainingDiverged(FloatingPointError):
    """Raised when a loss term becomes NaN or infinite during training.

    Raised by train.fit (06 §3); not called from a notebook.
    """


@dataclass
class History:
    """Per-epoch training record; losses are in nats per image (batch mean), time is seconds since the start.

    Returned by train.fit (06 §3); not called from a notebook.
    """

    epoch: list[int] = field(default_factory=list)
    beta: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_recon: list[float] = field(default_factory=list)
    train_kl: list[float] = field(default_factory=list)
    train_kl_per_dim: list[list[float]] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_recon: list[float] = field(default_factory=list)
    val_kl: list[float] = field(default_factory=list)
    val_kl_per_dim: list[list[float]] = field(default_factory=list)
    sigma: list[float] = field(default_factory=list)  # mean encoder sigma over the epoch's training batches
    time: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False

    def as_dict(self) -> dict:
        """All fields as a plain dict of lists (JSON-able).

        Used by tests/test_train.py; not called from a notebook.
        """
        return asdict(self)

    def __len__(self) -> int:
        return len(self.epoch)


class BetaRun(NamedTuple):
    """One point of a beta sweep: rate = mean KL(q||p) and distortion = mean E_q[-log p(x|z)], nats per image.

    Returned by train.beta_sweep (07 §1); not called from a notebook.
    """

    beta: float
    model: VAE
    history: History
    rate: float
    distortion: float


def fit(
    model: VAE,
    train,
    val=None,
    epochs: int = 50,
    batch_size: int = 64,
    lr: float = 1e-3,
    beta: float | Callable[[int], float] = 1.0,
    seed: int = 0,
    patience: int | None = None,
    progress: bool = True,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    averager=None,
) -> History:
    """Train with Adam on -ELBO (beta on the KL, eq. 10): train [n, x_dim] -> History, one entry per epoch.

    Each epoch: shuffle, one `model.loss` step per minibatch (Algorithm 1), validate, maybe stop early. With
    `val` and `patience`, training stops after `patience` epochs without a lower validation loss and the best
    weights are restored. A NaN or inf loss restores the last weights that gave finite losses and raises
    TrainingDiverged. `optimizer`, `scheduler` (stepped after each epoch) and `averager` (weights swapped in to
    validate, and kept at the end) are the hooks recipes.py uses.

    Taught in 06 §3; first used in 04 §1.
    """
    x, xv = _check_fit(model, train, val, epochs, batch_size, lr, beta, seed, patience)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = optimizer if optimizer is not None else torch.optim.Adam(params, lr=lr, fused=True)
    hist, g, bar = History(), torch.Generator().manual_seed(seed), _ProgressBar(progress, epochs)
    best, waited, best_state, good = math.inf, 0, None, _snapshot(model)  # good: last weights with finite losses
    start = time.perf_counter()
    model.train()
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)  # dropout masks and each loss's ε come from the global RNG, seeded here
            for epoch in range(epochs):
                b = _beta_at(beta, epoch)
                sums, kl_dims = _train_epoch(model, x, torch.randperm(len(x), generator=g), batch_size, b, opt,
                                             averager, epoch, lr)
                _swap_in(averager)  # validate (and keep) the averaged weights when averaging
                ev = _evaluate(model, xv, b, epoch, lr) if xv is not None else None
                _record(hist, epoch, b, sums, kl_dims, ev, time.perf_counter() - start)
                bar.show(hist)
                if ev is not None and ev[0] < best:
                    best, waited, hist.best_epoch = ev[0], 0, epoch
                    best_state = _snapshot(model) if patience is not None else None
                elif ev is not None:
                    waited += 1
                    if patience is not None and waited >= patience:
                        hist.stopped_early = True
                        bar.stopped_early(epoch, hist.best_epoch)
                        break
                _swap_back(averager)
                good = _snapshot(model)
                if scheduler is not None:
                    scheduler.step()
            if not hist.stopped_early:
                _swap_in(averager)  # the averaged weights are the result
    except TrainingDiverged:
        model.load_state_dict(good)
        raise
    finally:
        bar.close()
        model.eval()
    if best_state is not None:
        model.load_state_dict(best_state)
    return hist


def _train_epoch(model: VAE, x, perm, batch_size: int, beta: float, opt, averager, epoch: int,
                 lr: float) -> tuple[torch.Tensor, torch.Tensor]:
    """One pass over x in shuffled batches: -> (means of [total, recon, kl, encoder sigma], kl_per_dim), float64."""
    sums = torch.zeros(4, dtype=torch.float64)
    kl_dims = torch.zeros(model.z_dim, dtype=torch.float64)
    for step, i in enumerate(range(0, len(x), batch_size)):
        xb = x[perm[i : i + batch_size]]
        terms = model.loss(xb, beta)  # one z per image, the KL in closed form (estimator B, eq. 7)
        if not math.isfinite(terms.total.item()):
            raise _diverged(model, x, terms, epoch, step, lr, "training")
        opt.zero_grad(set_to_none=True)
        terms.total.backward()
        opt.step()
        if averager is not None:
            averager.update()
        w = len(xb) / len(x)
        sums += w * torch.stack([terms.total, terms.recon, terms.kl, terms.sigma]).detach().double()
        kl_dims += w * terms.kl_per_dim.detach().double()
    return sums, kl_dims


@torch.inference_mode()
def _evaluate(model: VAE, x: torch.Tensor, beta: float, epoch: int = 0, lr: float = 0.0,
              batch_size: int = 2048) -> tuple:
    """Eval-mode loss terms over x, nats per image: -> (loss, recon, kl, kl_per_dim list); raises if non-finite."""
    tot, kl_dims = torch.zeros(3, dtype=torch.float64), torch.zeros(model.z_dim, dtype=torch.float64)
    with eval_mode(model):
        for xb in x.split(batch_size):
            t = model.loss(xb, beta)
            if not math.isfinite(t.total.item()):
                raise _diverged(model, x, t, epoch, None, lr, "validation")
            tot += len(xb) / len(x) * torch.stack([t.total, t.recon, t.kl]).double()
            kl_dims += len(xb) / len(x) * t.kl_per_dim.double()
    return float(tot[0]), float(tot[1]), float(tot[2]), kl_dims.tolist()


def _record(hist: History, epoch: int, beta: float, sums, kl_dims, ev, seconds: float) -> None:
    """Append one epoch's numbers to the History."""
    hist.epoch.append(epoch)
    hist.beta.append(beta)
    hist.train_loss.append(float(sums[0]))
    hist.train_recon.append(float(sums[1]))
    hist.train_kl.append(float(sums[2]))
    hist.train_kl_per_dim.append(kl_dims.tolist())
    if ev is not None:
        hist.val_loss.append(ev[0])
        hist.val_recon.append(ev[1])
        hist.val_kl.append(ev[2])
        hist.val_kl_per_dim.append(ev[3])
    hist.sigma.append(float(sums[3]))
    hist.time.append(seconds)


class _ProgressBar:
    """A tqdm bar over epochs showing the losses, or nothing when progress=False."""

    def __init__(self, progress: bool, epochs: int):
        self.bar = None
        if progress:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=epochs, desc="training", unit="epoch")

    def show(self, hist: History) -> None:
        """Advance one epoch, showing the last training (and validation) loss."""
        if self.bar is not None:
            post = {"loss": f"{hist.train_loss[-1]:.2f}"}
            if hist.val_loss:
                post["val"] = f"{hist.val_loss[-1]:.2f}"
            self.bar.set_postfix(post, refresh=False)
            self.bar.update(1)

    def stopped_early(self, epoch: int, best_epoch: int | None) -> None:
        """End the bar at this epoch as finished (not a red "interrupted" bar), naming the epoch kept."""
        if self.bar is not None:
            self.bar.total = epoch + 1
            self.bar.set_description(f"training (stopped early, best epoch {best_epoch})")

    def close(self) -> None:
        """Close the bar."""
        if self.bar is not None:
            self.bar.close()


def _snapshot(model: VAE) -> dict:
    """A detached copy of the model's weights."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _swap_in(averager) -> None:
    """Put the averaged weights into the model, if averaging."""
    if averager is not None:
        averager.swap_in()


def _swap_back(averager) -> None:
    """Put the live weights back after _swap_in, if averaging."""
    if averager is not None:
        averager.swap_back()


# ---- checks and messages ------------------------------------------------------------------------------------
def _check_data(model: VAE, x, name: str) -> torch.Tensor:
    """Validate a dataset tensor for the model, naming the argument in the error."""
    if isinstance(x, tuple | list) and len(x) == 2 and isinstance(x[0], torch.Tensor):
        x = x[0]  # accept (x, y) as returned by data.load_digits
    try:
        return model.check_x(x)
    except ValueError as e:
        raise ValueError(f"{name}: {e}") from None


def _check_fit(model, train, val, epochs, batch_size, lr, beta, seed, patience) -> tuple:
    """Validate fit's arguments once: -> (train tensor, val tensor or None)."""
    if not isinstance(model, VAE):
        raise ValueError(f"model must be a vae_teach VAE, got {type(model).__name__}")
    x = _check_data(model, train, "train")
    xv = None if val is None else _check_data(model, val, "val")
    count("epochs", epochs)
    count("batch_size", batch_size)
    number("lr", lr, above=0, plain=True)
    count("seed", seed, 0, typed=True)
    if patience is not None and (xv is None or isinstance(patience, bool) or not isinstance(patience, int)
                                 or patience < 1):
        raise ValueError(f"patience must be an int >= 1 and needs val data, got patience={patience!r}, "
                         f"val={'given' if xv is not None else None}")
    _beta_at(beta, 0)
    return x, xv


def _beta_at(beta, epoch: int) -> float:
    """The KL weight for this epoch from a number or a callable epoch -> beta."""
    b = beta(epoch) if callable(beta) else beta
    if isinstance(b, bool) or not isinstance(b, int | float) or not math.isfinite(b) or b < 0:
        raise ValueError(f"beta must be a finite number >= 0 (or a callable returning one), got {b!r} at epoch {epoch}")
    return float(b)


def _diverged(model: VAE, x, terms, epoch: int, step: int | None, lr: float, phase: str) -> TrainingDiverged:
    """The error naming the loss term that stopped being finite, with advice that fits the cause."""
    values = {"reconstruction": float(terms.recon.detach()), "KL": float(terms.kl.detach())}
    bad = [name for name, v in values.items() if not math.isfinite(v)]
    shown = ", ".join(f"{k}={values[k]}" for k in bad) or f"total={float(terms.total.detach())}"
    where = f"epoch {epoch} (step {step})" if step is not None else f"epoch {epoch} (validation)"
    head = (f"the {' and '.join(bad) or 'total'} term became non-finite ({shown}) at {where}; training stopped "
            "and the model is back at the last weights that gave finite losses")
    data_name = "train" if phase == "training" else "val"
    if x.is_floating_point() and float(x.abs().max()) > 1e4:  # pixels far beyond [0, 1]: the data is the cause
        return TrainingDiverged(f"{head}. The data {data_name} holds values up to {float(x.abs().max()):.3g}, "
                                f"too large for the model's likelihood: rescale it (for example to [0, 1]).")
    if epoch == 0 and step == 0:  # no update has happened yet: the learning rate cannot be the cause
        return TrainingDiverged(f"{head}. The loss is non-finite before the first update, so the learning rate is "
                                f"not the cause: {_blame_model(model)}")
    return TrainingDiverged(
        f"{head}. Remedy: lower the learning rate "
        f"(lr={lr:g}, try lr={min(lr / 10, 1e-3):g}), use KL warm-up (beta=lambda e: min(1, e / 20)) or check the "
        f"{data_name} data for extreme values."
    )


def _blame_model(model: VAE) -> str:
    """Say whether the model's weights or its settings make its first loss non-finite."""
    if not all(bool(torch.isfinite(p).all()) for p in model.parameters()):
        return "the model's weights hold NaN or inf; build a fresh model (or reload a saved one)."
    return (f"the model's outputs overflow at its initial weights (likelihood={model.likelihood!r}, "
            f"sigma={model.sigma!r}); check the model's settings and initial weights.")


# ---- beta sweeps ------------------------------------------------------------------------------------------
@torch.no_grad()
def rate_distortion(model: VAE, x, n_samples: int = 10, seed: int = 0) -> tuple[float, float]:
    """(rate, distortion) in nats per image: mean KL(q(z|x)||p(z)) and mean E_q[-log p(x|z)] over n_samples z.

    Taught in 07 Going deeper D5.
    """
    x = _check_data(model, x, "x")
    count("n_samples", n_samples)
    g = torch.Generator().manual_seed(count("seed", seed, 0, typed=True))
    with eval_mode(model):
        terms = [model.loss(x, generator=g) for _ in range(n_samples)]  # the KL is the same closed form each time
    return float(terms[0].kl), sum(float(t.recon) / n_samples for t in terms)


def beta_sweep(
    betas: Sequence[float],
    train,
    val=None,
    *,
    make_model: Callable[[], VAE],
    eval_x=None,
    seed: int = 0,
    **fit_kwargs,
) -> list[BetaRun]:
    """Train one fresh model per beta: -> [BetaRun]; rate/distortion on eval_x (default val, else train).

    Distortion is averaged over 10 posterior samples per image (a fixed generator), rate is the closed-form
    KL; both in nats per image. Every model starts from the same initial weights (make_model runs seeded).
    Every beta is checked before any model trains.

    Taught in 07 §1.
    """
    if not callable(make_model):
        raise ValueError(f"make_model must be a callable returning a fresh VAE, got {type(make_model).__name__}")
    betas = list(betas) if isinstance(betas, Sequence | tuple | list) else betas
    if not isinstance(betas, list) or not betas:
        raise ValueError(f"betas must be a non-empty list of numbers >= 0, got {betas!r}")
    for i, b in enumerate(betas):
        if not callable(b):
            number(f"betas[{i}]", b, at_least=0, plain=True)
    count("seed", seed, 0, typed=True)
    models = []
    for _ in betas:  # every model before any training, so a bad make_model fails fast
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = make_model()
        if not isinstance(model, VAE) or any(model is m for m in models):
            what = "the same model it returned before" if isinstance(model, VAE) else type(model).__name__
            raise ValueError(f"make_model must return a fresh VAE on every call (one model per beta), got {what}")
        models.append(model)
    ex = eval_x if eval_x is not None else (val if val is not None else train)
    runs = []
    for b, model in zip(betas, models, strict=True):
        hist = fit(model, train, val, beta=b, seed=seed, **fit_kwargs)
        rate, dist = rate_distortion(model, ex, seed=seed)
        runs.append(BetaRun(float(b) if not callable(b) else b, model, hist, rate, dist))
    return runs


# ---- the digits recipe (recipes.py) -----------------------------------------------------------------------
def fit_digits(seed: int = 0, progress: bool = True, **overrides) -> tuple[VAE, History]:
    """Train the benchmarked digits VAE (recipes.fit_digits): -> (model, History).

    Used by benchmarks/quality.py and tests/test_train.py; not called from a notebook.
    """
    from vae_teach import recipes

    return recipes.fit_digits(seed=seed, progress=progress, **overrides)


def __getattr__(name: str):
    """train.DIGITS_MODEL and train.DIGITS_FIT, which moved to recipes.py."""
    if name in ("DIGITS_MODEL", "DIGITS_FIT"):
        from vae_teach import recipes

        return getattr(recipes, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
