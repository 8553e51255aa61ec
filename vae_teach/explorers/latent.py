"""LatentExplorer: sliders over z, the decoder's mean image, and a latent map with q_φ(z|x) of an encoded image.

Python ships the data once; the browser does the per-tick work (latent.js):
- the decoder's weights as one float32 bytes trait; the MLP forward pass (Linear, LeakyReLU, softmax or sigmoid,
  mean image) runs in JS and draws to a canvas;
- the encoder's output for the data images (mean and σ, 2·z_dim float32 per image). Encoding in the browser would
  need the encoder's weights and every image's x_dim raw values, which is always more (z_dim < x_dim), so the codes
  are what is shipped;
- the map (encoded points coloured by label) is drawn once per pair of axes from those codes; q's 1σ/2σ ellipse
  is drawn with the canvas's own ellipse, clipped to the view, so a very wide q costs nothing extra.
"""

from __future__ import annotations

import torch
import traitlets as T
from matplotlib.patches import Ellipse
from torch import nn

from vae_teach import bounds, plots, raster
from vae_teach.explorers._base import Explorer, f32, finite_number, finite_vector, int_in, module_source, snap
from vae_teach.explorers._base import style_source as _css
from vae_teach.models import encoder_stats, eval_mode

MAX_SLIDERS = 8
MAX_RENDER = 4096  # render_decoded's largest image side, in pixels


def decoded_pixels(model, z):
    """Mean of p(x|z) for one latent z [z_dim] as a uint8 square image [side, side] (255 = 1.0).

    Used by the LatentExplorer of 08 §4; not called from a notebook.
    """
    side = raster.image_side(model.x_dim)
    with torch.no_grad(), eval_mode(model):
        mean = model.decode_mean(torch.as_tensor(z, dtype=torch.float32).reshape(1, -1))
    return raster.to_uint8(mean).reshape(side, side)


