"""Training a VAE: a fast, reproducible loop (`fit`), beta sweeps, and `save`/`load` (from checkpoint.py).

`fit` keeps the whole dataset as one tensor and slices shuffled index batches (no per-sample Dataset or
DataLoader). All randomness flows from `seed`: a torch.Generator shuffles, and the reparameterisation noise
is drawn inside ``torch.random.fork_rng`` seeded from it, so the same seed gives a bit-identical History and
the caller's global RNG is left untouched.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import NamedTuple

import torch

from vae_teach import bounds
from vae_teach import data as _data
from vae_teach._checks import count
from vae_teach.checkpoint import FORMAT, load, save
from vae_teach.models import VAE, eval_mode

__all__ = ["FORMAT", "BetaRun", "History", "TrainingDiverged", "beta_sweep", "fit", "fit_digits", "load",
           "rate_distortion", "save"]

# The digits recipe (benchmarks/quality.py measured it; see benchmarks/results/quality.md).
DIGITS_MODEL = {"x_dim": 64, "z_dim": 16, "hidden": (512, 512), "likelihood": "categorical", "levels": 17,
                "dropout": 0.4}
DIGITS_FIT = {"epochs": 300, "batch_size": 64, "lr": 1e-3, "patience": 30, "ema": 0.99}


class TrainingDiverged(FloatingPointError):
    """Raised when a loss term becomes NaN or infinite during training."""


@dataclass
class History:
    """Per-epoch training record; losses are in nats per image (batch mean), time is seconds since the start."""

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
        """All fields as a plain dict of lists (JSON-able)."""
        return asdict(self)

    def __len__(self) -> int:
        return len(self.epoch)


class BetaRun(NamedTuple):
    """One point of a beta sweep: rate = mean KL(q||p) and distortion = mean E_q[-log p(x|z)], nats per image."""

    beta: float
    model: VAE
    history: History
    rate: float
    distortion: float


def _check_data(model: VAE, x, name: str) -> torch.Tensor:
    """Validate a dataset tensor for the model, naming the argument in the error."""
    if isinstance(x, tuple | list) and len(x) == 2 and isinstance(x[0], torch.Tensor):
        x = x[0]  # accept (x, y) as returned by data.load_digits
    try:
        x = model.check_x(x)
    except ValueError as e:
        raise ValueError(f"{name}: {e}") from None
    if not model.likelihood == "categorical" and not torch.isfinite(x).all():
        raise ValueError(f"{name} must hold finite values, got NaN or inf")
    if len(x) == 0:
        raise ValueError(f"{name} must hold at least one row, got 0")
    return x


def _beta_at(beta, epoch: int) -> float:
    """The KL weight for this epoch from a number or a callable epoch -> beta."""
    b = beta(epoch) if callable(beta) else beta
    if not isinstance(b, int | float) or not math.isfinite(b) or b < 0:
        raise ValueError(f"beta must be a finite number >= 0 (or a callable returning one), got {b!r} at epoch {epoch}")
    return float(b)


@torch.inference_mode()
def _evaluate(model: VAE, x: torch.Tensor, beta: float, batch_size: int = 2048) -> tuple[float, ...]:
    """Eval-mode loss terms over x, nats per image: -> (loss, recon, kl, kl_per_dim list)."""
    n, tot = len(x), torch.zeros(3, dtype=torch.float64)
    kl_dims = torch.zeros(model.z_dim, dtype=torch.float64)
    with eval_mode(model):
        for xb in x.split(batch_size):
            mu, logvar = model._encode_params(xb)
            t = model._loss_given(xb, mu, logvar, beta)
            w = len(xb) / n
            tot += w * torch.stack([t.total, t.recon, t.kl]).double()
            kl_dims += w * t.kl_per_dim.double()
    return float(tot[0]), float(tot[1]), float(tot[2]), kl_dims.tolist()


class _Averager:
    """Exponential moving average of the weights (Polyak averaging) that can be swapped in for evaluation."""

    def __init__(self, params: list[torch.Tensor], decay: float | None):
        self.params, self.decay, self.steps, self.live = params, decay, 0, None
        self.averaged = [p.detach().clone() for p in params] if decay is not None else None

    @torch.no_grad()
    def update(self) -> None:
        """Blend the current weights in, with a short warm-up so early averages are not stuck at init."""
        if self.averaged is not None:
            self.steps += 1
            d = min(self.decay, (1 + self.steps) / (10 + self.steps))
            torch._foreach_lerp_(self.averaged, [p.detach() for p in self.params], 1 - d)

    @torch.no_grad()
    def swap_in(self) -> None:
        """Put the averaged weights into the model, keeping the live ones aside."""
        if self.averaged is not None:
            self.live = [p.detach().clone() for p in self.params]
            torch._foreach_copy_(self.params, self.averaged)

    @torch.no_grad()
    def swap_back(self) -> None:
        """Restore the live weights after swap_in."""
        if self.live is not None:
            torch._foreach_copy_(self.params, self.live)
            self.live = None


def _diverged(terms, epoch: int, step: int, lr: float) -> TrainingDiverged:
    """Build the error naming the loss term(s) that stopped being finite."""
    values = {"reconstruction": float(terms.recon.detach()), "KL": float(terms.kl.detach())}
    bad = [name for name, v in values.items() if not math.isfinite(v)]
    what = " and ".join(bad) or "total"
    shown = ", ".join(f"{k}={values[k]}" for k in bad) or f"total={float(terms.total.detach())}"
    return TrainingDiverged(
        f"the {what} term became non-finite ({shown}) at "
        f"epoch {epoch} (step {step}); training stopped. Remedy: lower the learning rate (lr={lr:g}, try "
        f"lr={lr / 10:g}), use KL warm-up (beta=lambda e: min(1, e / 20)) or check the data for extreme values."
    )


def _train_epoch(model: VAE, x, perm, batch_size: int, beta: float, opt, averager: _Averager, epoch: int,
                 lr: float) -> tuple[torch.Tensor, torch.Tensor]:
    """One pass over x in shuffled batches: -> (means of [total, recon, kl, encoder sigma], kl_per_dim), float64."""
    n = len(x)
    sums = torch.zeros(4, dtype=torch.float64)
    kl_dims = torch.zeros(model.z_dim, dtype=torch.float64)
    for step, i in enumerate(range(0, n, batch_size)):
        xb = x[perm[i : i + batch_size]]
        mu, logvar = model._encode_params(xb)
        terms = model._loss_given(xb, mu, logvar, beta)
        if not math.isfinite(terms.total.item()):
            raise _diverged(terms, epoch, step, lr)
        opt.zero_grad(set_to_none=True)
        terms.total.backward()
        opt.step()
        averager.update()
        w = len(xb) / n
        sigma = (0.5 * logvar).exp().mean()
        sums += w * torch.stack([terms.total, terms.recon, terms.kl, sigma]).detach().double()
        kl_dims += w * terms.kl_per_dim.detach().double()
    return sums, kl_dims


def _record(hist: History, epoch: int, beta: float, sums, kl_dims, ev, has_val: bool, seconds: float) -> None:
    """Append one epoch's numbers to the History."""
    hist.epoch.append(epoch)
    hist.beta.append(beta)
    hist.train_loss.append(float(sums[0]))
    hist.train_recon.append(float(sums[1]))
    hist.train_kl.append(float(sums[2]))
    hist.train_kl_per_dim.append(kl_dims.tolist())
    if has_val:
        hist.val_loss.append(ev[0])
        hist.val_recon.append(ev[1])
        hist.val_kl.append(ev[2])
        hist.val_kl_per_dim.append(ev[3])
    hist.sigma.append(float(sums[3]))
    hist.time.append(seconds)


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
    weight_decay: float = 0.0,
    ema: float | None = None,
    cosine: bool = False,
) -> History:
    """Train with Adam on -ELBO (beta on the KL, eq. 10): train [n, x_dim] -> History, one entry per epoch.

    The loss is summed over pixels and latent dims and averaged over the batch (nats per image). With `val`
    and `patience`, training stops after `patience` epochs without a lower validation loss and the best
    weights are restored. A NaN or inf loss raises TrainingDiverged naming the term and the epoch.
    Options: `ema=0.99` evaluates and keeps an exponential moving average of the weights (Polyak averaging);
    `cosine=True` anneals the learning rate from lr to 0 over `epochs` (cosine); `weight_decay` is Adam's L2.
    """
    x = _check_data(model, train, "train")
    xv = None if val is None else _check_data(model, val, "val")
    count("epochs", epochs)
    count("batch_size", batch_size)
    if not (isinstance(lr, int | float) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    if patience is not None and (xv is None or not isinstance(patience, int) or patience < 1):
        raise ValueError(f"patience must be an int >= 1 and needs val data, got patience={patience!r}, "
                         f"val={'given' if xv is not None else None}")
    _beta_at(beta, 0)
    if ema is not None and not (isinstance(ema, float) and 0.0 < ema < 1.0):
        raise ValueError(f"ema must be a float in (0, 1) or None, got {ema!r}")

    hist = History()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, fused=True)  # one kernel per step
    averager = _Averager(params, ema)
    g = torch.Generator().manual_seed(int(seed))
    best, best_state, waited = math.inf, None, 0
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs, desc="training", unit="epoch")
    start = time.perf_counter()
    model.train()
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            for epoch in range(epochs):
                b = _beta_at(beta, epoch)
                if cosine:
                    for group in opt.param_groups:
                        group["lr"] = 0.5 * lr * (1 + math.cos(math.pi * epoch / epochs))
                perm = torch.randperm(len(x), generator=g)
                sums, kl_dims = _train_epoch(model, x, perm, batch_size, b, opt, averager, epoch, lr)
                averager.swap_in()  # validate (and keep) the averaged weights when averaging
                ev = _evaluate(model, xv, b) if xv is not None else None
                _record(hist, epoch, b, sums, kl_dims, ev, xv is not None, time.perf_counter() - start)
                if bar is not None:
                    post = {"loss": f"{hist.train_loss[-1]:.2f}"} | ({"val": f"{ev[0]:.2f}"} if ev else {})
                    bar.set_postfix(post, refresh=False)
                    bar.update(1)
                if xv is not None:
                    if ev[0] < best:
                        best, waited, hist.best_epoch = ev[0], 0, epoch
                        if patience is not None:
                            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                    else:
                        waited += 1
                        if patience is not None and waited >= patience:
                            hist.stopped_early = True
                            if bar is not None:  # a finished bar, not a red "interrupted" one
                                bar.total = epoch + 1
                                bar.set_description(f"training (stopped early, best epoch {hist.best_epoch})")
                            break
                averager.swap_back()
            if not hist.stopped_early:
                averager.swap_in()  # the averaged weights are the result
    finally:
        if bar is not None:
            bar.close()
        model.eval()
    if best_state is not None:
        model.load_state_dict(best_state)
    return hist


