"""Shared pieces of the explorers: the slider grid, label-sized buttons, a one-thread scope, a blitting figure.

Importing this module has no side effects.
"""

import contextlib
import math

import ipywidgets as W
import numpy as np
import torch

STEP = 0.01
BLUE, RED, GREY = "#1f77b4", "#d62728", "#7f7f7f"


def snap(value, step=STEP, lo=-math.inf, hi=math.inf):
    """Round a number onto the slider grid {k * step} and clip it to [lo, hi]."""
    return float(min(max(round(round(float(value) / step) * step, 10), lo), hi))


def label_width(text, icon=True, per_char=8, min_px=90):
    """CSS width in px that shows a widget label whole in JupyterLab and Voila (13 px font, icon, padding)."""
    return f"{max(min_px, per_char * len(text) + (24 if icon else 0) + 34)}px"


def button(text, icon=None, tooltip=None):
    """An ipywidgets Button whose layout is wide enough for its whole label (the default cuts ~15 chars)."""
    return W.Button(description=text, icon=icon or "", tooltip=tooltip or text,
                    layout=W.Layout(width=label_width(text, bool(icon)), flex="0 0 auto"))


class Displayable:
    """Lets an explorer display itself as its ``.widget``."""

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


@contextlib.contextmanager
def single_thread():
    """Run tiny tensor ops on one thread (restored after): a busy second core can stall a 2-thread op for ms."""
    before = torch.get_num_threads()
    if before != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if before != 1:
            torch.set_num_threads(before)


class Blitter:
    """A persistent Agg figure whose static part is cached (per key, e.g. axis limits); a tick redraws only the
    animated artists."""

    def __init__(self, fig, artists, max_cached=24):
        self.fig, self.artists, self.max_cached = fig, artists, max_cached
        for a in artists:
            a.set_animated(True)
        self.backgrounds = {}

    def rgb(self, key=None, prepare=None):
        """Restore the background for key (drawn once after prepare()), draw the animated artists -> [H, W, 3]."""
        canvas = self.fig.canvas
        if prepare is not None:
            prepare()  # always: the animated artists are drawn through the axes' current limits
        if key not in self.backgrounds:
            if len(self.backgrounds) >= self.max_cached:
                self.backgrounds.pop(next(iter(self.backgrounds)))
            canvas.draw()
            self.backgrounds[key] = canvas.copy_from_bbox(self.fig.bbox)
        canvas.restore_region(self.backgrounds[key])
        for a in self.artists:
            a.axes.draw_artist(a)
        return np.asarray(canvas.buffer_rgba())[..., :3]


def nice_range(lo, hi):
    """Widen [lo, hi] to multiples of a 1-2-5 unit so axis limits (and cached backgrounds) change rarely."""
    span = max(hi - lo, 1e-6)
    unit = 10.0 ** math.floor(math.log10(span))
    for m in (0.2, 0.5, 1.0):
        if span / (unit * m) <= 10:
            unit *= m
            break
    return math.floor(lo / unit) * unit, math.ceil(hi / unit) * unit
