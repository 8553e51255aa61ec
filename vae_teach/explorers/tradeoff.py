"""TradeoffExplorer: a β slider over a trained sweep; each β's reconstructions, prior samples, latent scatter and
rate–distortion point are rendered once in Python and shipped as PNGs; the page swaps them (tradeoff.js)."""

from __future__ import annotations

import io
import math

import numpy as np
import torch
import traitlets as T
from PIL import Image

from vae_teach import data, plots, raster
from vae_teach.explorers._base import Explorer, finite_number, int_in, module_source, style_source
from vae_teach.explorers.latent import check_data, encode_stats, most_active
from vae_teach.models import eval_mode

BLUE, RED, GREY = "#1f77b4", "#d62728", "#7f7f7f"
PANELS = ("recon", "samples", "scatter", "curve")


def _model_input(model, x):
    """Data in the form the model's likelihood expects: levels stay levels for categorical, else floats in [0, 1]."""
    if getattr(model, "likelihood", None) == "categorical" or x.is_floating_point():
        return x
    return data.to_unit(x)


def _check_results(results):
    """Validate a beta sweep: non-empty, numeric distinct betas, one x_dim; -> runs sorted by beta."""
    runs = list(results) if results is not None else []
    if not runs:
        raise ValueError("results must hold at least one BetaRun (from train.beta_sweep), got none")
    for r in runs:
        missing = [a for a in ("beta", "model", "rate", "distortion") if not hasattr(r, a)]
        if missing:
            raise ValueError(f"each result must be a train.BetaRun with beta, model, rate, distortion; "
                             f"got {type(r).__name__} missing {missing}")
        if isinstance(r.beta, bool) or not isinstance(r.beta, int | float) or not math.isfinite(r.beta):
            raise ValueError(f"each BetaRun.beta must be a finite number (not a warm-up schedule), got {r.beta!r}")
        for name in ("rate", "distortion"):
            if not math.isfinite(float(getattr(r, name))):
                raise ValueError(f"BetaRun {name} must be finite, got {getattr(r, name)!r} at beta={r.beta}")
    betas = [float(r.beta) for r in runs]
    if len(set(betas)) != len(betas):
        raise ValueError(f"results must have distinct beta values, got {betas}")
    dims = {r.model.x_dim for r in runs}
    if len(dims) != 1:
        raise ValueError(f"all models must share one x_dim, got {sorted(dims)}")
    return sorted(runs, key=lambda r: float(r.beta))