# ---- beta sweeps ------------------------------------------------------------------------------------------
@torch.no_grad()
def rate_distortion(model: VAE, x, n_samples: int = 10, seed: int = 0) -> tuple[float, float]:
    """(rate, distortion) in nats per image: mean KL(q(z|x)||p(z)) (closed form) and mean E_q[-log p(x|z)]."""
    x = _check_data(model, x, "x")
    model.eval()
    g = torch.Generator().manual_seed(seed)
    mu, logvar = model._encode_params(x)
    rate = float(bounds.gaussian_kl(mu, logvar).mean())
    std = (0.5 * logvar).exp()
    dist = 0.0
    for _ in range(n_samples):
        z = mu + std * torch.randn(mu.shape, generator=g)
        dist += float(-model._decode(z).log_prob(x).mean()) / n_samples
    return rate, dist


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
    """
    if not callable(make_model):
        raise ValueError(f"make_model must be a callable returning a fresh VAE, got {type(make_model).__name__}")
    betas = list(betas)
    if not betas:
        raise ValueError("betas must hold at least one value, got none")
    runs = []
    for b in betas:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = make_model()
        hist = fit(model, train, val, beta=b, seed=seed, **fit_kwargs)
        ex = eval_x if eval_x is not None else (val if val is not None else train)
        rate, dist = rate_distortion(model, ex, seed=seed)
        runs.append(BetaRun(float(b) if not callable(b) else b, model, hist, rate, dist))
    return runs


# ---- the digits recipe ------------------------------------------------------------------------------------
def fit_digits(seed: int = 0, progress: bool = True, **overrides) -> tuple[VAE, History]:
    """Train the benchmarked digits VAE (categorical-17, z_dim=16) on the 1000-image split with val early stopping."""
    model_kw = {**DIGITS_MODEL, **{k: v for k, v in overrides.items() if k in DIGITS_MODEL}}
    fit_kw = {**DIGITS_FIT, **{k: v for k, v in overrides.items() if k not in DIGITS_MODEL}}
    model = VAE(**model_kw, seed=seed)
    xtr, _ = _data.load_digits("train")
    xva, _ = _data.load_digits("val")
    hist = fit(model, xtr, xva, seed=seed, progress=progress, **fit_kw)
    return model, hist
