"""Explorers for the notebooks: pure render functions (arrays / PNG bytes out) and thin ipywidgets wrappers.

Every explorer keeps its slider values on the step grid and its observers idempotent (a browser echoes
3.9 back as 3.9000000000000004), and exposes ``.widget`` to display; the explorer itself also displays
when it is the last expression of a cell.
"""

import math

import ipywidgets as W
import numpy as np
import torch

from vae_teach import bounds, data, plots
from vae_teach.models import encoder_stats, eval_mode
from vae_teach.toy_widgets import GradientExplorer, PosteriorExplorer, exact_terms_1d, exact_terms_2d, true_gradient
from vae_teach.widget_kit import BLUE, GREY, RED, STEP, Displayable, button, nice_range, single_thread, snap

__all__ = ["LatentExplorer", "PosteriorExplorer", "TradeoffExplorer", "GradientExplorer", "render_decoded",
           "exact_terms_1d", "exact_terms_2d", "true_gradient", "snap", "STEP", "single_thread", "nice_range",
           "BLUE", "GREY", "RED"]

MAX_SLIDERS = 8


def decoded_pixels(model, z):
    """Mean of p(x|z) for one latent z [z_dim] as a uint8 square image [side, side]."""
    side = plots.image_side(model.x_dim)
    with torch.no_grad(), single_thread(), eval_mode(model):
        mean = model.decode_mean(torch.as_tensor(z, dtype=torch.float32).reshape(1, -1))
    return plots.to_uint8(mean).reshape(side, side)


