"""Tests for vae_teach.widgets, driven without a browser: set slider values, read the PNG bytes and readouts."""

import io
import math

import numpy as np
import pytest
import torch
from PIL import Image
from torch import distributions as D

from vae_teach import bounds, data, models, toy, train, widgets


def png_pixels(value):
    return np.asarray(Image.open(io.BytesIO(value)))


@pytest.fixture(scope="module")
def digits():
    x, y = data.load_digits("test")
    return x[:120], y[:120]


@pytest.fixture(scope="module")
def vae3():
    return models.VAE(64, 3, hidden=(32,), seed=0).eval()


# ---- LatentExplorer -------------------------------------------------------------------------------------
def test_slider_change_renders_decode_of_that_z(vae3, digits):
    ex = widgets.LatentExplorer(vae3, *digits)
    before = ex.image.value
    ex.sliders[0].value = 1.25
    ex.sliders[2].value = -0.5
    z = torch.tensor([1.25, 0.0, -0.5])
    assert torch.equal(ex.z, z)
    assert ex.image.value != before
    assert ex.image.value == widgets.render_decoded(vae3, z)
    # and that render is the model's decoded mean, upscaled
    pixels = png_pixels(ex.image.value)
    expected = vae3.decode_mean(z[None]).reshape(8, 8).numpy()
    assert pixels.shape == (256, 256)
    assert np.abs(pixels[::32, ::32] / 255.0 - expected).max() <= 0.5 / 255 + 1e-6


def test_observer_is_idempotent_and_keeps_the_grid(vae3):
    ex = widgets.LatentExplorer(vae3)
    ex.sliders[0].value = 0.5
    changes = []
    ex.image.observe(changes.append, names="value")
    ex.sliders[0].value = 0.5000000000000001  # a browser echo of the same value
    assert changes == []
    assert ex.z[0] == 0.5
    ex.set_latent(torch.tensor([0.123456, 9.0, -0.004]))
    assert [s.value for s in ex.sliders] == [0.12, 3.0, -0.0]  # snapped to the 0.01 grid, clipped at ±limit


def test_map_not_redrawn_for_a_slider_off_the_map_plane(vae3, digits):
    ex = widgets.LatentExplorer(vae3, *digits)
    map_before, img_before = ex.map_image.value, ex.image.value
    ex.sliders[2].value = 1.0  # z[2] is not on the (z[0], z[1]) map
    assert ex.image.value != img_before
    assert ex.map_image.value == map_before
    ex.sliders[0].value = 1.0  # on the plane: the point moves
    assert ex.map_image.value != map_before
    assert len(ex._backgrounds) == 1  # the scatter was rendered once
    ex.map_y.value = 2
    assert set(ex._backgrounds) == {(0, 1), (0, 2)}


def test_encode_moves_sliders_to_mu_and_shows_ellipse(vae3, digits):
    x, y = digits
    ex = widgets.LatentExplorer(vae3, x, y)
    map_before = ex.map_image.value
    ex.encode(7)
    mu = vae3.encode(x[7:8]).mean[0].detach()
    assert np.allclose([s.value for s in ex.sliders], mu.numpy(), atol=widgets.STEP / 2 + 1e-9)
    assert ex.selected == 7
    assert ex.map_image.value != map_before
    ex.index.value = 3
    ex.encode_button.click()
    assert ex.selected == 3
    ex.reset()
    assert ex.selected is None and torch.equal(ex.z, torch.zeros(3))


def test_sample_from_prior_and_reset_buttons(vae3):
    ex = widgets.LatentExplorer(vae3, seed=1)
    ex.sample_button.click()
    z1 = ex.z.clone()
    assert z1.abs().sum() > 0
    ex.sample_button.click()
    assert not torch.equal(ex.z, z1)
    ex.reset_button.click()
    assert torch.equal(ex.z, torch.zeros(3))


def test_large_z_shows_the_eight_most_active_dims(digits):
    model = models.VAE(64, 10, hidden=(32,), seed=0).eval()
    x, y = digits
    ex = widgets.LatentExplorer(model, x, y)
    kl = models.kl_per_dim(model, x)
    assert len(ex.sliders) == 8
    assert set(ex.dims) == set(torch.argsort(kl, descending=True)[:8].tolist())
    hidden = sorted(set(range(10)) - set(ex.dims))
    ex.sliders[0].value = 1.0
    assert (ex.z[hidden] == 0).all()
    assert widgets.LatentExplorer(model, dims=[4, 2]).dims == [4, 2]


