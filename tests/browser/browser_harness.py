"""Drive JupyterLab and Voila pages in Chromium: run cells, find widgets, move sliders like a person,
time key press -> new image with an in-page observer, read image bytes, ask the kernel what it rendered."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from lab_servers import Server

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

# Runs in every page before its own scripts (before <body> exists, so it observes `document`): records
# key presses, <img> src changes and loads, and text changes, each stamped with performance.now().
OBSERVER_JS = """
(() => {
  const log = {keys: [], imgs: [], loads: [], texts: [], values: []};
  window.__vae = log;
  const cls = el => (el && el.closest) ? ['vae-baseline-img', 'vae-baseline', 'vae-explorer'].filter(
      c => el.closest('.' + c)) : [];
  document.addEventListener('keydown', e => log.keys.push({t: performance.now(), key: e.key}), true);
  document.addEventListener('load', e => {
    if (e.target && e.target.tagName === 'IMG') log.loads.push({t: performance.now(), src: e.target.src,
                                                               cls: cls(e.target)});
  }, true);
  new MutationObserver(records => {
    const t = performance.now();
    for (const r of records) {
      if (r.type === 'attributes' && r.attributeName === 'data-values') {
        log.values.push({t, cls: [r.target.getAttribute('data-explorer-view')], id: r.target.dataset.vaeId || ''});
      } else if (r.type === 'attributes' && r.target.tagName === 'IMG') {
        log.imgs.push({t, src: r.target.src, cls: cls(r.target)});
      } else if (r.type === 'childList' || r.type === 'characterData') {
        const el = r.type === 'characterData' ? r.target.parentElement : r.target;
        const c = cls(el);
        if (c.includes('vae-posterior-readout')) log.texts.push({t, cls: c});
      }
    }
  }).observe(document, {subtree: true, attributes: true, attributeFilter: ['src', 'data-values'], childList: true,
                        characterData: true});
})();
"""

WIDGET_ERRORS = ("Error displaying widget", "Error rendering output item")


# ----------------------------------------------------------------------------------------------- pages
def assert_no_widget_errors(page) -> None:
    """Fail if the page shows a widget error."""
    text = page.inner_text("body")
    for bad in WIDGET_ERRORS:
        assert bad not in text, f"page shows {bad!r}:\n{around(text, bad)}"


def around(text: str, needle: str, width: int = 400) -> str:
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


def open_and_run(page, server: Server, rel_path: str, box: str, timeout_ms: int = 300_000):
    """Open a notebook in Lab, run all cells, wait for widget `box`; -> (its locator, seconds from open to shown)."""
    t0 = time.monotonic()
    open_lab_notebook(page, server, rel_path)
    run_all_cells(page, timeout_ms=timeout_ms)
    loc = wait_widget(page, box)
    return loc, time.monotonic() - t0


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
    assert_controls_unclipped(page, selector)
    return loc.first


def assert_controls_unclipped(page, selector: str) -> None:
    """Nothing in the widget is cut off: no part of it overflows a box that clips or scrolls it sideways."""
    clipped = page.evaluate(
        """(sel) => {
            const box = document.querySelector(sel);
            const bad = [];
            for (const el of [box, ...box.querySelectorAll('*')]) {
                const ox = getComputedStyle(el).overflowX;
                if (ox !== 'visible' && el.scrollWidth > el.clientWidth + 1) {
                    const text = (el.innerText || '').trim().replace(/\\s+/g, ' ').slice(0, 40);
                    bad.push(`${el.className || el.tagName}: ${el.scrollWidth}px of content in ${el.clientWidth}px `
                             + `(overflow-x ${ox}) "${text}"`);
                }
            }
            const holder = box.closest('.jp-OutputArea-output, .jp-Cell-outputArea, .jp-OutputArea') || document.body;
            const right = holder.getBoundingClientRect().right + 1;
            for (const el of [box, ...box.querySelectorAll('*')]) {
                const r = el.getBoundingClientRect();
                if (r.width > 0 && r.right > right) {
                    const text = (el.innerText || '').trim().replace(/\\s+/g, ' ').slice(0, 40);
                    bad.push(`${el.className || el.tagName} reaches ${Math.round(r.right - right)}px past its output `
                             + `area "${text}"`);
                    break;
                }
            }
            return bad;
        }""",
        selector,
    )
    assert not clipped, f"parts of {selector} are cut off:\n  " + "\n  ".join(clipped)


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
                         " texts: __vae.texts.length, values: __vae.values.length})")


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


# ------------------------------------------------------------------ the kernel-bound baseline (harness fixture)
BASE_BOX = ".vae-baseline"
BASE_IMG = ".vae-baseline .vae-baseline-img"
BASE_HANDLE = ".vae-baseline .vae-baseline-slider .noUi-handle"
BASE_READOUT = ".vae-baseline-slider .widget-readout"


def wait_image_loaded(page, selector: str, timeout_ms: int = 30_000) -> None:
    """Wait until the <img> at `selector` (or inside it) has decoded pixels."""
    page.wait_for_function(
        """(sel) => { const el = document.querySelector(sel); if (!el) return false;
                     const img = el.tagName === 'IMG' ? el : el.querySelector('img');
                     return !!(img && img.src && img.complete && img.naturalWidth > 0); }""",
        arg=selector, timeout=timeout_ms)


def drive_baseline_slider(page, name: str, moves: int = 20, key: str = "ArrowRight") -> dict:
    """Focus the bare kernel-bound slider and press `key` `moves` times, timing each new image like a person."""
    box = wait_widget(page, BASE_BOX)
    wait_image_loaded(page, BASE_IMG)
    wait_settled(page)
    before = img_bytes(page, BASE_IMG)
    handle = page.locator(BASE_HANDLE).first
    handle.scroll_into_view_if_needed()
    handle.focus()
    src_ms, load_ms = [], []
    for _ in range(moves):
        t = press_and_time(page, handle, key, "vae-baseline-img")
        src_ms.append(t["src"])
        load_ms.append(t["load"])
        wait_settled(page, quiet_ms=120)
    wait_settled(page, quiet_ms=400)
    assert_no_widget_errors(page)
    screenshot(box, f"{name}-after")
    return {"before": before, "after": img_bytes(page, BASE_IMG), "src_ms": src_ms, "load_ms": load_ms,
            "readouts": page.locator(BASE_BOX).first.locator(BASE_READOUT).all_inner_texts()}


def latency_entry(where: str, what: str, ms: list[float], load_ms: list[float] | None = None,
                  ready_s: float | None = None) -> dict:
    """One row for the latency table: where it ran, what was timed, the percentiles, and the seconds from
    opening the page to the explorer on screen (all cells run)."""
    entry = {"where": where, "what": what, **percentiles(ms), "ready_s": ready_s}
    if load_ms:
        entry["load"] = percentiles(load_ms)
    return entry


# ------------------------------------------------------------------------- the explorers (compute in the page)
def explorer_selector(name: str) -> str:
    """CSS selector of an explorer's root element (the same in JupyterLab, Voila and a static page)."""
    return f'.vae-explorer[data-explorer-view="{name}"]'


