"""Start JupyterLab or Voila for the browser tests: isolated temp home, free port, random token, the
test-only Lab settings, the kernel = the Python running the tests; stopped by their own process id."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

# Debian's Chromium; VAE_TEACH_CHROMIUM points elsewhere (e.g. to check the skip rule with a missing path)
CHROMIUM = os.environ.get("VAE_TEACH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
REPO = Path(__file__).resolve().parents[2]

# Lab settings for the test server only: no autosave into the notebook under test, no news toast.
OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
}


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
