"""Notebook 08's LatentExplorer in a real JupyterLab and Chromium: run all cells, drag and key-press a latent
slider, check the page's pixels are what the kernel decodes for the new z, and time key press -> new image.

The stand-in (an untrained VAE in a two-cell notebook) runs the same path, so a failure shows
whether the widget or the notebook broke."""

import base64
import json

import browser_harness as bh
import numpy as np
import pytest

NB08 = "notebooks/08_latent_space.ipynb"
CASES = [pytest.param("fixture/latent.ipynb", "latent-standin", id="standin"),
         pytest.param(NB08, "latent-nb08", id="nb08")]


def check_page_matches_kernel(page, run):
    """The page's slider readouts, pixels and PNG bytes are the kernel's z, decode and render."""
    kernel = json.loads(bh.kernel_exec(page, bh.LATENT_KERNEL_CHECK))
    page_z = [float(t) for t in run["readouts"]]
    kernel_z = [kernel["z"][d] for d in kernel["dims"]]
    assert np.allclose(page_z, kernel_z, atol=0.005 + 1e-9), f"page sliders {page_z} != kernel z {kernel_z}"
    after = bh.png_pixels(run["after"])[..., 0]
    decoded = np.asarray(kernel["pixels"], dtype=np.uint8)
    scale = after.shape[0] // decoded.shape[0]
    assert after.shape == (decoded.shape[0] * scale, decoded.shape[1] * scale), (after.shape, decoded.shape)
    assert np.array_equal(after[::scale, ::scale], decoded), "page pixels != kernel's decode_mean(z)"
    assert np.array_equal(bh.png_pixels(run["after"]), bh.png_pixels(base64.b64decode(kernel["png"])))
    assert bh.sha(run["after"]) == kernel["held"], "page image bytes != explorer.image.value"
    return kernel


@pytest.mark.browser
@pytest.mark.timeout(420)
@pytest.mark.parametrize(("path", "name"), CASES)
def test_latent_explorer_in_lab(lab_page, lab, path, name):
    page = lab_page
    _, ready_s = bh.open_and_run(page, lab, path, bh.LATENT_BOX)
    run = bh.drive_latent_slider(page, name, moves=24, drag_to=0.6)
    assert float(run["dragged"][0]) > 0.3, f"a mouse drag to 60% of the track left z at {run['dragged'][0]}"
    assert float(run["readouts"][0]) == pytest.approx(float(run["dragged"][0]) + 0.24, abs=1e-6), \
        "24 ArrowRight presses at step 0.01 should add 0.24"
    assert not np.array_equal(bh.png_pixels(run["before"]), bh.png_pixels(run["after"])), "image did not change"
    check_page_matches_kernel(page, run)
    what = "LatentExplorer, notebook 08" if path == NB08 else "LatentExplorer, untrained stand-in"
    bh.save_results(f"{name}-lab", bh.latency_entry("JupyterLab", what, run["src_ms"], run["load_ms"], ready_s))
