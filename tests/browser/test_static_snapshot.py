"""The explorers' static snapshot in a real browser: a plain page holding each explorer's text/html copy, opened
from file:// with every other request aborted. With JavaScript on, the live view draws and the fallback image is
gone; with JavaScript off, the fallback image shows, at its full size. Screenshots of both pages, and each
explorer's snapshot PNG, go to tests/browser/artifacts/."""

import pytest
import torch
from browser_harness import ARTIFACTS, screenshot

from vae_teach import data, models, toy, train
from vae_teach import explorers as E

NAMES = ["GradientExplorer", "PosteriorExplorer", "PosteriorExplorer", "LatentExplorer", "TradeoffExplorer"]


def _explorers():
    """The fixture notebook's explorers (tests/browser/fixture_notebooks.py), on the same tiny models."""
    x, y = data.load_digits("train")
    model = models.VAE(64, 2, hidden=(64,), seed=0)
    with torch.no_grad():
        for p in model.decoder.parameters():
            p.mul_(4.0)
    W = torch.tensor([[1.0, 0.5], [0.3, 1.0], [0.8, -0.6]], dtype=torch.float64)
    runs = [train.BetaRun(b, models.VAE(64, 2, hidden=(16,), seed=i), None, 10.0 / (1 + b), 90.0 + b)
            for i, b in enumerate([0.5, 1.0, 4.0])]
    return [E.GradientExplorer(f=torch.sin, f_name="sin z", n=2000, mu=1.0, sigma=0.5),
            E.PosteriorExplorer(toy.Nonlinear1D(), x=2.0),
            E.PosteriorExplorer(toy.LinearGaussian(W, torch.zeros(3, dtype=torch.float64), 0.7), x=[1.0, 0.5, -0.3]),
            E.LatentExplorer(model, data=x[:300], labels=y[:300]),
            E.TradeoffExplorer(runs, x=x[:100], labels=y[:100])]


@pytest.fixture(scope="module")
def static_page(browser_home):
    """A plain HTML page with every explorer's text/html copy; each snapshot PNG saved as an artifact."""
    out = browser_home / "snapshot"
    out.mkdir(exist_ok=True)
    explorers = _explorers()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for i, ex in enumerate(explorers):
        (ARTIFACTS / f"snapshot-{i}-{type(ex).__name__}.png").write_bytes(ex.snapshot_png())
    body = "\n".join(f"<h2>{type(ex).__name__}</h2>\n{ex.static_html()}" for ex in explorers)
    page = out / "page.html"
    page.write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>snapshots</title></head>"
                    f"<body>{body}</body></html>")
    return page


def _open(browser, page_file, js: bool):
    """A fresh file:// page (JavaScript on or off), every non-file request aborted; -> (context, page, errors)."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, java_script_enabled=js)
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "blob:", "data:"))
                  else r.abort())
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(page_file.as_uri())
    return context, page, errors


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_live_view_replaces_the_fallback_when_scripts_run(browser, static_page):
    context, page, errors = _open(browser, static_page, js=True)
    try:
        page.wait_for_function("() => [...document.querySelectorAll('[data-explorer]')].every("
                               "b => b.querySelector('.vae-explorer[data-values]'))", timeout=30_000)
        boxes = page.locator("[data-explorer]")
        assert [boxes.nth(i).get_attribute("data-explorer") for i in range(boxes.count())] == NAMES
        assert page.locator("img.vae-static-fallback").count() == 0  # the live view only
        for i in range(boxes.count()):
            live = boxes.nth(i).locator(".vae-explorer")
            size = live.bounding_box()
            assert size["width"] > 300 and size["height"] > 150, (NAMES[i], size)
        assert not errors, errors
        screenshot(page.locator("body"), "snapshot-page-js-on")
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.timeout(120)
def test_fallback_image_shows_when_scripts_do_not_run(browser, static_page):
    context, page, _ = _open(browser, static_page, js=False)
    try:
        page.wait_for_load_state("load")
        imgs = page.locator("[data-explorer] img.vae-static-fallback")
        assert imgs.count() == len(NAMES)
        assert page.locator(".vae-explorer").count() == 0  # nothing live was drawn
        for i in range(imgs.count()):
            img = imgs.nth(i)
            assert img.is_visible()
            natural = img.evaluate("el => [el.complete, el.naturalWidth, el.naturalHeight]")
            assert natural == [True, 700, 350], (NAMES[i], natural)
            box = img.bounding_box()
            assert box["width"] == pytest.approx(700, abs=1) and box["height"] == pytest.approx(350, abs=1)
            alt = img.get_attribute("alt")
            assert NAMES[i] in alt and "static snapshot" in alt
        screenshot(page.locator("body"), "snapshot-page-js-off")
    finally:
        context.close()
