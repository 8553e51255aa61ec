"""Explorers for the notebooks: pure render functions (arrays / PNG bytes out) and thin ipywidgets wrappers.

Every explorer keeps its slider values on the step grid and its observers idempotent (a browser echoes
3.9 back as 3.9000000000000004), and exposes ``.widget`` to display; the explorer itself also displays
when it is the last expression of a cell.
"""

import contextlib
import math

import ipywidgets as W
import numpy as np
import torch
from torch import distributions as D

from vae_teach import bounds, data, gradients, plots, toy

STEP = 0.01
MAX_SLIDERS = 8
BLUE, RED, GREY = "#1f77b4", "#d62728", "#7f7f7f"


def snap(value, step=STEP, lo=-math.inf, hi=math.inf):
    """Round a number onto the slider grid {k * step} and clip it to [lo, hi]."""
    return float(min(max(round(round(float(value) / step) * step, 10), lo), hi))


class _Displayable:
    """Lets an explorer display itself as its ``.widget``."""

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


# ---------------------------------------------------------------------------------------------------------
# LatentExplorer
# ---------------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def single_thread():
    """Run tiny tensor ops on one thread (restored after): a busy second core can stall a 2-thread op for ms."""
    before = torch.get_num_threads()
    if before != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if before != 1:
            torch.set_num_threads(before)


def decoded_pixels(model, z):
    """Mean of p(x|z) for one latent z [z_dim] as a uint8 square image [side, side]."""
    side = plots.image_side(model.x_dim)
    with torch.no_grad(), single_thread():
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
    with torch.no_grad():
        q = model.encode(x)
    return q.mean.double(), q.stddev.double()


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


class LatentExplorer(_Displayable):
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
        self.sample_button = W.Button(description="Sample from prior", icon="random")
        self.reset_button = W.Button(description="Reset", icon="undo")
        self.sample_button.on_click(lambda _: self.sample_prior())
        self.reset_button.on_click(lambda _: self.reset())
        self.image = W.Image(format="png", layout=W.Layout(width="256px", height="256px"))
        self.image.add_class("vae-decoded")
        controls = [W.HTML("<b>latent z</b> (other dims fixed)" if len(self.dims) < self.model.z_dim
                           else "<b>latent z</b>"), *self.sliders, W.HBox([self.sample_button, self.reset_button])]
        if self.data is not None:
            self.index = W.IntSlider(value=0, min=0, max=len(self.data) - 1, description="data #",
                                     layout=W.Layout(width="300px"))
            self.encode_button = W.Button(description="Encode", icon="crosshairs")
            self.encode_button.on_click(lambda _: self.encode(self.index.value))
            self.original = W.Image(format="png", layout=W.Layout(width="96px", height="96px"))
            self.index.observe(self._on_index, names="value")
            self._on_index({"new": 0})
            controls += [W.HTML("<b>encode a data image</b>"), self.index,
                         W.HBox([self.original, self.encode_button])]
        middle = W.VBox([W.HTML("<b>decoded mean of p(x|z)</b>"), self.image])
        parts = [W.VBox(controls), middle]
        self.map_image = None
        if len(self.dims) >= 2:
            options = [(f"z[{d}]", d) for d in self.dims]
            self.map_x = W.Dropdown(options=options, value=self.dims[0], description="x axis",
                                    layout=W.Layout(width="150px"))
            self.map_y = W.Dropdown(options=options, value=self.dims[1], description="y axis",
                                    layout=W.Layout(width="150px"))
            self.map_x.observe(self._on_pair, names="value")
            self.map_y.observe(self._on_pair, names="value")
            self.map_image = W.Image(format="png")
            self.map_image.add_class("vae-latent-map")
            caption = W.HTML("<small><span style='color:#e61e1e'>●</span> current z &nbsp; rings: q(z|x) of the "
                             "encoded image, 1σ (black) and 2σ (grey)</small>")
            parts.append(W.VBox([self.map_image, W.HBox([self.map_x, self.map_y]), caption]))
        for p in parts:
            p.layout.margin = "0 12px 0 0"
        self.widget = W.HBox(parts, layout=W.Layout(align_items="flex-start"))
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
# PosteriorExplorer
# ---------------------------------------------------------------------------------------------------------
_GH_T, _GH_W = np.polynomial.hermite.hermgauss(80)