def test_renders_without_dropout_and_restores_training_mode():
    model = models.VAE(64, 2, hidden=(32,), dropout=0.5, seed=0).train()
    ex = widgets.LatentExplorer(model)
    ex.sliders[0].value = 1.0
    assert model.training
    assert ex.image.value == widgets.render_decoded(model, ex.z) == widgets.render_decoded(model.eval(), ex.z)


def test_css_classes_for_browser_tests(vae3):
    ex = widgets.LatentExplorer(vae3)
    assert "vae-latent-explorer" in ex.widget._dom_classes
    assert "vae-decoded" in ex.image._dom_classes
    assert all("vae-latent-slider" in s._dom_classes for s in ex.sliders)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"data": torch.zeros(5, 63, dtype=torch.long)}, r"\[n, 64\]"),
        ({"data": torch.zeros(5, 64, dtype=torch.long), "labels": torch.zeros(4)}, r"labels must be \[n\] = \[5\]"),
        ({"dims": [0, 0]}, "distinct latent indices"),
        ({"dims": [3]}, r"0\.\.2"),
        ({"labels": torch.zeros(3)}, "without data"),
    ],
)
def test_latent_explorer_rejects_mismatched_inputs(vae3, kwargs, match):
    with pytest.raises(ValueError, match=match):
        widgets.LatentExplorer(vae3, **kwargs)


def test_set_latent_rejects_wrong_shape(vae3):
    with pytest.raises(ValueError, match=r"\[3\]"):
        widgets.LatentExplorer(vae3).set_latent(torch.zeros(4))


# ---- PosteriorExplorer ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lg2():
    W = torch.tensor([[1.0, 0.5], [0.3, 1.0], [0.8, -0.6]], dtype=torch.float64)
    return toy.LinearGaussian(W, torch.tensor([0.1, 0.0, -0.2], dtype=torch.float64), 0.7)


X2 = torch.tensor([1.0, 0.5, -0.3], dtype=torch.float64)


@pytest.mark.parametrize("mean, log_sigma", [((0.5,), (0.0,)), ((-1.3,), (-1.7,)), ((2.5,), (1.0,))])
def test_readout_identity_1d(mean, log_sigma):
    model = toy.Nonlinear1D()
    r = widgets.PosteriorExplorer(model, 2.0, mean=mean, log_sigma=log_sigma).readout()
    assert abs(r["log_px"] - (r["elbo"] + r["gap"])) < 1e-3
    assert r["log_px"] == pytest.approx(float(model.log_marginal(torch.tensor([2.0]))[0]), abs=1e-9)
    assert r["gap"] > 0


@pytest.mark.parametrize("mean, log_sigma", [(0.5, -0.5), (-1.3, -1.7), (1.0, -0.7)])
def test_gap_1d_matches_an_independent_grid_integral(mean, log_sigma):
    model = toy.Nonlinear1D()
    gap = widgets.PosteriorExplorer(model, 2.0, mean=mean, log_sigma=log_sigma).readout()["gap"]
    # KL(q || p(z|x)) = ∫ q log(q / p(z|x)) dz on a fine grid, p(z|x) from the toy model's own quadrature
    s = math.exp(log_sigma)
    z = torch.linspace(mean - 6 * s, mean + 6 * s, 20001, dtype=torch.float64)
    q = D.Normal(mean, s)
    post = model.posterior_density(torch.tensor([2.0]), z)[0]
    assert (post > 0).all()
    integrand = q.log_prob(z).exp() * (q.log_prob(z) - post.log())
    assert gap == pytest.approx(float(torch.trapezoid(integrand, z)), abs=1e-3)


def test_readout_1d_elbo_matches_monte_carlo():
    model = toy.Nonlinear1D()
    ex = widgets.PosteriorExplorer(model, 2.0, mean=0.8, log_sigma=-0.5)
    q = D.Independent(D.Normal(torch.tensor([[0.8]], dtype=torch.float64),
                               torch.tensor([[math.exp(-0.5)]], dtype=torch.float64)), 1)
    g = torch.Generator().manual_seed(0)
    est = bounds.elbo_samples(torch.tensor([[2.0]]), q, model.prior(), model.likelihood, 20000, True, g)[:, 0]
    se = float(est.std() / math.sqrt(len(est)))
    assert abs(ex.readout()["elbo"] - float(est.mean())) < 4 * se


