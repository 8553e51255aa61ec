"""Start JupyterLab or Voila in an isolated temp home, drive them with Chromium, and time the widgets.

Used by the browser tests only. Nothing here touches the repository: the servers serve a temp copy of
the notebooks, read their settings from the temp home, and are stopped by their own process id.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# Debian's Chromium; VAE_TEACH_CHROMIUM points elsewhere (e.g. to check the skip rule with a missing path)
CHROMIUM = os.environ.get("VAE_TEACH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

# Lab settings for the test server only: no autosave into the notebook under test, no news toast.
OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
}

# Runs in every page before its own scripts (before <body> exists, so it observes `document`): records
# key presses, <img> src changes and loads, and text changes, each stamped with performance.now().
OBSERVER_JS = """
(() => {
  const log = {keys: [], imgs: [], loads: [], texts: []};
  window.__vae = log;
  const cls = el => (el && el.closest) ? [...new Set(['vae-decoded', 'vae-posterior-explorer', 'vae-latent-explorer',
      'vae-posterior-readout', 'vae-posterior-panel'].filter(c => el.closest('.' + c)))] : [];
  document.addEventListener('keydown', e => log.keys.push({t: performance.now(), key: e.key}), true);
  document.addEventListener('load', e => {
    if (e.target && e.target.tagName === 'IMG') log.loads.push({t: performance.now(), src: e.target.src,
                                                               cls: cls(e.target)});
  }, true);
  new MutationObserver(records => {
    const t = performance.now();
    for (const r of records) {
      if (r.type === 'attributes' && r.target.tagName === 'IMG') {
        log.imgs.push({t, src: r.target.src, cls: cls(r.target)});
      } else if (r.type === 'childList' || r.type === 'characterData') {
        const el = r.type === 'characterData' ? r.target.parentElement : r.target;
        const c = cls(el);
        if (c.includes('vae-posterior-readout')) log.texts.push({t, cls: c});
      }
    }
  }).observe(document, {subtree: true, attributes: true, attributeFilter: ['src'], childList: true,
                        characterData: true});
})();
"""

WIDGET_ERRORS = ("Error displaying widget", "Error rendering output item")


def chromium_launch_kwargs() -> dict:
    """Keyword arguments for playwright's chromium.launch: Debian's Chromium, headless, quiet."""
    return {"executable_path": CHROMIUM, "headless": True, "args": CHROMIUM_ARGS}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def isolated_env(home: Path) -> dict:
    """The environment for a test server: Jupyter, IPython, matplotlib and the browser kept out of $HOME."""
    env = dict(os.environ)
    for var, sub in [("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                     ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython"), ("MPLCONFIGDIR", "mpl")]:
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(home / sub)
    env.pop("JUPYTER_PATH", None)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["JUPYTER_PREFER_ENV_PATH"] = "0"  # in a venv the env's share/ would otherwise shadow our kernelspec
    # the kernel must be the Python running the tests, with every pinned package
    spec_dir = home / "data" / "kernels" / "python3"
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (ipykernel)", "language": "python"}
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
    return env


def browser_env(home: Path) -> dict:
    """Environment for Chromium: its profile, caches and temp files in the temp home."""
    env = isolated_env(home)
    for var, sub in [("XDG_CONFIG_HOME", "xdg-config"), ("XDG_CACHE_HOME", "xdg-cache"), ("TMPDIR", "tmp")]:
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(home / sub)
    return env


def copy_tree(src: Path, dst: Path) -> Path:
    """Copy a folder of notebooks (no checkpoints) so a server never writes into the repository."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return dst


def _get(url: str, timeout: float = 2.0) -> int:
    """HTTP status of a GET (0 when nothing answers)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (urllib.error.URLError, OSError):
        return 0


def _request(method: str, url: str) -> bytes:
    """Send one HTTP request and return the body ('' on error)."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=10) as r:
            return r.read()
    except (urllib.error.URLError, OSError):
        return b""


