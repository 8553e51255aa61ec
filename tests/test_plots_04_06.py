"""Tests for the figure helpers of notebooks 04–06 in vae_teach.plots: what they draw, and their input checks."""

import numpy as np
import pytest
import torch

from vae_teach import bounds, likelihoods, plots
from vae_teach.train import History


def axes(n=1):
    fig = plots.new_figure(8, 3)
    return [fig.add_subplot(1, n, i + 1) for i in range(n)]


def test_digit_rows_draws_each_image_in_gray_r_with_captions():
    (ax,) = axes()
    gen = torch.Generator().manual_seed(0)
    rows = [torch.rand(4, 64, generator=gen), torch.rand(3, 64, generator=gen)]
    plots.digit_rows(ax, rows, row_names=["input", "recon"], captions=[list("abcd"), list("xyz")],
                     caption_colours=[["k"] * 4, ["r"] * 3], title="t")
    assert len(ax.images) == 7 and all(im.get_cmap().name == "gray_r" for im in ax.images)
    assert np.allclose(ax.images[0].get_array(), rows[0][0].reshape(8, 8).numpy())
    texts = [t.get_text() for t in ax.texts]
    assert {"input", "recon", "a", "z"} <= set(texts) and ax.get_title() == "t"


BAD_ROWS = [({"rows": []}, "non-empty"), ({"rows": [torch.zeros(2, 60)]}, "square"),
            ({"rows": [torch.zeros(2, 64)], "row_names": ["a", "b"]}, "one entry per row")]


@pytest.mark.parametrize("kwargs, match", BAD_ROWS)
def test_digit_rows_rejects_bad_input(kwargs, match):
    (ax,) = axes()
    with pytest.raises(ValueError, match=match):
        plots.digit_rows(ax, **kwargs)


def test_gaussian_kl_curves_plot_the_closed_form():
    ax_mu, ax_sd = axes(2)
    plots.gaussian_kl_curves(ax_mu, ax_sd, bounds.gaussian_kl)
    x, y = ax_mu.lines[0].get_data()
    assert np.allclose(y, 0.5 * np.asarray(x) ** 2, atol=1e-5)          # σ = 1: KL = μ²/2
    total = [ln for ln in ax_sd.lines if ln.get_label().startswith("KL")][0]
    sd, kl = total.get_data()
    assert np.allclose(kl, 0.5 * (np.asarray(sd) ** 2 - 1) - np.log(sd), atol=1e-5)
    assert "nats" in ax_mu.get_ylabel()


def test_estimator_and_bce_figures_draw_their_data():
    ax_c, ax_vae, ax_mass, ax_bce = axes(4)
    scales = torch.tensor([0.5, 1.0, 2.0])
    plots.estimator_sd_curves(ax_c, scales, torch.tensor([1.0, 0.0, 2.0]), torch.tensor([0.5, 1.0, 1.5]))
    assert np.allclose(ax_c.lines[0].get_ydata(), [1.0, 0.0, 2.0])
    plots.estimator_sd_scatter(ax_vae, {"a": (torch.ones(5), 2 * torch.ones(5))})
    assert ax_vae.get_xlim()[1] == pytest.approx(2.1)
    ps = torch.linspace(0.1, 0.9, 9, dtype=torch.float64)
    plots.bce_mass_curves(ax_mass, ax_bce, ps, likelihoods.bce_mass(ps), likelihoods.bce)
    assert np.allclose(ax_mass.lines[0].get_ydata(), likelihoods.bce_mass(ps).numpy()) and len(ax_bce.lines) == 3


def test_estimate_histograms_show_every_estimate():
    (ax,) = axes()
    gen = torch.Generator().manual_seed(0)
    g = {"reparam": torch.randn(500, generator=gen), "score": 5 + 3 * torch.randn(500, generator=gen)}
    plots.estimate_histograms(ax, g, exact=0.0)
    counts = [sum(p.get_height() * p.get_width() for p in c) for c in ax.containers]
    assert np.allclose(counts, 1.0)  # densities over the full range: nothing clipped
    assert ax.get_yscale() == "log" and "500" in ax.get_xlabel()


def test_variance_figures():
    ax_s, ax_v = axes(2)
    plots.variance_vs_samples(ax_s, [1, 4, 16], {"reparam": [1.0, 0.25, 0.0625], "score": [8.0, 2.0, 0.5]})
    assert len(ax_s.lines) == 4 and np.allclose(ax_s.lines[1].get_ydata(), [1.0, 0.25, 0.0625])
    plots.variance_scatter(ax_v, torch.tensor([1.0, 2.0, 0.0]), torch.tensor([10.0, 30.0, 5.0]))
    assert ax_v.lines[1].get_xdata()[0] == pytest.approx(1.0) and ax_v.lines[1].get_xdata()[1] == pytest.approx(30.0)


def test_training_curves_and_bound_curve():
    h = History(epoch=[0, 1, 2], train_loss=[3.0, 2.0, 1.0], train_recon=[2.0, 1.5, 0.5], train_kl=[1.0, 0.5, 0.5],
                val_loss=[3.5, 2.5, 2.0], val_recon=[2.5, 2.0, 1.5], val_kl=[1.0, 0.5, 0.5], best_epoch=2)
    axd = plots.training_curves(plots.new_figure(8, 6), h, band=(1, 2))
    assert set(axd) == {"total", "recon", "kl"}
    assert np.allclose(axd["total"].lines[0].get_ydata(), h.train_loss) and len(axd["kl"].patches) == 1
    (ax,) = axes()
    plots.bound_curve(ax, [1, 10], {1: -100.0, 10: -98.0}, elbo=-101.0)
    assert np.allclose(ax.lines[0].get_ydata(), [-100.0, -98.0]) and ax.get_ylim()[0] < -101.0


def test_kl_per_dim_bars_sorts_and_colours_by_activity():
    ax_bar, ax_sc = axes(2)
    plots.kl_per_dim_bars(ax_bar, ax_sc, torch.tensor([0.001, 2.0, 0.5]), torch.tensor([0.001, 1.0, 0.2]))
    heights = [p.get_height() for p in ax_bar.patches]
    assert heights == sorted(heights, reverse=True) and "2 of 3 active" in ax_bar.get_title()
    with pytest.raises(ValueError, match=r"\[J\]"):
        plots.kl_per_dim_bars(ax_bar, ax_sc, torch.ones(3), torch.ones(4))
