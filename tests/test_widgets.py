"""Tests for vae_teach.explorers (and the old vae_teach.widgets names), without a browser: the Python API, the
state the page receives, and the page's own maths run in node against Python's values.

The browser tests in tests/browser drive the same ES modules in JupyterLab, Voila and static pages."""

import base64
import html
import io
import json
import math
import re
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import integrate
from torch import distributions as D

from vae_teach import bounds, data, gradients, models, raster, toy, train, widgets
from vae_teach import explorers as E
from vae_teach.explorers import _base

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed (Debian: apt-get install nodejs)")
MB = 1024 * 1024


def png_pixels(value):
    return np.asarray(Image.open(io.BytesIO(value)))


def run_js(name, names, body):
    """Run `body` (JS printing JSON) in node after the explorer's module, with `names` of its functions in
    scope: -> the parsed JSON."""
    src = _base.module_source(name) + f"\nexport {{{', '.join(names)}}};\n"
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "mod.mjs").write_text(src)
        (Path(tmp) / "main.mjs").write_text(f"import {{{', '.join(names)}}} from './mod.mjs';\n{body}\n")
        out = subprocess.run([NODE, "main.mjs"], cwd=tmp, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def vae3():
    return models.VAE(64, 3, hidden=(32,), seed=0).eval()


# ---- the maths the explorers use (toy.py, gradients.py), against outside oracles ---------------------------
@pytest.mark.parametrize("mean, log_sigma", [(0.6, 0.0), (-1.3, -1.7), (0.0, 1.2)])
def test_exact_terms_1d_against_scipy_quad(mean, log_sigma):
    model, x = toy.Nonlinear1D(), torch.tensor([2.0], dtype=torch.float64)
    log_px, elbo, gap = toy.exact_terms_1d(model, x, mean, log_sigma)
    s = math.exp(log_sigma)

    def integrand(z):
        lq = -0.5 * ((z - mean) / s) ** 2 - log_sigma - 0.5 * math.log(2 * math.pi)
        lj = float(model.log_joint(x, torch.tensor([z], dtype=torch.float64))[0, 0])
        return math.exp(lq) * (lj - lq)

    ref, _ = integrate.quad(integrand, mean - 12 * s, mean + 12 * s, points=[-2**0.5, 2**0.5], limit=400)
    px, _ = integrate.quad(lambda z: math.exp(float(model.log_joint(x, torch.tensor([z]))[0, 0])), -12, 12,
                           points=[-2**0.5, 2**0.5], limit=400)
    assert elbo == pytest.approx(ref, abs=1e-7)
    assert log_px == pytest.approx(math.log(px), abs=1e-8)
    assert gap == pytest.approx(log_px - elbo, abs=1e-9) and gap > 0


def test_gauss_hermite_is_exact_for_polynomials():
    t, w = toy.gauss_hermite(10)
    z = math.sqrt(2.0) * t  # nodes for N(0, 1)
    for power, moment in [(0, 1.0), (2, 1.0), (4, 3.0), (6, 15.0), (3, 0.0)]:
        assert float((w * z**power).sum()) == pytest.approx(moment, abs=1e-12)
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        toy.gauss_hermite(0)


@pytest.fixture(scope="module")
def lg2():
    W = torch.tensor([[1.0, 0.5], [0.3, 1.0], [0.8, -0.6]], dtype=torch.float64)
    return toy.LinearGaussian(W, torch.tensor([0.1, 0.0, -0.2], dtype=torch.float64), 0.7)


X2 = torch.tensor([1.0, 0.5, -0.3], dtype=torch.float64)


def test_linear_expected_log_lik_and_exact_terms_2d_against_torch(lg2):
    mean, log_sigma = torch.tensor([0.2, -0.4], dtype=torch.float64), torch.tensor([-0.3, 0.2], dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    z = mean + log_sigma.exp() * torch.randn(200_000, 2, generator=g, dtype=torch.float64)
    ll = lg2.likelihood(z).log_prob(X2)
    se = float(ll.std() / math.sqrt(len(ll)))
    assert abs(float(toy.linear_expected_log_lik(lg2, X2, mean, log_sigma)) - float(ll.mean())) < 5 * se
    log_px, elbo, gap = toy.exact_terms_2d(lg2, X2[None], mean, log_sigma)
    q = D.MultivariateNormal(mean, scale_tril=torch.diag(log_sigma.exp()))
    assert gap == pytest.approx(float(D.kl_divergence(q, lg2.posterior(X2[None]))[0]), abs=1e-10)
    assert log_px == pytest.approx(float(lg2.marginal().log_prob(X2)), abs=1e-12)
    assert log_px == pytest.approx(elbo + gap, abs=1e-9)  # eq. 1: log p(x) = ELBO + KL(q || p(z|x))


def test_true_gradient_closed_form_and_monte_carlo():
    mu, sigma = 0.3, 0.8
    g_mu, g_sigma = gradients.true_gradient(torch.sin, mu, sigma)
    # E[sin z] = sin(mu) exp(-sigma^2 / 2)
    assert g_mu == pytest.approx(math.cos(mu) * math.exp(-sigma**2 / 2), abs=1e-12)
    assert g_sigma == pytest.approx(-sigma * math.sin(mu) * math.exp(-sigma**2 / 2), abs=1e-12)
    est = gradients.grad_samples(torch.tanh, mu, sigma, 100_000, "reparam", torch.Generator().manual_seed(1))[0]
    se = float(est.std() / math.sqrt(len(est)))
    assert abs(gradients.true_gradient(torch.tanh, mu, sigma)[0] - float(est.mean())) < 5 * se
    assert widgets.true_gradient is gradients.true_gradient  # the old name still works


# ---- LatentExplorer --------------------------------------------------------------------------------------
def test_old_names_still_import():
    from vae_teach import toy_widgets, widget_kit

    assert widgets.LatentExplorer is E.LatentExplorer and toy_widgets.PosteriorExplorer is E.PosteriorExplorer
    assert widgets.GradientExplorer is E.GradientExplorer and widgets.TradeoffExplorer is E.TradeoffExplorer
    assert widget_kit.snap(0.123456) == 0.12 and widgets.exact_terms_1d is toy.exact_terms_1d


def test_set_latent_snaps_shown_dims_and_syncs_both_ways(vae3):
    ex = E.LatentExplorer(vae3)
    assert ex.widget is ex
    ex.set_latent(torch.tensor([0.123456, 9.0, -0.004]))
    assert ex.latent == [0.12, 3.0, 0.0]  # snapped to the 0.01 grid, clipped at ±limit
    assert torch.equal(ex.z, torch.tensor([0.12, 3.0, 0.0]))
    ex.set_state({"latent": [0.5, -0.25, 1.0]})  # what a slider move in the page sends
    assert torch.equal(ex.z, torch.tensor([0.5, -0.25, 1.0]))
    assert np.array_equal(ex.readout()["pixels"], E.decoded_pixels(vae3, ex.z))


@pytest.mark.parametrize("z, match", [([float("nan"), 0, 0], r"z must be 3 finite numbers.*got \[nan, 0\.0, 0\.0\]"),
                                      (torch.zeros(4), r"z must be 3 finite numbers.*got 4"),
                                      ("abc", "z must be 3 finite numbers")])
def test_set_latent_rejects_bad_z_naming_it(vae3, z, match):
    with pytest.raises(ValueError, match=match):
        E.LatentExplorer(vae3).set_latent(z)


def test_set_latent_nan_message_is_not_the_shape(vae3):
    model = models.VAE(64, 2, hidden=(16,), seed=0)
    with pytest.raises(ValueError) as info:
        E.LatentExplorer(model).set_latent([float("nan"), 0])
    assert "got [2]" not in str(info.value) and "nan" in str(info.value)


def test_encode_sample_and_reset(vae3, digits):
    x, y = digits
    ex = E.LatentExplorer(vae3, x, y)
    ex.encode(7)
    mu = vae3.encode(x[7:8]).mean[0].detach()
    assert np.allclose(ex.latent, mu.numpy(), atol=E.STEP / 2 + 1e-7)
    assert ex.selected == 7 and ex.selected_index == 7 and ex.index == 7
    ex.sample_prior()
    assert ex.selected is None and ex.z.abs().sum() > 0
    z1 = ex.z.clone()
    ex.sample_prior()
    assert not torch.equal(ex.z, z1)
    ex.reset()
    assert ex.selected is None and torch.equal(ex.z, torch.zeros(3))
    with pytest.raises(ValueError, match=r"i must be an int in 0\.\.119"):
        ex.encode(120)
    with pytest.raises(ValueError, match="encode needs data"):
        E.LatentExplorer(vae3).encode(0)


def test_large_z_shows_the_eight_most_active_dims(digits):
    model = models.VAE(64, 10, hidden=(32,), seed=0).eval()
    x, y = digits
    ex = E.LatentExplorer(model, x, y)
    kl = models.kl_per_dim(model, x)
    assert set(ex.dims) == set(torch.argsort(kl, descending=True)[:8].tolist())
    assert ex.map_dims == ex.dims[:2]
    assert E.LatentExplorer(model, dims=[4, 2]).dims == [4, 2]
    with pytest.raises(ValueError, match="one of the slider dims"):
        E.LatentExplorer(model, dims=[4, 2]).set_map(4, 7)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"data": torch.zeros(5, 63, dtype=torch.long)}, r"\[n, 64\]"),
        ({"data": torch.zeros(5, 64, dtype=torch.long), "labels": torch.zeros(4)}, r"labels must be \[n\] = \[5\]"),
        ({"data": torch.full((5, 64), float("nan"))}, "data must be finite"),
        ({"dims": [0, 0]}, "distinct latent indices"),
        ({"dims": [3]}, r"0\.\.2"),
        ({"labels": torch.zeros(3)}, "without data"),
        ({"limit": float("nan")}, "limit must be one finite number"),
        ({"limit": -1}, "limit must be a number > 0"),
        ({"seed": "a"}, "seed must be an int"),
    ],
)
def test_latent_explorer_rejects_mismatched_inputs(vae3, kwargs, match):
    with pytest.raises(ValueError, match=match):
        E.LatentExplorer(vae3, **kwargs)