@dataclass
class Server:
    """A Jupyter or Voila server we started: its process, address, token and log."""

    proc: subprocess.Popen
    port: int
    token: str
    log_path: Path
    kind: str
    started_s: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def api(self, path: str, method: str = "GET"):
        """Call the server's REST API with our token; parsed JSON (None when empty)."""
        body = _request(method, f"{self.base}{path}?token={self.token}")
        return json.loads(body) if body.strip() else None

    def shutdown_kernels(self) -> None:
        """Shut down every session and kernel through the REST API (Lab only)."""
        if self.kind != "lab" or self.proc.poll() is not None:
            return
        for sess in self.api("/api/sessions") or []:
            self.api(f"/api/sessions/{sess['id']}", "DELETE")
        for k in self.api("/api/kernels") or []:
            self.api(f"/api/kernels/{k['id']}", "DELETE")

    def stop(self) -> None:
        """Shut kernels down, then stop the server by its own pid (SIGTERM, then SIGKILL after 15 s)."""
        try:
            self.shutdown_kernels()
        finally:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(15)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(5)


def _wait_up(server: Server, url: str, timeout: float) -> None:
    """Block until `url` answers 200, or raise with the server's log."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.kind} exited with {server.proc.returncode}:\n{server.log()[-3000:]}")
        if _get(url) == 200:
            server.started_s = time.monotonic() - t0
            return
        time.sleep(0.25)
    server.stop()
    raise RuntimeError(f"{server.kind} did not answer {url} within {timeout:.0f} s:\n{server.log()[-3000:]}")


def start_lab(root: Path, home: Path, timeout: float = 90.0) -> Server:
    """Start JupyterLab on 127.0.0.1 (free port, random token) serving `root`, with the test-only settings."""
    env = isolated_env(home)
    settings = home / "lab-settings"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "overrides.json").write_text(json.dumps(OVERRIDES, indent=1))
    port, token = free_port(), secrets.token_hex(16)
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
           "--LabApp.expose_app_in_browser=True", f"--LabApp.app_settings_dir={settings}",
           "--ServerApp.terminals_enabled=False",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log_path = home / f"lab-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    server = Server(proc, port, token, log_path, "lab")
    _wait_up(server, f"{server.base}/api/status?token={token}", timeout)
    return server


def start_voila(notebook: Path, home: Path, timeout: float = 60.0) -> Server:
    """Start Voila on 127.0.0.1 serving one notebook. Every page load starts a kernel: stop it soon."""
    env = isolated_env(home)
    port = free_port()
    cmd = [sys.executable, "-m", "voila", str(notebook), f"--port={port}", "--no-browser",
           "--Voila.ip=127.0.0.1"]
    log_path = home / f"voila-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=notebook.parent, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    server = Server(proc, port, "", log_path, "voila")
    # wait for the port only: any page request ("/" or a health check) would start a ~350 MB kernel
    _wait_port(server, timeout)
    return server


def _wait_port(server: Server, timeout: float) -> None:
    """Block until the server's port accepts connections (no HTTP request, so no kernel is started)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.kind} exited with {server.proc.returncode}:\n{server.log()[-3000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", server.port)) == 0:
                server.started_s = time.monotonic() - t0
                return
        time.sleep(0.25)
    server.stop()
    raise RuntimeError(f"{server.kind} did not listen within {timeout:.0f} s:\n{server.log()[-3000:]}")


# ----------------------------------------------------------------------------------------------- pages
def assert_no_widget_errors(page) -> None:
    """Fail if the page shows a widget error."""
    text = page.inner_text("body")
    for bad in WIDGET_ERRORS:
        assert bad not in text, f"page shows {bad!r}:\n{_around(text, bad)}"


def _around(text: str, needle: str, width: int = 400) -> str:
    i = text.find(needle)
    return text[max(0, i - width): i + width]


