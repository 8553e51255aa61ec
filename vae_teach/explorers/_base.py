"""What every explorer shares: the anywidget base class with its static text/html copy, the slider grid, and the
argument checks at the explorers' public edge.

The static copy (``_repr_mimebundle_``'s ``text/html``) is a ``<div data-explorer="ClassName">`` holding the same
ES module, the widget state as JSON (bytes as base64) and a small stand-in for the widget model. It works in a
plain HTML page with no widget manager and no network; JupyterLab shows the live widget instead. The root also
carries ``data-expected``: JSON ``{"control": css selector inside the root, "key": "ArrowRight", "values": {...},
"atol": {...}}``, the values Python computes for one key press on that control. After every update the
explorer's own element inside the copy (``.vae-explorer``, also present in JupyterLab and Voila) carries a
``data-values`` JSON attribute with the same keys.

Pages that run no scripts (a notebook on a code host, nbviewer without JS, nbconvert's markdown or PDF export) get
a static snapshot instead: ``snapshot_png()`` draws the explorer's current state in matplotlib (each explorer's
``_snapshot(fig)``), the bundle carries it as ``image/png``, and the text/html copy holds it as an
``<img class="vae-static-fallback">`` that the stand-in removes as soon as the live explorer has drawn.
"""

from __future__ import annotations

import base64
import html
import json
import math
import uuid
from pathlib import Path

import anywidget
import matplotlib as mpl
import numpy as np
import torch
import traitlets as T

from vae_teach import plots

HERE = Path(__file__).resolve().parent
STEP = 0.01
SNAPSHOT_INCHES, SNAPSHOT_DPI = (7.0, 3.5), 100  # every snapshot PNG is 700 x 350 pixels
SNAPSHOT_NOTE = "static snapshot; move the sliders in JupyterLab or on the course site"
SNAPSHOT_STYLE = {"font.size": 8, "axes.titlesize": 9, "axes.labelsize": 8, "xtick.labelsize": 7,
                  "ytick.labelsize": 7, "legend.fontsize": 7,
                  "axes.titley": 1.0}  # a fixed title position: matplotlib's automatic one costs a fifth of the draw


def snap(value, step=STEP, lo=-math.inf, hi=math.inf):
    """Round a number onto the slider grid {k * step} and clip it to [lo, hi].

    Used by the explorers of 02 §4, 05 Going deeper D6 and 08 §4 to put slider values on their grid;
    not called from a notebook.
    """
    return float(min(max(round(round(float(value) / step) * step, 10), lo), hi)) + 0.0


def module_source(name: str) -> str:
    """The explorer's ES module: kit.js (the shared helpers) followed by NAME.js."""
    return (HERE / "kit.js").read_text() + "\n" + (HERE / f"{name}.js").read_text()


def style_source(name: str | None = None) -> str:
    """The explorers' CSS: kit.css, plus NAME.css when it exists."""
    parts = [(HERE / "kit.css").read_text()]
    if name and (HERE / f"{name}.css").exists():
        parts.append((HERE / f"{name}.css").read_text())
    return "\n".join(parts)


def f32(array) -> bytes:
    """A tensor or array as little-endian float32 bytes (what the front end reads as a Float32Array)."""
    if isinstance(array, torch.Tensor):
        array = array.detach().cpu().numpy()
    return np.ascontiguousarray(array, dtype="<f4").tobytes()


def f64(array) -> bytes:
    """A tensor or array as little-endian float64 bytes (a Float64Array in the front end)."""
    if isinstance(array, torch.Tensor):
        array = array.detach().cpu().numpy()
    return np.ascontiguousarray(array, dtype="<f8").tobytes()


# ---- argument checks at the public edge ---------------------------------------------------------------------
def finite_number(name: str, value) -> float:
    """value as a float, or ValueError naming the argument unless it is one finite number."""
    try:
        v = float(value.item() if isinstance(value, torch.Tensor | np.ndarray) and value.size == 1 else value)
    except (TypeError, ValueError, RuntimeError, AttributeError):
        raise ValueError(f"{name} must be one finite number, got {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(v):
        raise ValueError(f"{name} must be one finite number, got {value!r}")
    return v


def finite_vector(name: str, value, size: int, what: str = "") -> torch.Tensor:
    """value as float64 [size], or ValueError naming the argument, the expected size and what came."""
    try:
        t = torch.as_tensor(value, dtype=torch.float64).reshape(-1)
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(f"{name} must be {size} finite numbers{what}, got {value!r}") from None
    if t.numel() != size:
        raise ValueError(f"{name} must be {size} finite numbers{what}, got {t.numel()}: {t.tolist()}")
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} must be {size} finite numbers{what}, got {t.tolist()}")
    return t


