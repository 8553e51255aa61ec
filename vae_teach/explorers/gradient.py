"""GradientExplorer: μ, σ sliders -> histograms of per-sample d/dμ estimates, reparameterisation vs score function.

Tables over the whole (μ, σ) slider grid (601 × 291 points, two histograms each) would be megabytes, so the
browser samples instead (gradient.js): Python ships the n standard-normal draws ε (the same ones
``gradients.grad_samples`` uses with the explorer's seed) and f, f', f'' tabulated on a z grid covering every
μ + σ ε the sliders reach. The page evaluates f and f' by cubic Hermite interpolation (error ~1e-12), forms the
estimates f'(z) and f(z) ε / σ (AEVB §2.4), and the exact gradient by Gauss–Hermite quadrature.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import traitlets as T

from vae_teach import gradients, plots, toy
from vae_teach.explorers._base import Explorer, f64, finite_number, int_in, module_source, snap, style_source

MU_RANGE, SIGMA_RANGE = (-3.0, 3.0), (0.1, 3.0)
TABLE_STEP = 0.005


def nice_range(lo: float, hi: float) -> tuple[float, float]:
    """[lo, hi] widened to multiples of a 1-2-5 unit, as gradient.js's niceRange (the histograms' x range).

    Used by the GradientExplorer's snapshot (05 Going deeper D6); not called from a notebook.
    """
    span = max(hi - lo, 1e-6)
    unit = 10.0 ** math.floor(math.log10(span))
    for m in (0.2, 0.5, 1.0):
        if span / (unit * m) <= 10:
            unit *= m
            break
    return math.floor(lo / unit) * unit, math.ceil(hi / unit) * unit


def tabulate(f, lo: float, hi: float, step: float = TABLE_STEP):
    """f, f' and f'' on the grid lo, lo + step, ..., >= hi by autograd (f'' by differences if autograd cannot):
    -> (z0, step, float64 [3, m]).

    Used by explorers.gradient.GradientExplorer (05 Going deeper D6); not called from a notebook.
    """
    m = int(math.ceil((hi - lo) / step)) + 1
    z = (lo + step * torch.arange(m, dtype=torch.float64)).requires_grad_(True)
    fz = f(z)
    if not isinstance(fz, torch.Tensor) or fz.shape != z.shape:
        raise ValueError(f"f must act elementwise: for z [{m}] it returned {getattr(fz, 'shape', type(fz).__name__)}")
    if not fz.requires_grad:
        raise ValueError("f must be differentiable in torch (the reparameterisation estimate needs f'(z))")
    (d1,) = torch.autograd.grad(fz.sum(), z, create_graph=True)
    try:
        (d2,) = torch.autograd.grad(d1.sum(), z)
    except RuntimeError:  # f' has no graph (f linear in z, or not twice differentiable): differences of f'
        d2 = torch.gradient(d1.detach(), spacing=step)[0]
    return lo, step, torch.stack([fz.detach(), d1.detach(), d2.detach()]).double()


class GradientExplorer(Explorer):
    """μ, σ sliders -> histograms of per-sample d/dμ estimates, reparameterisation vs score function (AEVB §2.4).

    Taught in 05 Going deeper D6 (why reparameterise).
    """

    _esm = module_source("gradient")
    _css = style_source()

    mu = T.Float(1.0).tag(sync=True)
    sigma = T.Float(1.0).tag(sync=True)
    mu_range = T.List(T.Float(), default_value=list(MU_RANGE)).tag(sync=True)
    sigma_range = T.List(T.Float(), default_value=list(SIGMA_RANGE)).tag(sync=True)
    eps = T.Bytes().tag(sync=True)  # float64 [n]
    table = T.Bytes().tag(sync=True)  # float64 [3, m]: f, f', f'' on z0 + j dz
    table_grid = T.List(T.Float()).tag(sync=True)  # [z0, dz, m]
    gh = T.List().tag(sync=True)  # Gauss–Hermite nodes and weights, for the exact gradient
    f_name = T.Unicode("z²").tag(sync=True)
    bins = T.Int(50).tag(sync=True)

    def __init__(self, f=None, n=2000, mu=1.0, sigma=1.0, f_name=None, bins=50, seed=0):
        if f is not None and not callable(f):
            raise ValueError(f"f must be a callable tensor -> tensor (elementwise), got {type(f).__name__}")
        if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= 200_000:
            raise ValueError(f"n must be an int in 2..200000, got {n!r}")
        if isinstance(bins, bool) or not isinstance(bins, int) or not 2 <= bins <= 500:
            raise ValueError(f"bins must be an int in 2..500, got {bins!r}")
        mu, sigma = finite_number("mu", mu), finite_number("sigma", sigma)
        if sigma <= 0:
            raise ValueError(f"sigma must be a number > 0, got {sigma!r}")
        self.f = toy.square if f is None else f
        self.n, self.seed = n, int_in("seed", seed, 0, 2**63 - 1)
        eps = torch.randn(n, generator=torch.Generator().manual_seed(self.seed), dtype=torch.float64)
        t, w = toy.gauss_hermite(80)
        keep = w > 1e-17  # quadrature nodes that matter; the page skips the rest (their weights sum to < 1e-15)
        t, w = t[keep], w[keep]
        widest = max(float(eps.abs().max()), math.sqrt(2.0) * float(t.abs().max()))
        reach = max(abs(v) for v in MU_RANGE) + SIGMA_RANGE[1] * widest + 0.5
        z0, dz, table = tabulate(self.f, -reach, reach)
        super().__init__(mu=snap(mu, lo=MU_RANGE[0], hi=MU_RANGE[1]), sigma=snap(sigma, lo=SIGMA_RANGE[0],
                         hi=SIGMA_RANGE[1]), eps=f64(eps), table=f64(table), table_grid=[z0, dz, float(table.shape[1])],
                         gh=[(math.sqrt(2.0) * t).tolist(), w.tolist()],
                         f_name=f_name or ("z²" if f is None else getattr(f, "__name__", "f")), bins=bins)

    def samples(self, mu, sigma):
        """Per-sample d/dμ estimates [n] for ("reparam", "score"), same ε for both (fixed generator).

        Part of the GradientExplorer of 05 Going deeper D6 (its readout and tests); not called from a notebook.
        """
        out = []
        for method in gradients.METHODS:
            g = torch.Generator().manual_seed(self.seed)
            out.append(gradients.grad_samples(self.f, mu, sigma, self.n, method, generator=g)[0].detach().numpy())
        return out

    def readout(self, mu=None, sigma=None) -> dict:
        """At (μ, σ) (default: the sliders): the exact d/dμ, and each estimator's sample mean and variance.

        Part of the GradientExplorer of 05 Going deeper D6 (its tests); not called from a notebook.
        """
        mu = self.mu if mu is None else mu
        sigma = self.sigma if sigma is None else sigma
        return self._stats(mu, sigma, *self.samples(mu, sigma))

    def _stats(self, mu, sigma, reparam, score) -> dict:
        """readout()'s dict from the two sample arrays [n] at (μ, σ)."""
        true = gradients.true_gradient(self.f, mu, sigma)[0]
        return {"mu": mu, "sigma": sigma, "true": true,
                "reparam_mean": float(reparam.mean()), "reparam_var": float(reparam.var(ddof=1)),
                "score_mean": float(score.mean()), "score_var": float(score.var(ddof=1))}

    def set_params(self, mu, sigma):
        """Move the sliders to (μ, σ), snapped to the grid and clipped to their ranges.

        Part of the GradientExplorer of 05 Going deeper D6 (its tests); not called from a notebook.
        """
        mu, sigma = finite_number("mu", mu), finite_number("sigma", sigma)
        with self.hold_sync():
            self.mu = snap(mu, lo=MU_RANGE[0], hi=MU_RANGE[1])
            self.sigma = snap(sigma, lo=SIGMA_RANGE[0], hi=SIGMA_RANGE[1])

    def _snapshot_values(self) -> str:
        """μ and σ as the caption writes them."""
        return f"μ = {self.mu:.2f}, σ = {self.sigma:.2f}"

    def _snapshot(self, fig) -> None:
        """The two histograms gradient.js draws at (μ, σ): estimates, true gradient, sample mean and variance."""
        samples = self.samples(self.mu, self.sigma)
        r = self._stats(self.mu, self.sigma, *samples)
        lo = min(np.quantile(a, 0.005) for a in samples)
        hi = max(np.quantile(a, 0.995) for a in samples)
        lo, hi = nice_range(min(lo, r["true"]), max(hi, r["true"]))
        axes = fig.subplots(1, 2)
        for ax, a, name, title in zip(axes, samples, ("reparam", "score"),
                                      ("reparameterisation (pathwise)", "score function (REINFORCE)"), strict=True):
            counts, edges = np.histogram(a, bins=self.bins, range=(lo, hi))
            ax.stairs(counts, edges, fill=True, color=plots.METHOD_COLOURS[name], alpha=0.8)  # one patch: fast
            ax.set_ylim(0, 1.15 * max(counts.max(), 1))
            ax.axvline(r["true"], color="k", lw=2, label="true gradient")
            ax.axvline(r[f"{name}_mean"], color="#d62728", lw=1.5, ls="--", label="mean of the samples")
            ax.text(0.98, 0.96, f"sample variance\n{r[f'{name}_var']:.3g}", transform=ax.transAxes, ha="right",
                    va="top")
            ax.set(xlim=(lo, hi), yticks=[], title=title, xlabel=f"per-sample estimate of d/dμ E[{self.f_name}]")
        fig.legend(*axes[0].get_legend_handles_labels(), loc="upper center", bbox_to_anchor=(0.5, 0.93), ncol=2,
                   frameon=False)
        ratio = r["score_var"] / max(r["reparam_var"], 1e-300)
        fig.suptitle(f"true d/dμ = {r['true']:.3f} · means {r['reparam_mean']:.3f} (reparam), "
                     f"{r['score_mean']:.3f} (score) · variance ratio score/reparam = {ratio:.3g}", fontsize=8.5)
        fig.subplots_adjust(left=0.03, right=0.98, top=0.78, bottom=0.2, wspace=0.08)

    def expected(self) -> dict:
        """One ArrowRight on the μ slider: Python's readout there.

        Part of the GradientExplorer of 05 Going deeper D6 (its browser tests); not called from a notebook.
        """
        r = self.readout(snap(self.mu + 0.01, lo=MU_RANGE[0], hi=MU_RANGE[1]), self.sigma)
        return {"control": "input.vae-grad-mu", "key": "ArrowRight", "values": r,
                "atol": {k: 1e-6 * max(1.0, abs(v)) for k, v in r.items()}}