def open_lab_notebook(page, server: Server, rel_path: str, timeout_ms: int = 90_000) -> None:
    """Open a notebook in Lab (?reset so no old tabs come back) and wait for an idle kernel."""
    page.goto(f"{server.base}/lab/tree/{rel_path}?reset&token={server.token}")
    page.wait_for_function(
        """() => { const a = window.jupyterapp; const w = a && a.shell.currentWidget;
                   const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
                   return !!(k && k.status === 'idle' && w.content && w.content.widgets.length > 0); }""",
        timeout=timeout_ms, polling=250)


def run_all_cells(page, timeout_ms: int = 240_000) -> None:
    """Run every cell through jupyterapp.commands and wait until all have finished without an error."""
    page.evaluate("""() => { window.__runAll = undefined;
        window.jupyterapp.commands.execute('notebook:run-all-cells')
          .then(r => { window.__runAll = {ok: r !== false}; }, e => { window.__runAll = {ok: false, err: String(e)}; });
      }""")
    page.wait_for_function("() => window.__runAll !== undefined", timeout=timeout_ms, polling=500)
    result = page.evaluate("() => window.__runAll")
    if not result.get("ok"):
        errors = page.evaluate("""() => {
            const cells = window.jupyterapp.shell.currentWidget.content.model.cells, out = [];
            for (let i = 0; i < cells.length; i++) {
              const c = cells.get(i);
              if (c.type !== 'code') continue;
              for (const o of c.outputs.toJSON()) if (o.output_type === 'error')
                out.push(`cell ${i} (${c.sharedModel.getSource().slice(0, 50)}): ${o.ename}: ${o.evalue}`);
            }
            return out; }""")
        raise AssertionError(f"run-all-cells failed: {result} {errors}")


def kernel_exec(page, code: str, timeout_ms: int = 60_000) -> str:
    """Run `code` in the open notebook's kernel (not as a cell) and return its stdout; raise on an error."""
    out = page.evaluate(
        """async (code) => {
          const k = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
          const fut = k.requestExecute({code, silent: false, store_history: false});
          let text = '', err = null;
          fut.onIOPub = msg => {
            if (msg.header.msg_type === 'stream') text += msg.content.text;
            if (msg.header.msg_type === 'error') err = msg.content.ename + ': ' + msg.content.evalue;
          };
          await fut.done;
          return {text, err};
        }""", code)
    if out["err"]:
        raise AssertionError(f"kernel error: {out['err']}\n{out['text']}")
    return out["text"]


def wait_widget(page, selector: str, timeout_ms: int = 120_000):
    """Wait for a widget box to be visible; fail on a widget error or an endless "Loading widget..."."""
    t0 = time.monotonic()
    while True:
        assert_no_widget_errors(page)
        loc = page.locator(selector)
        if loc.count() > 0 and loc.first.is_visible():
            break
        if (time.monotonic() - t0) * 1000 > timeout_ms:
            body = page.inner_text("body")
            hint = "the page still says 'Loading widget'" if "Loading widget" in body else "no such element"
            raise AssertionError(f"{selector} never rendered within {timeout_ms / 1000:.0f} s: {hint}")
        page.wait_for_timeout(250)
    loc.first.scroll_into_view_if_needed()
    return loc.first


def img_bytes(page, selector: str) -> bytes:
    """The bytes behind an <img> on the page (blob: or data: URL), as the browser holds them."""
    b64 = page.evaluate(
        """async (sel) => {
          const el = document.querySelector(sel);
          const img = el.tagName === 'IMG' ? el : el.querySelector('img');
          const buf = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
          let s = ''; for (let i = 0; i < buf.length; i += 8192) s += String.fromCharCode(...buf.subarray(i, i + 8192));
          return btoa(s);
        }""", selector)
    return base64.b64decode(b64)