def exact_terms_1d(model, x, mean, log_sigma, log_px=None):
    """(log p(x), ELBO, KL(q || p(z|x))) for q = N(mean, e^{2 log_sigma}) by 80-node Gauss–Hermite quadrature."""
    s = math.exp(log_sigma)
    z = torch.as_tensor(mean + math.sqrt(2.0) * s * _GH_T, dtype=torch.float64)
    w = torch.as_tensor(_GH_W / math.sqrt(math.pi), dtype=torch.float64)
    log_px = float(model.log_marginal(x)[0]) if log_px is None else log_px
    log_joint = model.log_joint(x, z)[0]
    log_q = D.Normal(torch.tensor(float(mean), dtype=torch.float64), s).log_prob(z)
    elbo = float((w * (log_joint - log_q)).sum())  # E_q[log p(x, z) - log q(z)]   (eq. 3)
    gap = float((w * (log_q - (log_joint - log_px))).sum())  # E_q[log q(z) - log p(z|x)]
    return log_px, elbo, gap


def exact_terms_2d(model, x, mean, log_sigma, posterior=None, log_px=None):
    """(log p(x), ELBO, KL(q || p(z|x))) in closed form: LinearGaussian, q = N(mean [2], diag e^{2 log_sigma})."""
    mean = torch.as_tensor(mean, dtype=torch.float64)
    log_sigma = torch.as_tensor(log_sigma, dtype=torch.float64)
    W, b, var = model.W.double(), model.b.double(), model.sigma**2
    s = log_sigma.exp()
    resid = x[0].double() - (W @ mean + b)
    # E_q[log p(x|z)] = -d/2 log(2 pi sigma^2) - (|x - W m - b|^2 + tr(W diag(s^2) W^T)) / (2 sigma^2)
    sq = resid.pow(2).sum() + (W.pow(2) * s.pow(2)).sum()
    exp_ll = -0.5 * model.d * math.log(2 * math.pi * var) - sq / (2 * var)
    elbo = exp_ll - bounds.gaussian_kl(mean, 2 * log_sigma)  # eq. 7: E_q[log p(x|z)] - KL(q || p(z))
    post = model.posterior(x) if posterior is None else posterior
    q = D.MultivariateNormal(mean, scale_tril=torch.diag(s))
    gap = D.kl_divergence(q, D.MultivariateNormal(post.loc[0].double(), scale_tril=post.scale_tril[0].double()))
    log_px = float(model.log_marginal(x)[0]) if log_px is None else log_px
    return log_px, float(elbo), float(gap)


class _Blitter:
    """A persistent Agg figure whose static part is cached (per key, e.g. axis limits); a tick redraws only the
    animated artists."""

    def __init__(self, fig, artists, max_cached=24):
        self.fig, self.artists, self.max_cached = fig, artists, max_cached
        for a in artists:
            a.set_animated(True)
        self.backgrounds = {}

    def rgb(self, key=None, prepare=None):
        """Restore the background for key (drawn once after prepare()), draw the animated artists -> [H, W, 3]."""
        canvas = self.fig.canvas
        if prepare is not None:
            prepare()  # always: the animated artists are drawn through the axes' current limits
        if key not in self.backgrounds:
            if len(self.backgrounds) >= self.max_cached:
                self.backgrounds.pop(next(iter(self.backgrounds)))
            canvas.draw()
            self.backgrounds[key] = canvas.copy_from_bbox(self.fig.bbox)
        canvas.restore_region(self.backgrounds[key])
        for a in self.artists:
            a.axes.draw_artist(a)
        return np.asarray(canvas.buffer_rgba())[..., :3]


