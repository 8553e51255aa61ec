"""The explorers as a standalone Voila app (apps/explore.ipynb) in a real Chromium: the page renders the
LatentExplorer, a mouse drag and key presses on a slider change the decoded image, and the latency is timed.
Voila starts a ~350 MB kernel per page load, so each test starts its own server and stops it by pid."""

import time

import browser_harness as bh
import lab_servers as srv
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
def test_explorers_in_voila(page, voila_app):
    t0 = time.monotonic()
    page.goto(voila_app.base + "/", wait_until="commit")
    bh.wait_widget(page, bh.explorer_selector("LatentExplorer"), timeout_ms=180_000)
    ready_s = time.monotonic() - t0
    run = bh.drive_explorer(page, "LatentExplorer", "input.vae-latent-slider", moves=24, drag_to=0.7,
                            shot="voila-latent")
    assert run["dragged"]["z"][0] > 0.3, f"a mouse drag to 70% of the track left z at {run['dragged']['z']}"
    assert run["after"]["z"][0] == pytest.approx(run["dragged"]["z"][0] + 0.24, abs=1e-9), \
        "24 ArrowRight presses at step 0.01 should add 0.24"
    assert run["after"]["pixels"] != run["before"]["pixels"], "the decoded image did not change"
    text = page.inner_text("body")
    assert "Traceback" not in text and "Error" not in text, bh.around(text, "Error")
    bh.save_results("latent-voila", bh.latency_entry("Voila", "LatentExplorer, apps/explore.ipynb", run["ms"],
                                                     ready_s=ready_s))

    # the PosteriorExplorer on the same page: q's mean slider moves the ELBO readout, log p(x) stays
    run = bh.drive_explorer(page, "PosteriorExplorer", "input.vae-q-mean", moves=20, drag_to=0.6,
                            shot="voila-posterior")
    before, after = run["dragged"], run["after"]
    assert after["elbo"] != before["elbo"] and after["log_px"] == before["log_px"], (before, after)
    assert after["log_px"] == pytest.approx(after["elbo"] + after["gap"], abs=1e-9), after
    bh.save_results("posterior-voila", bh.latency_entry("Voila", "PosteriorExplorer, apps/explore.ipynb", run["ms"],
                                                        ready_s=ready_s))
