"""Tests for vae_teach.plots: PNG encoding, grids, raster overlays, latent scatter."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from vae_teach import plots


def decode_png(data):
    return np.asarray(Image.open(io.BytesIO(data)))


@pytest.mark.parametrize("shape", [(5, 7), (6, 4, 3), (3, 9, 4)])
def test_png_round_trip(shape):
    img = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    data = plots.png_bytes(img)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert np.array_equal(decode_png(data), img)


@pytest.mark.parametrize("bad", [np.zeros((4, 4)), np.zeros((4, 4, 2), np.uint8), np.zeros(4, np.uint8)])
def test_png_rejects_bad_input(bad):
    with pytest.raises(ValueError, match="uint8"):
        plots.png_bytes(bad)


def test_to_uint8_clips_and_rounds():
    out = plots.to_uint8(torch.tensor([-1.0, 0.0, 0.5, 1.0, 2.0]))
    assert out.dtype == np.uint8
    assert out.tolist() == [0, 0, 128, 255, 255]


def test_upscale_nearest_neighbour():
    img = np.arange(4, dtype=np.uint8).reshape(2, 2)
    big = plots.upscale(img, 3)
    assert big.shape == (6, 6)
    assert (big[:3, :3] == 0).all() and (big[3:, 3:] == 3).all()
    with pytest.raises(ValueError, match="positive integer"):
        plots.upscale(img, 1.5)


def test_image_side_and_grid():
    assert plots.image_side(64) == 8
    with pytest.raises(ValueError, match="perfect square"):
        plots.image_side(63)
    grid = plots.image_grid(torch.rand(10, 16), ncol=4, pad=1, scale=2)
    # 3 rows x 4 cols of 8-pixel cells plus 1-pixel padding
    assert grid.shape == (3 * 9 + 1, 4 * 9 + 1)
    with pytest.raises(ValueError, match=r"\[n, side\*side\]"):
        plots.image_grid(torch.rand(0, 16))


def test_figure_png_is_valid():
    fig = plots.new_figure(2, 1.5)
    fig.add_subplot().plot([0, 1], [0, 1])
    img = decode_png(plots.figure_png(fig))
    assert img.shape == (120, 160, 3)


def test_raster_axes_maps_data_to_pixels_and_draws():
    fig = plots.new_figure(3, 3)
    ax = fig.add_subplot()
    ax.set_xlim(-1, 1)
    ax.set_ylim(-1, 1)
    raster = plots.RasterAxes(plots.figure_rgb(fig), ax)
    h = raster.rgb.shape[0]
    col, row = raster.to_pixels([-1.0, 1.0])  # top-left corner of the axes
    assert col == pytest.approx(ax.bbox.x0, abs=0.5)
    assert row == pytest.approx(h - ax.bbox.y1, abs=0.5)
    img = raster.rgb.copy()
    raster.marker(img, [0.0, 0.0], (255, 0, 0))
    c, r = np.rint(raster.to_pixels([0.0, 0.0])).astype(int)
    assert tuple(img[r, c]) == (255, 0, 0)
    before = img.copy()
    raster.polyline(img, plots.ellipse_points([0.0, 0.0], [0.5, 0.5]), (0, 0, 255))
    assert (np.any(img != before, axis=-1)).sum() > 50
    raster.marker(img, [50.0, 50.0], (0, 255, 0))  # far outside: clipped, nothing drawn, no error
    assert not (img == (0, 255, 0)).all(-1).any()


def test_latent_scatter_with_labels_and_ellipses():
    mu = torch.randn(20, 3)
    ax = plots.latent_scatter(mu, labels=torch.arange(20) % 3, sigma=torch.full((20, 3), 0.1), dims=(0, 2), limit=3)
    assert ax.get_xlabel() == "z[0]" and ax.get_ylabel() == "z[2]"
    assert len(ax.patches) == 40  # 1σ and 2σ per point
    with pytest.raises(ValueError, match="z_dim"):
        plots.latent_scatter(mu, dims=(0, 5))


def test_close_groups_merges_chains_of_near_points_only():
    xy = [(0, 0), (10, 0), (20, 3), (100, 100), (300, 0)]
    assert plots.close_groups(xy, 14) == [[0, 1, 2], [3], [4]]
    assert plots.close_groups(xy, 5) == [[0], [1], [2], [3], [4]]
    with pytest.raises(ValueError, match=r"\[n, 2\]"):
        plots.close_groups(np.zeros((3, 3)), 1.0)


def test_annotate_merged_labels_each_group_once():
    ax = plots.new_figure(4, 3).add_subplot()
    ax.set(xlim=(0, 40), ylim=(90, 110))
    texts = plots.annotate_merged(ax, [37.0, 3.7, 0.07, 0.008, 0.002], [94, 98, 106.7, 107.0, 107.1],
                                  ["0", "1", "4", "8", "16"])
    assert texts == ["β=0", "β=1", "β=4, 8, 16"]
    assert [t.get_text() for t in ax.texts] == texts
