"""Tests for the figure and latent-map helpers of notebooks 07–08 (plots.py and latent.py, '# notebooks 07–08')."""

import math

import numpy as np
import pytest
import torch
from matplotlib.colors import to_rgb
from scipy.spatial.distance import mahalanobis
from scipy.stats import norm

from vae_teach import latent, models, plots


def _axes():
    return plots.new_figure(4, 4).add_subplot()


# ---- plots ----------------------------------------------------------------------------------------------------
def test_show_images_draws_the_image_grid_dark_on_white():
    images = torch.rand(6, 16, generator=torch.Generator().manual_seed(0))
    ax = plots.show_images(_axes(), images, "t", ncol=3, scale=2)
    (shown,) = ax.get_images()
    assert np.array_equal(shown.get_array(), plots.image_grid(images, ncol=3, pad=1, scale=2, pad_value=96))
    assert shown.get_cmap().name == "gray_r" and ax.get_title() == "t"
    assert not ax.get_xticks().size and not ax.get_yticks().size


def test_decoded_map_one_smooth_cell_per_grid_point_with_class_frames():
    n = 3
    z = latent.manifold_grid(n)
    images = torch.rand(n * n, 16, generator=torch.Generator().manual_seed(1))
    classes = np.array([0, 1, 2, 0, 1, 2, 7, 7, 7])
    ax = plots.decoded_map(_axes(), images, z, classes=classes, title="map")
    cells = ax.get_images()
    assert len(cells) == n * n and all(c.get_interpolation() == "bicubic" for c in cells)
    assert all(c.get_cmap().name == "gray_r" for c in cells)
    # cell 0 (top left) is the first image, drawn in the top-left square of the n×n canvas
    assert np.allclose(cells[0].get_array(), images[0].reshape(4, 4).numpy())
    x0, x1, y0, y1 = cells[0].get_extent()
    assert 0 < x0 < x1 < 1 and n - 1 < y0 < y1 < n
    frames = ax.patches
    assert len(frames) == n * n
    for frame, k in zip(frames, classes, strict=True):
        assert np.allclose(frame.get_edgecolor()[:3], plots.label_colours([k])[0])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["0", "1", "2", "7"]
    # tick labels are the grid's z values: z_1 along the top row, z_2 down the first column
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"{float(z[0, 0]):.1f}", f"{float(z[2, 0]):.1f}"]
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"{float(z[0, 1]):.1f}", f"{float(z[6, 1]):.1f}"]


def test_decoded_map_without_classes_has_no_frames_and_rejects_bad_shapes():
    z = latent.manifold_grid(2)
    ax = plots.decoded_map(_axes(), torch.zeros(4, 9), z)
    assert not ax.patches and ax.get_legend() is None
    with pytest.raises(ValueError, match="z_grid"):
        plots.decoded_map(_axes(), torch.zeros(5, 9), latent.manifold_grid(2))
    with pytest.raises(ValueError, match="z_grid"):
        plots.decoded_map(_axes(), torch.zeros(4, 9), torch.zeros(4, 3))


def test_posterior_ellipses_are_nsig_sigma_wide():
    mu = torch.tensor([[0.0, 1.0], [2.0, -1.0]])
    sigma = torch.tensor([[0.5, 0.25], [1.0, 2.0]])
    ax = _axes()
    assert plots.posterior_ellipses(ax, mu, sigma, nsig=2.0, colour="tab:red") == 2
    for patch, m, s in zip(ax.patches, mu, sigma, strict=True):
        assert np.allclose(patch.center, m) and np.allclose([patch.width, patch.height], 4 * s)
        assert np.allclose(patch.get_edgecolor()[:3], to_rgb("tab:red"))
    with pytest.raises(ValueError, match="mu and sigma"):
        plots.posterior_ellipses(ax, mu, sigma[:1])