def test_readout_2d_closed_form(lg2):
    ex = widgets.PosteriorExplorer(lg2, X2, mean=(0.2, -0.4), log_sigma=(-0.3, 0.2))
    r = ex.readout()
    assert abs(r["log_px"] - (r["elbo"] + r["gap"])) < 1e-3
    q = D.MultivariateNormal(torch.tensor([0.2, -0.4], dtype=torch.float64),
                             scale_tril=torch.diag(torch.tensor([-0.3, 0.2], dtype=torch.float64).exp()))
    post = lg2.posterior(X2[None])
    assert r["gap"] == pytest.approx(float(D.kl_divergence(q, post)[0]), abs=1e-9)
    qi = D.Independent(D.Normal(q.loc[None], q.scale_tril.diagonal()[None]), 1)
    est = bounds.elbo_samples(X2[None], qi, lg2.prior(), lg2.likelihood, 20000, True,
                              torch.Generator().manual_seed(0))[:, 0]
    assert abs(r["elbo"] - float(est.mean())) < 4 * float(est.std() / math.sqrt(len(est)))


def test_posterior_sliders_redraw_and_readout_text(lg2):
    ex = widgets.PosteriorExplorer(lg2, X2)
    img, html = ex.image.value, ex.readout_html.value
    ex.mean_sliders[0].value = 0.3
    assert ex.image.value != img and ex.readout_html.value != html
    r = ex.readout()
    assert f"{r['elbo']:.3f}" in ex.readout_html.value and f"{r['gap']:.3f}" in ex.readout_html.value
    assert "vae-posterior-explorer" in ex.widget._dom_classes
    assert "vae-q-mean" in ex.mean_sliders[0]._dom_classes
    assert "vae-posterior-readout" in ex.readout_html._dom_classes
    img = ex.image.value
    ex.mean_sliders[0].value = 0.30000000000000004  # browser echo: no redraw
    assert ex.image.value == img


def test_fit_q_increases_elbo_but_cannot_close_a_bimodal_gap():
    ex = widgets.PosteriorExplorer(toy.Nonlinear1D(), 2.0)
    start = ex.readout()
    trace = ex.fit_q(steps=200, every=50)
    end = ex.readout()
    assert end["elbo"] > start["elbo"] + 1.0
    assert trace[0] == pytest.approx(start["elbo"]) and trace[-1] == pytest.approx(end["elbo"])
    assert end["gap"] > 0.3  # one Gaussian covers one of the two modes: about log 2 nats remain
    assert abs(abs(ex.state()[0][0]) - math.sqrt(2.0)) < 0.2  # q sits on a mode, z = ±√x


def test_fit_q_nearly_closes_the_gap_on_linear_gaussian_2d(lg2):
    ex = widgets.PosteriorExplorer(lg2, X2)
    start = ex.readout()
    ex.fit_button.click()
    end = ex.readout()
    assert end["elbo"] > start["elbo"]
    assert end["gap"] < 0.1  # a diagonal q misses only the posterior correlation


def test_posterior_explorer_rejects_wrong_models(lg2):
    with pytest.raises(ValueError, match="k=2, got k=3"):
        widgets.PosteriorExplorer(toy.LinearGaussian(torch.randn(4, 3), torch.zeros(4), 1.0), torch.zeros(4))
    with pytest.raises(ValueError, match="d=3"):
        widgets.PosteriorExplorer(lg2, torch.zeros(5))
    with pytest.raises(ValueError, match="one number"):
        widgets.PosteriorExplorer(toy.Nonlinear1D(), [1.0, 2.0])
    with pytest.raises(ValueError, match="Nonlinear1D or a 2-D"):
        widgets.PosteriorExplorer(object(), 1.0)


# ---- TradeoffExplorer -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sweep():
    xtr, _ = data.load_digits("train")
    return train.beta_sweep([4.0, 0.5, 1.0], xtr[:200], eval_x=xtr[:100], epochs=1, batch_size=100,
                            make_model=lambda: models.VAE(64, 2, hidden=(16,)), progress=False)


def test_tradeoff_snaps_and_swaps_precomputed_panels(sweep, digits):
    ex = widgets.TradeoffExplorer(sweep, *digits, n_show=4)
    assert ex.betas == [0.5, 1.0, 4.0]
    assert [v for _, v in ex.slider.options] == [0.5, 1.0, 4.0]
    assert ex.select(0.9) == 1.0 and ex.slider.value == 1.0
    assert all(ex.images[k].value == ex.panels[1.0][k] for k in ex.images)
    ex.slider.value = 4.0
    assert ex.images["curve"].value == ex.panels[4.0]["curve"] != ex.panels[1.0]["curve"]
    assert "4" in ex.captions["recon"].value
    assert ex.select(100.0) == 4.0
    png_pixels(ex.images["recon"].value)  # valid PNGs