def png_pixels(data: bytes) -> np.ndarray:
    """Decode PNG bytes to an RGB uint8 array [h, w, 3]."""
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def sha(data: bytes) -> str:
    """Hex SHA-256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


def log_counts(page) -> dict:
    """How many key presses, image changes, loads and readout changes the page has logged so far."""
    return page.evaluate("() => ({keys: __vae.keys.length, imgs: __vae.imgs.length, loads: __vae.loads.length,"
                         " texts: __vae.texts.length})")


def press_and_wait(page, handle, key: str, waits: dict, timeout_ms: int = 15_000) -> dict:
    """Press `key` on a focused slider handle and wait for every event in `waits` ({label: (kind, class)}, kind
    one of imgs / loads / texts); -> {label: ms from the keydown to the first such event inside that class}."""
    n = log_counts(page)
    pairs = list(waits.items())
    handle.press(key)
    try:
        page.wait_for_function(
            """([n, pairs]) => __vae.keys.length > n.keys &&
                 pairs.every(([_, [what, cls]]) => __vae[what].slice(n[what]).some(e => e.cls.includes(cls)))""",
            arg=[n, pairs], timeout=timeout_ms, polling="raf")
    except Exception as e:
        raise AssertionError(f"no update {waits} within {timeout_ms / 1000:.0f} s of pressing {key} "
                             f"(log counts before: {n}, after: {log_counts(page)})") from e
    return page.evaluate(
        """([n, pairs]) => Object.fromEntries(pairs.map(([label, [what, cls]]) =>
              [label, __vae[what].slice(n[what]).find(e => e.cls.includes(cls)).t - __vae.keys[n.keys].t]))""",
        [n, pairs])


def press_and_time(page, handle, key: str, cls: str, timeout_ms: int = 15_000) -> dict:
    """Press `key` on a focused slider handle; ms from the keydown to the new <img> src and to its load."""
    return press_and_wait(page, handle, key, {"src": ("imgs", cls), "load": ("loads", cls)}, timeout_ms)


def wait_settled(page, quiet_ms: int = 300, timeout_ms: int = 10_000) -> None:
    """Wait until no image or text change has been logged for `quiet_ms` (echoes have arrived)."""
    page.wait_for_function(
        """(q) => { const all = [...__vae.imgs, ...__vae.texts, ...__vae.loads].map(e => e.t);
                   const last = all.length ? Math.max(...all) : 0; return performance.now() - last > q; }""",
        arg=quiet_ms, timeout=timeout_ms, polling=100)


def percentiles(ms: list[float]) -> dict:
    """p50, p95, min, max and n of a list of milliseconds."""
    a = np.asarray(ms, dtype=float)
    return {"n": int(a.size), "p50": float(np.percentile(a, 50)), "p95": float(np.percentile(a, 95)),
            "min": float(a.min()), "max": float(a.max())}


def save_results(name: str, entry: dict) -> Path:
    """Merge one measurement into artifacts/latency.json (benchmarks/browser.py turns it into markdown)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = Path(os.environ.get("VAE_TEACH_BROWSER_RESULTS", ARTIFACTS / "latency.json"))
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = entry
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, path)
    return path


