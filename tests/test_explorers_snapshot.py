"""Tests for the explorers' static snapshot: the PNG of the current state that pages without scripts show
(``image/png`` in the bundle, ``<img class="vae-static-fallback">`` in the text/html copy).

The browser test tests/browser/test_static_snapshot.py checks that the live view replaces the image, and that
a page with JavaScript off shows it."""

import base64
import html
import io
import re

import numpy as np
import pytest
import torch
from matplotlib.text import Text
from PIL import Image

from vae_teach import explorers as E
from vae_teach import models, plots, toy, train
from vae_teach.explorers import _base

SIZE = (700, 350)  # width, height of every snapshot
W2 = torch.tensor([[1.0, 0.5], [0.3, 1.0], [0.8, -0.6]], dtype=torch.float64)


@pytest.fixture(scope="module")
def vae():
    model = models.VAE(64, 2, hidden=(32,), seed=0).eval()
    with torch.no_grad():  # a sharper decoder than at init, so the decoded image changes visibly with z
        for p in model.decoder.parameters():
            p.mul_(4.0)
    return model


def _runs():
    return [train.BetaRun(b, models.VAE(64, 2, hidden=(16,), seed=i), None, 10.0 / (1 + b), 90.0 + b)
            for i, b in enumerate([0.5, 1.0, 4.0])]


@pytest.fixture(scope="module")
def makers(vae, digits):
    """name -> (build(state) for the two states "a" and "b", the values the caption must show for each)."""
    runs = _runs()

    def latent(s):
        ex = E.LatentExplorer(vae, *digits)
        if s == "b":
            ex.set_latent([1.25, -0.5])
        return ex

    def tradeoff(s):
        ex = E.TradeoffExplorer(runs, x=digits[0][:40], labels=digits[1][:40])
        if s == "b":
            ex.select(4.0)
        return ex

    return {
        "gradient": (lambda s: E.GradientExplorer(f=torch.sin, f_name="sin z", n=500, mu=1.0 if s == "a" else -0.5,
                                                  sigma=0.5 if s == "a" else 1.25),
                     {"a": ["μ = 1.00", "σ = 0.50"], "b": ["μ = -0.50", "σ = 1.25"]}),
        "posterior1d": (lambda s: E.PosteriorExplorer(toy.Nonlinear1D(), 2.0, mean=0.8 if s == "a" else 1.41,
                                                      log_sigma=0.0 if s == "a" else -1.6),
                        {"a": ["q mean = 0.80", "q log σ = 0.00"], "b": ["q mean = 1.41", "q log σ = -1.60"]}),
        "posterior2d": (lambda s: E.PosteriorExplorer(toy.LinearGaussian(W2, torch.zeros(3, dtype=torch.float64), 0.7),
                                                      [1.0, 0.5, -0.3], mean=None if s == "a" else (0.2, 0.4),
                                                      log_sigma=None if s == "a" else (-1.0, -0.5)),
                        {"a": ["q log σ = 0.00, 0.00"], "b": ["q mean = 0.20, 0.40", "q log σ = -1.00, -0.50"]}),
        "latent": (latent, {"a": ["z[0] = 0.00", "z[1] = 0.00"], "b": ["z[0] = 1.25", "z[1] = -0.50"]}),
        "tradeoff": (tradeoff, {"a": ["β = 0.5", "rate 6.67 nats", "distortion 90.50 nats"],
                                "b": ["β = 4", "rate 2.00 nats", "distortion 94.00 nats"]}),
    }


NAMES = ["gradient", "posterior1d", "posterior2d", "latent", "tradeoff"]


def _pixels(png):
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


@pytest.mark.parametrize("name", NAMES)
def test_snapshot_is_a_png_of_the_expected_size_and_small(makers, name):
    png = makers[name][0]("a").snapshot_png()
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG" and img.size == SIZE
    assert len(png) <= 60 * 1024, len(png)
    px = _pixels(png)
    assert (px < 128).any() and (px > 200).mean() > 0.3  # ink on a light page, not a blank or black square


