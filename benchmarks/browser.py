"""Browser latency: run the real-client tests (tests/browser) and turn their timings into a results section.

    .venv/bin/python benchmarks/browser.py

Writes benchmarks/results/browser.md only. Needs Debian's Chromium at /usr/bin/chromium; without it the
tests skip and the section says so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _results import write_fragment

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "browser.md"
BASELINE = "harness-lab"  # the bare PNG-in-Image slider, measured in the same run
TARGET_MS = 50.0


def run_tests(results: Path) -> tuple[int, float, str]:
    """Run pytest on tests/browser with timings going to `results`: -> (exit code, seconds, summary line)."""
    env = dict(os.environ, VAE_TEACH_BROWSER_RESULTS=str(results))
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "tests/browser", "-q"],
                          cwd=REPO, env=env, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.strip().splitlines() if ln.strip()]
    return proc.returncode, time.perf_counter() - t0, lines[-1] if lines else proc.stderr[-300:]


def fmt(x: float) -> str:
    """Milliseconds to one decimal."""
    return f"{x:.1f}"


def table(data: dict) -> list[str]:
    """Markdown rows: one per measured explorer, with p50/p95 and the ratio to the bare baseline's p50."""
    base = data.get(BASELINE, {}).get("p50")
    rows = ["| where | what | moves | key → first update p50 / p95 (ms) | key → image loaded p50 / p95 (ms) "
            "| p50 vs bare PNG slider | page open → explorer shown (s) |",
            "|---|---|---:|---:|---:|---:|---:|"]
    order = sorted(data, key=lambda k: (k != BASELINE, data[k]["where"] != "JupyterLab", k))
    for key in order:
        e = data[key]
        load = e.get("load")
        load_s = f"{fmt(load['p50'])} / {fmt(load['p95'])}" if load else "—"
        ratio = f"{e['p50'] / base:.2f}×" if base else "—"
        ready = f"{e['ready_s']:.1f}" if e.get("ready_s") is not None else "—"
        rows.append(f"| {e['where']} | {e['what']} | {e['n']} | {fmt(e['p50'])} / {fmt(e['p95'])} | {load_s} "
                    f"| {ratio} | {ready} |")
    return rows


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "latency.json"
        code, seconds, summary = run_tests(results)
        data = json.loads(results.read_text()) if results.exists() else {}
    lines = [
        "## Browser latency (JupyterLab and Voila, real Chromium)",
        "",
        "Method: `tests/browser` starts JupyterLab (and Voila for `apps/explore.ipynb`) on 127.0.0.1, opens the "
        "notebook in Debian's headless Chromium through Playwright, runs all cells, then focuses a slider and "
        "presses an arrow key like a person, one press at a time, waiting for each new image (and a quiet "
        "120 ms) before the next. A MutationObserver registered on `document` before the page loads stamps "
        "the keydown, the new `<img>` src and its `load` event with `performance.now()` in the page, so the "
        "numbers are key press → new pixels, kernel round trip included. For the PosteriorExplorer the end "
        "point is the change of the ELBO readout text (the first update; its panel image is the loaded "
        "column). The last column, page open to explorer shown, includes running every cell (notebook 08 "
        "trains two small VAEs, the Voila app one). The baseline is a bare PNG-in-`Image` slider in the "
        f"same run. Target: p50 ≤ {TARGET_MS:.0f} ms. Timings on a shared 2-core machine are noisy.",
        "",
    ]
    if data:
        lines += table(data)
    else:
        lines.append("No timings: the browser tests did not run (is Chromium at /usr/bin/chromium?).")
    lines += ["", f"Test run: `{summary}` in {seconds:.0f} s (exit code {code})."]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    write_fragment("browser", "\n".join(lines))
    print("\n".join(lines))
    return 0 if data else 1


if __name__ == "__main__":
    sys.exit(main())