def screenshot(page_or_locator, name: str) -> Path:
    """Save a PNG screenshot into tests/browser/artifacts/ (gitignored) and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page_or_locator.screenshot(path=str(path))
    return path


# ------------------------------------------------------------------------------------ fixture notebook
FIXTURE_CODE = '''\
import io

import ipywidgets as W
import numpy as np
from PIL import Image as PILImage


class SliderImage:
    """The bare fast path: float sliders -> an 8x8 pattern -> PNG bytes in an ipywidgets.Image."""

    def __init__(self, k=2):
        self.sliders = [W.FloatSlider(value=0.0, min=-3.0, max=3.0, step=0.1, description=f"z{i}")
                        for i in range(k)]
        self.image = W.Image(format="png", width=224, height=224)
        self.image.add_class("vae-decoded")
        for s in self.sliders:
            s.add_class("vae-latent-slider")
            s.observe(self._update, "value")
        self.widget = W.VBox([*self.sliders, self.image])
        self.widget.add_class("vae-latent-explorer")
        self._update()

    @property
    def z(self):
        return np.array([round(s.value, 6) for s in self.sliders])

    def render(self, z):
        u = np.linspace(-1.0, 1.0, 8)
        grid = 0.5 + 0.5 * np.tanh(z[0] * u[:, None] + z[1] * u[None, :] ** 2)
        pix = np.kron((255 * grid).astype(np.uint8), np.ones((28, 28), dtype=np.uint8))
        buf = io.BytesIO()
        PILImage.fromarray(pix).save(buf, format="png", compress_level=1)
        return buf.getvalue()

    def _update(self, change=None):
        png = self.render(self.z)
        if png != self.image.value:
            self.image.value = png


explorer = SliderImage()
'''


def write_fixture_notebook(path: Path) -> Path:
    """A two-cell notebook with the bare PNG-in-Image slider, shaped like the course's explorers."""
    return write_notebook(path, [FIXTURE_CODE, "explorer.widget"], "Harness fixture: one slider, one image")


# ------------------------------------------------------------------------------ the LatentExplorer path
LATENT_BOX = ".vae-latent-explorer"
LATENT_IMG = ".vae-latent-explorer .vae-decoded"
LATENT_HANDLE = ".vae-latent-explorer .vae-latent-slider .noUi-handle"
LATENT_READOUT = ".vae-latent-slider .widget-readout"  # inside the first LatentExplorer box


def wait_image_loaded(page, selector: str, timeout_ms: int = 30_000) -> None:
    """Wait until the <img> at `selector` (or inside it) has decoded pixels."""
    page.wait_for_function(
        """(sel) => { const el = document.querySelector(sel); if (!el) return false;
                     const img = el.tagName === 'IMG' ? el : el.querySelector('img');
                     return !!(img && img.src && img.complete && img.naturalWidth > 0); }""",
        arg=selector, timeout=timeout_ms)


def drive_latent_slider(page, name: str, moves: int = 24, key: str = "ArrowRight", drag_to=None) -> dict:
    """Optionally drag the first latent slider to `drag_to` of its track, then focus it and press `key`
    `moves` times like a person, timing each new image. Returns the page's image bytes before and after,
    the slider readouts after the drag and at the end, and the latencies."""
    box = wait_widget(page, LATENT_BOX)
    wait_image_loaded(page, LATENT_IMG)
    wait_settled(page)
    screenshot(box, f"{name}-before")
    before = img_bytes(page, LATENT_IMG)
    dragged = None
    if drag_to is not None:
        drag_slider(page, LATENT_HANDLE, drag_to)
        wait_settled(page, quiet_ms=400)
        dragged = page.locator(LATENT_BOX).first.locator(LATENT_READOUT).all_inner_texts()
    handle = page.locator(LATENT_HANDLE).first
    handle.scroll_into_view_if_needed()
    handle.focus()
    src_ms, load_ms = [], []
    for _ in range(moves):
        t = press_and_time(page, handle, key, "vae-decoded")
        src_ms.append(t["src"])
        load_ms.append(t["load"])
        wait_settled(page, quiet_ms=120)
    wait_settled(page, quiet_ms=400)
    assert_no_widget_errors(page)
    screenshot(box, f"{name}-after")
    screenshot(page, f"{name}-page")
    return {"before": before, "after": img_bytes(page, LATENT_IMG), "src_ms": src_ms, "load_ms": load_ms,
            "dragged": dragged, "readouts": page.locator(LATENT_BOX).first.locator(LATENT_READOUT).all_inner_texts()}


def latency_entry(where: str, what: str, ms: list[float], load_ms: list[float] | None = None,
                  ready_s: float | None = None) -> dict:
    """One row for the latency table: where it ran, what was timed, the percentiles, and the seconds from
    opening the page to the explorer on screen (all cells run)."""
    entry = {"where": where, "what": what, **percentiles(ms), "ready_s": ready_s}
    if load_ms:
        entry["load"] = percentiles(load_ms)
    return entry