@pytest.mark.parametrize("name", NAMES)
def test_snapshot_is_reproducible_and_follows_the_state(makers, name):
    build, _ = makers[name]
    a1, a2, b = build("a").snapshot_png(), build("a").snapshot_png(), build("b").snapshot_png()
    assert a1 == a2  # same state, same bytes (no randomness, no clock)
    pa, pb = _pixels(a1), _pixels(b)
    assert (pa != pb).any(axis=2).mean() > 0.002  # the picture moves, not only the caption
    caption = slice(SIZE[1] - 22, SIZE[1])
    assert (pa[caption] != pb[caption]).any()  # the caption line is drawn from the state


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("state", ["a", "b"])
def test_caption_writes_the_slider_values(makers, name, state):
    build, want = makers[name]
    ex = build(state)
    caption = ex.snapshot_caption()
    for text in want[state]:
        assert text in caption, (text, caption)
    assert caption.endswith(_base.SNAPSHOT_NOTE)


def _figure_texts(ex):
    fig = plots.new_figure(*_base.SNAPSHOT_INCHES, dpi=_base.SNAPSHOT_DPI)
    ex._snapshot(fig)
    return " | ".join(t.get_text() for t in fig.findobj(Text))


def test_gradient_snapshot_shows_pythons_readout(makers):
    ex = makers["gradient"][0]("b")
    r, texts = ex.readout(), _figure_texts(ex)
    for key in ("reparam_var", "score_var"):
        assert f"{r[key]:.3g}" in texts
    assert f"true d/dμ = {r['true']:.3f}" in texts
    assert f"{r['score_var'] / r['reparam_var']:.3g}" in texts


@pytest.mark.parametrize("name", ["posterior1d", "posterior2d"])
def test_posterior_snapshot_shows_pythons_readout(makers, name):
    ex = makers[name][0]("b")
    r, texts = ex.readout(), _figure_texts(ex)
    for key in ("log_px", "elbo", "gap"):
        assert f"{r[key]:.3f} nats" in texts
    assert f"gap\n{r['gap']:.3f}" in texts and f"{r['elbo']:.2f}" in texts


def test_latent_snapshot_shows_the_decoded_image_at_z(makers, vae):
    ex = makers["latent"][0]("b")
    fig = plots.new_figure(*_base.SNAPSHOT_INCHES, dpi=_base.SNAPSHOT_DPI)
    ex._snapshot(fig)
    image = fig.axes[0].get_images()[0].get_array()
    assert np.array_equal(np.asarray(image), E.decoded_pixels(vae, ex.z))
    point = fig.axes[1].lines[-1].get_xydata()[0]
    assert point.tolist() == [1.25, -0.5]  # the red dot at the current z


def test_tradeoff_snapshot_uses_the_selected_betas_panels(makers):
    ex = makers["tradeoff"][0]("b")
    fig = plots.new_figure(*_base.SNAPSHOT_INCHES, dpi=_base.SNAPSHOT_DPI)
    ex._snapshot(fig)
    shown = [np.asarray(ax.get_images()[0].get_array()) for ax in fig.axes]
    want = [_pixels(ex.panels[4.0][k]) for k in ("recon", "samples", "curve")]
    assert all(np.array_equal(s, w) for s, w in zip(shown, want, strict=True))


@pytest.mark.parametrize("name", NAMES)
def test_bundle_and_html_copy_carry_the_snapshot(makers, name):
    ex = makers[name][0]("a")
    data_, _ = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data_  # JupyterLab still shows the live widget
    png = ex.snapshot_png()
    assert base64.b64decode(data_["image/png"]) == png
    page = data_["text/html"]
    imgs = re.findall(r'<img class="vae-static-fallback"[^>]*>', page)
    assert len(imgs) == 1
    src = re.search(r'src="data:image/png;base64,([^"]+)"', imgs[0]).group(1)
    assert base64.b64decode(src) == png
    alt = html.unescape(re.search(r'alt="([^"]*)"', imgs[0]).group(1))
    assert type(ex).__name__ in alt and ex._snapshot_values() in alt
    # inside the box, before the live view's element; the stand-in removes it once the view has drawn
    box = page.index('class="vae-static"')
    assert box < page.index(imgs[0]) < page.index('class="vae-static-view"')
    assert "img.vae-static-fallback" in _base.STAND_IN_JS


def test_snapshot_leaves_the_state_and_generator_alone(makers):
    ex = makers["latent"][0]("a")
    before = (list(ex.latent), ex._generator.get_state().clone())
    ex.snapshot_png()
    assert list(ex.latent) == before[0] and torch.equal(ex._generator.get_state(), before[1])
