"""Pure figure and image helpers: PNG bytes, image grids, latent scatters with q ellipses, raster overlays.

Nothing here touches pyplot state: figures are ``matplotlib.figure.Figure`` objects drawn on an Agg
canvas, so the helpers work the same under ``%matplotlib inline``, ``widget`` or no backend at all.
"""

import math
import struct
import zlib

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPE = {1: 0, 3: 2, 4: 6}  # channels -> PNG colour type (grey, RGB, RGBA)
LABEL_COLOURS = np.array(
    [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
     (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)], dtype=np.uint8)


def _chunk(kind, data):
    """One PNG chunk: length, type, data, CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bytes(img, level=1):
    """Encode a uint8 image [H, W] (grey), [H, W, 3] (RGB) or [H, W, 4] (RGBA) as PNG bytes (zlib level 1)."""
    img = np.asarray(img)
    if img.dtype != np.uint8 or img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (3, 4)):
        raise ValueError(f"img must be uint8 [H, W], [H, W, 3] or [H, W, 4], got {img.dtype} {list(img.shape)}")
    h, w = img.shape[:2]
    channels = 1 if img.ndim == 2 else img.shape[2]
    raw = np.empty((h, w * channels + 1), np.uint8)
    raw[:, 0] = 0  # filter type "none" on every row
    raw[:, 1:].reshape(h, w, channels)[...] = img.reshape(h, w, channels)  # one strided copy, views welcome
    header = struct.pack(">IIBBBBB", w, h, 8, _COLOUR_TYPE[channels], 0, 0, 0)
    return (_PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw.tobytes(), level))
            + _chunk(b"IEND", b""))


def to_uint8(x):
    """Floats in [0, 1] (any shape, tensor or array) -> uint8 in 0..255, clipped and rounded."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return (np.clip(np.asarray(x, dtype=np.float32), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def upscale(img, factor):
    """Nearest-neighbour upscale of an image [H, W(, C)] by an integer factor -> [H*f, W*f(, C)]."""
    if int(factor) != factor or factor < 1:
        raise ValueError(f"factor must be a positive integer, got {factor!r}")
    factor = int(factor)
    return np.repeat(np.repeat(img, factor, axis=0), factor, axis=1)


def image_side(x_dim):
    """Side of a square image with x_dim pixels, or ValueError when x_dim is not a perfect square."""
    side = math.isqrt(int(x_dim))
    if side * side != x_dim:
        raise ValueError(f"images must be square (x_dim a perfect square), got x_dim={x_dim}")
    return side


