"""Every explorer in a real JupyterLab and Chromium: it renders whole, answers mouse drags and arrow keys from its
own ES module, keeps the arrow keys from moving the notebook's cell focus, keeps answering while the kernel is
busy, and shows what Python computes for the same state (pixels within 1e-5 and equal in 8 bits, readouts
within 1e-6 nats). Key press -> new values is timed for benchmarks/browser.py."""

import browser_harness as bh
import numpy as np
import pytest

# name, Python variable in the notebook, control to drive, moves
STANDIN = [("LatentExplorer", "explorer", "input.vae-latent-slider", 0),
           ("PosteriorExplorer", "posterior_explorer", "input.vae-q-mean", 0),
           ("PosteriorExplorer", "linear_explorer", "input.vae-q-mean", 1),
           ("GradientExplorer", "gradient_explorer", "input.vae-grad-mu", 0),
           ("TradeoffExplorer", "tradeoff", "input.vae-beta-slider", 0)]
NOTEBOOKS = [pytest.param("notebooks/08_latent_space.ipynb", "LatentExplorer", "explorer", "input.vae-latent-slider",
                          id="nb08"),
             pytest.param("notebooks/02_p_and_q.ipynb", "PosteriorExplorer", "posterior_explorer",
                          "input.vae-q-mean", id="nb02"),
             pytest.param("notebooks/05_reparameterization.ipynb", "GradientExplorer", "explorer",
                          "input.vae-grad-mu", id="nb05"),
             pytest.param("notebooks/07_kl_vs_reconstruction.ipynb", "TradeoffExplorer", "tradeoff",
                          "input.vae-beta-slider", id="nb07")]

# The kernel's view of an explorer: what Python computes for the state the page synced back.
KERNEL_VALUES = """
def _vae_values(ex):
    name = type(ex).__name__
    if name == "LatentExplorer":
        from vae_teach.explorers import decoded_pixels
        return {"z": list(ex.latent), "pixels": decoded_pixels(ex.model, ex.z).reshape(-1).tolist(),
                "mean": ex.model.decode_mean(ex.z[None])[0].tolist()}
    if name == "PosteriorExplorer":
        mean, log_sigma = ex.state()
        return {"mean": list(mean), "log_sigma": list(log_sigma), **ex.readout()}
    return ex.readout()
"""


def check_against_kernel(page, name, var, values):
    """The page's values equal Python's for the state the page sent to the kernel."""
    bh.kernel_exec(page, KERNEL_VALUES)
    kernel = bh.kernel_json(page, f"_vae_values({var})")
    if name == "LatentExplorer":
        assert np.allclose(values["z"], kernel["z"], atol=1e-9), (values["z"], kernel["z"])
        assert np.abs(np.array(values["mean"]) - np.array(kernel["mean"])).max() < 1e-5
        assert values["pixels"] == kernel["pixels"], "page pixels differ from decode_mean(z) in 8 bits"
    elif name == "PosteriorExplorer":
        assert values["mean"] == pytest.approx(kernel["mean"], abs=1e-9)
        for key in ("log_px", "elbo", "gap"):
            assert values[key] == pytest.approx(kernel[key], abs=1e-6), (key, values[key], kernel[key])
    elif name == "GradientExplorer":
        for key, v in kernel.items():
            assert values[key] == pytest.approx(v, rel=1e-6, abs=1e-9), (key, values[key], v)
    else:
        assert values == pytest.approx(kernel, abs=1e-12)
    return kernel


def drive_and_check(page, name, var, control, nth, shot, where, what, moves=16, ready_s=None):
    """Drag, press keys, compare with the kernel, keep the latency row."""
    keys = ("ArrowLeft", "ArrowRight") if name == "TradeoffExplorer" else ("ArrowRight",)  # a few β only
    moves = moves + 1 if name == "TradeoffExplorer" and moves % 2 == 0 else moves
    run = bh.drive_explorer(page, name, control, moves=moves, keys=keys, drag_to=0.7, shot=shot, nth=nth)
    assert run["dragged"] != run["before"], f"{name}: a mouse drag changed nothing"
    assert run["after"] != run["dragged"], f"{name}: {moves} arrow-key presses changed nothing"
    check_against_kernel(page, name, var, run["after"])
    bh.save_results(shot, bh.latency_entry(where, what, run["ms"], ready_s=ready_s))
    return run


@pytest.mark.browser
@pytest.mark.timeout(420)
def test_every_explorer_in_lab(lab_page, lab):
    page = lab_page
    _, ready_s = bh.open_and_run(page, lab, "fixture/explorers.ipynb", bh.explorer_selector("TradeoffExplorer"))
    for name, var, control, nth in STANDIN:
        bh.wait_widget(page, bh.explorer_selector(name))
        drive_and_check(page, name, var, control, nth, f"lab-{var}", "JupyterLab", f"{name}, stand-in ({var})",
                        moves=30 if var == "explorer" else 20, ready_s=ready_s)
    bh.screenshot(page, "lab-explorers-page")
    assert page.locator(".vae-static").count() == 0, "JupyterLab rendered the static copy instead of the live widget"

    # arrow keys inside an explorer move its slider, not the notebook's cell focus
    root = page.locator(bh.explorer_selector("LatentExplorer")).first
    control = root.locator("input.vae-latent-slider").first
    control.click()
    cell = bh.active_cell(page)
    for key in ("ArrowDown", "ArrowDown", "ArrowUp", "ArrowDown"):
        bh.press_explorer(page, control, key, "LatentExplorer")
    assert bh.active_cell(page) == cell, "arrow keys in the explorer moved JupyterLab's cell focus"

    # the explorer answers while the kernel is busy: every update arrives before the sleeping cell ends
    bh.kernel_start(page, "import time; time.sleep(8)")
    page.wait_for_function("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status"
                           " === 'busy'", timeout=10_000)
    busy_ms = [bh.press_explorer(page, control, "ArrowRight", "LatentExplorer") for _ in range(10)]
    assert bh.kernel_status(page) == "busy", "the kernel finished sleeping before the presses were answered"
    bh.save_results("lab-busy", bh.latency_entry("JupyterLab", "LatentExplorer while the kernel sleeps", busy_ms))
    page.evaluate("() => window.__busy")
    page.wait_for_function("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status"
                           " === 'idle'", timeout=30_000)
    check_against_kernel(page, "LatentExplorer", "explorer", bh.page_values(root))  # the state caught up
    bh.assert_no_widget_errors(page)
    assert ready_s > 0


@pytest.mark.browser
@pytest.mark.timeout(420)
@pytest.mark.parametrize(("path", "name", "var", "control"), NOTEBOOKS)
def test_course_notebook_explorer_in_lab(lab_page, lab, path, name, var, control):
    page = lab_page
    _, ready_s = bh.open_and_run(page, lab, path, bh.explorer_selector(name))
    nb = path.split("/")[-1][:2]
    run = drive_and_check(page, name, var, control, 0, f"lab-nb{nb}", "JupyterLab", f"{name}, notebook {nb}",
                          moves=30, ready_s=ready_s)
    bh.screenshot(page, f"lab-nb{nb}-page")
    assert run["ms"]
    assert ready_s > 0