def test_render_decoded_is_bounded_and_matches_decode_mean(vae3):
    z = torch.tensor([1.25, 0.0, -0.5])
    pixels = png_pixels(E.render_decoded(vae3, z))
    assert pixels.shape == (256, 256)
    expected = vae3.decode_mean(z[None]).reshape(8, 8).numpy()
    assert np.abs(pixels[::32, ::32] / 255.0 - expected).max() <= 0.5 / 255 + 1e-6
    for bad in (10**5, 0, 2.5, True):
        with pytest.raises(ValueError, match=r"size must be an int in 1\.\.4096"):
            E.render_decoded(vae3, z, size=bad)
    with pytest.raises(ValueError, match="z must be 3 finite numbers"):
        E.render_decoded(vae3, [float("inf"), 0, 0])


def test_renders_without_dropout_and_restores_training_mode():
    model = models.VAE(64, 2, hidden=(32,), dropout=0.5, seed=0).train()
    ex = E.LatentExplorer(model)
    assert model.training
    assert np.array_equal(ex.readout()["pixels"], E.decoded_pixels(model.eval(), ex.z))


def test_very_wide_q_ships_finite_sizes_and_clips_in_the_raster():
    model = models.VAE(64, 2, hidden=(16,), seed=0)
    with torch.no_grad():  # encoder logvar 40: σ = e^20 ≈ 4.9e8 (issue 14, item 10)
        model.encoder[-1].bias[2:] = 40.0
        model.encoder[-1].weight[2:] = 0.0
    x = data.load_digits("test")[0][:50]
    ex = E.LatentExplorer(model, x)
    ex.encode(3)
    sigma = np.frombuffer(ex.scales, dtype="<f4").reshape(50, 2)
    assert np.allclose(sigma, math.exp(20), rtol=1e-5)
    assert ex.shipped_bytes() < MB  # nothing scales with σ: the page draws the ellipse clipped to the view
    # the numpy rasteriser (kept for figures) clips segments first: a huge ellipse costs what a small one does
    fig = raster.RasterAxes(np.zeros((200, 200, 3), np.uint8), _unit_axes())
    img = fig.rgb.copy()
    fig.polyline(img, raster.ellipse_points([0.0, 0.0], [4.9e8, 4.9e8]), (255, 0, 0))
    fig.polyline(img, raster.ellipse_points([0.0, 0.0], [0.5, 0.3]), (0, 255, 0))
    assert (img == (0, 255, 0)).all(-1).sum() > 50