def render_decoded(model, z, size=256):
    """PNG bytes of the decoded image for z [z_dim], nearest-neighbour upscaled to about size (1..4096) pixels.

    Used by the tests of the LatentExplorer of 08 §4; not called from a notebook.
    """
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_RENDER:
        raise ValueError(f"size must be an int in 1..{MAX_RENDER} (pixels), got {size!r}")
    z = finite_vector("z", z, model.z_dim, f" (model.z_dim = {model.z_dim})")
    side = raster.image_side(model.x_dim)
    return raster.png_bytes(raster.upscale(decoded_pixels(model, z), max(1, size // side)))


def mlp_layers(seq: nn.Sequential) -> tuple[list[list[int]], float, torch.Tensor]:
    """An MLP of Linear + LeakyReLU (+ Dropout) as ([[in, out], ...], LeakyReLU slope, weights packed as
    W [out, in] row-major then b [out] per layer): what latent.js's forward pass reads.

    Used by the LatentExplorer of 08 §4; not called from a notebook.
    """
    shapes, parts, slope = [], [], 0.01
    for m in seq:
        if isinstance(m, nn.Linear):
            shapes.append([m.in_features, m.out_features])
            parts += [m.weight.detach().reshape(-1), m.bias.detach().reshape(-1)]
        elif isinstance(m, nn.LeakyReLU):
            slope = float(m.negative_slope)
        elif not isinstance(m, nn.Dropout):
            raise ValueError(f"the decoder must be Linear / LeakyReLU / Dropout layers, got {type(m).__name__}")
    return shapes, slope, torch.cat(parts).float()


def _check_model(model):
    """Raise unless model looks like a VAE with encode / decode_mean / decoder / x_dim / z_dim."""
    missing = [a for a in ("encode", "decode_mean", "decoder", "x_dim", "z_dim") if not hasattr(model, a)]
    if missing:
        raise ValueError(f"model must be a models.VAE (encode, decode_mean, decoder, x_dim, z_dim); missing {missing}")
    raster.image_side(model.x_dim)


def check_data(model, data, labels):
    """Validate data [n, x_dim] and labels [n]; return (data, labels as LongTensor or None).

    Used by the LatentExplorer of 08 §4 and the TradeoffExplorer of 07 Going deeper D1;
    not called from a notebook.
    """
    if not isinstance(data, torch.Tensor) or data.dim() != 2 or data.shape[1] != model.x_dim or len(data) == 0:
        got = f"{list(data.shape)} {data.dtype}" if isinstance(data, torch.Tensor) else type(data).__name__
        raise ValueError(f"data must be a tensor [n, {model.x_dim}] (n >= 1) matching model.x_dim, got {got}")
    if data.is_floating_point() and not torch.isfinite(data).all():
        raise ValueError("data must be finite: it holds NaN or inf values")
    if labels is not None:
        labels = torch.as_tensor(labels)
        if labels.shape != (len(data),):
            raise ValueError(f"labels must be [n] = [{len(data)}] to match data, got {list(labels.shape)}")
        labels = labels.long()
    return data, labels


def encode_stats(model, x):
    """Encoder mean and standard deviation over rows: x [n, x_dim] -> (mu [n, z], sigma [n, z]) float64.

    Used by the LatentExplorer of 08 §4 and the TradeoffExplorer of 07 Going deeper D1;
    not called from a notebook.
    """
    mu, logvar = encoder_stats(model, x)
    return mu.double(), (0.5 * logvar).exp().double()


def most_active(mu, sigma, count=MAX_SLIDERS):
    """Indices of the `count` latent dims with the largest data-mean KL(q(z_j|x) || N(0,1)), largest first.

    Used by the LatentExplorer of 08 §4 and the TradeoffExplorer of 07 Going deeper D1;
    not called from a notebook.
    """
    kl = bounds.gaussian_kl(mu.unsqueeze(-1), (2 * sigma.log()).unsqueeze(-1)).mean(0)
    return [int(i) for i in torch.argsort(kl, descending=True)[:count]]


class LatentExplorer(Explorer):
    """Sliders over z -> decoded image, a latent map with the current point, encode / sample / reset buttons.

    The model is a ``models.VAE`` (AEVB appendix C).

    Taught in 08 §4.
    """

    _esm = module_source("latent")
    _css = _css()

    decoder = T.Bytes().tag(sync=True)
    decoder_layers = T.List().tag(sync=True)
    slope = T.Float(0.01).tag(sync=True)
    likelihood = T.Unicode("categorical").tag(sync=True)
    levels = T.Int(17).tag(sync=True)
    side = T.Int(8).tag(sync=True)
    z_dim = T.Int(2).tag(sync=True)
    latent = T.List(T.Float()).tag(sync=True)
    dims = T.List(T.Int()).tag(sync=True)
    limit = T.Float(3.0).tag(sync=True)
    codes = T.Bytes().tag(sync=True)  # encoder means, float32 [n, z_dim]
    scales = T.Bytes().tag(sync=True)  # encoder σ, float32 [n, z_dim]
    images = T.Bytes().tag(sync=True)  # data images for display, uint8 [n, x_dim] (255 = 1.0)
    labels_list = T.List(T.Int()).tag(sync=True)
    n_data = T.Int(0).tag(sync=True)
    n_points = T.Int(0).tag(sync=True)
    map_dims = T.List(T.Int()).tag(sync=True)
    selected_index = T.Int(-1).tag(sync=True)  # the encoded image whose q ellipse is drawn, -1 for none
    index = T.Int(0).tag(sync=True)  # the data image shown beside the Encode button
    seed = T.Int(0).tag(sync=True)

    def __init__(self, model, data=None, labels=None, dims=None, limit=3.0, max_points=600, seed=0):
        _check_model(model)
        limit = finite_number("limit", limit)
        if not limit > 0:
            raise ValueError(f"limit must be a number > 0, got {limit!r}")
        max_points = int_in("max_points", max_points, 0, 100_000)
        seed = int_in("seed", seed, 0, 2**31 - 1)
        self.model = model
        self.data = self.labels = self.mu = self.sigma = None
        if data is not None:
            self.data, self.labels = check_data(model, data, labels)
            self.mu, self.sigma = encode_stats(model, self.data)
        elif labels is not None:
            raise ValueError("labels were given without data; pass data=[n, x_dim] too")
        shapes, slope, weights = mlp_layers(model.decoder)
        super().__init__(
            decoder=f32(weights), decoder_layers=shapes, slope=slope,
            likelihood=getattr(model, "likelihood", "gaussian"),
            levels=int(getattr(model, "levels", 2)), side=raster.image_side(model.x_dim), z_dim=model.z_dim,
            limit=limit, seed=seed, latent=[0.0] * model.z_dim,
        )
        self.dims = self._choose_dims(dims)
        self.map_dims = self.dims[:2] if len(self.dims) >= 2 else []
        self._generator = torch.Generator().manual_seed(seed)
        if self.data is not None:
            unit = raster.grey_unit(self.data, getattr(model, "levels", None) if not self.data.is_floating_point()
                                    else None)
            self.codes, self.scales = f32(self.mu), f32(self.sigma)
            self.images = raster.to_uint8(unit).tobytes()
            self.labels_list = [] if self.labels is None else [int(v) for v in self.labels]
            self.n_data, self.n_points = len(self.data), min(max_points, len(self.data))

    def _choose_dims(self, dims):
        """Validate dims, or pick all (z_dim <= 8) / the 8 most active by KL on data."""
        z_dim = self.model.z_dim
        if dims is None:
            if z_dim <= MAX_SLIDERS:
                return list(range(z_dim))
            return most_active(self.mu, self.sigma) if self.mu is not None else list(range(MAX_SLIDERS))
        try:
            dims = [int_in("dims", d, 0, z_dim - 1) for d in dims]
        except (TypeError, ValueError):
            raise ValueError(f"dims must be distinct latent indices in 0..{z_dim - 1}, got {dims!r}") from None
        if not dims or len(set(dims)) != len(dims):
            raise ValueError(f"dims must be distinct latent indices in 0..{z_dim - 1}, got {dims}")
        return dims

    # ---- state ----------------------------------------------------------------------------------------------
    @property
    def z(self) -> torch.Tensor:
        """The current latent z [z_dim] (float32), as the page shows it.

        Part of the LatentExplorer of 08 §4 (its tests); not called from a notebook.
        """
        return torch.tensor(self.latent, dtype=torch.float32)

    @property
    def selected(self):
        """Index of the encoded data image whose q ellipse is shown, or None.

        Part of the LatentExplorer of 08 §4 (its tests); not called from a notebook.
        """
        return None if self.selected_index < 0 else self.selected_index

    def readout(self) -> dict:
        """What the page shows: z [z_dim] and the decoded image as uint8 [side, side].

        Part of the LatentExplorer of 08 §4 (its tests); not called from a notebook.
        """
        return {"z": list(self.latent), "pixels": decoded_pixels(self.model, self.z)}

    def expected(self) -> dict:
        """One ArrowRight on the first slider: the z and the 8-bit pixels Python decodes for it.

        Part of the LatentExplorer of 08 §4 (its browser tests); not called from a notebook.
        """
        z = list(self.latent)
        d = self.dims[0]
        z[d] = snap(z[d] + 0.01, lo=-self.limit, hi=self.limit)
        return {"control": "input.vae-latent-slider", "key": "ArrowRight",
                "values": {"z": z, "pixels": decoded_pixels(self.model, z).reshape(-1).tolist()},
                "atol": {"z": 1e-6, "pixels": 0}}

    # ---- the static snapshot ---------------------------------------------------------------------------------
    def _snapshot_values(self) -> str:
        """The slider dims of z as the caption writes them."""
        return ", ".join(f"z[{d}] = {self.latent[d]:.2f}" for d in self.dims)

    def _snapshot(self, fig) -> None:
        """What latent.js draws at z: the decoded mean image and, with 2+ slider dims, the latent map."""
        has_map = len(self.map_dims) == 2
        grid = fig.add_gridspec(1, 2, width_ratios=(1, 1.35), wspace=0.35, left=0.04, right=0.86, top=0.9,
                                bottom=0.2)
        ax = fig.add_subplot(grid[0] if has_map else grid[:])
        ax.imshow(decoded_pixels(self.model, self.z), cmap=plots.DIGIT_CMAP, vmin=0, vmax=255,
                  interpolation="nearest")
        ax.set(xticks=[], yticks=[], title="decoded mean of p(x|z)")
        if has_map:
            self._snapshot_map(fig.add_subplot(grid[1]))

    def _snapshot_map(self, ax):
        """The latent map: encoded means by label, q's 1σ/2σ rings when an image is encoded, z as a red dot."""
        dx, dy = self.map_dims
        n = self.n_points if self.mu is not None else 0
        if n:
            plots.latent_scatter(self.mu[:n], None if self.labels is None else self.labels[:n], dims=(dx, dy),
                                 ax=ax, limit=self.limit, title=f"encoded data, z[{dx}] vs z[{dy}]",
                                 legend_outside=True)
        else:
            ax.set(xlim=(-self.limit, self.limit), ylim=(-self.limit, self.limit), xlabel=f"z[{dx}]",
                   ylabel=f"z[{dy}]", title=f"latent map: z[{dx}] vs z[{dy}]")
        if self.selected is not None:
            c = self.mu[self.selected, [dx, dy]].numpy()
            s = self.sigma[self.selected, [dx, dy]].numpy()
            for k, colour in ((2, "#787878"), (1, "#141414")):
                ax.add_patch(Ellipse(c, 2 * k * s[0], 2 * k * s[1], fill=False, color=colour, lw=2))
        ax.plot([self.latent[dx]], [self.latent[dy]], "o", ms=8, mfc="#e61e1e", mec="k", mew=1.5, zorder=5)
        ax.set_aspect("equal")
        ax.grid(color="#e4e4e4", lw=0.8)
        ax.set_axisbelow(True)

    # ---- programmatic API ------------------------------------------------------------------------------------
    def set_latent(self, z):
        """Move to latent z [z_dim]: shown dims snap to the slider grid (clipped to ±limit), others kept exact.

        Part of the LatentExplorer of 08 §4 (its tests); not called from a notebook.
        """
        z = finite_vector("z", z, self.model.z_dim, f" (model.z_dim = {self.model.z_dim})")
        out = [float(v) for v in z.float()]
        for d in self.dims:
            out[d] = snap(out[d], lo=-self.limit, hi=self.limit)
        self.latent = out

    def encode(self, i):
        """Jump to the encoder mean of data row i and show q(z|x_i)'s 1σ/2σ ellipse on the map.

        Part of the LatentExplorer of 08 §4 (its tests); not called from a notebook.
        """
        if self.data is None:
            raise ValueError("encode needs data: construct LatentExplorer(model, data=...)")
        i = int_in("i", i, 0, len(self.data) - 1)
        self.index = i
        self.selected_index = i
        self.set_latent(self.mu[i])

    def sample_prior(self):
        """Jump to a fresh z ~ N(0, I) (all dims) drawn from the explorer's own generator.

        Part of the LatentExplorer of 08 §4 (its tests); not called from a notebook.
        """
        self.selected_index = -1
        self.set_latent(torch.randn(self.model.z_dim, generator=self._generator))

    def reset(self):
        """Back to z = 0 with no ellipse.

        Part of the LatentExplorer of 08 §4 (its tests); not called from a notebook.
        """
        self.selected_index = -1
        self.set_latent(torch.zeros(self.model.z_dim))

    def set_map(self, x_dim, y_dim):
        """Show the map plane (z[x_dim], z[y_dim]); both must be among the slider dims.

        Part of the LatentExplorer of 08 §4 (its tests); not called from a notebook.
        """
        for name, d in (("x_dim", x_dim), ("y_dim", y_dim)):
            if d not in self.dims:
                raise ValueError(f"{name} must be one of the slider dims {self.dims}, got {d!r}")
        self.map_dims = [int(x_dim), int(y_dim)]