def page_values(root) -> dict:
    """What the explorer shows, as its ES module publishes it on its root (pixels, readouts)."""
    text = root.get_attribute("data-values")
    assert text, "the explorer has published no values"
    return json.loads(text)


def press_explorer(page, control, key: str, name: str, timeout_ms: int = 15_000) -> float:
    """Press `key` on a focused control inside explorer `name`; -> ms from the keydown to its new values."""
    n = log_counts(page)
    control.press(key)
    try:
        page.wait_for_function(
            """([n, name]) => __vae.keys.length > n.keys
                              && __vae.values.slice(n.values).some(e => e.cls.includes(name))""",
            arg=[n, name], timeout=timeout_ms, polling="raf")
    except Exception as e:
        raise AssertionError(f"{name} did not update within {timeout_ms / 1000:.0f} s of pressing {key}") from e
    return page.evaluate(
        """([n, name]) => __vae.values.slice(n.values).find(e => e.cls.includes(name)).t - __vae.keys[n.keys].t""",
        [n, name])


def drag_range(page, control, fraction: float, steps: int = 10) -> None:
    """Drag a range input's thumb with the mouse to `fraction` (0..1) of its track, like a person."""
    control.scroll_into_view_if_needed()
    box = control.bounding_box()
    lo, hi = float(control.get_attribute("min")), float(control.get_attribute("max"))
    v = float(control.input_value())
    y = box["y"] + box["height"] / 2
    thumb = 8  # Chromium's default thumb is about 16 px wide: its centre runs from 8 px to width - 8 px
    x0 = box["x"] + thumb + (v - lo) / (hi - lo) * (box["width"] - 2 * thumb)
    page.mouse.move(x0, y)
    page.mouse.down()
    page.mouse.move(box["x"] + thumb + fraction * (box["width"] - 2 * thumb), y, steps=steps)
    page.mouse.up()


def drive_explorer(page, name: str, control_sel: str, moves: int = 24, keys=("ArrowRight",), drag_to=None,
                   shot: str | None = None, nth: int = 0) -> dict:
    """In the nth explorer `name` on the page: optionally drag the control, then focus it and press `moves` keys
    (cycling through `keys`), timing key -> new values each time. -> values before / after the drag / at the
    end, and the ms."""
    root = wait_widget(page, explorer_selector(name)) if nth == 0 else page.locator(explorer_selector(name)).nth(nth)
    root.scroll_into_view_if_needed()
    before = page_values(root)
    if shot:
        screenshot(root, f"{shot}-before")
    control = root.locator(control_sel).first
    dragged = None
    if drag_to is not None:
        n = log_counts(page)
        drag_range(page, control, drag_to)
        page.wait_for_function("([n, name]) => __vae.values.slice(n.values).some(e => e.cls.includes(name))",
                               arg=[n, name], timeout=10_000)
        dragged = page_values(root)
    control.focus()
    ms = []
    for i in range(moves):
        ms.append(press_explorer(page, control, keys[i % len(keys)], name))
    assert_no_widget_errors(page)
    if shot:
        screenshot(root, f"{shot}-after")
    return {"before": before, "dragged": dragged, "after": page_values(root), "ms": ms, "root": root,
            "control": control}


def active_cell(page) -> int:
    """Index of the notebook's active cell in JupyterLab."""
    return page.evaluate("() => window.jupyterapp.shell.currentWidget.content.activeCellIndex")


def kernel_start(page, code: str) -> None:
    """Start `code` in the open notebook's kernel without waiting for it (e.g. a busy time.sleep)."""
    page.evaluate("""(code) => { const k = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
                     window.__busy = k.requestExecute({code, silent: false, store_history: false}).done; }""", code)


def kernel_status(page) -> str:
    """The open notebook's kernel status ('idle', 'busy', ...)."""
    return page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status")


def kernel_json(page, expr: str) -> dict:
    """Evaluate a Python expression in the kernel (after the page's updates have synced) and parse its JSON."""
    return json.loads(kernel_exec(page, f"import json as _j\nprint(_j.dumps({expr}))"))


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