def _unit_axes():
    from vae_teach import plots

    f = plots.new_figure(2.5, 2.5)
    ax = f.add_subplot()
    ax.set_xlim(-1, 1)
    ax.set_ylim(-1, 1)
    f.canvas.draw()
    return ax


def test_codes_are_smaller_than_encoder_weights_plus_images_for_the_notebook_models():
    for model, n in [(models.VAE(64, 2, hidden=(128,)), 447), (models.VAE(256, 4, hidden=(128,),
                                                                           likelihood="bernoulli"), 500)]:
        codes = n * model.z_dim * 2 * 4
        encoder = sum(p.numel() for p in model.encoder.parameters()) * 4 + n * model.x_dim * 4
        assert codes < encoder


@pytest.mark.parametrize("make, n", [(lambda: models.VAE(64, 2, hidden=(128,), seed=0), 447),
                                     (lambda: models.VAE(256, 4, hidden=(128,), likelihood="bernoulli", seed=0), 500)])
def test_shipped_state_of_the_notebook_models_is_under_1_5_mb(make, n):
    model = make()
    if model.likelihood == "categorical":
        x, y = data.load_digits("test")
    else:
        x, factors = data.make_sprites(n, size=16, seed=0)
        y = factors["shape"]
    ex = E.LatentExplorer(model, x[:n], y[:n])
    assert ex.shipped_bytes() < 1.5 * MB
    assert len(ex._repr_mimebundle_()[0]["text/html"]) < 2.0 * MB  # base64 adds a third