class TradeoffExplorer(Explorer):
    """A β slider over a trained sweep: reconstructions, prior samples, latent scatter, rate–distortion point.

    Taught in 07 Going deeper D1 (the KL term against reconstruction).
    """

    _esm = module_source("tradeoff")
    _css = style_source()

    betas = T.List(T.Float()).tag(sync=True)
    rates = T.List(T.Float()).tag(sync=True)
    distortions = T.List(T.Float()).tag(sync=True)
    beta = T.Float(0.0).tag(sync=True)
    blob = T.Bytes().tag(sync=True)  # every PNG, one after another
    offsets = T.List().tag(sync=True)  # [[start, length] for each panel in PANELS] for each β
    n_show = T.Int(8).tag(sync=True)

    def __init__(self, results, x=None, labels=None, n_show=8, n_samples=16, seed=0):
        runs = _check_results(results)
        x_dim = runs[0].model.x_dim
        if x is None:
            if x_dim != 64:
                raise ValueError(f"pass x=[n, {x_dim}] test images: the default (digits test split) is 64 wide")
            x, labels = data.load_digits("test")
        x, labels = check_data(runs[0].model, x, labels)
        n_show = int_in("n_show", n_show, 1, 64)
        n_samples = int_in("n_samples", n_samples, 1, 256)
        self.runs, self.x, self.labels = runs, x, labels
        self.n_samples, self.seed = n_samples, int_in("seed", seed, 0, 2**63 - 1)
        self.panels = {}
        betas = [float(r.beta) for r in runs]
        self._betas = betas
        self._n_show = min(n_show, len(x))
        self._precompute()
        blob, offsets = bytearray(), []
        for b in betas:
            row = []
            for name in PANELS:
                png = self.panels[b][name]
                row.append([len(blob), len(png)])
                blob += png
            offsets.append(row)
        super().__init__(betas=betas, rates=[float(r.rate) for r in runs],
                         distortions=[float(r.distortion) for r in runs], beta=betas[0], blob=bytes(blob),
                         offsets=offsets, n_show=self._n_show)

    # ---- rendering (once per β) ------------------------------------------------------------------------------
    def _precompute(self):
        """Render every β's four panels to PNG bytes once."""
        figs = {name: plots.new_figure(4.6, 3.4) for name in ("scatter", "curve")}
        rates = [r.rate for r in self.runs]
        dists = [r.distortion for r in self.runs]
        curve_ax = figs["curve"].add_subplot()
        curve_ax.plot(rates, dists, "-o", color=GREY, ms=5, zorder=1)
        (hi,) = curve_ax.plot([], [], "o", ms=13, mfc="none", mec=RED, mew=2.5, zorder=3)
        curve_ax.set_xlabel("rate = KL(q ‖ p(z))  (nats)")
        curve_ax.set_ylabel("distortion = E_q[−log p(x|z)]  (nats)")
        curve_ax.set_title("rate–distortion, nats per test image", fontsize=10)
        curve_ax.margins(0.15)
        curve_ax.autoscale_view()
        curve_ax.set(xlim=curve_ax.get_xlim(), ylim=curve_ax.get_ylim())  # fixed: the ring moves, the axes don't
        figs["curve"].tight_layout(pad=0.4)
        # labels last, on the final layout: points within a few pixels share one label ("β=4, 8, 16")
        self.curve_labels = plots.annotate_merged(curve_ax, rates, dists, [f"{b:g}" for b in self._betas])
        show = self.x[: self._n_show]
        for run in self.runs:
            with eval_mode(run.model):
                panels = self._panels_for(run, figs, show)
            hi.set_data([run.rate], [run.distortion])
            hi.set_label(f"selected: β={float(run.beta):g}")  # names the β even where points share a label
            legend = curve_ax.legend(handles=[hi], loc="upper right", fontsize=9, labelcolor=RED)
            panels["curve"] = plots.figure_png(figs["curve"])
            legend.remove()
            self.panels[float(run.beta)] = panels

    def _panels_for(self, run, figs, show):
        """Reconstructions, prior samples and latent scatter of one run -> dict of PNG bytes."""
        model, b = run.model, float(run.beta)
        xin = _model_input(model, self.x)
        mu, sigma = encode_stats(model, xin)
        with torch.no_grad():
            recon = model.decode_mean(mu[: self._n_show].float())
            z = torch.randn(self.n_samples, model.z_dim, generator=torch.Generator().manual_seed(self.seed))
            samples = model.decode_mean(z)
        scale = max(1, 40 // raster.image_side(model.x_dim))
        levels = getattr(model, "levels", None) if not show.is_floating_point() else None
        grids = {"recon": plots.image_grid(torch.cat([raster.grey_unit(show, levels), recon]), ncol=self._n_show,
                                           scale=scale, pad=2),
                 "samples": plots.image_grid(samples, ncol=max(self.n_samples // 2, 1), scale=scale, pad=2)}
        out = {k: raster.png_bytes(255 - g) for k, g in grids.items()}  # dark ink on light, as gray_r figures
        fig = figs["scatter"]
        fig.clear()
        ax = fig.add_subplot()
        if model.z_dim >= 2:
            dims = tuple(sorted(most_active(mu, sigma, 2)))
            n = min(len(mu), 600)
            plots.latent_scatter(mu[:n], None if self.labels is None else self.labels[:n], dims=dims, ax=ax,
                                 limit=3.5, title=f"β={b:g}: encoder means, 2 most active dims")
        else:
            ax.hist(mu[:, 0].numpy(), bins=40, color=BLUE)
            ax.set_xlabel("z[0]")
            ax.set_title(f"β={b:g}: encoder means")
        fig.tight_layout(pad=0.4)
        out["scatter"] = plots.figure_png(fig)
        return out

    # ---- the static snapshot ---------------------------------------------------------------------------------
    def _snapshot_values(self) -> str:
        """β with its rate and distortion as the caption writes them."""
        r = self.readout()
        return f"β = {r['beta']:g}: rate {r['rate']:.2f} nats, distortion {r['distortion']:.2f} nats"

    def _snapshot(self, fig) -> None:
        """tradeoff.js's panels for the selected β (the same PNGs, near 1:1): reconstructions, prior samples and
        the rate–distortion curve; the latent scatter is left to the live view (too small at this size)."""
        panels = self.panels[self.beta]
        grid = fig.add_gridspec(2, 2, width_ratios=(0.9, 1.1), left=0.01, right=0.99, top=0.88, bottom=0.07,
                                wspace=0.03, hspace=0.3)
        where = {"recon": grid[0, 0], "samples": grid[1, 0], "curve": grid[:, 1]}
        titles = {"recon": "test images (top), reconstructions (bottom)", "samples": "means of p(x|z), z ~ N(0, I)"}
        for name, spec in where.items():
            ax = fig.add_subplot(spec)
            ax.imshow(np.asarray(Image.open(io.BytesIO(panels[name])).convert("RGB")), interpolation="antialiased")
            ax.set_axis_off()
            if name in titles:
                ax.set_title(titles[name], fontsize=8)
        r = self.readout()
        fig.suptitle(f"β = {r['beta']:g}: rate {r['rate']:.2f} nats + distortion {r['distortion']:.2f} nats = "
                     f"{r['rate'] + r['distortion']:.2f} nats (the β=1 bound, −ELBO)", fontsize=8.5)

    # ---- programmatic API ------------------------------------------------------------------------------------
    def select(self, beta):
        """Move the slider to the trained β nearest to `beta` (in log space when all β > 0) and return it.

        Part of the TradeoffExplorer of 07 Going deeper D1 (its tests); not called from a notebook.
        """
        beta = finite_number("beta", beta)
        b = np.array(self._betas)
        if (b > 0).all() and beta > 0:
            i = int(np.argmin(np.abs(np.log(b) - math.log(beta))))
        else:
            i = int(np.argmin(np.abs(b - beta)))
        self.beta = self._betas[i]
        return self._betas[i]

    def readout(self) -> dict:
        """The selected β with its rate and distortion (nats per test image).

        Part of the TradeoffExplorer of 07 Going deeper D1 (its tests); not called from a notebook.
        """
        i = self._betas.index(self.beta)
        return {"beta": self.beta, "rate": self.rates[i], "distortion": self.distortions[i]}

    def expected(self) -> dict:
        """One ArrowRight on the β slider: the next β and its rate and distortion.

        Part of the TradeoffExplorer of 07 Going deeper D1 (its browser tests);
        not called from a notebook.
        """
        i = min(self._betas.index(self.beta) + 1, len(self._betas) - 1)
        return {"control": "input.vae-beta-slider", "key": "ArrowRight",
                "values": {"beta": self._betas[i], "rate": self.rates[i], "distortion": self.distortions[i]},
                "atol": {"beta": 0, "rate": 1e-9, "distortion": 1e-9}}
