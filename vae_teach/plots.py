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
from matplotlib.patches import Ellipse, Rectangle

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


# notebooks 07–08 ---------------------------------------------------------------------------------------------
def _as_numpy(x):
    """A tensor or array as a float64 numpy array (detached)."""
    return np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x, dtype=np.float64)


def show_images(ax, images, title=None, ncol=8, scale=4, pad=1):
    """Flat square images [n, side*side] in [0, 1] as one grid on ax, dark ink on white (gray_r): -> ax."""
    ax.imshow(image_grid(images, ncol=ncol, pad=pad, scale=scale, pad_value=96), cmap="gray_r", vmin=0, vmax=255,
              interpolation="nearest")
    if title:
        ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def decoded_map(ax, images, z_grid, classes=None, title=None, interpolation="bicubic", frame=2.5, every=2):
    """The figure-4 map: images [n*n, pixels] decoded at z_grid [n*n, 2] (latent.manifold_grid order) on ax.

    Each cell is drawn smoothly scaled (`interpolation`), dark ink on white; with classes [n*n] (e.g. the
    k-NN class of each grid point) its frame takes that class's colour and a legend names them. Ticks show
    z_1 and z_2 at every `every`-th cell centre. -> ax
    """
    imgs = _as_numpy(images)
    z = _as_numpy(z_grid)
    n = math.isqrt(len(imgs))
    if n * n != len(imgs) or z.shape != (len(imgs), 2):
        raise ValueError(f"images must be [n*n, pixels] and z_grid [n*n, 2], "
                         f"got {list(imgs.shape)} and {list(z.shape)}")
    side = image_side(imgs.shape[1])
    gap = 0.06
    for i in range(n * n):
        r, c = divmod(i, n)
        x0, y0 = c + gap, n - 1 - r + gap  # row 0 (largest z_2) at the top
        ax.imshow(imgs[i].reshape(side, side), cmap="gray_r", vmin=0, vmax=1, interpolation=interpolation,
                  extent=(x0, x0 + 1 - 2 * gap, y0, y0 + 1 - 2 * gap))
        if classes is not None:
            colour = label_colours([int(classes[i])])[0]
            ax.add_patch(Rectangle((x0, y0), 1 - 2 * gap, 1 - 2 * gap, fill=False, lw=frame, edgecolor=colour))
    ax.set_xlim(0, n)
    ax.set_ylim(0, n)
    ticks = np.arange(0, n, every)
    ax.set_xticks(ticks + 0.5, [f"{z[t, 0]:.1f}" for t in ticks], fontsize=7)
    ax.set_yticks(n - 1 - ticks + 0.5, [f"{z[t * n, 1]:.1f}" for t in ticks], fontsize=7)
    ax.set_xlabel("z_1 (code: z[:, 0])")
    ax.set_ylabel("z_2 (code: z[:, 1])")
    if classes is not None:
        present = sorted({int(k) for k in np.asarray(classes)})
        handles = [Rectangle((0, 0), 1, 1, fill=False, lw=2, edgecolor=label_colours([k])[0]) for k in present]
        ax.legend(handles, [str(k) for k in present], title="k-NN class", loc="center left",
                  bbox_to_anchor=(1.01, 0.5), fontsize=8, title_fontsize=8, handlelength=1.2)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def posterior_ellipses(ax, mu, sigma, nsig=2.0, colour="k", lw=0.6, alpha=0.35):
    """Outline each q(z|x) = N(mu, diag sigma²) at nsig standard deviations: mu, sigma [n, 2] -> number drawn."""
    mu, sigma = _as_numpy(mu), _as_numpy(sigma)
    if mu.ndim != 2 or mu.shape[1] != 2 or sigma.shape != mu.shape:
        raise ValueError(f"mu and sigma must both be [n, 2], got {list(mu.shape)} and {list(sigma.shape)}")
    for (mx, my), (sx, sy) in zip(mu, sigma, strict=True):
        ax.add_patch(Ellipse((mx, my), 2 * nsig * sx, 2 * nsig * sy, fill=False, lw=lw, alpha=alpha, color=colour))
    return len(mu)