def nice_range(lo, hi):
    """Widen [lo, hi] to multiples of a 1-2-5 unit so axis limits (and cached backgrounds) change rarely."""
    span = max(hi - lo, 1e-6)
    unit = 10.0 ** math.floor(math.log10(span))
    for m in (0.2, 0.5, 1.0):
        if span / (unit * m) <= 10:
            unit *= m
            break
    return math.floor(lo / unit) * unit, math.ceil(hi / unit) * unit


class PosteriorExplorer(_Displayable):
    """q's mean / log σ sliders over the true posterior of a toy model, with a live log p(x) = ELBO + gap bar."""

    def __init__(self, toy_model, x, mean=None, log_sigma=None, seed=0):
        if isinstance(toy_model, toy.Nonlinear1D):
            x = torch.as_tensor(x, dtype=torch.float64).reshape(-1)
            if x.numel() != 1:
                raise ValueError(f"x must be one number for Nonlinear1D, got {x.numel()} values")
            self.k, self.x = 1, x.reshape(1, 1)
        elif isinstance(toy_model, toy.LinearGaussian):
            if toy_model.k != 2:
                raise ValueError(f"PosteriorExplorer draws a 2-D latent plane: LinearGaussian must have k=2, "
                                 f"got k={toy_model.k}")
            x = torch.as_tensor(x, dtype=toy_model.W.dtype).reshape(1, -1)
            if x.shape[1] != toy_model.d:
                raise ValueError(f"x must have d={toy_model.d} values to match the LinearGaussian, got {x.shape[1]}")
            self.k, self.x = 2, x
            self.posterior = toy_model.posterior(x)
        else:
            raise ValueError(f"toy_model must be toy.Nonlinear1D or a 2-D toy.LinearGaussian, "
                             f"got {type(toy_model).__name__}")
        self.model, self.seed = toy_model, seed
        self.log_px = float(toy_model.log_marginal(x.reshape(1, -1) if self.k == 2 else x)[0])
        self._hold = False
        self._shown = None
        mean0, log_sigma0 = self._setup_ranges(mean, log_sigma)
        self._build_sliders(mean0, log_sigma0)
        self._build_figure()
        self._render(force=True)

    # ---- maths -------------------------------------------------------------------------------------------
    def terms(self, mean, log_sigma):
        """(log p(x), ELBO, gap) for q with the given mean [k] and log σ [k] (exact)."""
        if self.k == 1:
            return exact_terms_1d(self.model, self.x[:, 0], float(mean[0]), float(log_sigma[0]), self.log_px)
        return exact_terms_2d(self.model, self.x, mean, log_sigma, self.posterior, self.log_px)

    def state(self):
        """Current (mean [k], log σ [k]) from the sliders, snapped to the grid."""
        return (tuple(snap(s.value) for s in self.mean_sliders), tuple(snap(s.value) for s in self.log_sigma_sliders))

    def readout(self):
        """The current exact terms in nats: dict(log_px, elbo, gap)."""
        log_px, elbo, gap = self.terms(*self.state())
        return {"log_px": log_px, "elbo": elbo, "gap": gap}

    # ---- construction ------------------------------------------------------------------------------------
    def _setup_ranges(self, mean, log_sigma):
        """Plot window and slider ranges from the true posterior; default q."""
        if self.k == 1:
            grid = self.model.grid
            dens = self.model.posterior_density(self.x[:, 0], grid)[0]
            keep = grid[dens > 1e-3 * dens.max()]
            lo, hi = math.floor(float(keep.min()) - 0.75), math.ceil(float(keep.max()) + 0.75)
            self.window = [(min(lo, -3), max(hi, 3))]
            default_mean = [0.5]
        else:
            m = self.posterior.loc[0].numpy()
            sd = float(torch.linalg.eigvalsh(self.posterior.covariance_matrix[0]).max().sqrt())
            r = max(4.0 * sd, 1.5)
            self.window = [(snap(m[i] - r, 0.5), snap(m[i] + r, 0.5)) for i in range(2)]
            default_mean = [snap(m[0] - 0.6 * r), snap(m[1] + 0.4 * r)]
        mean = default_mean if mean is None else [float(v) for v in np.atleast_1d(mean)]
        log_sigma = [0.0] * self.k if log_sigma is None else [float(v) for v in np.atleast_1d(log_sigma)]
        if len(mean) != self.k or len(log_sigma) != self.k:
            raise ValueError(f"mean and log_sigma must have {self.k} values, got {len(mean)} and {len(log_sigma)}")
        return mean, log_sigma

    def _build_sliders(self, mean, log_sigma):
        """Mean and log σ sliders per latent dim, a fit button and the readout."""
        names = ["z"] if self.k == 1 else ["z[0]", "z[1]"]
        self.mean_sliders, self.log_sigma_sliders = [], []
        for i in range(self.k):
            lo, hi = self.window[i]
            m = W.FloatSlider(value=snap(mean[i], lo=lo, hi=hi), min=lo, max=hi, step=STEP,
                              description=f"q mean {names[i]}", readout_format=".2f",
                              style={"description_width": "110px"}, layout=W.Layout(width="380px"))
            m.add_class("vae-q-mean")
            ls = W.FloatSlider(value=snap(log_sigma[i], lo=-3.0, hi=1.5), min=-3.0, max=1.5, step=STEP,
                               description=f"q log σ {names[i]}", readout_format=".2f",
                               style={"description_width": "110px"}, layout=W.Layout(width="380px"))
            ls.add_class("vae-q-logsigma")
            self.mean_sliders.append(m)
            self.log_sigma_sliders.append(ls)
        self.sliders = self.mean_sliders + self.log_sigma_sliders
        for s in self.sliders:
            s.observe(self._on_slider, names="value")
        self.fit_button = W.Button(description="fit q", icon="play", tooltip="gradient ascent on the ELBO")
        self.fit_button.on_click(self._on_fit)
        self.readout_html = W.HTML()
        self.readout_html.add_class("vae-posterior-readout")
        self.image = W.Image(format="png")
        self.image.add_class("vae-posterior-panel")
        self.widget = W.VBox([self.image, self.readout_html, W.HBox([W.VBox(self.sliders), self.fit_button])])
        self.widget.add_class("vae-posterior-explorer")

    def _build_figure(self):
        """The persistent figure: density panel (left) and the stacked bar readout (right)."""
        fig = plots.new_figure(9.0, 3.6, dpi=80)
        gs = fig.add_gridspec(1, 2, width_ratios=(2.1, 1.0))
        ax, axb = fig.add_subplot(gs[0]), fig.add_subplot(gs[1])
        dyn = self._density_axes(ax) + self._bar_axes(axb)
        fig.tight_layout(pad=0.6)
        self._blit = _Blitter(fig, dyn)

    def _density_axes(self, ax):
        """Draw the static posterior and create q's animated artists; return them."""
        if self.k == 1:
            lo, hi = self.window[0]
            self._zg = torch.linspace(lo, hi, 500, dtype=torch.float64)
            post = self.model.posterior_density(self.x[:, 0], self._zg)[0].numpy()
            ax.fill_between(self._zg.numpy(), post, color=GREY, alpha=0.35, lw=0)
            ax.plot(self._zg.numpy(), post, color="k", lw=1.2, label="true posterior p(z|x)")
            (self._q_line,) = ax.plot([], [], color=BLUE, lw=2.2, label="q(z) = N(mean, σ²)")
            ax.set_xlim(lo, hi)
            ax.set_ylim(0, 2.3 * post.max())
            ax.set_xlabel("z")
            ax.set_ylabel("density")
            ax.set_title(f"true posterior and q, for x = {float(self.x):.2f}")
            ax.legend(loc="upper left", fontsize=9)
            return [self._q_line]
        (x0, x1), (y0, y1) = self.window
        g0, g1 = torch.meshgrid(torch.linspace(x0, x1, 160, dtype=torch.float64),
                                torch.linspace(y0, y1, 160, dtype=torch.float64), indexing="xy")
        mvn = D.MultivariateNormal(self.posterior.loc[0], covariance_matrix=self.posterior.covariance_matrix[0])
        dens = mvn.log_prob(torch.stack([g0, g1], -1)).exp().numpy()
        ax.imshow(dens, origin="lower", extent=(x0, x1, y0, y1), cmap="Greys", alpha=0.6, aspect="auto")
        levels = [float(dens.max() * math.exp(-0.5 * k * k)) for k in (2, 1)]
        ax.contour(g0.numpy(), g1.numpy(), dens, levels=levels, colors="k", linewidths=1.0)
        ax.plot([], [], color="k", lw=1.0, label="true p(z|x), 1σ/2σ")
        self._q_lines = [ax.plot([], [], color=BLUE, lw=lw, label=lab)[0]
                         for lw, lab in ((2.2, "q, 1σ/2σ"), (1.2, None))]
        (self._q_centre,) = ax.plot([], [], "o", color=BLUE, ms=5)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect("equal", adjustable="box")
        ax.set_xlabel("z[0]")
        ax.set_ylabel("z[1]")
        ax.set_title("true posterior (contours) and diagonal q")
        ax.legend(loc="upper left", fontsize=9)
        return [*self._q_lines, self._q_centre]

    def _bar_axes(self, axb):
        """Static log p(x) bar and axis; animated ELBO and gap bars with their labels."""
        _, elbo0, gap0 = self.terms(*self.state())
        lp = self.log_px
        self.floor = float(math.floor(lp - max(4.0, 1.5 * gap0)))
        top = lp + 0.14 * (lp - self.floor)
        axb.bar([0], [lp - self.floor], bottom=self.floor, width=0.6, color=GREY)
        axb.text(0, (lp + self.floor) / 2, f"log p(x)\n{lp:.2f}", ha="center", va="center", color="w", fontsize=9)
        axb.axhline(lp, color="k", ls="--", lw=1)
        self._elbo_bar = axb.bar([1], [1.0], bottom=self.floor, width=0.6, color=BLUE)[0]
        self._gap_bar = axb.bar([1], [1.0], bottom=self.floor, width=0.6, color=RED)[0]
        self._elbo_text = axb.text(1, 0, "", ha="center", va="center", color="w", fontsize=9,
                                   multialignment="left")
        self._gap_text = axb.text(1.35, 0, "", ha="left", va="center", color=RED, fontsize=9)
        axb.set_xlim(-0.5, 2.2)
        axb.set_ylim(self.floor, top)
        axb.set_xticks([0, 1], ["log p(x)", "ELBO + gap"])
        axb.set_ylabel(f"nats (axis starts at {self.floor:g})")
        axb.set_title("log p(x) = ELBO + KL(q ‖ p(z|x))", fontsize=10)
        return [self._elbo_bar, self._gap_bar, self._elbo_text, self._gap_text]

    # ---- rendering ---------------------------------------------------------------------------------------
    def _update_artists(self, mean, log_sigma, elbo, gap):
        """Move q's artists and the bars to the new state."""
        if self.k == 1:
            q = D.Normal(mean[0], math.exp(log_sigma[0])).log_prob(self._zg).exp()
            self._q_line.set_data(self._zg.numpy(), q.numpy())
        else:
            sd = np.exp(log_sigma)
            for k, line in zip((1, 2), self._q_lines, strict=True):
                pts = plots.ellipse_points(mean, k * sd)
                line.set_data(pts[:, 0], pts[:, 1])
            self._q_centre.set_data([mean[0]], [mean[1]])
        lp, low = self.log_px, max(elbo, self.floor)
        self._elbo_bar.set_height(low - self.floor)
        self._gap_bar.set_y(low)
        self._gap_bar.set_height(lp - low)
        if elbo > self.floor + 0.12 * (lp - self.floor):
            self._elbo_text.set_text(f"ELBO\n{elbo:.2f}")
            self._elbo_text.set_position((1, (low + self.floor) / 2))
            self._elbo_text.set_color("w")
            self._elbo_text.set_ha("center")
            self._elbo_text.set_va("center")
        else:  # a short (or clipped) ELBO bar: label it beside the column, in the bar's colour
            self._elbo_text.set_text(f"ELBO\n{elbo:.2f}" + ("\n(below axis)" if elbo < self.floor else ""))
            self._elbo_text.set_position((1.35, self.floor + 0.02 * (lp - self.floor)))
            self._elbo_text.set_color(BLUE)
            self._elbo_text.set_ha("left")
            self._elbo_text.set_va("bottom")
        self._gap_text.set_text(f"gap\n{gap:.3f}")
        self._gap_text.set_position((1.35, (low + lp) / 2))

    def _render(self, force=False):
        """Redraw if the snapped slider state changed (idempotent)."""
        mean, log_sigma = self.state()
        if not force and (mean, log_sigma) == self._shown:
            return
        self._shown = (mean, log_sigma)
        with single_thread():
            log_px, elbo, gap = self.terms(mean, log_sigma)
        self._update_artists(mean, log_sigma, elbo, gap)
        self.image.value = plots.png_bytes(self._blit.rgb())
        self.readout_html.value = (
            f"<span style='font-family:monospace'>log p(x) = {log_px:.3f} nats &nbsp; ELBO = {elbo:.3f} nats "
            f"&nbsp; gap KL(q‖p(z|x)) = {gap:.3f} nats</span>")

    def _on_slider(self, change):
        if not self._hold:
            self._render()

    def set_q(self, mean, log_sigma):
        """Move q to mean [k], log σ [k] (snapped to the slider grid) and redraw once."""
        self._hold = True
        try:
            for s, v in zip(self.mean_sliders, np.atleast_1d(mean), strict=True):
                s.value = snap(v, lo=s.min, hi=s.max)
            for s, v in zip(self.log_sigma_sliders, np.atleast_1d(log_sigma), strict=True):
                s.value = snap(v, lo=s.min, hi=s.max)
        finally:
            self._hold = False
        self._render()

    # ---- fitting -----------------------------------------------------------------------------------------
    def fit_q(self, steps=300, lr=0.05, n_samples=16, every=20):
        """Adam on the reparameterised ELBO (eq. 7) from the current q, updating the sliders every `every` steps.

        Returns the exact ELBO after each update (the first entry is the starting value)."""
        mean, log_sigma = self.state()
        params = torch.tensor([*mean, *log_sigma], dtype=torch.float64, requires_grad=True)
        opt = torch.optim.Adam([params], lr=lr)
        gen = torch.Generator().manual_seed(self.seed)
        x, prior = self.x, self.model.prior()
        lo = torch.tensor([s.min for s in self.sliders], dtype=torch.float64)
        hi = torch.tensor([s.max for s in self.sliders], dtype=torch.float64)
        trace = [self.readout()["elbo"]]
        for step in range(1, steps + 1):
            q = D.Independent(D.Normal(params[None, : self.k], params[None, self.k:].exp()), 1)
            loss = -bounds.elbo(x, q, prior, self.model.likelihood, n_samples, True, gen).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                params.copy_(torch.maximum(torch.minimum(params, hi), lo))
            if step % every == 0 or step == steps:
                p = params.detach().numpy()
                self.set_q(p[: self.k], p[self.k:])
                trace.append(self.readout()["elbo"])
        return trace

    def _on_fit(self, _):
        self.fit_button.disabled = True
        try:
            self.fit_q()
        finally:
            self.fit_button.disabled = False


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