def image_grid(images, ncol=8, pad=1, scale=1, pad_value=255):
    """Flat square images [n, side*side] floats in [0, 1] -> one uint8 grid image, ncol per row, upscaled."""
    imgs = to_uint8(images)
    if imgs.ndim != 2 or imgs.shape[0] == 0:
        raise ValueError(f"images must be [n, side*side] with n >= 1, got {list(imgs.shape)}")
    n, side = imgs.shape[0], image_side(imgs.shape[1])
    imgs = imgs.reshape(n, side, side)
    ncol = min(ncol, n)
    nrow = -(-n // ncol)
    cell = side * scale + pad
    grid = np.full((nrow * cell + pad, ncol * cell + pad), pad_value, np.uint8)
    for i in range(n):
        r, c = divmod(i, ncol)
        grid[pad + r * cell: pad + r * cell + side * scale, pad + c * cell: pad + c * cell + side * scale] = (
            upscale(imgs[i], scale))
    return grid


def figure_rgb(fig):
    """Draw a Figure on an Agg canvas and return its pixels as uint8 [H, W, 3]."""
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def figure_png(fig):
    """Draw a Figure and return PNG bytes."""
    return png_bytes(figure_rgb(fig))


def new_figure(width, height, dpi=80):
    """A pyplot-free Figure of width x height inches with an Agg canvas attached."""
    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def label_colours(labels):
    """Integer labels [n] -> RGB colours in [0, 1], [n, 3] (tab10 cycle)."""
    labels = np.asarray(labels, dtype=np.int64)
    return LABEL_COLOURS[labels % len(LABEL_COLOURS)] / 255.0


def latent_scatter(mu, labels=None, sigma=None, dims=(0, 1), ax=None, limit=None, title=None, nsig=(1, 2),
                   legend_outside=False):
    """Scatter encoder means mu [n, z] on the plane `dims`, coloured by labels [n]; draw q's nsig ellipses if sigma."""
    mu = np.asarray(mu.detach() if isinstance(mu, torch.Tensor) else mu, dtype=np.float64)
    if mu.ndim != 2 or max(dims) >= mu.shape[1]:
        raise ValueError(f"mu must be [n, z_dim] with z_dim > {max(dims)}, got {list(mu.shape)}")
    if ax is None:
        ax = new_figure(4.2, 4.0).add_subplot()
    i, j = dims
    colours = "tab:blue" if labels is None else label_colours(labels)
    ax.scatter(mu[:, i], mu[:, j], s=9, c=colours, alpha=0.75, linewidths=0)
    if sigma is not None:
        sigma = np.asarray(sigma.detach() if isinstance(sigma, torch.Tensor) else sigma, dtype=np.float64)
        for row in range(mu.shape[0]):
            for k in nsig:
                ax.add_patch(Ellipse((mu[row, i], mu[row, j]), 2 * k * sigma[row, i], 2 * k * sigma[row, j],
                                     fill=False, lw=0.6, alpha=0.5 / k, color="k"))
    if labels is not None:
        for lab in np.unique(np.asarray(labels)):
            ax.scatter([], [], s=12, color=label_colours([lab])[0], label=str(lab))
        where = {"loc": "center left", "bbox_to_anchor": (1.01, 0.5)} if legend_outside else {"loc": "upper right"}
        ax.legend(**where, fontsize=7, ncol=1 if legend_outside else 2, handletextpad=0.1, columnspacing=0.4,
                  markerscale=1.2, framealpha=0.7, title="label" if legend_outside else None, title_fontsize=7)
    if limit is not None:
        ax.set_xlim(-limit, limit)
        ax.set_ylim(-limit, limit)
    ax.set_xlabel(f"z[{i}]")
    ax.set_ylabel(f"z[{j}]")
    ax.set_title(title or f"encoder means, plane (z[{i}], z[{j}])")
    return ax


def close_groups(xy, radius):
    """Group points xy [n, 2] (display pixels) whose chains of neighbours lie within radius: -> lists of indices."""
    xy = np.asarray(xy, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"xy must be [n, 2] display coordinates, got {list(xy.shape)}")
    parent = list(range(len(xy)))

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i

    near = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) <= radius
    for i, j in zip(*np.nonzero(np.triu(near, 1)), strict=True):
        parent[root(int(j))] = root(int(i))
    groups = {}
    for i in range(len(xy)):
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values())


def annotate_merged(ax, xs, ys, names, prefix="β=", radius=14.0, **kwargs):
    """Label points (xs [n], ys [n]) with names, one label "β=4, 8, 16" per group closer than radius px on screen.

    Call after the axes' limits and position are final (tight_layout done): -> list of the label strings drawn."""
    xy = ax.transData.transform(np.column_stack([np.asarray(xs, float), np.asarray(ys, float)]))
    drawn = []
    style = {"textcoords": "offset points", "xytext": (9, 3), "fontsize": 8} | kwargs  # clear of the ring
    for group in close_groups(xy, radius):
        text = prefix + ", ".join(names[i] for i in group)
        anchor = (float(np.mean([xs[i] for i in group])), float(np.max([ys[i] for i in group])))
        ax.annotate(text, anchor, **style)
        drawn.append(text)
    return drawn


def ellipse_points(center, radii, n=72):
    """Points on an axis-aligned ellipse: center [2], radii [2] -> [n+1, 2] (closed polyline)."""
    t = np.linspace(0.0, 2.0 * np.pi, n + 1)
    return np.stack([center[0] + radii[0] * np.cos(t), center[1] + radii[1] * np.sin(t)], axis=1)


