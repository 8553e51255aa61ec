"""Figures and image grids the notebooks draw: image grids, latent scatters with q ellipses, merged labels.

Nothing here touches pyplot state: figures are ``matplotlib.figure.Figure`` objects drawn on an Agg
canvas, so the helpers work the same under ``%matplotlib inline``, ``widget`` or no backend at all.
"""

import math

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse, Rectangle

from vae_teach import data

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
    """Flat square images [n, side*side] floats in [0, 1] (or integer grey levels) -> one uint8 grid image.

    Used by plots.show_images and plots.mean_and_draws; not called from a notebook.
    """
    if getattr(images, "dtype", None) in (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64) or (
            isinstance(images, np.ndarray) and images.dtype.kind in "iu"):
        try:  # integer grey levels (digits 0..16, uint8 0..255) are scaled to [0, 1] first
            images = data.to_unit(torch.as_tensor(images))
        except ValueError as e:
            raise ValueError(f"images of integer grey levels are scaled by data.to_unit, which says: {e}") from None
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
    """Draw a Figure on an Agg canvas and return its pixels as uint8 [H, W, 3].

    Used by plots.figure_png; not called from a notebook.
    """
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def figure_png(fig):
    """Draw a Figure and return PNG bytes.

    Used by the TradeoffExplorer of 07 Going deeper D1; not called from a notebook.
    """
    return png_bytes(figure_rgb(fig))


def new_figure(width, height, dpi=80):
    """A pyplot-free Figure of width x height inches with an Agg canvas attached.

    Used by plots.latent_scatter and the TradeoffExplorer of 07 Going deeper D1;
    not called from a notebook.
    """
    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def label_colours(labels):
    """Integer labels [n] -> RGB colours in [0, 1], [n, 3] (tab10 cycle).

    Used by plots.decoded_map, plots.latent_scatter; not called from a notebook.
    """
    labels = np.asarray(labels, dtype=np.int64)
    return LABEL_COLOURS[labels % len(LABEL_COLOURS)] / 255.0


