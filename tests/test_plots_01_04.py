"""The figure helpers added for notebooks 01–04: what they draw says what the data say."""

import torch
from matplotlib.figure import Figure

from vae_teach import plots

G = torch.linspace(-3, 3, 50, dtype=torch.float64)
BELL = torch.exp(-G**2 / 2)


def test_theta_changes_labels_each_curve_moves_or_unchanged():
    base = (BELL, 0.5 * BELL, 2 * BELL)
    changed = {"only a moves": (BELL**2, 0.5 * BELL, 2 * BELL**2), "only b moves": (BELL, BELL, 3 * BELL)}
    fig = plots.theta_changes(G, base, changed, ["prior", "likelihood", "posterior"])
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    legends = [[t.get_text() for t in ax.get_legend().get_texts()] for ax in fig.axes]
    assert legends[0][:3] == ["prior: moves", "likelihood: unchanged", "posterior: moves"]
    assert legends[1][:3] == ["prior: unchanged", "likelihood: moves", "posterior: moves"]
    for ax in fig.axes:
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    assert plots.figure_png(fig)[:8] == b"\x89PNG\r\n\x1a\n"


def test_bound_against_samples_marks_the_exact_elbo_at_the_first_s():
    panels = {"q": (torch.tensor([-3.0, -2.5, -2.2]), torch.ones(3), "tab:blue")}
    fig = plots.bound_against_samples([1, 2, 4], panels, -2.0, "t", elbo={"q": -3.1})
    stars = [line for line in fig.axes[0].lines if line.get_marker() == "*"]
    assert len(stars) == 1 and list(stars[0].get_xdata()) == [1] and list(stars[0].get_ydata()) == [-3.1]
    assert "exact ELBO (star)" in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def test_log_estimate_histogram_marks_the_exact_value_and_the_median():
    runs = torch.tensor([-5.0, -4.0, -3.5, -3.0, -1.0], dtype=torch.float64)
    fig = plots.log_estimate_histogram(runs, -2.0, "t", bins=5)
    ax = fig.axes[0]
    vertical = sorted(line.get_xdata()[0] for line in ax.lines)
    assert vertical == [-3.5, -2.0]  # the median (numpy's, as the notebook prints) and the exact log p(x)
    assert sum(p.get_height() for p in ax.patches) == len(runs)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["log p̂(x), one per run (5 runs)", "exact log p(x)", "median of the runs"]
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


def test_terms_against_sigma_marks_the_minimum_of_the_sum():
    sigmas = torch.linspace(0.01, 2.0, 200, dtype=torch.float64)
    recon, kl = 2 + sigmas**2, 0.5 * (sigmas**2 - 1 - torch.log(sigmas**2))  # d/dσ of the sum: 3σ − 1/σ = 0 at σ = 1/√3
    fig = plots.terms_against_sigma(sigmas, recon, kl)
    stars = [line for line in fig.axes[0].lines if line.get_marker() == "*"]
    assert len(stars) == 1 and abs(stars[0].get_xdata()[0] - 3**-0.5) < 0.011
    assert "smallest loss, at σ = 0.58" in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