@needs_node
@pytest.mark.parametrize("likelihood, x_dim", [("categorical", 64), ("bernoulli", 256), ("gaussian", 64)])
def test_page_decoder_matches_decode_mean(likelihood, x_dim):
    model = models.VAE(x_dim, 2, hidden=(128,), likelihood=likelihood, seed=0).eval()
    with torch.no_grad():
        for p in model.decoder.parameters():
            p.mul_(3.0)  # bolder pixels: many values far from 0.5, and near the 8-bit boundaries too
    shapes, slope, w = E.latent.mlp_layers(model.decoder)
    z = torch.randn(300, 2, generator=torch.Generator().manual_seed(0)) * 2
    spec = {"w": w.tolist(), "layers": shapes, "slope": slope, "z": z.tolist(), "lik": likelihood,
            "levels": model.levels, "x_dim": x_dim}
    out = run_js("latent", ["forward", "pixelMeans", "toUint8"], f"""
        const s = {json.dumps(spec)}; const w = Float32Array.from(s.w);
        const means = s.z.map(z => Array.from(pixelMeans(forward(w, s.layers, s.slope, z), s.lik, s.levels, s.x_dim)));
        console.log(JSON.stringify({{means, grey: means.map(m => m.map(toUint8))}}));""")
    expected = model.decode_mean(z).numpy()
    assert np.abs(np.array(out["means"]) - expected).max() < 1e-5
    grey, ref = np.array(out["grey"]), raster.to_uint8(expected).astype(int)
    # identical after 8-bit quantisation, except where torch's float32 value sits within 1e-6 of a rounding
    # boundary (k + 0.5) / 255: there float64 (the page) and float32 (torch) may round to neighbours
    off = grey != ref
    boundary = np.abs(expected * 255 + 0.5 - np.round(expected * 255 + 0.5)) < 255e-6
    assert (np.abs(grey - ref) <= 1).all() and (boundary[off]).all(), int(off.sum())
    assert off.mean() < 1e-3