class TradeoffExplorer(_Displayable):
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
        curve_ax.plot(rates, dists, "-o", color=GREY, ms=5)
        for b, r, d in zip(self.betas, rates, dists, strict=True):
            curve_ax.annotate(f"β={b:g}", (r, d), textcoords="offset points", xytext=(6, 4), fontsize=8)
        (hi,) = curve_ax.plot([], [], "o", ms=13, mfc="none", mec=RED, mew=2.5, label="selected β")
        curve_ax.set_xlabel("rate = KL(q ‖ p(z))  (nats)")
        curve_ax.set_ylabel("distortion = E_q[−log p(x|z)]  (nats)")
        curve_ax.set_title("rate–distortion, nats per test image", fontsize=10)
        curve_ax.margins(0.15)
        curve_ax.legend(loc="upper right", fontsize=8)
        figs["curve"].tight_layout(pad=0.4)
        show = self.x[: self.n_show]
        for run in self.runs:
            model = run.model
            was_training = getattr(model, "training", False)
            if hasattr(model, "eval"):
                model.eval()
            try:
                panels = self._panels_for(run, figs, show)
            finally:
                if was_training:
                    model.train()
            hi.set_data([run.rate], [run.distortion])
            panels["curve"] = plots.figure_png(figs["curve"])
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