def render_decoded(model, z, size=256):
    """PNG bytes of the decoded image for z [z_dim], nearest-neighbour upscaled to about size pixels."""
    side = plots.image_side(model.x_dim)
    return plots.png_bytes(plots.upscale(decoded_pixels(model, z), max(1, size // side)))


def _check_model(model):
    """Raise unless model looks like a VAE with encode / decode_mean / x_dim / z_dim."""
    missing = [a for a in ("encode", "decode_mean", "x_dim", "z_dim") if not hasattr(model, a)]
    if missing:
        raise ValueError(f"model must be a VAE with encode, decode_mean, x_dim, z_dim; missing {missing}")
    plots.image_side(model.x_dim)


def _check_data(model, data, labels):
    """Validate data [n, x_dim] and labels [n]; return (data, labels as LongTensor or None)."""
    if not isinstance(data, torch.Tensor) or data.dim() != 2 or data.shape[1] != model.x_dim or len(data) == 0:
        got = f"{list(data.shape)} {data.dtype}" if isinstance(data, torch.Tensor) else type(data).__name__
        raise ValueError(f"data must be a tensor [n, {model.x_dim}] (n >= 1) matching model.x_dim, got {got}")
    if labels is not None:
        labels = torch.as_tensor(labels)
        if labels.shape != (len(data),):
            raise ValueError(f"labels must be [n] = [{len(data)}] to match data, got {list(labels.shape)}")
        labels = labels.long()
    return data, labels


def display_pixels(model, x):
    """Data rows [n, x_dim] (grey levels or floats in [0, 1]) -> floats in [0, 1] for display."""
    if x.is_floating_point():
        return x.float()
    return x.float() / max(getattr(model, "levels", int(x.max()) + 1) - 1, 1)


def encode_stats(model, x):
    """Encoder mean and standard deviation over rows: x [n, x_dim] -> (mu [n, z], sigma [n, z]) float64."""
    mu, logvar = encoder_stats(model, x)
    return mu.double(), (0.5 * logvar).exp().double()


def most_active(mu, sigma, count=MAX_SLIDERS):
    """Indices of the `count` latent dims with the largest data-mean KL(q(z_j|x) || N(0,1)), largest first."""
    kl = bounds.gaussian_kl(mu.unsqueeze(-1), (2 * sigma.log()).unsqueeze(-1)).mean(0)
    return [int(i) for i in torch.argsort(kl, descending=True)[:count]]


def latent_map_background(mu, labels, dims, limit, width=4.1, height=3.5):
    """Render the static map (encoded points of the plane `dims`) once: -> plots.RasterAxes."""
    fig = plots.new_figure(width, height)
    ax = fig.add_subplot()
    if mu is not None:
        plots.latent_scatter(mu, labels, dims=dims, ax=ax, limit=limit, legend_outside=True,
                             title=f"encoded data, z[{dims[0]}] vs z[{dims[1]}]")
    else:
        ax.set_xlim(-limit, limit)
        ax.set_ylim(-limit, limit)
        ax.set_xlabel(f"z[{dims[0]}]")
        ax.set_ylabel(f"z[{dims[1]}]")
        ax.set_title(f"latent map: z[{dims[0]}] vs z[{dims[1]}]")
    ax.grid(alpha=0.25)
    fig.tight_layout(pad=0.4)
    rgb = plots.figure_rgb(fig)
    return plots.RasterAxes(rgb, ax)


def render_map(raster, point, ellipse=None):
    """PNG bytes of the map with the current point [2] and optionally q's 1σ/2σ ellipse (center [2], sd [2])."""
    img = raster.rgb.copy()
    if ellipse is not None:
        center, sd = ellipse
        for k, colour in ((2, (120, 120, 120)), (1, (20, 20, 20))):
            raster.polyline(img, plots.ellipse_points(center, k * np.asarray(sd)), colour)
    raster.marker(img, point, (230, 30, 30), radius=4)
    return plots.png_bytes(img)


class LatentExplorer(Displayable):
    """Sliders over z -> decoded image, a latent map with the current point, encode / sample / reset buttons."""

    def __init__(self, model, data=None, labels=None, dims=None, limit=3.0, max_points=600, seed=0):
        _check_model(model)
        self.model, self.limit = model, float(limit)
        if not self.limit > 0:
            raise ValueError(f"limit must be a number > 0, got {limit!r}")
        self.data = self.labels = self.mu = self.sigma = None
        if data is not None:
            self.data, self.labels = _check_data(model, data, labels)
            self.mu, self.sigma = encode_stats(model, self.data)
        elif labels is not None:
            raise ValueError("labels were given without data; pass data=[n, x_dim] too")
        self.dims = self._choose_dims(dims)
        self.side = plots.image_side(model.x_dim)
        self.scale = max(1, 256 // self.side)
        self._generator = torch.Generator().manual_seed(seed)
        self._max_points = max_points
        self._backgrounds = {}
        self._hold = False
        self.selected = None  # index of the encoded data image whose q ellipse is shown
        self.z = torch.zeros(model.z_dim, dtype=torch.float32)
        self._shown_z = None
        self._shown_map = None
        self._build()
        self._show(self.z)

    def _choose_dims(self, dims):
        """Validate dims, or pick all (z_dim <= 8) / the 8 most active by KL on data."""
        z_dim = self.model.z_dim
        if dims is None:
            if z_dim <= MAX_SLIDERS:
                return list(range(z_dim))
            return most_active(self.mu, self.sigma) if self.mu is not None else list(range(MAX_SLIDERS))
        dims = [int(d) for d in dims]
        if not dims or len(set(dims)) != len(dims) or min(dims) < 0 or max(dims) >= z_dim:
            raise ValueError(f"dims must be distinct latent indices in 0..{z_dim - 1}, got {dims}")
        return dims

    # ---- widgets -----------------------------------------------------------------------------------------
    def _build(self):
        """Create the sliders, buttons, images and layout."""
        self.sliders = []
        for d in self.dims:
            s = W.FloatSlider(value=0.0, min=-self.limit, max=self.limit, step=STEP, description=f"z[{d}]",
                              readout_format=".2f", continuous_update=True, layout=W.Layout(width="300px"))
            s.add_class("vae-latent-slider")
            s.observe(self._on_slider, names="value")
            self.sliders.append(s)
        self.sample_button = button("Sample from prior", icon="random", tooltip="z ~ N(0, I), all dims")
        self.reset_button = button("Reset", icon="undo", tooltip="z = 0, no ellipse")
        self.sample_button.on_click(lambda _: self.sample_prior())
        self.reset_button.on_click(lambda _: self.reset())
        self.image = W.Image(format="png")  # natural size: no browser resampling blur
        self.image.add_class("vae-decoded")
        controls = [W.HTML("<b>latent z</b> (other dims fixed)" if len(self.dims) < self.model.z_dim
                           else "<b>latent z</b>"), *self.sliders, W.HBox([self.sample_button, self.reset_button])]
        if self.data is not None:
            self.index = W.IntSlider(value=0, min=0, max=len(self.data) - 1, description="data #",
                                     layout=W.Layout(width="300px"))
            self.encode_button = button("Encode", icon="crosshairs", tooltip="jump to the encoder mean of this image")
            self.encode_button.on_click(lambda _: self.encode(self.index.value))
            self.original = W.Image(format="png")
            self.index.observe(self._on_index, names="value")
            self._on_index({"new": 0})
            controls += [W.HTML("<b>encode a data image</b>"), self.index,
                         W.HBox([self.original, self.encode_button])]
        middle = W.VBox([W.HTML("<b>decoded mean of p(x|z)</b>"), self.image])
        parts = [W.VBox(controls), middle]
        self.map_image = None
        if len(self.dims) >= 2:
            options = [(f"z[{d}]", d) for d in self.dims]
            axis = {"style": {"description_width": "50px"},  # room for "x axis"; the select keeps ~110 px
                    "layout": W.Layout(width="170px", flex="0 0 auto")}
            self.map_x = W.Dropdown(options=options, value=self.dims[0], description="x axis", **axis)
            self.map_y = W.Dropdown(options=options, value=self.dims[1], description="y axis", **axis)
            self.map_x.observe(self._on_pair, names="value")
            self.map_y.observe(self._on_pair, names="value")
            self.map_image = W.Image(format="png")
            self.map_image.add_class("vae-latent-map")
            caption = W.HTML("<small><span style='color:#e61e1e'>●</span> current z &nbsp; rings: q(z|x) of the "
                             "encoded image, 1σ (black) and 2σ (grey)</small>")
            parts.append(W.VBox([self.map_image, W.HBox([self.map_x, self.map_y]), caption]))
        for p in parts:  # columns keep their width; in a narrow notebook the map wraps below instead of clipping
            p.layout.margin = "0 12px 12px 0"
            p.layout.flex = "0 0 auto"
        self.widget = W.HBox(parts, layout=W.Layout(align_items="flex-start", flex_flow="row wrap"))
        self.widget.add_class("vae-latent-explorer")

    # ---- rendering ---------------------------------------------------------------------------------------
    def _raster(self, pair):
        """The cached map background for the plane `pair` (rendered on first use only)."""
        if pair not in self._backgrounds:
            mu = None if self.mu is None else self.mu[: self._max_points]
            labels = None if self.labels is None else self.labels[: self._max_points]
            self._backgrounds[pair] = latent_map_background(mu, labels, pair, self.limit)
        return self._backgrounds[pair]

    def _map_state(self, z):
        """What the map shows: (pair, current point, selected index) -> a hashable key."""
        pair = (self.map_x.value, self.map_y.value)
        return pair, (float(z[pair[0]]), float(z[pair[1]])), self.selected

    def _show(self, z, force=False):
        """Render z: decoded image always when z changed; the map only when its point or ellipse changed."""
        self.z = z
        if force or self._shown_z is None or not torch.equal(z, self._shown_z):
            self._shown_z = z.clone()
            self.image.value = render_decoded(self.model, z)
        if self.map_image is not None:
            state = self._map_state(z)
            if force or state != self._shown_map:
                self._shown_map = state
                pair, point, sel = state
                ellipse = None
                if sel is not None:
                    ellipse = (self.mu[sel, list(pair)].numpy(), self.sigma[sel, list(pair)].numpy())
                self.map_image.value = render_map(self._raster(pair), point, ellipse)

    def _on_slider(self, change):
        """Slider observer: snap to the grid, rebuild z, render if it changed (idempotent)."""
        if self._hold:
            return
        z = self.z.clone()
        for d, s in zip(self.dims, self.sliders, strict=True):
            z[d] = snap(s.value, lo=-self.limit, hi=self.limit)
        self._show(z)

    def _on_pair(self, change):
        """Map axis dropdown observer."""
        self._show(self.z, force=True)

    def _on_index(self, change):
        """Index slider observer: preview the chosen data image."""
        pixels = display_pixels(self.model, self.data[change["new"]]).reshape(self.side, self.side)
        self.original.value = plots.png_bytes(plots.upscale(plots.to_uint8(pixels), max(1, 96 // self.side)))

    # ---- programmatic API ------------------------------------------------------------------------------
    def set_latent(self, z):
        """Move to latent z [z_dim]: shown dims snap to the slider grid (clipped to ±limit), others kept exact."""
        z = torch.as_tensor(z, dtype=torch.float32).reshape(-1).clone()
        if z.shape != (self.model.z_dim,) or not torch.isfinite(z).all():
            raise ValueError(f"z must be finite [{self.model.z_dim}] (model.z_dim), got {list(z.shape)}")
        self._hold = True
        try:
            for d, s in zip(self.dims, self.sliders, strict=True):
                s.value = snap(z[d], lo=-self.limit, hi=self.limit)
                z[d] = s.value
        finally:
            self._hold = False
        self._show(z)

    def encode(self, i):
        """Jump to the encoder mean of data row i and show q(z|x_i)'s 1σ/2σ ellipse on the map."""
        if self.data is None:
            raise ValueError("encode needs data: construct LatentExplorer(model, data=...)")
        if not 0 <= int(i) < len(self.data):
            raise ValueError(f"i must be a data index in 0..{len(self.data) - 1}, got {i!r}")
        self.selected = int(i)
        self.set_latent(self.mu[self.selected])

    def sample_prior(self):
        """Jump to a fresh z ~ N(0, I) (all dims) drawn from the explorer's own generator."""
        self.selected = None
        self.set_latent(torch.randn(self.model.z_dim, generator=self._generator))

    def reset(self):
        """Back to z = 0 with no ellipse."""
        self.selected = None
        self.set_latent(torch.zeros(self.model.z_dim))


# ---------------------------------------------------------------------------------------------------------
# TradeoffExplorer
# ---------------------------------------------------------------------------------------------------------
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
        if not isinstance(r.beta, int | float):
            raise ValueError(f"each BetaRun.beta must be a number (not a warm-up schedule), got {r.beta!r}")
    betas = [float(r.beta) for r in runs]
    if len(set(betas)) != len(betas):
        raise ValueError(f"results must have distinct beta values, got {betas}")
    dims = {r.model.x_dim for r in runs}
    if len(dims) != 1:
        raise ValueError(f"all models must share one x_dim, got {sorted(dims)}")
    return sorted(runs, key=lambda r: float(r.beta))


class TradeoffExplorer(Displayable):
    """A β slider over a trained sweep: reconstructions, prior samples, latent scatter, rate–distortion point."""

    def __init__(self, results, x=None, labels=None, n_show=8, n_samples=16, seed=0):
        self.runs = _check_results(results)
        x_dim = self.runs[0].model.x_dim
        if x is None:
            if x_dim != 64:
                raise ValueError(f"pass x=[n, {x_dim}] test images: the default (digits test split) is 64 wide")
            x, labels = data.load_digits("test")
        x, labels = _check_data(self.runs[0].model, x, labels)
        self.x, self.labels = x, labels
        self.n_show, self.n_samples, self.seed = min(n_show, len(x)), n_samples, seed
        self.betas = [float(r.beta) for r in self.runs]
        self.panels = {}
        with single_thread():
            self._precompute()
        self._build()

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
        self.curve_labels = plots.annotate_merged(curve_ax, rates, dists, [f"{b:g}" for b in self.betas])
        show = self.x[: self.n_show]
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
            recon = model.decode_mean(mu[: self.n_show].float())
            z = torch.randn(self.n_samples, model.z_dim, generator=torch.Generator().manual_seed(self.seed))
            samples = model.decode_mean(z)
        scale = max(1, 40 // plots.image_side(model.x_dim))
        out = {"recon": plots.png_bytes(plots.image_grid(torch.cat([display_pixels(model, show), recon]),
                                                         ncol=self.n_show, scale=scale, pad=2)),
               "samples": plots.png_bytes(plots.image_grid(samples, ncol=max(self.n_samples // 2, 1), scale=scale,
                                                           pad=2))}
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

    def _build(self):
        """The β slider, readout and the four images."""
        self.slider = W.SelectionSlider(options=[(f"{b:g}", b) for b in self.betas], value=self.betas[0],
                                        description="β", continuous_update=True, layout=W.Layout(width="420px"))
        self.slider.add_class("vae-beta-slider")
        self.info = W.HTML()
        self.images = {name: W.Image(format="png") for name in ("recon", "samples", "scatter", "curve")}
        self.slider.observe(self._on_beta, names="value")
        self.captions = {name: W.HTML() for name in ("recon", "samples")}
        self.widget = W.VBox([
            W.HBox([self.slider, self.info]),
            W.HBox([W.VBox([self.captions[k], self.images[k]], layout=W.Layout(margin="0 24px 0 0"))
                    for k in ("recon", "samples")]),
            W.HBox([self.images["scatter"], self.images["curve"]]),
        ])
        self.widget.add_class("vae-tradeoff-explorer")
        self._show(self.betas[0])

    def _show(self, beta):
        """Swap in the precomputed panels of beta."""
        run = self.runs[self.betas.index(beta)]
        for name, img in self.images.items():
            img.value = self.panels[beta][name]
        self.captions["recon"].value = f"<b>β = {beta:g}</b>: test images (top), reconstructions (bottom)"
        self.captions["samples"].value = f"<b>β = {beta:g}</b>: means of p(x|z) for z ~ N(0, I)"
        self.info.value = (f"rate {run.rate:.2f} nats + distortion {run.distortion:.2f} nats = "
                           f"{run.rate + run.distortion:.2f} nats (the β=1 bound, −ELBO)")

    def _on_beta(self, change):
        self._show(change["new"])

    def select(self, beta):
        """Move the slider to the trained β nearest to `beta` (in log space when all β > 0) and return it."""
        b = np.array(self.betas)
        if (b > 0).all() and beta > 0:
            i = int(np.argmin(np.abs(np.log(b) - math.log(beta))))
        else:
            i = int(np.argmin(np.abs(b - beta)))
        self.slider.value = self.betas[i]
        return self.betas[i]