def latent_scatter(mu, labels=None, sigma=None, dims=(0, 1), ax=None, limit=None, title=None, nsig=(1, 2),
                   legend_outside=False):
    """Scatter encoder means mu [n, z] on the plane `dims`, coloured by labels [n]; draw q's nsig ellipses if sigma.

    Used by plots.code_map; not called from a notebook.
    """
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

    Call after the axes' limits and position are final (tight_layout done): -> list of the label strings drawn.

    Taught in 07 §4.
    """
    xy = ax.transData.transform(np.column_stack([np.asarray(xs, float), np.asarray(ys, float)]))
    drawn = []
    style = {"textcoords": "offset points", "xytext": (9, 3), "fontsize": 8} | kwargs  # clear of the ring
    for group in close_groups(xy, radius):
        text = prefix + ", ".join(names[i] for i in group)
        anchor = (float(np.mean([xs[i] for i in group])), float(np.max([ys[i] for i in group])))
        ax.annotate(text, anchor, **style)
        drawn.append(text)
    return drawn


# notebooks 00–03
def _fig(width, height, ncols=1):
    """A pyplot-free Figure with 1 or 2 axes side by side (the course's ≤ 2 panels per row)."""
    fig = new_figure(width, height, dpi=100)
    axes = [fig.add_subplot(1, ncols, i + 1) for i in range(ncols)]
    return fig, axes


def _np(t):
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


def sprites_and_causes(images, causes, shape_names, ncol=4, side=28):
    """Sprites x [n, side²] (left, numbered) beside their causes z (right: position, shape, scale).

    Taught in 01 Going deeper D1.
    """
    fig, (ax_img, ax_z) = _fig(10, 4.4, 2)
    ax_img.imshow(image_grid(images, ncol=ncol, pad=2, pad_value=128), cmap="gray_r")
    for i in range(len(images)):
        ax_img.text(2 + (side + 2) * (i % ncol) + 1, 2 + (side + 2) * (i // ncol) + 5, str(i + 1), color="C3",
                    fontsize=8)
    ax_img.set(title=f"x: {len(images)} sprites drawn from the process", xlabel="pixel column", ylabel="pixel row")
    ax_img.axis("off")  # a montage: pixel positions mean nothing across tiles
    def size(scale):  # marker area: 30 at the smallest scale make_sprites draws (0.12), 500 at the largest (0.28)
        return 30 + 470 * (np.asarray(scale) - 0.12) / 0.16

    for s, name in enumerate(shape_names):
        pick = _np(causes["shape"]) == s
        ax_z.scatter(_np(causes["pos_x"])[pick], _np(causes["pos_y"])[pick], s=size(_np(causes["scale"])[pick]),
                     alpha=0.6, label=name)
    for key_x, scale in [(0.05, 0.12), (0.15, 0.2), (0.28, 0.28)]:  # a size key along the top edge
        ax_z.scatter([key_x], [0.07], s=size(scale), color="none", edgecolor="0.4")
        ax_z.annotate(f"{scale:.2f}", (key_x, 0.07), xytext=(0, -13), textcoords="offset points", fontsize=7,
                      ha="center", va="top", color="0.3")
    ax_z.annotate("← marker size: scale", (0.36, 0.07), fontsize=7, va="center", color="0.3")
    for i in range(len(images)):
        ax_z.annotate(str(i + 1), (float(causes["pos_x"][i]), float(causes["pos_y"][i])), fontsize=8, ha="center",
                      va="center")
    ax_z.set(xlim=(0, 1), ylim=(1, 0), title="z: the causes of the same images",
             xlabel="pos_x: centre, fraction of image width",
             ylabel="pos_y: centre, fraction of height (downward)")
    ax_z.legend(title="shape (marker size = scale)", loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def mean_and_draws(mean_image, draws, side=28):
    """A likelihood's mean image π(z) beside draws x ~ p(x|z) for the same z.

    Taught in 01 Going deeper D1.
    """
    fig = new_figure(10, 3.2, dpi=100)
    grid = fig.add_gridspec(1, 2, width_ratios=[1, len(draws)])
    ax_mean, ax_draws = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])
    ax_mean.imshow(_np(mean_image).reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
    ax_mean.set_title("π(z): the likelihood's mean")
    ax_draws.imshow(image_grid(draws, ncol=len(draws), pad=2, pad_value=128), cmap="gray_r")
    ax_draws.set_title(f"{len(draws)} draws x ~ p(x | z), the same z")
    for ax in (ax_mean, ax_draws):
        ax.set(xlabel="pixel column", ylabel="pixel row")
        ax.axis("off")  # image panels: the axes carry no information
    fig.tight_layout()
    return fig


def ancestral_linear(z, x, W, b):
    """Step 1, a histogram of z ~ N(0, 1); step 2, x ~ N(W z + b, τ² I) in 2-D coloured by its z.

    Taught in 01 §1.
    """
    fig, (ax_z, ax_x) = _fig(10, 4, 2)
    z, x = _np(z)[:, 0], _np(x)
    ax_z.hist(z, bins=30, density=True, color="grey", alpha=0.7, label=f"{len(z)} draws")
    zz = np.linspace(z.min(), z.max(), 200)
    ax_z.plot(zz, np.exp(-zz**2 / 2) / math.sqrt(2 * math.pi), "k", label="p(z) = N(0, 1)")
    ax_z.set(title="step 1: the cause z ~ p(z)", xlabel="z", ylabel="density (per unit z)")
    ax_z.legend(fontsize=8)
    sc = ax_x.scatter(x[:, 0], x[:, 1], c=z, cmap="coolwarm", s=8)
    line = zz[:, None] @ _np(W).T + _np(b)
    ax_x.plot(line[:, 0], line[:, 1], "k--", lw=1, label="W z + b (noise-free)")
    ax_x.set(title="step 2: x ~ N(W z + b, τ² I), coloured by its z", xlabel="x₁", ylabel="x₂")
    ax_x.legend(loc="upper left", fontsize=8)
    fig.colorbar(sc, ax=ax_x, label="z")
    fig.tight_layout()
    return fig


def joint_and_evidence(z, x, xs, px):
    """Ancestral samples (z, x) of the 1-D model beside a histogram of x and the exact p(x).

    Taught in 01 §1.
    """
    fig, (ax_j, ax_m) = _fig(10, 4, 2)
    ax_j.scatter(_np(z)[:, 0], _np(x)[:, 0], s=3, alpha=0.4)
    ax_j.set(title="ancestral samples (z, x): x = z² + noise", xlabel="z (cause)", ylabel="x (observation)")
    ax_m.hist(_np(x)[:, 0], bins=60, range=(float(xs[0]), float(xs[-1])), density=True, color="grey", alpha=0.7,
              label=f"{len(x)} draws of x")
    ax_m.plot(_np(xs), _np(px), "k", label="p(x) = ∫ p(x|z) p(z) dz")
    ax_m.set(title="what we observe: x alone, p(x)", xlabel="x", ylabel="density (per unit x)")
    ax_m.legend(fontsize=8)
    fig.tight_layout()
    return fig


def curves_panel(ax, grid, curves, title, xlabel="z", ylabel="density (per unit z)"):
    """Draw named curves {label: values [G]} over grid [G] on ax; styles cycle prior, likelihood, posterior.

    Used by plots.curves and plots.two_peaks; not called from a notebook.
    """
    for (label, values), style in zip(curves.items(), [{}, {"ls": "--"}, {"lw": 2.5}, {"ls": ":"}] * 3,
                                      strict=False):
        ax.plot(_np(grid), _np(values), label=label, **style)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend(fontsize=8, loc="upper left")


def curves(grid, panels, xlabel="z", ylabel="density (per unit z)", ylim=None, width=10, height=4):
    """One or two panels {title: {label: values [G]}} of curves over grid [G].

    Taught in 01 §2.
    """
    fig, axes = _fig(width if len(panels) == 2 else width * 0.65, height, len(panels))
    for ax, (title, named) in zip(axes, panels.items(), strict=True):
        curves_panel(ax, grid, named, title, xlabel, ylabel)
        if ylim is not None:
            ax.set_ylim(*ylim)
    fig.tight_layout()
    return fig


def posterior_ellipse(za, zb, prior_density, post_density, z_true, title):
    """Contours of the prior and of a 2-D posterior on a grid, with the true cause.

    Taught in 02 §2.
    """
    fig, (ax,) = _fig(5.5, 5)
    ax.contour(_np(za), _np(zb), _np(prior_density), levels=4, colors="grey", linestyles="dotted")
    ax.contour(_np(za), _np(zb), _np(post_density), levels=5, colors="C2")
    ax.plot(*_np(z_true), "r*", ms=12, label="the true cause z")
    ax.plot([], [], color="grey", ls="dotted", label="prior p(z)")
    ax.plot([], [], color="C2", label="posterior p(z | x)")
    ax.set(title=title, xlabel="z₁", ylabel="z₂", aspect="equal")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def amortisation(per_x, amortised, floor):
    """Mean gap against gradient steps for each method, and total seconds for many batches.

    Taught in 02 §5.
    """
    fig, (ax_s, ax_c) = _fig(10.5, 4.2, 2)
    for fit, colour, label in [(per_x, "C1", "per-x fits"), (amortised, "C0", "encoder")]:
        steps, _, gaps = zip(*fit.trace, strict=True)
        ax_s.plot(steps, gaps, colour, label=f"{label} ({fit.steps} steps in all)")
    ax_s.axhline(floor, color="k", ls=":", label="best diagonal q (floor)")
    ax_s.set(title="quality on the 200 new points", xlabel="gradient steps",
             ylabel="mean KL(q || p(z|x))  (nats)", ylim=(floor - 0.2, floor + 1.5))
    ax_s.legend(fontsize=8, loc="upper right")
    batches = np.arange(0, 31)
    ax_c.plot(batches, batches * per_x.seconds, "C1", label="per-x: all the steps again for every batch")
    ax_c.plot(batches, amortised.seconds + batches * amortised.new_x_seconds, "C0",
              label="encoder: train once, then one pass per batch")
    ax_c.set(title="cost of q for many batches of 200 new x", xlabel="batches of 200 new data points",
             ylabel="total seconds (this machine, 1 thread)")
    ax_c.legend(fontsize=8)
    fig.tight_layout()
    return fig


def elbo_gap_sweep(shifts, elbos, kls, log_px):
    """ELBO and ELBO + KL(q‖p(z|x)) as q's mean moves, against the fixed log p(x).

    Taught in 03 §3.
    """
    fig, (ax,) = _fig(6.5, 4)
    shifts, elbos, kls = _np(shifts), _np(elbos), _np(kls)
    ax.axhline(float(log_px), color="k", lw=2, label="log p(x)  (exact)")
    ax.plot(shifts, elbos, color="tab:blue", lw=2, label="ELBO")
    ax.plot(shifts, elbos + kls, ":", color="tab:orange", lw=3, label="ELBO + KL(q || p(z|x))")
    ax.fill_between(shifts, elbos, float(log_px), color="tab:red", alpha=0.15, label="gap = log p(x) − ELBO")
    ax.set(xlabel="shift of q's mean from the posterior mean (posterior sds)", ylabel="nats",
           title="The ELBO falls below log p(x) by exactly the KL")
    ax.legend(loc="lower center", fontsize=8)
    fig.tight_layout()
    return fig


def bound_against_samples(n_samples, panels, log_px, title, lines=None, ylim=None, elbo=None):
    """Bounds {name: (mean [K], sd [K], colour)} against n_samples (log2 axis), with log p(x) and lines {label: y}.

    elbo {name: exact ELBO} marks each panel's exact ELBO as a star at the first S.

    Taught in 03 Going deeper D6.
    """
    fig, (ax,) = _fig(6.5, 4)
    for name, (mean, sd, colour) in panels.items():
        mean, sd = _np(mean), _np(sd)
        ax.fill_between(n_samples, mean - sd, mean + sd, alpha=0.2, color=colour)
        ax.plot(n_samples, mean, "o-", color=colour, label=f"{name} (± 1 sd over repeats)")
    for i, (name, y) in enumerate((elbo or {}).items()):
        ax.plot([n_samples[0]], [float(y)], "*", ms=14, mec="k", color=panels[name][2], zorder=5,
                label="exact ELBO (star)" if i == 0 else None)
    ax.axhline(float(log_px), color="k", lw=2, label="log p(x)")
    for label, y in (lines or {}).items():
        ax.axhline(float(y), color="grey", ls=":", label=label)
    if ylim is not None:
        ax.set_ylim(float(ylim[0]), float(ylim[1]))
    ax.set_xscale("log", base=2)
    ax.set(xlabel="S, samples from q per data point", ylabel="bound on log p(x)  (nats)", title=title)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def two_peaks(grid, named, means, gap_by_mean, log2):
    """A two-peaked posterior with Gaussians {label: density [G]} (left); the best gap per mean (right).

    Taught in 03 Going deeper D3.
    """
    fig, (ax, ax_gap) = _fig(10.5, 4, 2)
    curves_panel(ax, grid, named, "a two-peaked posterior and Gaussian q's")
    ax.set_xlim(-3.5, 3.5)
    ax_gap.plot(_np(means), _np(gap_by_mean), color="tab:red", lw=2, label="best gap for this mean")
    ax_gap.axhline(log2, color="grey", ls=":", label="log 2")
    ax_gap.set(xlabel="mean of q (its sd chosen best for each mean)", ylabel="gap  log p(x) − ELBO  (nats)",
               ylim=(0, 6), title="no Gaussian q closes the gap")
    ax_gap.legend(fontsize=8)
    fig.tight_layout()
    return fig

# notebooks 07–08 ---------------------------------------------------------------------------------------------
def _as_numpy(x):
    """A tensor or array as a float64 numpy array (detached)."""
    return np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x, dtype=np.float64)


def show_images(ax, images, title=None, ncol=8, scale=4, pad=1):
    """Flat square images [n, side*side] in [0, 1] as one grid on ax, dark ink on white (gray_r): -> ax.

    Taught in 07 §2.
    """
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

    Used by plots.code_map; not called from a notebook.
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
    """Outline each q(z|x) = N(mu, diag sigma²) at nsig standard deviations: mu, sigma [n, 2] -> number drawn.

    Used by plots.code_map; not called from a notebook.
    """
    mu, sigma = _as_numpy(mu), _as_numpy(sigma)
    if mu.ndim != 2 or mu.shape[1] != 2 or sigma.shape != mu.shape:
        raise ValueError(f"mu and sigma must both be [n, 2], got {list(mu.shape)} and {list(sigma.shape)}")
    for (mx, my), (sx, sy) in zip(mu, sigma, strict=True):
        ax.add_patch(Ellipse((mx, my), 2 * nsig * sx, 2 * nsig * sy, fill=False, lw=lw, alpha=alpha, color=colour))
    return len(mu)

# notebooks 04–06 ------------------------------------------------------------------------------------------
DIGIT_CMAP = "gray_r"  # digits everywhere: ink dark on white paper
METHOD_COLOURS = {"reparam": "tab:blue", "score": "tab:orange"}  # gradient estimators, as in the explorer


def digit_rows(ax, rows, row_names=None, captions=None, caption_colours=None, title=None, gap=0.3):
    """Draw rows of 8×8 digits (each [n, 64] floats in [0, 1]) large in gray_r on ax, a caption under each cell.

    row_names [r] label the rows on the left; captions [r][n] strings go under each image, coloured by
    caption_colours [r][n] (default black). Used by notebooks 06 §3–§4.

    Taught in 06 §3.
    """
    rows = [np.asarray(r.detach() if isinstance(r, torch.Tensor) else r, dtype=np.float64) for r in rows]
    if not rows or any(r.ndim != 2 or r.shape[0] == 0 for r in rows):
        raise ValueError(f"rows must be a non-empty list of [n, side*side] arrays, got {[r.shape for r in rows]}")
    side = image_side(rows[0].shape[1])
    ncol = max(r.shape[0] for r in rows)
    for name, per_row in (("row_names", row_names), ("captions", captions), ("caption_colours", caption_colours)):
        if per_row is not None and len(per_row) != len(rows):
            raise ValueError(f"{name} must have one entry per row ({len(rows)}), got {len(per_row)}")
    cap = gap + (0.35 if captions is not None else 0.0)  # room under each row, in image-side units
    for r, imgs in enumerate(rows):
        top = r * (1 + cap)
        for i, img in enumerate(imgs):
            left = i * (1 + gap)
            ax.imshow(img.reshape(side, side), cmap=DIGIT_CMAP, vmin=0, vmax=1, interpolation="nearest",
                      extent=(left, left + 1, top + 1, top))
            ax.plot([left, left + 1, left + 1, left, left], [top, top, top + 1, top + 1, top], lw=0.5, color="0.7")
            if captions is not None:
                colour = caption_colours[r][i] if caption_colours is not None else "k"
                ax.text(left + 0.5, top + 1.04, str(captions[r][i]), ha="center", va="top", fontsize=9, color=colour)
        if row_names is not None:
            ax.text(-0.15, top + 0.5, row_names[r], ha="right", va="center", fontsize=9)
    ax.set_xlim(-0.05, ncol * (1 + gap) - gap + 0.05)
    ax.set_ylim(len(rows) * (1 + cap) - gap + 0.05, -0.05)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax


def gaussian_kl_curves(ax_mu, ax_sd, kl):
    """KL(N(μ, σ²) || N(0, 1)) of one latent dim against μ (σ = 1) and against σ (μ = 0) with its two parts (04 §2).

    kl(mu, logvar) is the closed form, e.g. bounds.gaussian_kl, called on [m, 1] tensors.

    Taught in 04 §2.
    """
    grid_mu, grid_sd = torch.linspace(-3, 3, 201), torch.linspace(0.02, 3, 300)
    ax_mu.plot(grid_mu, kl(grid_mu[:, None], torch.zeros(201, 1)), lw=2)
    ax_mu.set(title="KL of one dimension against its mean (σ = 1)", xlabel="μ", ylabel="KL(q || N(0, 1))  (nats)")
    parts = {"σ²/2 − 1/2": 0.5 * (grid_sd**2 - 1), "−log σ": -grid_sd.log(),
             "KL = the sum": kl(torch.zeros(300, 1), (grid_sd**2).log()[:, None])}
    for name, v in parts.items():
        ax_sd.plot(grid_sd, v, lw=3 if name.startswith("KL") else 1.5, label=name)
    ax_sd.axhline(0, color="grey", lw=0.5)
    ax_sd.set_ylim(-1.5, 4)
    ax_sd.set(title="KL of one dimension against its sd (μ = 0)", xlabel="σ", ylabel="nats")
    ax_sd.legend()
    return ax_mu, ax_sd


def estimator_sd_curves(ax, scales, sd_a, sd_b):
    """Single-sample sd of ELBO estimators A (eq. 6) and B (eq. 7) against q's width c (04 Going deeper).

    Taught in 04 Going deeper D1.
    """
    ax.plot(scales, sd_a, "o-", label="A (eq. 6): sample everything")
    ax.plot(scales, sd_b, "s-", label="B (eq. 7): exact KL")
    ax.axvline(1.0, color="grey", ls=":")
    ax.set_xscale("log")
    ticks = [round(float(c), 2) for c in scales]  # every measured c gets a label
    ax.set_xticks(ticks, labels=[f"{t:g}" for t in ticks], fontsize=8)
    ax.minorticks_off()
    ax.set(xlabel="c: q's sd relative to the posterior's (1 = exact posterior)",
           ylabel="sd of a single-sample estimate (nats)", title="Linear-Gaussian model: A is exact at c = 1")
    ax.legend()
    return ax


def estimator_sd_scatter(ax, noise):
    """One dot per image: sd of estimator A against sd of B, for each model in noise {name: (sd_a [n], sd_b [n])}.

    Taught in 04 Going deeper D1.
    """
    top = max(max(float(a.max()), float(b.max())) for a, b in noise.values()) * 1.05
    for (name, (sd_a, sd_b)), marker in zip(noise.items(), "^os", strict=False):
        ax.scatter(sd_a, sd_b, s=14, marker=marker, label=name)
    ax.plot([0, top], [0, top], color="grey", ls=":", label="equal noise")
    ax.set(xlim=(0, top), ylim=(0, top), xlabel="sd of estimator A (nats)", ylabel="sd of estimator B (nats)",
           title="Digits VAE, one dot per image (below the line: B wins)")
    ax.legend()
    return ax


def bce_mass_curves(ax_mass, ax_bce, ps, mass, bce):
    """Left: total mass ∫ exp(−BCE(x; p)) dx over x ∈ [0, 1]; right: BCE(x; p) of one pixel for x = 0.5, 0.9, 1.

    Taught in 04 Going deeper D2.
    """
    ax_mass.plot(ps, mass, lw=2, label="∫ exp(−BCE(x; p)) dx")
    ax_mass.axhline(1.0, color="k", ls=":", label="a real density integrates to 1")
    ax_mass.set(ylim=(0, 1.1), xlabel="decoder output p", ylabel="total probability over x ∈ [0, 1]",
                title="BCE's 'density' over grey values is not normalised")
    ax_mass.legend()
    for xv in (0.5, 0.9, 1.0):
        ax_bce.plot(ps, bce(torch.full_like(ps, xv)[:, None], ps[:, None]), lw=2, label=f"pixel x = {xv}")
    ax_bce.set(ylim=(0, 3), xlabel="decoder output p", ylabel="BCE for one pixel (nats)",
               title="A perfect fit (p = x) still costs nats")
    ax_bce.legend()
    return ax_mass, ax_bce


def estimate_histograms(ax, estimates, exact, what="∂L/∂μ", bins=80):
    """Histograms of single-sample gradient estimates {method: [n]} over their full range, log density (05 D1).

    Taught in 05 Going deeper D1.
    """
    values = {m: np.asarray(g, dtype=np.float64) for m, g in estimates.items()}
    lo = min(v.min() for v in values.values())
    hi = max(v.max() for v in values.values())
    edges = np.linspace(lo, hi, bins + 1)
    for m, v in values.items():
        ax.hist(v, bins=edges, density=True, alpha=0.6, color=METHOD_COLOURS.get(m),
                label=f"{m}: variance {v.var(ddof=1):.2f}")
    ax.axvline(exact, color="k", lw=1.5, label=f"exact {what} = {exact:.2f}")
    for m, v in values.items():  # each method's mean, dashed in its colour (as in the gradient explorer)
        ax.axvline(v.mean(), color=METHOD_COLOURS.get(m), ls="--", lw=1.2, label=f"{m} mean = {v.mean():.2f}")
    ax.set_yscale("log")
    ax.set(xlabel=f"single-sample estimate of {what} (all {len(next(iter(values.values()))):,} shown)",
           ylabel="density (log scale)")
    ax.legend(fontsize=8)
    return ax


def variance_vs_samples(ax, sample_counts, curves, what="∂L/∂μ"):
    """Log-log variance of S-sample averages against S for each method {name: [len(S)]}, with slope −1 guides.

    Taught in 05 Going deeper D2.
    """
    for m, v in curves.items():
        (line,) = ax.loglog(sample_counts, v, "o-", color=METHOD_COLOURS.get(m), label=m)
        ax.loglog(sample_counts, [v[0] / s for s in sample_counts], ":", color=line.get_color(), lw=1)
    ax.set(xlabel="samples averaged, S", ylabel=f"variance of the estimate of {what}",
           title="Variance of an S-sample average (dotted: slope −1)")
    ax.legend()
    return ax


def variance_scatter(ax, var_path, var_score):
    """Per-parameter variance of pathwise against score-function gradient estimates, log-log with the diagonal.

    Taught in 05 Going deeper D4.
    """
    vp, vs = (np.asarray(v, dtype=np.float64) for v in (var_path, var_score))
    ax.loglog(vp, vs, ".", ms=2, alpha=0.4)
    both = np.concatenate([vp, vs])
    lo, hi = both[both > 0].min(), both.max()
    ax.loglog([lo, hi], [lo, hi], "k--", lw=1, label="equal variance")
    ax.set(xlabel="pathwise variance (nats²)", ylabel="score-function variance (nats²)",
           title="Gradient variance, one point per encoder parameter")
    ax.legend()
    return ax


def training_curves(fig, history, band=None, band_label="average-digit plateau (training KL < 0.5 nats)"):
    """Total loss on top, reconstruction and KL below, train and validation, nats per image (06 §3) -> axes dict.

    Taught in 06 §3.
    """
    axd = fig.subplot_mosaic([["total", "total"], ["recon", "kl"]])
    panels = (("total", history.train_loss, history.val_loss, "Total loss −ELBO = reconstruction + KL"),
              ("recon", history.train_recon, history.val_recon, "Reconstruction term E_q[−log p(x|z)]"),
              ("kl", history.train_kl, history.val_kl, "KL term KL(q(z|x) || p(z))"))
    for key, train_curve, val_curve, title in panels:
        ax = axd[key]
        if band is not None:
            ax.axvspan(*band, color="grey", alpha=0.15, label=band_label)
        ax.plot(history.epoch, train_curve, label="train (averaged over the epoch)")
        if val_curve:
            ax.plot(history.epoch, val_curve, label="validation (after the epoch)")
        if history.best_epoch is not None:
            ax.axvline(history.best_epoch, color="grey", ls=":", label="best epoch (kept)")
        ax.set(title=title, xlabel="epoch", ylabel="nats per image")
    axd["total"].legend(fontsize=9)
    return axd


def bound_curve(ax, sample_counts, iwae, elbo):
    """IWAE bound against its sample count S (log x) with the ELBO as a line, nats per image (06 Going deeper D4).

    Taught in 06 Going deeper D4.
    """
    values = [iwae[s] for s in sample_counts]
    ax.semilogx(sample_counts, values, "o-", label=r"IWAE bound $\mathcal{L}_S$")
    ax.axhline(elbo, color="tab:red", ls="--", label=r"ELBO $\mathcal{L}$")
    pad = 0.15 * (max(values + [elbo]) - min(values + [elbo]))
    ax.set_ylim(min(values + [elbo]) - pad, max(values + [elbo]) + pad)
    ax.set(xlabel="importance samples S", ylabel="bound on log p(x) (nats per image)",
           title="Test bounds on log p(x), mean over the test digits")
    ax.legend(loc="center right")
    return ax


def kl_per_dim_bars(ax_bar, ax_scatter, kl_dims, activity, threshold=0.01):
    """Left: KL_j per latent dim, sorted, blue if active; right: KL_j against activity, one point per dim (06 D7).

    Taught in 06 Going deeper D7.
    """
    kl_dims, activity = np.asarray(kl_dims, dtype=np.float64), np.asarray(activity, dtype=np.float64)
    if kl_dims.shape != activity.shape or kl_dims.ndim != 1:
        raise ValueError(f"kl_dims and activity must both be [J], got {kl_dims.shape} and {activity.shape}")
    colour = np.where(activity > threshold, "tab:blue", "tab:grey")
    order = np.argsort(-kl_dims)
    shown = np.maximum(kl_dims, 1e-4)
    ax_bar.bar(range(len(order)), shown[order], color=colour[order])
    ax_bar.set_yscale("log")
    ax_bar.set_xticks(range(len(order)), [str(j) for j in order])
    ax_bar.set(xlabel="latent dimension j (sorted by KL)", ylabel="KL_j (nats per image, log scale)",
               title=f"KL per dimension ({int((activity > threshold).sum())} of {len(order)} active, blue)")
    ax_scatter.scatter(activity, shown, c=colour)
    ax_scatter.axvline(threshold, color="grey", ls=":", label=f"activity threshold {threshold:g}")
    ax_scatter.set(xscale="log", yscale="log", xlabel="activity Var_x(μ_j(x))",
                   ylabel="KL_j (nats per image, log scale)", title="KL against activity, one point per dimension")
    ax_scatter.legend()
    return ax_bar, ax_scatter

# notebook 09
def bound_curves(curves: dict, ncol: int = 2) -> Figure:
    """Paper figure 2: ELBO per image against training samples evaluated, a panel per J, AEVB against wake-sleep.

    Taught in 09 §2.
    """
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
    """Paper figure 3: AIS log p(x) per image, train (open) and test (filled), per algorithm and training-set size.

    Taught in 09 §4.
    """
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


# notebooks 01–04 ---------------------------------------------------------------------------------------------
def theta_changes(grid, base, changed, names):
    """One panel per parameter change {title: three curves [G]}, drawn over the same curves at the base θ (faint).

    base and each changed value are (prior, likelihood, posterior) on grid [G].

    Taught in 01 §2.
    """
    fig, axes = _fig(10.5, 4, len(changed))
    colours = ["tab:blue", "tab:orange", "tab:green"]
    for ax, (title, views) in zip(axes, changed.items(), strict=True):
        for name, before, after, colour in zip(names, base, views, colours, strict=True):
            moved = not torch.equal(torch.as_tensor(before), torch.as_tensor(after))
            ax.plot(_np(grid), _np(before), color=colour, lw=1.2, alpha=0.35, ls="--")
            ax.plot(_np(grid), _np(after), color=colour, lw=2.2, label=f"{name}: {'moves' if moved else 'unchanged'}")
        ax.plot([], [], color="grey", lw=1.2, alpha=0.5, ls="--", label="dashed: before the change")
        ax.set(title=title, xlabel="z", ylabel="density, or likelihood value")
        ax.legend(fontsize=8, loc="upper left")
    top = max(float(max(_np(v).max() for v in (*base, *views))) for views in changed.values())
    for ax in axes:
        ax.set_ylim(0, 1.45 * top)
    fig.tight_layout()
    return fig


def log_estimate_histogram(log_estimates, log_exact, title, bins=40):
    """Histogram of repeated estimates log p̂(x) [runs], with the exact log p(x) and the runs' median marked.

    Taught in 01 Going deeper D3.
    """
    est, exact = _np(log_estimates), float(log_exact)
    fig, (ax,) = _fig(7.5, 3.8)
    ax.hist(est, bins=bins, color="tab:blue", alpha=0.7, label=f"log p̂(x), one per run ({len(est)} runs)")
    ax.axvline(exact, color="k", lw=2, label="exact log p(x)")
    ax.axvline(float(np.median(est)), color="tab:orange", lw=2, ls="--", label="median of the runs")
    ax.set(title=title, xlabel="log p̂(x)  (nats)", ylabel="number of runs")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def terms_against_sigma(sigmas, recon, kl, ylim=(0, 12)):
    """The reconstruction term, the KL and their sum against q's width σ [G], with the sum's minimum marked.

    Taught in 04 Going deeper D5.
    """
    s, r, k = _np(sigmas), _np(recon), _np(kl)
    fig, (ax,) = _fig(6.5, 4)
    curves_panel(ax, s, {"reconstruction E_q[−log p(x|z)]": r, "KL(q || p(z))": k, "loss = the sum": r + k},
                 "the two terms against q's width (μ fixed)", "σ, both latent dimensions", "nats")
    i = int(np.argmin(r + k))
    ax.plot([s[i]], [r[i] + k[i]], "k*", ms=13, label=f"smallest loss, at σ = {s[i]:.2f}")
    ax.axvline(s[i], color="k", lw=0.8, ls=":")
    ax.set_ylim(*ylim)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


# notebooks 05–08 ---------------------------------------------------------------------------------------------
def grid_lines(ax, z_grid, color="0.8", lw=0.6):
    """Light lines at the z_1 and z_2 values of a decoded grid's points, so a scatter with linear axes shows
    where each cell of a Φ⁻¹-spaced map (decoded_map) sits: z_grid [n², 2] -> the lines drawn (list).

    Used by plots.code_map; not called from a notebook.
    """
    z = np.asarray(z_grid, dtype=float)
    lines = [ax.axvline(v, color=color, lw=lw, zorder=0) for v in np.unique(z[:, 0].round(6))]
    lines += [ax.axhline(v, color=color, lw=lw, zorder=0) for v in np.unique(z[:, 1].round(6))]
    return lines


# notebooks 01–02 ---------------------------------------------------------------------------------------------
def naive_mc_shortfall(sample_sizes, nats_short):
    """How far naive Monte Carlo's log p̂(x) falls short of log p(x) (nats, linear axis) against S, one line per J.

    sample_sizes [n_S]; nats_short {J: [n_S] medians of log p(x) − log p̂(x)}.

    Taught in 01 §3.
    """
    fig, (ax,) = _fig(6.5, 4.2)
    styles, markers = ["-", "--", "-.", ":", (0, (5, 1))], ["o", "s", "^", "D", "v"]
    for i, j in enumerate(nats_short):
        ax.plot(sample_sizes, nats_short[j], ls=styles[i % 5], marker=markers[i % 5], mfc="none", mew=1.4,
                label=f"J = {j}")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.set(title="naive Monte Carlo: how far log p̂(x) falls short", xlabel="prior samples S",
           ylabel="median log p(x) − log p̂(x)  (nats)")
    ax.legend(fontsize=8, title="latent dimensions")
    fig.tight_layout()
    return fig


# notebooks 07–08 -------------------------------------------------------------------------------------------
def code_map(axes, images, z_grid, classes, mu, logvar, labels, name):
    """Figure 4 beside its codes: decoded_map of images [n*n, 64] at z_grid [n*n, 2] on axes[0]; on axes[1] the
    codes mu [m, 2] coloured by labels [m], the 2σ ellipse of every fourth q(z|x) (logvar [m, 2]), the grid. -> axes

    Taught in 08 §2.
    """
    mu, logvar = torch.as_tensor(mu), torch.as_tensor(logvar)
    if mu.ndim != 2 or mu.shape[1] != 2 or logvar.shape != mu.shape:
        raise ValueError(f"mu and logvar must both be [m, 2], got {list(mu.shape)} and {list(logvar.shape)}")
    decoded_map(axes[0], images, z_grid, classes, title=f"{name}: decoded means on a "
                f"{math.isqrt(len(z_grid))}×{math.isqrt(len(z_grid))} grid", every=1)
    axes[0].tick_params(labelsize=9)
    sigma = (0.5 * logvar).exp()
    seen = "" if sigma.median() > 0.01 else ", too small to see"
    latent_scatter(mu, labels=labels, ax=axes[1], legend_outside=True,
                   title=f"{name}: test codes μ(x), 2σ ellipses of q(z|x)\n(median σ {sigma.median():.3f}{seen})")
    posterior_ellipses(axes[1], mu[::4], sigma[::4])
    grid_lines(axes[1], z_grid)  # the cell centres' z_1 and z_2
    z = torch.as_tensor(z_grid)
    lo, hi = z.min(0).values, z.max(0).values
    axes[1].add_patch(Rectangle(lo.tolist(), *(hi - lo).tolist(), fill=False, ls="--", color="k"))
    axes[1].set(xlabel="z_1", ylabel="z_2")
    return axes
