"""Low-level image plumbing: PNG bytes (Pillow), floats -> 8-bit grey, nearest-neighbour upscaling, drawing
markers on a pre-rendered axes, and grouping labels that would overlap on screen (a small union-find).

``vae_teach.plots`` re-exports these names; the figures the notebooks draw live there.
"""

import io
import math

import numpy as np
import torch
from PIL import Image

_MODES = {1: "L", 3: "RGB", 4: "RGBA"}  # channels -> Pillow mode


def png_bytes(img, level=1):
    """Encode a uint8 image [H, W] (grey), [H, W, 3] (RGB) or [H, W, 4] (RGBA) as PNG bytes (zlib level 1).

    Used by plots.figure_png and explorers.latent.render_decoded; not called from a notebook.
    """
    img = np.asarray(img)
    if img.dtype != np.uint8 or img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (3, 4)):
        raise ValueError(f"img must be uint8 [H, W], [H, W, 3] or [H, W, 4], got {img.dtype} {list(img.shape)}")
    mode = _MODES[1 if img.ndim == 2 else img.shape[2]]
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(img), mode=mode).save(buf, format="png", compress_level=level)
    return buf.getvalue()


def grey_unit(x, levels=None):
    """Pixels for display as floats in [0, 1]: float rows pass through, integer grey levels are divided by
    levels - 1 (levels defaults to max + 1, at least 2): any shape -> float32 tensor.

    Used by the LatentExplorer (08 §4) and the TradeoffExplorer (07 Going deeper D1);
    not called from a notebook.
    """
    x = torch.as_tensor(x)
    if x.is_floating_point():
        return x.float()
    if levels is None:
        levels = int(x.max()) + 1 if x.numel() else 2
    return x.float() / max(int(levels) - 1, 1)


def to_uint8(x):
    """Floats in [0, 1] (any shape, tensor or array) -> uint8 in 0..255, clipped and rounded.

    Used by plots.image_grid and explorers.latent.decoded_pixels; not called from a notebook.
    """
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return (np.clip(np.asarray(x, dtype=np.float32), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def upscale(img, factor):
    """Nearest-neighbour upscale of an image [H, W(, C)] by an integer factor -> [H*f, W*f(, C)].

    Used by explorers.latent.render_decoded, plots.image_grid; not called from a notebook.
    """
    if int(factor) != factor or factor < 1:
        raise ValueError(f"factor must be a positive integer, got {factor!r}")
    factor = int(factor)
    return np.repeat(np.repeat(img, factor, axis=0), factor, axis=1)


def image_side(x_dim):
    """Side of a square image with x_dim pixels, or ValueError when x_dim is not a perfect square.

    Used by explorers.latent.decoded_pixels and plots.image_grid; not called from a notebook.
    """
    side = math.isqrt(int(x_dim))
    if side * side != x_dim:
        raise ValueError(f"images must be square (x_dim a perfect square), got x_dim={x_dim}")
    return side


def ellipse_points(center, radii, n=72):
    """Points on an axis-aligned ellipse: center [2], radii [2] -> [n+1, 2] (closed polyline).

    Used by tests/test_plots.py (with raster.RasterAxes); not called from a notebook.
    """
    t = np.linspace(0.0, 2.0 * np.pi, n + 1)
    return np.stack([center[0] + radii[0] * np.cos(t), center[1] + radii[1] * np.sin(t)], axis=1)


def close_groups(xy, radius):
    """Group points xy [n, 2] (display pixels) whose chains of neighbours lie within radius: -> lists of indices.

    Used by plots.annotate_merged; not called from a notebook.
    """
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


def clip_segments(a, b, lo, hi):
    """Liang–Barsky: clip segments a[m, 2] -> b[m, 2] to the box lo[2]..hi[2]; -> (a', b') of the visible parts.

    Used by raster.RasterAxes.polyline; not called from a notebook.
    """
    d = b - a
    with np.errstate(divide="ignore", invalid="ignore"):
        t1, t2 = (lo - a) / d, (hi - a) / d
    inside = (a >= lo) & (a <= hi)  # a zero-length axis keeps the segment only if it lies within the slab
    t_in = np.where(d == 0, np.where(inside, -np.inf, np.inf), np.minimum(t1, t2)).max(axis=1)
    t_out = np.where(d == 0, np.where(inside, np.inf, -np.inf), np.maximum(t1, t2)).min(axis=1)
    t_in, t_out = np.maximum(t_in, 0.0), np.minimum(t_out, 1.0)
    keep = t_in <= t_out
    return a[keep] + t_in[keep, None] * d[keep], a[keep] + t_out[keep, None] * d[keep]


class RasterAxes:
    """A pre-rendered axes as an RGB array plus its data->pixel map, for drawing markers with numpy.

    Used by tests/test_plots.py and tests/test_widgets.py; not called from a notebook.
    """

    def __init__(self, rgb, ax):
        """Keep rgb [H, W, 3] (figure pixels) and the affine data->pixel transform of `ax` (after drawing)."""
        self.rgb = rgb
        height = rgb.shape[0]
        (x0, y0), (x1, y1) = ax.transData.transform([(0.0, 0.0), (1.0, 1.0)])
        # display coords have their origin at the bottom left; rows count from the top
        self._a = np.array([x1 - x0, -(y1 - y0)])
        self._b = np.array([x0, height - y0])
        bbox = ax.bbox
        self.clip = (int(height - bbox.y1), int(height - bbox.y0), int(bbox.x0), int(bbox.x1))

    def to_pixels(self, xy):
        """Data coordinates [..., 2] -> (col, row) pixel coordinates [..., 2] as floats.

        Used by raster.RasterAxes.polyline and raster.RasterAxes.marker; not called from a notebook.
        """
        return np.asarray(xy, dtype=np.float64) * self._a + self._b

    def _put(self, img, cols, rows, colour):
        """Set pixels (cols, rows) inside the axes box to colour."""
        r0, r1, c0, c1 = self.clip
        keep = (rows >= r0) & (rows < r1) & (cols >= c0) & (cols < c1)
        img[rows[keep], cols[keep]] = colour

    def polyline(self, img, xy, colour, width=2):
        """Draw a polyline given in data coordinates [m, 2] onto img (in place), clipped to the axes box.

        Segments are clipped to the box first, so a huge ellipse visits no more pixels than one that fits.

        Used by tests/test_plots.py; not called from a notebook.
        """
        p = self.to_pixels(xy)
        r0, r1, c0, c1 = self.clip
        a, b = clip_segments(p[:-1], p[1:], np.array([c0 - 4.0, r0 - 4.0]), np.array([c1 + 4.0, r1 + 4.0]))
        if len(a) == 0:
            return
        seg = b - a
        steps = np.maximum(np.ceil(np.abs(seg).max(axis=1) * 2).astype(int), 1)
        pts = np.concatenate([a[k] + seg[k] * (np.arange(s)[:, None] / s) for k, s in enumerate(steps)] + [b[-1:]])
        base = np.rint(pts).astype(int)
        for dc in range(width):
            for dr in range(width):
                self._put(img, base[:, 0] + dc - width // 2, base[:, 1] + dr - width // 2, colour)

    def marker(self, img, xy, colour, radius=6, outline=(0, 0, 0)):
        """Draw a filled disc with a dark outline and a cross-hair at data point xy [2] onto img (in place).

        Used by tests/test_plots.py; not called from a notebook.
        """
        c, r = np.rint(np.clip(self.to_pixels(xy), -1e6, 1e6)).astype(int)
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
