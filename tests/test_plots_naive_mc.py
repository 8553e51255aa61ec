"""plots.naive_mc_shortfall (notebook 01 §3): one line per latent dimension, on a linear nats axis."""

from matplotlib.figure import Figure

from vae_teach import plots


def test_naive_mc_shortfall_draws_one_line_per_latent_dimension_on_a_linear_nats_axis():
    fig = plots.naive_mc_shortfall([10, 100, 1000], {1: [0.1, 0.0, 0.0], 20: [25.0, 23.0, 21.0]})
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    assert ax.get_title() and ax.get_xlabel() and "nats" in ax.get_ylabel()
    assert ax.get_xscale() == "log" and ax.get_yscale() == "linear"
    labels = [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert labels == ["J = 1", "J = 20"]
    assert list(ax.get_lines()[1].get_ydata()) == [25.0, 23.0, 21.0]
