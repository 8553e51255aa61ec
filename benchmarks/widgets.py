"""Slider latency of the explorers: from a programmatic slider change to new PNG bytes in the Image widget.

Run: .venv/bin/python benchmarks/widgets.py  -> writes benchmarks/results/widgets.md (this section only).
"""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from _results import write_fragment

from vae_teach import data, models, plots, toy, train, widgets

OUT = Path(__file__).resolve().parent / "results" / "widgets.md"
N_CHANGES = 300
N_BASELINE = 60  # the slow baselines: fewer changes keep the run short
WARMUP = 20


def latencies(set_value, values):
    """Time set_value(v) for each v (after a warm-up): -> (wall ms [n], cpu ms [n])."""
    for v in values[:WARMUP]:
        set_value(v)
    wall, cpu = [], []
    for v in values[WARMUP:]:
        t0, c0 = time.perf_counter(), time.thread_time()
        set_value(v)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - c0)
    return np.array(wall) * 1e3, np.array(cpu) * 1e3


def walk(n, lo, hi, seed):
    """A random walk of slider values on the 0.01 grid inside [lo, hi], no two consecutive values equal."""
    rng = np.random.default_rng(seed)
    out, v = [], 0.5 * (lo + hi)
    for _ in range(n):
        v = min(max(v + rng.choice([-1, 1]) * rng.uniform(0.05, 0.5), lo), hi)
        v = widgets.snap(v)
        if out and v == out[-1]:
            v = widgets.snap(v + (0.01 if v < hi else -0.01))
        out.append(v)
    return out


def slider_setter(sliders):
    """Cycle over sliders: the i-th change goes to slider i mod len."""
    state = {"i": 0}

    def set_value(v):
        s = sliders[state["i"] % len(sliders)]
        state["i"] += 1
        s.value = widgets.snap(v, lo=s.min, hi=s.max)

    return set_value


def matplotlib_decoded(model):
    """Baseline: the per-tick figure an interact + plt.show callback draws (new Figure, imshow, PNG)."""
    def render(z):
        fig = plots.new_figure(3.2, 3.2)
        ax = fig.add_subplot()
        ax.imshow(model.decode_mean(torch.as_tensor(z, dtype=torch.float32)[None]).reshape(8, 8), cmap="gray",
                  vmin=0, vmax=1, interpolation="nearest")
        ax.set_axis_off()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()
    return render


def row(name, wall, cpu, target=None, baseline=None):
    """One markdown table row."""
    p50, p95 = np.percentile(wall, 50), np.percentile(wall, 95)
    ratio = f"{np.percentile(baseline, 50) / p50:.1f}×" if baseline is not None else "—"
    met = "—" if target is None else ("yes" if p50 <= target else "**no**")
    tgt = "—" if target is None else f"≤ {target:g}"
    return (f"| {name} | {len(wall)} | {p50:.2f} | {p95:.2f} | {np.percentile(cpu, 50):.2f} | {ratio} | {tgt} | "
            f"{met} |")


def bench_latent(rows):
    """LatentExplorer on the digits recipe model (z_dim=16, 8 sliders) with 447 encoded test images."""
    model = models.VAE(**train.DIGITS_MODEL, seed=0).eval()
    x, y = data.load_digits("test")
    ex = widgets.LatentExplorer(model, x, y)
    n = N_CHANGES + WARMUP
    # decoded image only: sliders off the map plane
    off_plane = [s for d, s in zip(ex.dims, ex.sliders, strict=True) if d not in (ex.map_x.value, ex.map_y.value)]
    wall_img, cpu_img = latencies(slider_setter(off_plane), walk(n, -3, 3, 0))
    # every slider in turn (a quarter of them also move the map point: PNG of the map as well)
    wall_all, cpu_all = latencies(slider_setter(ex.sliders), walk(n, -3, 3, 1))
    wall_map, cpu_map = latencies(slider_setter(ex.sliders[:1]), walk(n, -3, 3, 2))
    # baselines in the same process
    z = torch.zeros(model.z_dim)

    def bare(v):
        z[ex.dims[0]] = v
        with torch.no_grad(), widgets.single_thread():
            model.decode_mean(z[None])

    wall_bare, cpu_bare = latencies(bare, walk(n, -3, 3, 3))
    render = matplotlib_decoded(model)

    def naive(v):
        z[ex.dims[0]] = v
        with torch.no_grad():
            render(z)

    wall_naive, cpu_naive = latencies(naive, walk(N_BASELINE + WARMUP, -3, 3, 4))
    rows += [
        row("LatentExplorer, slider off the map plane (decoded image)", wall_img, cpu_img, 2, wall_naive),
        row("LatentExplorer, slider on the map plane (image + map point)", wall_map, cpu_map, None, wall_naive),
        row("LatentExplorer, all 8 sliders in turn", wall_all, cpu_all, None, wall_naive),
        row("baseline: bare decode_mean (no PNG, no widget)", wall_bare, cpu_bare),
        row("baseline: matplotlib figure per tick (imshow + savefig)", wall_naive, cpu_naive),
    ]


