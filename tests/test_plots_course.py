"""The figure helpers of notebooks 00–03: each returns a titled, labelled Figure with at most two panels per row."""

import math
from types import SimpleNamespace

import pytest
import torch
from matplotlib.figure import Figure

from vae_teach import plots

G = torch.linspace(-3, 3, 50, dtype=torch.float64)
BELL = torch.exp(-G**2 / 2)


def _fit(steps):
    return SimpleNamespace(steps=steps, seconds=0.5, new_x_seconds=0.001,
                           trace=[(s, 0.01 * s, 1.0 + 1.0 / s) for s in range(1, steps + 1, 10)])


CASES = {
    "sprites_and_causes": lambda: plots.sprites_and_causes(
        torch.rand(4, 784), {"shape": torch.tensor([0, 1, 2, 0]), "scale": torch.full((4,), 0.2),
                             "pos_x": torch.rand(4), "pos_y": torch.rand(4)}, ["square", "ellipse", "triangle"]),
    "mean_and_draws": lambda: plots.mean_and_draws(torch.rand(784), torch.rand(4, 784).round()),
    "ancestral_linear": lambda: plots.ancestral_linear(torch.randn(30, 1), torch.randn(30, 2),
                                                       torch.tensor([[2.0], [1.0]]), torch.zeros(2)),
    "joint_and_evidence": lambda: plots.joint_and_evidence(torch.randn(30, 1), torch.randn(30, 1), G, BELL),
    "curves": lambda: plots.curves(G, {"one": {"a": BELL}, "two": {"b": BELL, "c": 2 * BELL}}, ylim=(0, 3)),
    "posterior_ellipse": lambda: plots.posterior_ellipse(*torch.meshgrid(G, G, indexing="xy"),
                                                         torch.outer(BELL, BELL), torch.outer(BELL, BELL) ** 2,
                                                         torch.zeros(2), "t"),
    "amortisation": lambda: plots.amortisation(_fit(300), _fit(1500), 0.8),
    "elbo_gap_sweep": lambda: plots.elbo_gap_sweep(G, -G**2, 0.5 * G**2, 0.0),
    "bound_against_samples": lambda: plots.bound_against_samples(
        [1, 2, 4], {"q": (torch.tensor([-3.0, -2.5, -2.2]), torch.ones(3), "tab:blue")}, -2.0, "t",
        lines={"log p(x) − log 2": -2.0 - math.log(2)}, ylim=(-5, -1)),
    "two_peaks": lambda: plots.two_peaks(G, {"p": BELL, "q": BELL**2}, G, G**2 + 0.7, math.log(2)),
}


@pytest.mark.parametrize("name", CASES)
def test_figure_has_titles_labels_and_two_panels_at_most(name):
    fig = CASES[name]()
    assert isinstance(fig, Figure)
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert 1 <= len(panels) <= 2, f"{name}: {len(panels)} panels"
    for ax in panels:
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel(), (name, ax.get_title(), ax.get_xlabel())
    assert plots.figure_png(fig)[:8] == b"\x89PNG\r\n\x1a\n"  # it draws


def test_digit_images_use_gray_r():
    fig = plots.mean_and_draws(torch.rand(784), torch.rand(4, 784).round())
    assert {im.get_cmap().name for ax in fig.axes for im in ax.images} == {"gray_r"}
