"""plots.mark_grid_cells (notebook 08 §2): the letters sit on the right map cell and the right grid point."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from vae_teach import latent, plots  # noqa: E402


def test_mark_grid_cells_places_each_letter_on_its_cell_and_point():
    grid = latent.manifold_grid(3)  # [9, 2], row by row, top row first
    fig, (map_ax, scatter_ax) = plt.subplots(1, 2)
    texts = plots.mark_grid_cells(map_ax, scatter_ax, grid, {"A": 0, "B": 5})
    a_map, a_scatter, b_map, b_scatter = texts
    assert a_map.get_text() == "A" and a_map.get_position() == pytest.approx((0.1, 2.9))  # top-left cell
    assert b_map.get_position() == pytest.approx((2.1, 1.9))  # row 1, column 2
    assert a_scatter.xy == pytest.approx(grid[0].tolist()) and b_scatter.xy == pytest.approx(grid[5].tolist())
    plt.close(fig)


def test_mark_grid_cells_rejects_a_cell_outside_the_grid():
    fig, (map_ax, scatter_ax) = plt.subplots(1, 2)
    with pytest.raises(ValueError, match="every cell index"):
        plots.mark_grid_cells(map_ax, scatter_ax, torch.zeros(9, 2), {"A": 9})
    plt.close(fig)
