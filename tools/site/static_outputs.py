"""Turn an executed notebook's widget outputs into what a page with no kernel and no widget manager can show.

- An explorer's display bundle carries a self-contained `text/html` copy (root element `data-explorer="Name"`):
  it is kept, and the widget view is dropped from the bundle so nothing else can win.
- A tqdm progress bar (an HBox of HTML, a progress bar and HTML) is redrawn from the widget state nbclient stored
  after the run: its final description, value/max, colour and right-hand text ("40/40 [00:03<00:00, …]"). Its
  `text/plain`, captured when the bar was created, read "0/40"; it becomes the final line too.
- Any other widget becomes a short note that it needs a live kernel, instead of the text "VBox(children=…)".
- Links to the package's source (`../vae_teach/bounds.py`) point to the site's source pages (`…/bounds.md`).
The notebook-level widget state is then removed, so the renderer loads no widget JavaScript.
"""

from __future__ import annotations

import html
import re

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
PROGRESS_MODELS = {"FloatProgressModel", "IntProgressModel"}
EXPLORER_ATTR = re.compile(r"data-explorer\s*=")
COUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)/(\d+(?:\.\d+)?)\b")  # "73/73 [00:05<00:00, …]"
SOURCE_LINK = re.compile(r"\]\(((?:\.\./)+)(vae_teach/[\w/]+)\.py((?:#[\w-]*)?)\)")

NEEDS_KERNEL = (
    '<div class="vae-needs-kernel" data-widget="{model}">'
    "<strong>Interactive widget.</strong> It needs a running Python kernel: open this notebook in JupyterLab "
    "(<code>make lab</code>) and run its cells to use it.</div>"
)


def widget_states(nb: dict) -> dict:
    """model_id -> {"model_name", "state", …} from the notebook's stored widget state (empty if none)."""
    return nb.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})


def _child_ids(state: dict) -> list[str]:
    return [c.removeprefix("IPY_MODEL_") for c in state.get("state", {}).get("children", [])]


def progress_parts(model_id: str, states: dict) -> dict | None:
    """If model_id is a tqdm-style bar (HBox: HTML, progress, HTML), its final parts; else None."""
    box = states.get(model_id)
    if not box or box.get("model_name") != "HBoxModel":
        return None
    kids = [states.get(c) for c in _child_ids(box)]
    if len(kids) != 3 or any(k is None for k in kids):
        return None
    left, bar, right = kids
    if bar.get("model_name") not in PROGRESS_MODELS or {left.get("model_name"), right.get("model_name")} != {
            "HTMLModel"}:
        return None
    b = bar["state"]
    hidden = box["state"].get("layout") and states.get(box["state"]["layout"].removeprefix("IPY_MODEL_"), {}).get(
        "state", {}).get("visibility") == "hidden"
    return {"left": left["state"].get("value", ""), "right": right["state"].get("value", ""),
            "value": float(b.get("value", 0)), "max": float(b.get("max", 1) or 1),
            "style": b.get("bar_style", "") or "", "hidden": bool(hidden)}


def _plain(fragment: str) -> str:
    """tqdm's HTML text (escaped, figure spaces for spaces) as one plain line."""
    return html.unescape(fragment).replace("\u2007", " ").strip()


def fraction(parts: dict) -> float:
    """How full the bar is: tqdm's own "n/total" text when it has one (a bar stopped early gets a smaller
    total that the widget's max never hears of), else the widget's value/max."""
    m = COUNT.search(_plain(parts["right"]))
    n, total = (float(m.group(1)), float(m.group(2))) if m else (parts["value"], parts["max"])
    return max(0.0, min(1.0, n / total)) if total > 0 else 0.0


def progress_html(parts: dict) -> str:
    """A static progress bar showing the final state: description, filled track, "N/N [time, rate, postfix]"."""
    frac = fraction(parts)
    style = parts["style"] if parts["style"] in {"success", "danger", "warning", "info"} else "info"
    left, right = _plain(parts["left"]), _plain(parts["right"])
    return (f'<div class="vae-progress vae-progress-{style}" role="progressbar" aria-valuemin="0" '
            f'aria-valuemax="{parts["max"]:g}" aria-valuenow="{parts["value"]:g}">'
            f'<span class="vae-progress-desc">{html.escape(left)}</span>'
            f'<span class="vae-progress-track"><span class="vae-progress-fill" style="width:{100 * frac:.1f}%">'
            f'</span></span><span class="vae-progress-text">{html.escape(right)}</span></div>')


def progress_text(parts: dict) -> str:
    """The same final state as one text line, like tqdm prints it in a terminal."""
    left, right = _plain(parts["left"]), _plain(parts["right"])
    return f"{left}|{'█' * round(20 * fraction(parts)):<20}| {right}".strip()


def convert_output(out: dict, states: dict) -> dict | None:
    """One output made static (see the module docstring); None drops it (a closed or hidden widget)."""
    data = out.get("data")
    if out.get("output_type") not in {"display_data", "execute_result"} or not data or WIDGET_VIEW not in data:
        return out
    model_id = data[WIDGET_VIEW].get("model_id", "")
    if EXPLORER_ATTR.search("".join(data.get("text/html", ""))):
        out["data"] = {k: v for k, v in data.items() if k != WIDGET_VIEW}
        return out
    parts = progress_parts(model_id, states)
    if parts is not None:
        if parts["hidden"]:
            return None
        out["data"] = {"text/html": progress_html(parts), "text/plain": progress_text(parts)}
        return out
    if model_id not in states:
        return None  # the widget was closed before the run ended: JupyterLab shows nothing either
    name = states[model_id].get("model_name", "widget")
    out["data"] = {"text/html": NEEDS_KERNEL.format(model=html.escape(name)), "text/plain": f"[{name}]"}
    return out


def count_static(nb: dict) -> dict:
    """How many outputs of a made-static notebook are explorer copies, and how many show the kernel note."""
    htmls = ["".join(o.get("data", {}).get("text/html", "")) for c in nb.get("cells", []) for o in c.get("outputs", [])]
    return {"explorers": sum(bool(EXPLORER_ATTR.search(h)) for h in htmls),
            "needs_kernel": sum('class="vae-needs-kernel"' in h for h in htmls)}


def source_links(markdown: str, source_pages: str = "vae_teach") -> str:
    """Links to the package's .py files -> links to the site's source pages (same relative path, .md)."""
    return SOURCE_LINK.sub(lambda m: f"]({m.group(1)}{m.group(2)}.md{m.group(3)})", markdown)


def make_static(nb: dict) -> dict:
    """The notebook with every widget output made static, source links pointed at the source pages and the
    stored widget state removed; -> the same dict, changed in place."""
    states = widget_states(nb)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            src = "".join(cell.get("source", ""))
            cell["source"] = source_links(src)
        elif cell.get("cell_type") == "code":
            outs = [convert_output(o, states) for o in cell.get("outputs", [])]
            cell["outputs"] = [o for o in outs if o is not None]
    nb.get("metadata", {}).pop("widgets", None)
    return nb
