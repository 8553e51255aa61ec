"""Fixtures for the real-client tests: a JupyterLab server, Chromium through Playwright, and the skip rule.

Without Chromium these tests skip, unless VAE_TEACH_REQUIRE_BROWSER=1 (set by CI), which makes a missing
browser a failure.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import browser_harness as bh
import fixture_notebooks as fx
import lab_servers as srv
import pytest

HERE = Path(__file__).resolve().parent


def _missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not os.access(srv.CHROMIUM, os.X_OK):
        return f"Chromium not found at {srv.CHROMIUM} (Debian: apt-get install chromium chromium-driver)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (pip install -r requirements.txt)"
    return None


def pytest_collection_modifyitems(config, items):
    """Every test in tests/browser is a browser test."""
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can tell whether the test failed."""
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)
    return rep


@pytest.fixture(scope="session", autouse=True)
def _need_browser():
    """Skip (or, with VAE_TEACH_REQUIRE_BROWSER=1, fail) when Chromium or Playwright is missing."""
    why = _missing()
    if why:
        if os.environ.get("VAE_TEACH_REQUIRE_BROWSER") == "1":
            pytest.fail(f"VAE_TEACH_REQUIRE_BROWSER=1 but {why}")
        pytest.skip(f"browser test skipped: {why}; set VAE_TEACH_REQUIRE_BROWSER=1 to make this a failure")


@pytest.fixture(scope="session")
def browser_home():
    """A temp folder holding the servers' config, data, runtime dirs, logs and the copies they serve."""
    home = Path(tempfile.mkdtemp(prefix="vae-teach-browser-"))
    yield home
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def lab(browser_home):
    """JupyterLab serving a temp copy of notebooks/ plus the harness fixture notebook; stopped at the end."""
    root = browser_home / "root"
    root.mkdir()
    srv.copy_tree(srv.REPO / "notebooks", root / "notebooks")
    fx.write_fixture_notebook(root / "fixture" / "slider.ipynb")
    fx.write_notebook(root / "fixture" / "explorers.ipynb", fx.EXPLORERS_FIXTURE_CELLS,
                      "Stand-in: every explorer on tiny models")
    server = srv.start_lab(root, browser_home / "lab-home")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser(browser_home):
    """Debian's Chromium, headless, launched through Playwright (never `playwright install`)."""
    from playwright.sync_api import sync_playwright

    env = srv.browser_env(browser_home / "chromium-home")
    with sync_playwright() as p:
        b = p.chromium.launch(env=env, **srv.chromium_launch_kwargs())
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    """A fresh page with the key/image/text observer installed before any page script runs; on a failure
    its screenshot goes to tests/browser/artifacts/FAILED-<test>.png."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.add_init_script(bh.OBSERVER_JS)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        try:
            bh.screenshot(pg, "FAILED-" + request.node.name.replace("/", "_"))
        except Exception as e:  # a crashed page must not hide the test's own error
            print(f"could not save a failure screenshot: {e}")
    context.close()


@pytest.fixture
def lab_page(page, lab):
    """A page on the Lab server; the kernels it started are shut down afterwards."""
    yield page
    lab.shutdown_kernels()
