"""plots.code_map (notebook 08 §2 and Going deeper D2): the map, the codes, their ellipses and the grid's area."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from vae_teach import latent, plots  # noqa: E402


def test_code_map_draws_the_map_the_codes_and_says_when_ellipses_are_too_small():
    grid = latent.manifold_grid(3)  # [9, 2]
    mu = torch.randn(20, 2, generator=torch.Generator().manual_seed(0))
    fig, axes = plt.subplots(1, 2)
    plots.code_map(axes, torch.rand(9, 64), grid, torch.arange(9) % 3, mu, torch.full((20, 2), -12.0),
                   torch.arange(20) % 10, "autoencoder")
    assert "too small to see" in axes[1].get_title() and "3×3" in axes[0].get_title()
    assert len(axes[1].collections) >= 1 and len(axes[1].patches) >= 1 + 5  # the codes, the area, 5 ellipses
    fig2, axes2 = plt.subplots(1, 2)
    plots.code_map(axes2, torch.rand(9, 64), grid, None, mu, torch.zeros(20, 2), torch.arange(20) % 10, "VAE")
    assert "too small" not in axes2[1].get_title() and "median σ 1.000" in axes2[1].get_title()
    plt.close("all")


def test_code_map_rejects_codes_that_are_not_2d():
    fig, axes = plt.subplots(1, 2)
    with pytest.raises(ValueError, match="mu and logvar"):
        plots.code_map(axes, torch.rand(9, 64), latent.manifold_grid(3), None, torch.zeros(5, 3), torch.zeros(5, 3),
                       torch.zeros(5), "x")
    plt.close("all")