# ---- latent ---------------------------------------------------------------------------------------------------
def test_grid_steps_against_a_loop():
    n, d = 4, 5
    images = torch.randn(n * n, d, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    want = []
    for r in range(n):
        for c in range(n - 1):
            want.append(float((images[r * n + c + 1] - images[r * n + c]).norm()))
    for r in range(n - 1):
        for c in range(n):
            want.append(float((images[(r + 1) * n + c] - images[r * n + c]).norm()))
    got = latent.grid_steps(images)
    assert got.shape == (2 * n * (n - 1),)
    assert np.allclose(got.numpy(), want)


def test_grid_step_pairs_name_the_cells_grid_steps_compares():
    n = 4
    images = torch.randn(n * n, 5, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    pairs = latent.grid_step_pairs(n)
    assert pairs.shape == (2 * n * (n - 1), 2)
    assert torch.allclose(latent.grid_steps(images), (images[pairs[:, 0]] - images[pairs[:, 1]]).norm(dim=1))
    rows, cols = pairs // n, pairs % n  # every pair is side by side: one step across or one step down
    assert ((rows[:, 1] - rows[:, 0]) + (cols[:, 1] - cols[:, 0]) == 1).all()
    with pytest.raises(ValueError, match="n must be"):
        latent.grid_step_pairs(1)


def test_grid_steps_is_zero_on_a_constant_grid_and_rejects_non_grids():
    assert latent.grid_steps(torch.ones(9, 3)).abs().max() == 0
    for bad in (torch.ones(8, 3), torch.ones(1, 3), torch.ones(9)):
        with pytest.raises(ValueError, match="n×n grid"):
            latent.grid_steps(bad)


@pytest.mark.parametrize("likelihood", ["categorical", "bernoulli", "gaussian"])
def test_decoder_samples_average_to_the_decoded_mean(likelihood):
    model = models.VAE(x_dim=16, z_dim=2, hidden=(8,), likelihood=likelihood, seed=0)
    z = torch.tensor([[0.0, 0.0], [1.5, -1.0]])
    draws = latent.decoder_samples(model, z, 4000, torch.Generator().manual_seed(0))
    assert draws.shape == (4000, 2, 16)
    mean = model.decode(z).mean if likelihood == "gaussian" else model.decode_mean(z)
    assert torch.allclose(draws.mean(0), mean, atol=0.05), (draws.mean(0) - mean).abs().max()
    if likelihood == "categorical":  # grey levels 0..16 scaled to [0, 1]
        assert torch.allclose(draws * 16, (draws * 16).round(), atol=1e-5) and draws.min() >= 0 and draws.max() <= 1
    if likelihood == "bernoulli":
        assert set(draws.unique().tolist()) <= {0.0, 1.0}
    again = latent.decoder_samples(model, z, 4000, torch.Generator().manual_seed(0))
    assert torch.equal(draws, again)


def test_decoder_samples_rejects_bad_arguments():
    model = models.VAE(x_dim=16, z_dim=2, hidden=(8,), likelihood="categorical", seed=0)
    with pytest.raises(ValueError, match="n_samples"):
        latent.decoder_samples(model, torch.zeros(1, 2), 0, torch.Generator())
    with pytest.raises(ValueError, match="generator"):
        latent.decoder_samples(model, torch.zeros(1, 2), 3, None)


def test_code_grid_is_the_manifold_grid_for_standardised_codes_and_stretches_with_them():
    u = np.linspace(0.01, 0.99, 500)
    standard = torch.tensor(np.stack([norm.ppf(u), norm.ppf(u[::-1])], 1), dtype=torch.float32)
    standard = (standard - standard.mean(0)) / standard.std(0)
    assert torch.allclose(latent.code_grid(standard, 5, 0.1), latent.manifold_grid(5, 0.1), atol=1e-5)
    shifted = 3.0 * standard + torch.tensor([1.0, -2.0])
    assert torch.allclose(latent.code_grid(shifted, 5, 0.1),
                          3.0 * latent.manifold_grid(5, 0.1) + torch.tensor([1.0, -2.0]), atol=1e-4)
    with pytest.raises(ValueError, match="mu must be"):
        latent.code_grid(torch.zeros(10, 3), 5)


def test_codes_inside_against_scipy_mahalanobis():
    g = torch.Generator().manual_seed(3)
    mu = torch.randn(40, 2, generator=g, dtype=torch.float64)
    sigma = 0.2 + torch.rand(40, 2, generator=g, dtype=torch.float64)
    got = latent.codes_inside(mu, sigma, nsig=1.5)
    for i in range(40):
        inv = np.diag(1 / sigma[i].numpy() ** 2)
        want = sum(mahalanobis(mu[j], mu[i], inv) < 1.5 for j in range(40) if j != i)
        assert int(got[i]) == want
    far = torch.tensor([[0.0, 0.0], [10.0, 10.0]])
    assert latent.codes_inside(far, torch.full((2, 2), 0.1)).tolist() == [0, 0]
    with pytest.raises(ValueError, match="sigma must be positive"):
        latent.codes_inside(far, torch.zeros(2, 2))


def test_rate_split_adds_up_to_the_closed_form_rate_and_bounds_the_information():
    g = torch.Generator().manual_seed(5)
    mu = torch.randn(200, 3, generator=g, dtype=torch.float64)
    sigma = 0.3 + 0.5 * torch.rand(200, 3, generator=g, dtype=torch.float64)
    rate, info, mismatch = latent.rate_split(mu, sigma, 50, torch.Generator().manual_seed(0), chunk=777)
    closed = float((0.5 * (mu**2 + sigma**2 - 1 - torch.log(sigma**2))).sum(1).mean())  # appendix B
    assert abs(rate - closed) < 0.05 * closed, (rate, closed)
    assert rate == pytest.approx(info + mismatch)
    assert 0 < info <= math.log(200) + 1e-9 and mismatch > -0.05


def test_rate_split_information_is_zero_when_every_code_is_the_same():
    mu, sigma = torch.zeros(50, 2), torch.ones(50, 2)  # q(z|x) = p(z) for every x: no information, no mismatch
    rate, info, mismatch = latent.rate_split(mu, sigma, 20, torch.Generator().manual_seed(1))
    assert abs(rate) < 1e-5 and abs(info) < 1e-5 and abs(mismatch) < 1e-5
    with pytest.raises(ValueError, match="n_samples"):
        latent.rate_split(mu, sigma, 0, torch.Generator())


# notebooks 05–08
def test_grid_lines_draws_one_line_per_grid_value():
    import matplotlib.pyplot as plt

    mu = torch.randn(200, 2, generator=torch.Generator().manual_seed(0))
    grid = latent.code_grid(mu, 4, 0.05)
    fig, ax = plt.subplots()
    lines = plots.grid_lines(ax, grid)
    assert len(lines) == 8
    xs = sorted(line.get_xdata()[0] for line in lines[:4])
    assert np.allclose(xs, sorted(grid[:4, 0].tolist()), atol=1e-5)
    plt.close(fig)