# ---------------------------------------------------------------------------------------------------------
# GradientExplorer
# ---------------------------------------------------------------------------------------------------------
def true_gradient(f, mu, sigma):
    """(d/dmu, d/dsigma) of E_{N(mu, sigma^2)}[f(z)] by 80-node Gauss–Hermite quadrature and autograd: -> floats."""
    p = torch.tensor([mu, sigma], dtype=torch.float64, requires_grad=True)
    z = p[0] + math.sqrt(2.0) * p[1] * torch.as_tensor(_GH_T)
    value = (torch.as_tensor(_GH_W / math.sqrt(math.pi)) * f(z)).sum()
    (g,) = torch.autograd.grad(value, p)
    return float(g[0]), float(g[1])


class GradientExplorer(_Displayable):
    """μ, σ sliders -> histograms of per-sample d/dμ estimates, reparameterisation vs score function (AEVB §2.4)."""

    def __init__(self, f=None, n=2000, mu=1.0, sigma=1.0, f_name=None, bins=50, seed=0):
        if f is not None and not callable(f):
            raise ValueError(f"f must be a callable tensor -> tensor (elementwise), got {type(f).__name__}")
        if isinstance(n, bool) or not isinstance(n, int) or n < 2:
            raise ValueError(f"n must be an int >= 2, got {n!r}")
        self.f = toy.square if f is None else f
        self.f_name = f_name or ("z²" if f is None else getattr(f, "__name__", "f"))
        self.n, self.bins, self.seed = n, bins, seed
        self.mu_slider = W.FloatSlider(value=snap(mu, lo=-3, hi=3), min=-3.0, max=3.0, step=STEP, description="μ",
                                       readout_format=".2f")
        self.sigma_slider = W.FloatSlider(value=snap(sigma, lo=0.1, hi=3), min=0.1, max=3.0, step=STEP,
                                          description="σ", readout_format=".2f")
        self.mu_slider.add_class("vae-grad-mu")
        self.sigma_slider.add_class("vae-grad-sigma")
        self.sliders = [self.mu_slider, self.sigma_slider]
        for s in self.sliders:
            s.observe(self._on_slider, names="value")
        self.image = W.Image(format="png")
        self.readout_html = W.HTML()
        self.readout_html.add_class("vae-grad-readout")
        self.widget = W.VBox([W.HBox(self.sliders), self.image, self.readout_html])
        self.widget.add_class("vae-gradient-explorer")
        self._build_figure()
        self._shown = None
        self._render()

    def _build_figure(self):
        """Persistent figure, one histogram panel per estimator; frames cached per x range (see nice_range)."""
        fig = plots.new_figure(9.0, 3.3)
        self.axes = fig.subplots(1, 2)
        self._stairs, self._true, self._mean, self._var_text = [], [], [], []
        titles = ("reparameterisation (pathwise)", "score function (REINFORCE)")
        for ax, colour, title in zip(self.axes, (BLUE, "#ff7f0e"), titles, strict=True):
            self._stairs.append(ax.stairs(np.zeros(self.bins), np.arange(self.bins + 1.0), fill=True, color=colour,
                                          alpha=0.8))
            self._true.append(ax.axvline(0, color="k", lw=2, label="true gradient"))
            self._mean.append(ax.axvline(0, color=RED, lw=1.5, ls="--", label="mean of the samples"))
            ax.set_xlabel(f"per-sample estimate of d/dμ E[{self.f_name}]")
            ax.set_ylabel("relative frequency")
            ax.set_yticks([])
            ax.set_title(title, fontsize=10)
            self._var_text.append(ax.text(0.97, 0.93, "", transform=ax.transAxes, ha="right", va="top", fontsize=10))
        fig.legend(handles=[self._true[0], self._mean[0]], loc="upper center", ncol=2, fontsize=9, frameon=False)
        fig.tight_layout(pad=0.6, rect=(0, 0, 1, 0.92))
        self._blit = _Blitter(fig, [*self._stairs, *self._true, *self._mean, *self._var_text])

    def samples(self, mu, sigma):
        """Per-sample d/dμ estimates [n] for ("reparam", "score"), same ε for both (fixed generator)."""
        out = []
        for method in gradients.METHODS:
            g = torch.Generator().manual_seed(self.seed)
            out.append(gradients.grad_samples(self.f, mu, sigma, self.n, method, generator=g)[0].detach().numpy())
        return out

    def _render(self):
        """Redraw the histograms if (μ, σ) changed on the grid (idempotent)."""
        mu, sigma = snap(self.mu_slider.value), snap(self.sigma_slider.value)
        if (mu, sigma) == self._shown:
            return
        self._shown = (mu, sigma)
        with single_thread():
            est = self.samples(mu, sigma)
            true = true_gradient(self.f, mu, sigma)[0]
        lo = min(np.percentile(e, 0.5) for e in est)
        hi = max(np.percentile(e, 99.5) for e in est)
        lo, hi = nice_range(min(lo, true), max(hi, true))
        edges = np.linspace(lo, hi, self.bins + 1)
        parts = []
        for k, (name, e) in enumerate(zip(("reparameterisation", "score function"), est, strict=True)):
            dens, _ = np.histogram(e, bins=edges, density=True)
            self._stairs[k].set_data(dens / (1.15 * max(dens.max(), 1e-12)), edges)
            self._true[k].set_xdata([true, true])
            self._mean[k].set_xdata([e.mean(), e.mean()])
            self._var_text[k].set_text(f"sample variance\n{e.var(ddof=1):.3g}")
            parts.append(f"{name}: mean {e.mean():.3f}, variance {e.var(ddof=1):.3g}")

        def prepare():
            for ax in self.axes:
                ax.set_xlim(lo, hi)
                ax.set_ylim(0, 1)

        self.image.value = plots.png_bytes(self._blit.rgb((lo, hi), prepare))
        ratio = est[1].var(ddof=1) / max(est[0].var(ddof=1), 1e-300)
        self.readout_html.value = (f"<span style='font-family:monospace'>true d/dμ = {true:.3f} · "
                                   + " · ".join(parts) + f" · variance ratio score/reparam = {ratio:.3g}</span>")

    def _on_slider(self, change):
        self._render()