def test_static_copy_is_self_contained_with_expected_values(vae3, digits):
    ex = E.LatentExplorer(vae3, *digits)
    bundle, _ = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # JupyterLab shows the live widget
    page = bundle["text/html"]
    assert 'data-explorer="LatentExplorer"' in page and "http" not in page.replace("http://www.w3.org", "")
    expected = json.loads(html.unescape(re.search(r'data-expected="([^"]*)"', page).group(1)))
    z = expected["values"]["z"]
    assert z[0] == pytest.approx(0.01) and z[1:] == [0.0, 0.0]
    assert expected["values"]["pixels"] == E.decoded_pixels(vae3, z).reshape(-1).tolist()
    spec = json.loads(re.search(r'<script type="application/json">(.*?)</script>', page, re.S).group(1))
    assert set(spec["bytes"]) >= {"decoder", "codes", "scales", "images"}
    assert base64.b64decode(spec["state"]["decoder"]) == ex.decoder and spec["state"]["_static"] is True
    assert "export default" in spec["esm"] and "function snap" in spec["esm"]  # kit.js in front of latent.js


# ---- PosteriorExplorer ----------------------------------------------------------------------------------
@pytest.mark.parametrize("mean, log_sigma", [((0.5,), (0.0,)), ((-1.3,), (-1.7,)), ((2.5,), (1.0,))])
def test_readout_identity_1d(mean, log_sigma):
    model = toy.Nonlinear1D()
    r = E.PosteriorExplorer(model, 2.0, mean=mean, log_sigma=log_sigma).readout()
    assert abs(r["log_px"] - (r["elbo"] + r["gap"])) < 1e-9
    assert r["log_px"] == pytest.approx(float(model.log_marginal(torch.tensor([2.0]))[0]), abs=1e-9)
    assert r["gap"] > 0


def test_readout_1d_elbo_matches_monte_carlo():
    model = toy.Nonlinear1D()
    ex = E.PosteriorExplorer(model, 2.0, mean=0.8, log_sigma=-0.5)
    q = D.Independent(D.Normal(torch.tensor([[0.8]], dtype=torch.float64),
                               torch.tensor([[math.exp(-0.5)]], dtype=torch.float64)), 1)
    est = bounds.elbo_samples(torch.tensor([[2.0]]), q, model.prior(), model.likelihood, 20000, True,
                              torch.Generator().manual_seed(0))[:, 0]
    assert abs(ex.readout()["elbo"] - float(est.mean())) < 5 * float(est.std() / math.sqrt(len(est)))


def test_readout_2d_closed_form(lg2):
    r = E.PosteriorExplorer(lg2, X2, mean=(0.2, -0.4), log_sigma=(-0.3, 0.2)).readout()
    q = D.MultivariateNormal(torch.tensor([0.2, -0.4], dtype=torch.float64),
                             scale_tril=torch.diag(torch.tensor([-0.3, 0.2], dtype=torch.float64).exp()))
    assert r["gap"] == pytest.approx(float(D.kl_divergence(q, lg2.posterior(X2[None]))[0]), abs=1e-9)
    assert abs(r["log_px"] - (r["elbo"] + r["gap"])) < 1e-9