def test_tradeoff_rejects_bad_results(sweep):
    with pytest.raises(ValueError, match="at least one BetaRun"):
        widgets.TradeoffExplorer([])
    with pytest.raises(ValueError, match="distinct beta"):
        widgets.TradeoffExplorer([sweep[0], sweep[0]])
    with pytest.raises(ValueError, match=r"\[n, 64\]"):
        widgets.TradeoffExplorer(sweep, torch.zeros(3, 10, dtype=torch.long))
    with pytest.raises(ValueError, match="BetaRun"):
        widgets.TradeoffExplorer([object()])


# ---- GradientExplorer -----------------------------------------------------------------------------------
def test_gradient_explorer_histograms_and_readout():
    ex = widgets.GradientExplorer(n=500, mu=1.0, sigma=1.0)
    assert "true d/dμ = 2.000" in ex.readout_html.value  # d/dμ E[z²] = 2μ
    img = ex.image.value
    ex.mu_slider.value = -0.5
    assert ex.image.value != img
    assert "true d/dμ = -1.000" in ex.readout_html.value
    reparam, score = ex.samples(-0.5, 1.0)
    assert reparam.var() < score.var()
    img = ex.image.value
    ex.mu_slider.value = -0.5000000000000001
    assert ex.image.value == img


def test_gradient_explorer_true_gradient_general_f():
    mu, sigma = 0.3, 0.8
    g_mu, g_sigma = widgets.true_gradient(torch.sin, mu, sigma)
    # E[sin z] = sin(mu) exp(-sigma^2 / 2)
    assert g_mu == pytest.approx(math.cos(mu) * math.exp(-sigma**2 / 2), abs=1e-9)
    assert g_sigma == pytest.approx(-sigma * math.sin(mu) * math.exp(-sigma**2 / 2), abs=1e-9)
    with pytest.raises(ValueError, match="callable"):
        widgets.GradientExplorer(f=3)


def test_tradeoff_merges_labels_of_close_points_and_names_the_selected_beta(digits):
    model = models.VAE(64, 2, hidden=(16,), seed=0).eval()
    # notebook 07's collapsed models: β = 4, 8, 16 all sit near rate 0 (a few pixels apart on screen)
    points = {0.0: (37.2, 93.9), 1.0: (3.66, 98.1), 4.0: (0.066, 106.7), 8.0: (0.008, 107.03), 16.0: (0.002, 107.1)}
    runs = [train.BetaRun(b, model, None, r, d) for b, (r, d) in points.items()]
    ex = widgets.TradeoffExplorer(runs, *digits, n_show=2, n_samples=2)
    assert ex.curve_labels == ["β=0", "β=1", "β=4, 8, 16"]
    # the highlight still tells 8 from 16: each β's panel differs (ring and "selected: β=…" legend)
    assert len({ex.panels[b]["curve"] for b in (4.0, 8.0, 16.0)}) == 3


def test_buttons_and_dropdowns_are_wide_enough_for_their_labels(vae3, digits):
    ex = widgets.LatentExplorer(vae3, *digits)
    for b in (ex.sample_button, ex.reset_button, ex.encode_button):
        width = int(b.layout.width.removesuffix("px"))
        assert width >= 8 * len(b.description) + 24 + 30, (b.description, b.layout.width)  # ~7 px/char at 13 px
        assert b.layout.flex == "0 0 auto"  # an HBox never squeezes it back
    assert int(ex.sample_button.layout.width.removesuffix("px")) > 148  # the default that cut "Sample from …"
    for d in (ex.map_x, ex.map_y):
        assert int(d.layout.width.removesuffix("px")) - int(d.style.description_width.removesuffix("px")) >= 100


def test_posterior_readout_is_sent_before_the_panel_image(lg2):
    ex = widgets.PosteriorExplorer(lg2, X2)
    order = []
    ex.readout_html.observe(lambda _: order.append("readout"), names="value")
    ex.image.observe(lambda _: order.append("image"), names="value")
    ex.mean_sliders[0].value = 0.42
    ex.log_sigma_sliders[1].value = -0.2
    assert order == ["readout", "image", "readout", "image"]
    r = ex.readout()
    assert abs(r["log_px"] - (r["elbo"] + r["gap"])) < 1e-9