def bench_posterior(rows):
    """PosteriorExplorer, 1-D bimodal and 2-D linear-Gaussian; baseline rebuilds the figure every tick."""
    W = torch.tensor([[1.0, 0.5], [0.3, 1.0], [0.8, -0.6]], dtype=torch.float64)
    cases = [("1-D Nonlinear1D", toy.Nonlinear1D(), 2.0),
             ("2-D LinearGaussian", toy.LinearGaussian(W, torch.zeros(3, dtype=torch.float64), 0.7),
              torch.tensor([1.0, 0.5, -0.3]))]
    n = N_CHANGES + WARMUP
    for name, model, x in cases:
        ex = widgets.PosteriorExplorer(model, x)
        stamp, first = [], []
        ex.readout_html.observe(lambda _, stamp=stamp: stamp.append(time.perf_counter()), names="value")
        setter = slider_setter(ex.sliders)

        def timed(v, setter=setter, stamp=stamp, first=first):
            stamp.clear()
            t0 = time.perf_counter()
            setter(v)
            if stamp:  # a value a slider already held redraws nothing
                first.append((stamp[0] - t0) * 1e3)

        wall, cpu = latencies(timed, walk(n, -1.5, 1.5, 5))
        first = np.array(first[WARMUP:])

        def rebuild(v, ex=ex):
            ex._build_figure()
            ex.mean_sliders[0].value = v

        wall_b, cpu_b = latencies(rebuild, walk(N_BASELINE + WARMUP, -1.5, 1.5, 6))
        ex._build_figure()
        rows += [row(f"PosteriorExplorer {name}: readout text sent (the first update)", first, first, None, wall_b),
                 row(f"PosteriorExplorer {name} (readout, then density and bars)", wall, cpu, 20, wall_b),
                 row(f"baseline: {name}, new figure drawn every tick", wall_b, cpu_b)]


def bench_gradient(rows):
    """GradientExplorer with 2000 samples per estimator; baseline redraws the whole figure every tick."""
    ex = widgets.GradientExplorer(n=2000)
    n = N_CHANGES + WARMUP
    wall, cpu = latencies(slider_setter(ex.sliders), walk(n, 0.1, 3.0, 7))

    def rebuild(v):
        ex._build_figure()
        ex.mu_slider.value = v

    wall_b, cpu_b = latencies(rebuild, walk(N_BASELINE + WARMUP, 0.1, 3.0, 8))
    rows += [row("GradientExplorer (two histograms of 2000 estimates)", wall, cpu, 20, wall_b),
             row("baseline: GradientExplorer, new figure drawn every tick", wall_b, cpu_b)]


def bench_tradeoff(rows):
    """TradeoffExplorer over 4 untrained β models: a tick swaps four precomputed PNGs."""
    runs = [train.BetaRun(b, models.VAE(**train.DIGITS_MODEL, seed=0).eval(), None, 10.0 / b, 90.0 + b)
            for b in (0.25, 1.0, 4.0, 16.0)]
    t = time.perf_counter()
    ex = widgets.TradeoffExplorer(runs)
    build = time.perf_counter() - t
    betas = ex.betas * ((N_CHANGES + WARMUP) // len(ex.betas) + 1)
    wall, cpu = latencies(lambda b: setattr(ex.slider, "value", b), betas[: N_CHANGES + WARMUP])
    rows.append(row("TradeoffExplorer β change (swap 4 precomputed PNGs)", wall, cpu, 20))
    return build / len(runs)


def main():
    torch.set_grad_enabled(True)
    rows = []
    bench_latent(rows)
    bench_posterior(rows)
    bench_gradient(rows)
    per_beta = bench_tradeoff(rows)
    load = os.getloadavg()[0]
    lines = [
        "## Widgets: slider latency",
        "",
        f"Each row times {N_CHANGES} programmatic slider changes (after {WARMUP} warm-up changes) from "
        "`slider.value = v` to the new PNG bytes being set on the `ipywidgets.Image`, in one process, with "
        "values on a random walk over the slider grid. Wall-clock p50/p95 and the p50 of CPU time of the "
        "calling thread are in ms; the ratio is the baseline's p50 over the row's p50 (LatentExplorer against "
        "a matplotlib figure drawn per tick; plot explorers against rebuilding and drawing their figure per "
        "tick). For the PosteriorExplorer the readout row stops the clock when the readout HTML is set (its "
        "message leaves first; its CPU column repeats the wall time). "
        "LatentExplorer uses the digits recipe architecture (categorical-17, z_dim=16, hidden "
        "(256, 256)), untrained: latency does not depend on the weights. TradeoffExplorer precomputes each "
        f"β's four panels at construction ({per_beta:.2f} s per β). 1-minute load average during the run: "
        f"{load:.1f} on {os.cpu_count()} cores (wall times above the CPU column mean other processes competed).",
        "",
        "| explorer / path | changes | p50 ms | p95 ms | CPU p50 ms | speed-up vs baseline | target p50 ms | met |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
    ]
    write_fragment(OUT.stem, "\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