LATENT_FIXTURE_CELLS = [
    "import torch\n\n"
    "from vae_teach import data, models, widgets\n\n"
    "x, y = data.load_digits('train')\n"
    "model = models.VAE(64, 2, hidden=(64,), seed=0)\n"
    "with torch.no_grad():  # untrained weights, scaled up so a small move in z changes the pixels\n"
    "    for p in model.decoder.parameters():\n"
    "        p.mul_(4.0)\n"
    "explorer = widgets.LatentExplorer(model, data=x[:300], labels=y[:300])",
    "explorer.widget",
]

# Run in the notebook's kernel after the moves: the kernel's z, and what it decodes and renders for that z.
LATENT_KERNEL_CHECK = """
def _vae_check():
    import base64, hashlib, json
    from vae_teach import widgets as vw
    z = explorer.z
    print(json.dumps({"z": [float(v) for v in z], "dims": [int(d) for d in explorer.dims],
                      "pixels": vw.decoded_pixels(explorer.model, z).tolist(),
                      "png": base64.b64encode(vw.render_decoded(explorer.model, z)).decode(),
                      "held": hashlib.sha256(explorer.image.value).hexdigest()}))
_vae_check()
del _vae_check
"""


POSTERIOR_FIXTURE_CELLS = [
    "from vae_teach import toy, widgets\n\n"
    "posterior_explorer = widgets.PosteriorExplorer(toy.Nonlinear1D(), x=2.0)",
    "posterior_explorer.widget",
]

POSTERIOR_BOX = ".vae-posterior-explorer"
POSTERIOR_HANDLE = ".vae-posterior-explorer .vae-q-mean .noUi-handle"
POSTERIOR_MEAN_READOUT = ".vae-posterior-explorer .vae-q-mean .widget-readout"
POSTERIOR_TEXT = ".vae-posterior-explorer .vae-posterior-readout"
POSTERIOR_PANEL = ".vae-posterior-explorer .vae-posterior-panel"

POSTERIOR_KERNEL_CHECK = """
def _vae_check():
    import json
    mean, log_sigma = posterior_explorer.state()
    print(json.dumps({"mean": list(mean), "log_sigma": list(log_sigma), **posterior_explorer.readout()}))
_vae_check()
del _vae_check
"""


def parse_readout(text: str) -> dict:
    """'log p(x) = -2.345 nats  ELBO = -3.1 nats  gap ... = 0.7 nats' -> dict(log_px, elbo, gap) as floats."""
    import re

    num = r"(-?\d+(?:\.\d+)?)"
    found = {key: re.search(pat + r"\s*=\s*" + num, text) for key, pat in
             (("log_px", r"log p\(x\)"), ("elbo", r"ELBO"), ("gap", r"gap[^=]*"))}
    missing = [k for k, m in found.items() if m is None]
    assert not missing, f"readout {text!r} lacks {missing}"
    return {k: float(m.group(1)) for k, m in found.items()}


def write_notebook(path: Path, cells: list[str], title: str) -> Path:
    """A small notebook (markdown title + code cells) with the python3 kernelspec."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}"), *map(nbformat.v4.new_code_cell, cells)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def drag_slider(page, handle_selector: str, fraction: float, steps: int = 12) -> None:
    """Drag a slider handle with the mouse to `fraction` (0..1) of its track, like a person."""
    handle = page.locator(handle_selector).first
    handle.scroll_into_view_if_needed()
    track = handle.locator("xpath=ancestor::*[contains(@class,'noUi-target')][1]")
    hb, tb = handle.bounding_box(), track.bounding_box()
    y = hb["y"] + hb["height"] / 2
    page.mouse.move(hb["x"] + hb["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(tb["x"] + fraction * tb["width"], y, steps=steps)
    page.mouse.up()
