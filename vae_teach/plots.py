"""Figures and image grids the notebooks draw: image grids, latent scatters with q ellipses, merged labels.

Nothing here touches pyplot state: figures are ``matplotlib.figure.Figure`` objects drawn on an Agg
canvas, so the helpers work the same under ``%matplotlib inline``, ``widget`` or no backend at all.
"""

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse

# the low-level image plumbing lives in vae_teach.raster; these names stay importable from plots
from vae_teach.raster import (  # noqa: F401
    RasterAxes,
    close_groups,
    ellipse_points,
    grey_unit,
    image_side,
    png_bytes,
    to_uint8,
    upscale,
)

LABEL_COLOURS = np.array(
    [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
     (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)], dtype=np.uint8)


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
