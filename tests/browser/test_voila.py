"""The explorers as a standalone Voila app (apps/explore.ipynb) in a real Chromium: the page renders the
LatentExplorer, a mouse drag and key presses on a slider change the decoded image, and the latency is timed.
Voila starts a ~350 MB kernel per page load, so each test starts its own server and stops it by pid."""

import time

import browser_harness as bh
import lab_servers as srv
import numpy as np
import pytest

APP = "apps/explore.ipynb"


@pytest.fixture
def voila_app(browser_home):
    """Voila serving a temp copy of apps/ (so nothing is written into the repository)."""
    assert (srv.REPO / APP).exists(), f"{APP} is missing: `make app` and the README serve it"
    root = browser_home / "voila-root"
    if not root.exists():
        srv.copy_tree(srv.REPO / "apps", root / "apps")
        srv.copy_tree(srv.REPO / "notebooks", root / "notebooks")
    server = srv.start_voila(root / APP, browser_home / "voila-home")
    yield server
    server.stop()


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_latent_explorer_in_voila(page, voila_app):
    t0 = time.monotonic()
    page.goto(voila_app.base + "/", wait_until="commit")
    bh.wait_widget(page, bh.LATENT_BOX, timeout_ms=180_000)
    ready_s = time.monotonic() - t0
    run = bh.drive_latent_slider(page, "voila-latent", moves=24, drag_to=0.6)
    assert float(run["dragged"][0]) > 0.3, f"a mouse drag to 60% of the track left z at {run['dragged'][0]}"
    assert float(run["readouts"][0]) == pytest.approx(float(run["dragged"][0]) + 0.24, abs=1e-6)
    assert not np.array_equal(bh.png_pixels(run["before"]), bh.png_pixels(run["after"])), "image did not change"
    text = page.inner_text("body")
    assert "Traceback" not in text and "Error" not in text, bh.around(text, "Error")
    bh.save_results("latent-voila", bh.latency_entry("Voila", "LatentExplorer, apps/explore.ipynb",
                                                     run["src_ms"], run["load_ms"], ready_s))

    # the PosteriorExplorer on the same page: q's mean slider moves the ELBO readout
    box = bh.wait_widget(page, bh.POSTERIOR_BOX)
    bh.wait_image_loaded(page, bh.POSTERIOR_PANEL)
    before = bh.parse_readout(page.inner_text(bh.POSTERIOR_TEXT))
    handle = page.locator(bh.POSTERIOR_HANDLE).first
    handle.focus()
    text_ms = []
    for _ in range(20):
        text_ms.append(bh.press_and_wait(page, handle, "ArrowRight", {"t": ("texts", "vae-posterior-readout")})["t"])
        bh.wait_settled(page, quiet_ms=120)
    bh.wait_settled(page, quiet_ms=400)
    after = bh.parse_readout(page.inner_text(bh.POSTERIOR_TEXT))
    assert after["elbo"] != before["elbo"] and after["log_px"] == before["log_px"], (before, after)
    assert after["log_px"] == pytest.approx(after["elbo"] + after["gap"], abs=2e-3), after
    bh.screenshot(box, "voila-posterior-after")
    bh.save_results("posterior-voila", bh.latency_entry("Voila", "PosteriorExplorer, apps/explore.ipynb", text_ms,
                                                        ready_s=ready_s))
