"""Training recipes on top of `train.fit`: weight averaging, a cosine learning-rate schedule, the digits recipe.

None of this is in the paper; these are the settings benchmarks/quality.py measured to reach a lower test -ELBO
on the 1000 training digits (see benchmarks/results/quality.md). Notebook 06 (§ 3) points here.
"""

from __future__ import annotations

import contextlib
import math

import torch
from torch import nn

from vae_teach import data, train
from vae_teach._checks import choice, number
from vae_teach.models import VAE

# The digits recipe: the model, and the settings of fit_averaged. Against the baseline below: batches of 128
# (half the steps: about 0.8x the time per epoch) with twice the learning rate, a patience of 8 epochs instead of
# 30, which the weight average's smooth validation curve allows, and float32 matmuls run in bfloat16 where the CPU
# has it (torch's 'medium' precision; about 0.8x the time per step here, elsewhere plain float32). Batches of 192
# or 256, lr 2.5e-3 or more, or patience 3 lost 0.4 nats or more (quality.md); bfloat16 with patience 5 lost 0.2
# nats on the mean, and recipes.MaskDropout 0.4-0.5 (benchmarks/results/recipe.md).
DIGITS_MODEL = {"x_dim": 64, "z_dim": 16, "hidden": (512, 512), "likelihood": "categorical", "levels": 17,
                "dropout": 0.4}
DIGITS_FIT = {"epochs": 300, "batch_size": 128, "lr": 2e-3, "patience": 8, "ema": 0.99, "matmul_precision": "medium"}
# The 0.68x recipe that the one above replaced, kept for benchmarks/training.py's table of variants.
DIGITS_FIT_PREVIOUS = {"epochs": 300, "batch_size": 128, "lr": 2e-3, "patience": 5, "ema": 0.99}
# The recipe before both, kept as benchmarks/training.py's baseline row.
DIGITS_MODEL_BASELINE = {"x_dim": 64, "z_dim": 16, "hidden": (512, 512), "likelihood": "categorical", "levels": 17,
                         "dropout": 0.4}
DIGITS_FIT_BASELINE = {"epochs": 300, "batch_size": 64, "lr": 1e-3, "patience": 30, "ema": 0.99}


class WeightAverage:
    """Exponential moving average of the weights (Polyak averaging) that can be swapped in for evaluation.

    Used by recipes.fit_averaged; not called from a notebook.
    """

    def __init__(self, params: list[torch.Tensor], decay: float):
        self.params, self.decay, self.steps, self.live = params, decay, 0, None
        self.averaged = [p.detach().clone() for p in params]

    @torch.no_grad()
    def update(self) -> None:
        """Blend the current weights in, with a short warm-up so early averages are not stuck at init.

        Used by recipes.fit_averaged (through train.fit); not called from a notebook.
        """
        self.steps += 1
        d = min(self.decay, (1 + self.steps) / (10 + self.steps))
        torch._foreach_lerp_(self.averaged, [p.detach() for p in self.params], 1 - d)

    @torch.no_grad()
    def swap_in(self) -> None:
        """Put the averaged weights into the model, keeping the live ones aside.

        Used by train.fit when it is given a weight average; not called from a notebook.
        """
        self.live = [p.detach().clone() for p in self.params]
        torch._foreach_copy_(self.params, self.averaged)

    @torch.no_grad()
    def swap_back(self) -> None:
        """Restore the live weights after swap_in.

        Used by train.fit when it is given a weight average; not called from a notebook.
        """
        if self.live is not None:
            torch._foreach_copy_(self.params, self.live)
            self.live = None