def test_posterior_state_syncs_both_ways(lg2):
    ex = E.PosteriorExplorer(lg2, X2)
    ex.set_q([0.333, -9.0], [0.2, 5.0])
    assert ex.mean == [0.33, ex.window[1][0]] and ex.log_sigma == [0.2, 1.5]  # snapped and clipped
    ex.set_state({"mean": [0.1, 0.2], "log_sigma": [-0.5, -0.6]})  # a slider move in the page
    assert ex.state() == ((0.1, 0.2), (-0.5, -0.6))
    assert ex.readout()["elbo"] == pytest.approx(ex.terms((0.1, 0.2), (-0.5, -0.6))[1])


@needs_node
@pytest.mark.parametrize("case", ["1d", "1d-wide", "1d-narrow", "2d"])
def test_page_readouts_match_python_within_1e_6(lg2, case):
    ex = {"1d": lambda: E.PosteriorExplorer(toy.Nonlinear1D(), 2.0),
          "1d-wide": lambda: E.PosteriorExplorer(toy.Nonlinear1D(), 3.0, mean=-3.0, log_sigma=1.5),
          "1d-narrow": lambda: E.PosteriorExplorer(toy.Nonlinear1D(sigma=0.3), 1.0, mean=1.0, log_sigma=-3.0),
          "2d": lambda: E.PosteriorExplorer(lg2, X2)}[case]()
    qs = [(list(ex.mean), list(ex.log_sigma))] + [([v + 0.37 * i for v in ex.mean], [-2.5 + 0.9 * i] * ex.k)
                                                   for i in range(5)]
    qs = [([min(max(v, w[0]), w[1]) for v, w in zip(m, ex.window, strict=True)], s) for m, s in qs]
    spec = {"k": ex.k, "lj": np.frombuffer(ex.log_joint, "<f8").tolist() if ex.k == 1 else [],
            "grid": ex.grid, "lin": ex.linear, "x": ex.x_value, "lp": ex.log_px_python, "qs": qs}
    out = run_js("posterior", ["terms1d", "terms2d"], f"""
        const s = {json.dumps(spec)};
        const r = s.qs.map(([m, l]) => s.k === 1 ? terms1d(Float64Array.from(s.lj), s.grid[0], s.grid[1], m[0], l[0])
                                                 : terms2d(s.lin, s.x, s.lp, m, l));
        console.log(JSON.stringify(r));""")
    for (m, s), page in zip(qs, out, strict=True):
        log_px, elbo, gap = ex.terms(m, s)
        assert page["log_px"] == pytest.approx(log_px, abs=1e-6)
        assert page["elbo"] == pytest.approx(elbo, abs=1e-6), (m, s)
        assert page["gap"] == pytest.approx(gap, abs=1e-6)


def test_fit_q_increases_elbo_but_cannot_close_a_bimodal_gap():
    ex = E.PosteriorExplorer(toy.Nonlinear1D(), 2.0)
    start = ex.readout()
    trace = ex.fit_q(steps=200, every=50)
    end = ex.readout()
    assert end["elbo"] > start["elbo"] + 1.0
    assert trace[0] == pytest.approx(start["elbo"]) and trace[-1] == pytest.approx(end["elbo"])
    assert end["gap"] > 0.3  # one Gaussian covers one of the two modes: about log 2 nats remain
    assert abs(abs(ex.state()[0][0]) - math.sqrt(2.0)) < 0.2  # q sits on a mode, z = ±√x


def test_fit_q_from_the_page_button_nearly_closes_the_linear_gap(lg2):
    ex = E.PosteriorExplorer(lg2, X2)
    start = ex.readout()
    ex.set_state({"fit_requests": 1})  # the page's "fit q" button
    end = ex.readout()
    assert end["elbo"] > start["elbo"] and end["gap"] < 0.1 and not ex.fitting