def int_in(name: str, value, lo: int, hi: int) -> int:
    """value as an int in lo..hi, or ValueError naming the argument."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) and not (
            isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_floating_point()):
        raise ValueError(f"{name} must be an int in {lo}..{hi}, got {value!r}")
    v = int(value)
    if not lo <= v <= hi:
        raise ValueError(f"{name} must be an int in {lo}..{hi}, got {v}")
    return v


# ---- the static copy ---------------------------------------------------------------------------------------
# The stand-in for the widget model: get / set / on / off / save_changes / send, change events as Backbone fires.
STAND_IN_JS = """
const box = document.getElementById(ID);
const spec = JSON.parse(box.querySelector('script[type="application/json"]').textContent);
const bytes = b64 => { const s = atob(b64), a = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i); return new DataView(a.buffer); };
const state = {...spec.state};
for (const k of spec.bytes) state[k] = bytes(state[k]);
const handlers = {};
const model = {
  get: k => state[k],
  set: (k, v) => { const old = state[k]; state[k] = v;
    if (old !== v) for (const f of handlers['change:' + k] || []) f({name: k, old, new: v}); },
  on: (e, f) => { (handlers[e] = handlers[e] || []).push(f); },
  off: (e, f) => { if (!e) { for (const k in handlers) delete handlers[k]; return; }
    handlers[e] = (handlers[e] || []).filter(g => f && g !== f); },
  save_changes: () => {}, send: () => {},
};
const style = document.createElement('style'); style.textContent = spec.css; box.prepend(style);
const url = URL.createObjectURL(new Blob([spec.esm], {type: 'text/javascript'}));
const mod = (await import(url)).default;
const view = box.querySelector('.vae-static-view');
(mod.render || mod)({model, el: view});
for (const img of box.querySelectorAll('img.vae-static-fallback')) img.remove();  // the live view has drawn
"""


def _json_script(data) -> str:
    """JSON safe to put inside a <script> element."""
    return json.dumps(data, separators=(",", ":")).replace("</", "<\\/")


class Explorer(anywidget.AnyWidget):
    """An anywidget whose front end does the per-tick work; ``.widget`` is the explorer itself (old notebooks)."""

    _static = T.Bool(False).tag(sync=True)  # True only inside the static copy

    @property
    def widget(self):
        """The explorer itself: it displays as a widget (``explorer.widget`` still works)."""
        return self

    def expected(self) -> dict:
        """Reference values Python computes for one key press in the static copy (see the module docstring)."""
        return {}

    # ---- the static snapshot (pages that run no scripts) ---------------------------------------------------
    def _snapshot(self, fig) -> None:
        """Draw the current state on fig (700 x 350 px), as the live view draws it; the caption is added after."""
        raise NotImplementedError(f"{type(self).__name__} has no static snapshot")

    def snapshot_caption(self) -> str:
        """The snapshot's caption line: the slider values, then what the image is."""
        return f"{self._snapshot_values()} — {SNAPSHOT_NOTE}"

    def _snapshot_values(self) -> str:
        """The slider values as the caption writes them ("μ = 1.00, σ = 0.50")."""
        raise NotImplementedError(f"{type(self).__name__} has no static snapshot")

    def snapshot_png(self) -> bytes:
        """PNG bytes [350, 700] of what the live view draws at the current slider values, with a caption."""
        with mpl.rc_context(SNAPSHOT_STYLE):
            fig = plots.new_figure(*SNAPSHOT_INCHES, dpi=SNAPSHOT_DPI)
            self._snapshot(fig)
            fig.text(0.5, 0.012, self.snapshot_caption(), ha="center", va="bottom", fontsize=7.5, color="#444")
            return plots.figure_png(fig)

    def snapshot_alt(self) -> str:
        """Alt text of the fallback image: which explorer, at which values."""
        return f"{type(self).__name__} at {self._snapshot_values()} (static snapshot)"

    def state_json(self) -> tuple[dict, list[str]]:
        """The synced state as JSON-able values (bytes as base64) and the names of the bytes traits."""
        state, names = {}, []
        for name in self.keys:
            if name.startswith("_") and name not in ("_esm", "_css"):
                continue
            if name in ("layout", "tabbable", "tooltip", "comm", "log"):
                continue
            value = getattr(self, name)
            if isinstance(value, bytes | bytearray | memoryview):
                state[name] = base64.b64encode(bytes(value)).decode()
                names.append(name)
            else:
                state[name] = value
        state["_static"] = True
        return state, names

    def static_html(self, png: bytes | None = None) -> str:
        """The self-contained text/html copy: a div, the state and module as JSON, the snapshot (png, drawn when
        None) as a fallback image, and the model stand-in."""
        png = self.snapshot_png() if png is None else png
        state, names = self.state_json()
        spec = {"esm": state.pop("_esm"), "css": state.pop("_css", ""), "state": state, "bytes": names}
        box_id = f"vae-static-{uuid.uuid4().hex[:12]}"
        expected = html.escape(json.dumps(self.expected(), separators=(",", ":")), quote=True)
        script = STAND_IN_JS.replace("ID", json.dumps(box_id), 1)
        return (f'<div id="{box_id}" class="vae-static" data-explorer="{type(self).__name__}" '
                f'data-expected="{expected}">'
                f'<script type="application/json">{_json_script(spec)}</script>'
                f'{self.fallback_img(png)}<div class="vae-static-view"></div>'
                f'<script type="module">{script}</script></div>')

    def fallback_img(self, png: bytes) -> str:
        """The snapshot as an <img class="vae-static-fallback"> with a data: URI (removed once the view draws)."""
        alt = html.escape(self.snapshot_alt(), quote=True)
        src = base64.b64encode(png).decode()
        return (f'<img class="vae-static-fallback" alt="{alt}" width="{SNAPSHOT_INCHES[0] * SNAPSHOT_DPI:.0f}" '
                f'style="max-width:100%;height:auto" src="data:image/png;base64,{src}">')

    def _repr_mimebundle_(self, **kwargs):
        """The live widget for JupyterLab and Voila, the static text/html copy for pages without a kernel, and the
        snapshot as image/png for pages that run no scripts."""
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        data = dict(data)
        png = self.snapshot_png()
        data["text/html"] = self.static_html(png)
        data["image/png"] = base64.b64encode(png).decode()
        return data, metadata

    def shipped_bytes(self) -> int:
        """Size in bytes of the state sent to the front end (bytes traits raw, the rest as JSON)."""
        total = 0
        for name in self.keys:
            value = getattr(self, name)
            if isinstance(value, bytes | bytearray | memoryview):
                total += len(value)
            else:
                try:
                    total += len(json.dumps(value))
                except TypeError:
                    pass
        return total
