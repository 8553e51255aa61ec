"""The harness itself, on a bare PNG-in-Image slider: Lab starts, a key press moves the slider, the page's
pixels are what the kernel rendered, and the timing path works. The course's explorers reuse every step."""

import base64
import json
import sys

import browser_harness as bh
import lab_servers as srv
import numpy as np
import pytest

CHECK = """
import base64, json
print(json.dumps({"z": [float(v) for v in explorer.z], "png": base64.b64encode(explorer.render(explorer.z)).decode(),
                  "held": base64.b64encode(explorer.image.value).decode()}))
"""


@pytest.mark.browser
@pytest.mark.timeout(240)
def test_fixture_slider_in_lab(lab_page, lab):
    page = lab_page
    _, ready_s = bh.open_and_run(page, lab, "fixture/slider.ipynb", bh.BASE_BOX, timeout_ms=240_000)
    run = bh.drive_baseline_slider(page, "harness-lab", moves=20)
    assert not np.array_equal(bh.png_pixels(run["before"]), bh.png_pixels(run["after"])), "image did not change"
    kernel = json.loads(bh.kernel_exec(page, CHECK))
    page_z = [float(t) for t in run["readouts"]]
    assert np.allclose(page_z, kernel["z"], atol=1e-6), (page_z, kernel["z"])
    assert page_z[0] == pytest.approx(2.0), "20 ArrowRight presses at step 0.1 should reach z0 = 2.0"
    rendered = base64.b64decode(kernel["png"])
    assert np.array_equal(bh.png_pixels(run["after"]), bh.png_pixels(rendered)), "page pixels != kernel render"
    assert bh.sha(run["after"]) == bh.sha(base64.b64decode(kernel["held"]))
    bh.save_results("harness-lab", bh.latency_entry("JupyterLab", "baseline: kernel-bound PNG Image slider",
                                                    run["src_ms"], run["load_ms"], ready_s))


@pytest.mark.browser
def test_lab_uses_test_only_settings(lab):
    # overrides.json changes the schema defaults of this server only
    doc = lab.api("/lab/api/settings/@jupyterlab/docmanager-extension:plugin")
    assert doc["schema"]["properties"]["autosave"]["default"] is False, "the test server must not autosave"
    news = lab.api("/lab/api/settings/@jupyterlab/apputils-extension:notification")
    assert news["schema"]["properties"]["fetchNews"]["default"] == "false"
    spec = lab.api("/api/kernelspecs")["kernelspecs"]["python3"]["spec"]
    assert spec["argv"][0] == sys.executable, "the kernel must be the Python running the tests"
    assert str(srv.REPO) not in lab.log().split("Serving notebooks from local directory:")[-1].splitlines()[0]