def test_fit_q_rejects_bad_settings_and_never_silently_worsens_q():
    ex = E.PosteriorExplorer(toy.Nonlinear1D(), 2.0, mean=1.41, log_sigma=-1.6)
    with pytest.raises(ValueError, match="every must be an int >= 1, got 0"):
        ex.fit_q(every=0)
    for bad in (float("nan"), -1.0, "x"):
        with pytest.raises(ValueError, match="lr must be"):
            ex.fit_q(lr=bad)
    before = ex.readout()["elbo"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ex.fit_q(lr=1e6, steps=40)
    after = ex.readout()["elbo"]
    assert after == pytest.approx(before, abs=1e-12)  # the huge steps made q worse: it was put back
    assert len(caught) == 1 and "lowered the ELBO" in str(caught[0].message) and "lr=1e+06" in ex.message
    ex.fit_q(steps=20)
    assert ex.message == ""  # a good fit clears the page's note


def test_posterior_explorer_rejects_wrong_inputs(lg2):
    with pytest.raises(ValueError, match="k=2, got k=3"):
        E.PosteriorExplorer(toy.LinearGaussian(torch.randn(4, 3), torch.zeros(4), 1.0), torch.zeros(4))
    with pytest.raises(ValueError, match="d=3"):
        E.PosteriorExplorer(lg2, torch.zeros(5))
    with pytest.raises(ValueError, match="one number"):
        E.PosteriorExplorer(toy.Nonlinear1D(), [1.0, 2.0])
    with pytest.raises(ValueError, match="Nonlinear1D or a 2-D"):
        E.PosteriorExplorer(object(), 1.0)
    with pytest.raises(ValueError, match="x must be one finite number, got nan"):
        E.PosteriorExplorer(toy.Nonlinear1D(), float("nan"))
    with pytest.raises(ValueError, match=r"x must be 3 finite numbers, got \[nan, 0\.0, 0\.0\]"):
        E.PosteriorExplorer(lg2, [float("nan"), 0, 0])
    with pytest.raises(ValueError, match=r"mean must be 1 finite numbers, got \[nan\]"):
        E.PosteriorExplorer(toy.Nonlinear1D(), 2.0, mean=float("nan"))
    with pytest.raises(ValueError, match="log_sigma must be 2 finite numbers"):
        E.PosteriorExplorer(lg2, X2).set_q([0, 0], [float("inf"), 0])


# ---- GradientExplorer -----------------------------------------------------------------------------------
def test_gradient_readout_and_sliders():
    ex = E.GradientExplorer(n=500, mu=1.0, sigma=1.0)
    r = ex.readout()
    assert r["true"] == pytest.approx(2.0, abs=1e-12)  # d/dμ E[z²] = 2μ
    assert r["reparam_var"] < r["score_var"]
    ex.set_state({"mu": -0.5})
    assert ex.readout()["true"] == pytest.approx(-1.0, abs=1e-12)
    ex.set_params(7.0, 0.0)
    assert (ex.mu, ex.sigma) == (3.0, 0.1)
    with pytest.raises(ValueError, match="callable"):
        E.GradientExplorer(f=3)
    with pytest.raises(ValueError, match="mu must be one finite number"):
        E.GradientExplorer(mu=float("nan"))
    with pytest.raises(ValueError, match=r"n must be an int in 2\.\.200000"):
        E.GradientExplorer(n=10**9)
    with pytest.raises(ValueError, match="seed must be an int"):
        E.GradientExplorer(seed=float("nan"))
    with pytest.raises(ValueError, match="seed must be an int"):
        E.PosteriorExplorer(toy.Nonlinear1D(), 2.0, seed=float("nan"))


@needs_node
@pytest.mark.parametrize("f, name", [(None, "z²"), (torch.sin, "sin"), (torch.tanh, "tanh")])
def test_page_estimates_match_python(f, name):
    ex = E.GradientExplorer(f=f, n=400)
    points = [(1.0, 1.0), (-2.7, 0.1), (3.0, 3.0), (0.33, 0.57)]
    spec = {"eps": np.frombuffer(ex.eps, "<f8").tolist(), "tab": np.frombuffer(ex.table, "<f8").tolist(),
            "grid": ex.table_grid, "gh": ex.gh, "points": points}
    out = run_js("gradient", ["hermite", "meanVar"], f"""
        const s = {json.dumps(spec)}, M = Math.round(s.grid[2]), t = Float64Array.from(s.tab);
        const f = t.subarray(0, M), f1 = t.subarray(M, 2 * M), f2 = t.subarray(2 * M);
        const r = s.points.map(([mu, sg]) => {{
          const rep = s.eps.map(e => hermite(f1, f2, s.grid[0], s.grid[1], mu + sg * e));
          const sco = s.eps.map(e => hermite(f, f1, s.grid[0], s.grid[1], mu + sg * e) * e / sg);
          let g = 0;
          s.gh[0].forEach((tj, j) => {{ g += s.gh[1][j] * hermite(f1, f2, s.grid[0], s.grid[1], mu + sg * tj); }});
          return {{true: g, rep: meanVar(rep), sco: meanVar(sco)}}; }});
        console.log(JSON.stringify(r));""")
    for (mu, sigma), page in zip(points, out, strict=True):
        r = ex.readout(mu, sigma)
        assert page["true"] == pytest.approx(r["true"], abs=1e-7)
        assert page["rep"] == pytest.approx([r["reparam_mean"], r["reparam_var"]], rel=1e-7, abs=1e-8)
        assert page["sco"] == pytest.approx([r["score_mean"], r["score_var"]], rel=1e-7, abs=1e-8)


# ---- TradeoffExplorer -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sweep():
    xtr, _ = data.load_digits("train")
    return train.beta_sweep([4.0, 0.5, 1.0], xtr[:200], eval_x=xtr[:100], epochs=1, batch_size=100,
                            make_model=lambda: models.VAE(64, 2, hidden=(16,)), progress=False)


def test_tradeoff_ships_each_beta_panels_once(sweep, digits):
    ex = E.TradeoffExplorer(sweep, *digits, n_show=4)
    assert ex.betas == [0.5, 1.0, 4.0] and ex.beta == 0.5
    assert ex.select(0.9) == 1.0 and ex.beta == 1.0
    assert ex.readout() == {"beta": 1.0, "rate": ex.rates[1], "distortion": ex.distortions[1]}
    assert ex.select(100.0) == 4.0
    for i, b in enumerate(ex.betas):
        for p, name in enumerate(E.tradeoff.PANELS):
            start, length = ex.offsets[i][p]
            assert ex.blob[start:start + length] == ex.panels[b][name]
            png_pixels(ex.panels[b][name])  # valid PNGs
    ex.set_state({"beta": 1.0})
    assert ex.readout()["beta"] == 1.0
    assert ex.shipped_bytes() < 1.5 * MB


def test_tradeoff_rejects_bad_results(sweep):
    with pytest.raises(ValueError, match="at least one BetaRun"):
        E.TradeoffExplorer([])
    with pytest.raises(ValueError, match="distinct beta"):
        E.TradeoffExplorer([sweep[0], sweep[0]])
    with pytest.raises(ValueError, match=r"\[n, 64\]"):
        E.TradeoffExplorer(sweep, torch.zeros(3, 10, dtype=torch.long))
    with pytest.raises(ValueError, match="BetaRun"):
        E.TradeoffExplorer([object()])
    with pytest.raises(ValueError, match="beta must be one finite number"):
        E.TradeoffExplorer(sweep, *data.load_digits("test")).select(float("nan"))


def test_tradeoff_merges_labels_of_close_points_and_names_the_selected_beta(digits):
    model = models.VAE(64, 2, hidden=(16,), seed=0).eval()
    points = {0.0: (37.2, 93.9), 1.0: (3.66, 98.1), 4.0: (0.066, 106.7), 8.0: (0.008, 107.03), 16.0: (0.002, 107.1)}
    runs = [train.BetaRun(b, model, None, r, d) for b, (r, d) in points.items()]
    ex = E.TradeoffExplorer(runs, *digits, n_show=2, n_samples=2)
    assert ex.curve_labels == ["β=0", "β=1", "β=4, 8, 16"]
    assert len({ex.panels[b]["curve"] for b in (4.0, 8.0, 16.0)}) == 3