def cosine_schedule(optimizer: torch.optim.Optimizer, epochs: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Learning rate lr * (1 + cos(pi * epoch / epochs)) / 2, from lr at epoch 0 towards 0 (stepped per epoch).

    Used by recipes.fit_averaged; not called from a notebook.
    """
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 0.5 * (1 + math.cos(math.pi * epoch / epochs)))


class MaskDropout(nn.Dropout):
    """Dropout that draws its keep-mask as torch.rand(x.shape) >= p: [..] -> [..], the same law as nn.Dropout.

    On this CPU, torch.rand is about twice as fast as the bernoulli_ that nn.Dropout draws with (0.3 against 0.7 ms
    for a 128 x 512 batch), which was a fifth of a digits-recipe step (benchmarks/results/recipe.md).

    Used by recipes.fit_averaged (fast_dropout=True); not called from a notebook.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [..] -> x * mask / (1 - p) in training mode, x itself in eval mode.

        Called by the model's layers inside recipes.fit_averaged; not called from a notebook.
        """
        if not self.training or self.p == 0:
            return x
        return x * (torch.rand_like(x) >= self.p) * (1.0 / (1.0 - self.p))


@contextlib.contextmanager
def _speed_settings(model: VAE, fast_dropout: bool, matmul_precision: str | None):
    """Inside the block: MaskDropout in place of nn.Dropout, and torch's float32 matmul precision; both undone after."""
    swapped = []
    if fast_dropout:
        for seq in (model.encoder, model.decoder):
            for i, layer in enumerate(seq):
                if type(layer) is nn.Dropout:
                    seq[i] = MaskDropout(layer.p)
                    swapped.append((seq, i, layer))
    before = torch.get_float32_matmul_precision()
    if matmul_precision is not None:
        torch.set_float32_matmul_precision(matmul_precision)
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(before)
        for seq, i, layer in swapped:
            seq[i] = layer.train(seq[i].training)  # the layer kept aside missed fit's model.eval()


def fit_averaged(model: VAE, train_x, val=None, *, epochs: int = 50, lr: float = 1e-3, ema: float | None = None,
                 cosine: bool = False, weight_decay: float = 0.0, fast_dropout: bool = False,
                 matmul_precision: str | None = None, **fit_kw) -> train.History:
    """train.fit with Adam's L2 `weight_decay`, an optional cosine schedule and weight averaging (`ema`): -> History.

    `ema=0.99` validates and keeps an exponential moving average of the weights; `cosine=True` anneals the
    learning rate from lr towards 0 over `epochs`.

    Used by recipes.fit_digits; not called from a notebook.
    """
    if ema is not None:
        number("ema", ema, above=0, below=1, plain=True)
    number("weight_decay", weight_decay, at_least=0, plain=True)
    number("lr", lr, above=0, plain=True)
    if matmul_precision is not None:
        choice("matmul_precision", matmul_precision, ("highest", "high", "medium"))
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, fused=True)  # one kernel per step
    with _speed_settings(model, fast_dropout, matmul_precision):
        return train.fit(model, train_x, val, epochs=epochs, lr=lr, optimizer=opt,
                         scheduler=cosine_schedule(opt, epochs) if cosine else None,
                         averager=WeightAverage(params, ema) if ema is not None else None, **fit_kw)


def fit_digits(seed: int = 0, progress: bool = True, **overrides) -> tuple[VAE, train.History]:
    """Train the benchmarked digits VAE (categorical-17, z_dim=16) on the 1000-image split with val early stopping.

    Keyword overrides go to the model (keys of DIGITS_MODEL) or to fit_averaged (everything else).

    Used by train.fit_digits and benchmarks/training.py; not called from a notebook.
    """
    model_kw = {**DIGITS_MODEL, **{k: v for k, v in overrides.items() if k in DIGITS_MODEL}}
    fit_kw = {**DIGITS_FIT, **{k: v for k, v in overrides.items() if k not in DIGITS_MODEL}}
    model = VAE(**model_kw, seed=seed)
    xtr, _ = data.load_digits("train")
    xva, _ = data.load_digits("val")
    hist = fit_averaged(model, xtr, xva, seed=seed, progress=progress, **fit_kw)
    return model, hist
