"""Notebook 02's PosteriorExplorer in a real JupyterLab and Chromium: arrow keys on q's mean slider change
the ELBO readout and the panel, and the numbers on the page are the kernel's readout().

The stand-in (the z² toy posterior in a two-cell notebook) runs the same path, so a failure shows
whether the widget or the notebook broke."""

import json

import browser_harness as bh
import pytest

NB02 = "notebooks/02_p_and_q.ipynb"
CASES = [pytest.param("fixture/posterior.ipynb", "posterior-standin", id="standin"),
         pytest.param(NB02, "posterior-nb02", id="nb02")]
MOVES = 24


@pytest.mark.browser
@pytest.mark.timeout(300)
@pytest.mark.parametrize(("path", "name"), CASES)
def test_posterior_explorer_in_lab(lab_page, lab, path, name):
    page = lab_page
    box, ready_s = bh.open_and_run(page, lab, path, bh.POSTERIOR_BOX, timeout_ms=240_000)
    bh.wait_image_loaded(page, bh.POSTERIOR_PANEL)
    bh.wait_settled(page)
    bh.screenshot(box, f"{name}-before")
    before = bh.parse_readout(page.inner_text(bh.POSTERIOR_TEXT))
    mean0 = float(page.inner_text(bh.POSTERIOR_MEAN_READOUT))
    handle = page.locator(bh.POSTERIOR_HANDLE).first
    handle.scroll_into_view_if_needed()
    handle.focus()
    text_ms, panel_ms = [], []
    for _ in range(MOVES):
        t = bh.press_and_wait(page, handle, "ArrowRight", {"text": ("texts", "vae-posterior-readout"),
                                                           "panel": ("loads", "vae-posterior-panel")})
        text_ms.append(t["text"])
        panel_ms.append(t["panel"])
        bh.wait_settled(page, quiet_ms=120)
    bh.wait_settled(page, quiet_ms=400)
    bh.assert_no_widget_errors(page)
    bh.screenshot(box, f"{name}-after")
    bh.screenshot(page, f"{name}-page")

    after = bh.parse_readout(page.inner_text(bh.POSTERIOR_TEXT))
    mean1 = float(page.inner_text(bh.POSTERIOR_MEAN_READOUT))
    assert mean1 == pytest.approx(mean0 + 0.01 * MOVES, abs=1e-6), (mean0, mean1)
    assert after["elbo"] != before["elbo"], f"moving q's mean did not change the ELBO readout: {after}"
    assert after["log_px"] == before["log_px"], "log p(x) does not depend on q"
    assert after["log_px"] == pytest.approx(after["elbo"] + after["gap"], abs=2e-3), after
    kernel = json.loads(bh.kernel_exec(page, bh.POSTERIOR_KERNEL_CHECK))
    assert kernel["mean"][0] == pytest.approx(mean1, abs=1e-9), (kernel["mean"], mean1)
    for key in ("log_px", "elbo", "gap"):
        assert after[key] == pytest.approx(kernel[key], abs=6e-4), f"page {key} {after[key]} != kernel {kernel[key]}"
    what = "PosteriorExplorer, notebook 02" if path == NB02 else "PosteriorExplorer, z² toy stand-in"
    entry = bh.latency_entry("JupyterLab", what, text_ms, panel_ms, ready_s)
    bh.save_results(f"{name}-lab", entry)