class RasterAxes:
    """A pre-rendered axes as an RGB array plus its data->pixel map, for drawing markers with numpy per tick."""

    def __init__(self, rgb, ax):
        """Keep rgb [H, W, 3] (figure pixels) and the affine data->pixel transform of `ax` (after drawing)."""
        self.rgb = rgb
        height = rgb.shape[0]
        trans = ax.transData
        (x0, y0), (x1, y1) = trans.transform([(0.0, 0.0), (1.0, 1.0)])
        # display coords have their origin at the bottom left; rows count from the top
        self._a = np.array([x1 - x0, -(y1 - y0)])
        self._b = np.array([x0, height - y0])
        bbox = ax.bbox
        self.clip = (int(height - bbox.y1), int(height - bbox.y0), int(bbox.x0), int(bbox.x1))

    def to_pixels(self, xy):
        """Data coordinates [..., 2] -> (col, row) pixel coordinates [..., 2] as floats."""
        return np.asarray(xy, dtype=np.float64) * self._a + self._b

    def _put(self, img, cols, rows, colour):
        """Set pixels (cols, rows) inside the axes box to colour."""
        r0, r1, c0, c1 = self.clip
        keep = (rows >= r0) & (rows < r1) & (cols >= c0) & (cols < c1)
        img[rows[keep], cols[keep]] = colour

    def polyline(self, img, xy, colour, width=2):
        """Draw a polyline given in data coordinates [m, 2] onto img (in place)."""
        p = self.to_pixels(xy)
        seg = np.diff(p, axis=0)
        steps = np.maximum(np.ceil(np.abs(seg).max(axis=1) * 2).astype(int), 1)
        pts = np.concatenate([p[k] + seg[k] * (np.arange(s)[:, None] / s) for k, s in enumerate(steps)] + [p[-1:]])
        base = np.rint(pts).astype(int)
        for dc in range(width):
            for dr in range(width):
                self._put(img, base[:, 0] + dc - width // 2, base[:, 1] + dr - width // 2, colour)

    def marker(self, img, xy, colour, radius=6, outline=(0, 0, 0)):
        """Draw a filled disc with a dark outline and a cross-hair at data point xy [2] onto img (in place)."""
        c, r = np.rint(self.to_pixels(xy)).astype(int)
        dr, dc = np.mgrid[-radius - 1: radius + 2, -radius - 1: radius + 2]
        dist2 = dr * dr + dc * dc
        ring = dist2 <= (radius + 1) ** 2
        disc = dist2 <= radius * radius
        self._put(img, (c + dc[ring]), (r + dr[ring]), outline)
        self._put(img, (c + dc[disc]), (r + dr[disc]), colour)
        arm = np.arange(-radius - 5, radius + 6)
        arm = arm[np.abs(arm) > radius]  # cross-hair ticks outside the disc
        self._put(img, c + arm, np.full_like(arm, r), outline)
        self._put(img, np.full_like(arm, c), r + arm, outline)


# notebook 09
def bound_curves(curves: dict, ncol: int = 2) -> Figure:
    """Paper figure 2: ELBO per image against training samples evaluated, a panel per J, AEVB against wake-sleep."""
    nrow = math.ceil(len(curves) / ncol)
    fig = Figure(figsize=(4.6 * ncol, 3.1 * nrow), layout="constrained")
    axes = fig.subplots(nrow, ncol, squeeze=False, sharex=True, sharey=True)
    colours = {"aevb": "tab:blue", "wake-sleep": "tab:orange"}
    for ax, (j, runs) in zip(axes.flat, curves.items(), strict=False):
        for alg, c in runs.items():
            ax.plot(c.seen, c.train, color=colours[alg], label=f"{alg}, train")
            ax.plot(c.seen, c.test, color=colours[alg], ls="--", label=f"{alg}, test")
        ax.set_title(f"J = {j} latent dimensions")
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("training samples evaluated")
    for ax in axes[:, 0]:
        ax.set_ylabel("ELBO (nats per image)")
    axes.flat[0].legend(fontsize=8, loc="lower right")
    return fig


def marginal_points(rows) -> Figure:
    """Paper figure 3: AIS log p(x) per image, train (open) and test (filled), per algorithm and training-set size."""
    sizes = sorted({r.n_train for r in rows})
    algs = list(dict.fromkeys(r.algorithm for r in rows))
    fig = Figure(figsize=(4.6 * len(sizes), 3.4), layout="constrained")
    axes = fig.subplots(1, len(sizes), squeeze=False)[0]
    for ax, n in zip(axes, sizes, strict=True):
        for i, alg in enumerate(algs):
            r = next(r for r in rows if r.algorithm == alg and r.n_train == n)
            ax.errorbar([i], [r.train], yerr=[2 * r.train_se], fmt="o", mfc="white", color=f"C{i}")
            ax.errorbar([i], [r.test], yerr=[2 * r.test_se], fmt="o", color=f"C{i}")
        ax.set_xticks(range(len(algs)), algs)
        ax.set_xlim(-0.5, len(algs) - 0.5)
        ax.set_title(f"N = {n} training images (open: train, filled: test)")
        ax.set_ylabel("AIS log p(x) (nats per image)")
        ax.grid(axis="y", alpha=0.3)
    return fig
