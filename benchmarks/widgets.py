"""Explorer costs per slider tick on the new path, against the old kernel-bound path in the same run, and the
state each explorer ships once.

- Page side: the explorers' own ES modules run in node (the per-tick maths the browser does: the decoder's
  forward pass, the quadrature sums, the gradient sampling), timed with performance.now().
- Kernel side: what a tick costs the kernel now (receiving the synced state), against what it cost before
  (decode + PNG, or the exact terms, in Python).

Run: .venv/bin/python benchmarks/widgets.py  -> writes benchmarks/results/widgets.md (this section only).
Key press -> pixels in a real browser is in benchmarks/browser.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _results import write_fragment

from vae_teach import data, explorers, models, toy, train
from vae_teach.explorers import _base
from vae_teach.explorers.latent import mlp_layers

OUT = Path(__file__).resolve().parent / "results" / "widgets.md"
N = 300
WARMUP = 30
MB = 1024 * 1024


def python_ms(fn, values):
    """Wall ms of fn(v) for each v after a warm-up: -> array [n]."""
    for v in values[:WARMUP]:
        fn(v)
    out = []
    for v in values[WARMUP:]:
        t0 = time.perf_counter()
        fn(v)
        out.append((time.perf_counter() - t0) * 1e3)
    return np.array(out)


def node_ms(name: str, names: list[str], setup: str, call: str) -> np.ndarray:
    """Per-call ms of `call` (JS, with i the tick) in node after the explorer's module and `setup`."""
    node = shutil.which("node")
    if node is None:
        return np.array([np.nan])
    src = _base.module_source(name) + f"\nexport {{{', '.join(names)}}};\n"
    body = (f"import {{{', '.join(names)}}} from './mod.mjs';\n{setup}\nconst ms = [];\n"
            f"for (let i = 0; i < {N + WARMUP}; i++) {{ const t0 = performance.now(); {call}; "
            f"if (i >= {WARMUP}) ms.push(performance.now() - t0); }}\nconsole.log(JSON.stringify(ms));")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "mod.mjs").write_text(src)
        (Path(tmp) / "main.mjs").write_text(body)
        out = subprocess.run([node, "main.mjs"], cwd=tmp, capture_output=True, text=True, timeout=300, check=True)
    return np.array(json.loads(out.stdout))


def row(name, ms, baseline=None):
    """One markdown table row: p50 / p95 and the baseline's p50 over this p50."""
    p50, p95 = np.percentile(ms, 50), np.percentile(ms, 95)
    ratio = f"{np.percentile(baseline, 50) / p50:.0f}×" if baseline is not None else "—"
    return f"| {name} | {len(ms)} | {p50:.3f} | {p95:.3f} | {ratio} |"


def walk(n, seed, lo=-3.0, hi=3.0):
    """n slider values on the 0.01 grid."""
    rng = np.random.default_rng(seed)
    return [explorers.snap(v) for v in rng.uniform(lo, hi, n)]


def bench_latent(rows, sizes):
    """LatentExplorer: notebook 08's decoder (2 -> 128 -> 1088) and the digits recipe's (16 -> 512 -> 512 -> 1088)."""
    x, y = data.load_digits("test")
    for label, model in [("notebook 08 model, 2→128→64×17", models.VAE(64, 2, hidden=(128,), seed=0).eval()),
                         ("digits recipe model, 16→512→512→64×17", models.VAE(**train.DIGITS_MODEL, seed=0).eval())]:
        ex = explorers.LatentExplorer(model, x, y)
        sizes.append((f"LatentExplorer, {label}, 447 encoded test images", ex.shipped_bytes()))
        zs = walk(N + WARMUP, 0)
        old = python_ms(lambda v, m=model: explorers.render_decoded(m, [v] + [0.0] * (m.z_dim - 1)), zs)
        shapes, slope, w = mlp_layers(model.decoder)
        z_dim = model.z_dim
        with tempfile.NamedTemporaryFile("wb", suffix=".bin", delete=False) as f:
            f.write(w.numpy().astype("<f4").tobytes())
        setup = (f"import {{readFileSync}} from 'fs'; const b = readFileSync({json.dumps(f.name)});\n"
                 f"const w = new Float32Array(b.buffer, b.byteOffset, b.length / 4); const L = {json.dumps(shapes)};\n"
                 f"let out;")
        page = node_ms("latent", ["forward", "pixelMeans", "toUint8"], setup,
                       f"out = Array.from(pixelMeans(forward(w, L, {slope}, [Math.sin(i) * 2, "
                       f"...new Array({z_dim - 1}).fill(0.3)]), 'categorical', 17, 64), toUint8)")
        os.unlink(f.name)
        kernel = python_ms(lambda v, e=ex: e.set_state({"latent": [v] + [0.0] * (e.z_dim - 1)}), zs)
        rows += [row(f"LatentExplorer, {label}: page decode + 8-bit pixels (JS, node)", page, old),
                 row(f"LatentExplorer, {label}: kernel work per tick now (state sync only)", kernel, old),
                 row(f"baseline: {label}, old kernel path (decode_mean + PNG)", old)]


def bench_posterior(rows, sizes):
    """PosteriorExplorer 1-D: trapezoid sums over the tabulated log joint (JS) vs Gauss–Hermite in Python."""
    ex = explorers.PosteriorExplorer(toy.Nonlinear1D(), 2.0)
    W = torch.tensor([[1.0, 0.5], [0.3, 1.0], [0.8, -0.6]], dtype=torch.float64)
    ex2 = explorers.PosteriorExplorer(toy.LinearGaussian(W, torch.zeros(3, dtype=torch.float64), 0.7), [1, 0.5, -0.3])
    sizes += [("PosteriorExplorer, Nonlinear1D (x = 2)", ex.shipped_bytes()),
              ("PosteriorExplorer, 2-D LinearGaussian", ex2.shipped_bytes())]
    ms = walk(N + WARMUP, 1, -3, 3)
    old = python_ms(lambda v: ex.terms((v,), (-0.5,)), ms)
    lj = np.frombuffer(ex.log_joint, "<f8")
    with tempfile.NamedTemporaryFile("wb", suffix=".bin", delete=False) as f:
        f.write(lj.tobytes())
    setup = (f"import {{readFileSync}} from 'fs'; const b = readFileSync({json.dumps(f.name)});\n"
             f"const lj = new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)); let t;")
    page = node_ms("posterior", ["terms1d"], setup,
                   f"t = terms1d(lj, {ex.grid[0]}, {ex.grid[1]}, Math.sin(i) * 3, -0.5)")
    os.unlink(f.name)
    rows += [row(f"PosteriorExplorer 1-D: page readout, {len(lj)}-point trapezoid sums (JS, node)", page, old),
             row("baseline: PosteriorExplorer 1-D, Python exact terms (80-node Gauss–Hermite)", old)]


def bench_gradient(rows, sizes):
    """GradientExplorer: 2000 estimates of each kind by Hermite interpolation (JS) vs autograd sampling in Python."""
    ex = explorers.GradientExplorer(f=torch.sin, n=2000)
    sizes.append(("GradientExplorer, n = 2000, f = sin", ex.shipped_bytes()))
    vals = walk(N // 3 + WARMUP, 2)
    old = python_ms(lambda v: (ex.samples(v, 0.5), explorers.gradient.gradients.true_gradient(torch.sin, v, 0.5)),
                    vals)
    tab, eps = np.frombuffer(ex.table, "<f8"), np.frombuffer(ex.eps, "<f8")
    with tempfile.NamedTemporaryFile("wb", suffix=".bin", delete=False) as f:
        f.write(tab.tobytes() + eps.tobytes())
    m = len(tab) // 3
    setup = (f"import {{readFileSync}} from 'fs'; const b = readFileSync({json.dumps(f.name)});\n"
             f"const a = new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));\n"
             f"const f = a.subarray(0, {m}), f1 = a.subarray({m}, {2 * m}), f2 = a.subarray({2 * m}, {3 * m}), "
             f"eps = a.subarray({3 * m}); let s;")
    call = (f"s = 0; for (let k = 0; k < eps.length; k++) {{ const z = Math.sin(i) * 3 + 0.5 * eps[k]; "
            f"s += hermite(f1, f2, {ex.table_grid[0]}, {ex.table_grid[1]}, z) + "
            f"hermite(f, f1, {ex.table_grid[0]}, {ex.table_grid[1]}, z) * eps[k] / 0.5; }}")
    page = node_ms("gradient", ["hermite"], setup, call)
    os.unlink(f.name)
    rows += [row("GradientExplorer: page estimates, 2 × 2000 samples (JS, node; histograms not included)", page, old),
             row("baseline: GradientExplorer, Python autograd samples + exact gradient", old)]


def bench_tradeoff(sizes):
    """TradeoffExplorer over notebook 07's 8 β values (untrained models of its size: the PNGs are what ships)."""
    runs = [train.BetaRun(b, models.VAE(64, 8, hidden=(64,), seed=i).eval(), None, 10.0 / (1 + b), 90.0 + b)
            for i, b in enumerate([0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0])]
    ex = explorers.TradeoffExplorer(runs)
    sizes.append(("TradeoffExplorer, 8 β (notebook 07's sweep size)", ex.shipped_bytes()))


def main():
    torch.set_num_threads(1)
    rows, sizes = [], []
    bench_latent(rows, sizes)
    bench_posterior(rows, sizes)
    bench_gradient(rows, sizes)
    bench_tradeoff(sizes)
    load = os.getloadavg()[0]
    lines = [
        "## Widgets: per-tick cost on the new path, and shipped state",
        "",
        "The explorers compute in the browser. Each row times one slider tick's work, "
        f"{N} ticks after {WARMUP} warm-up ones (the gradient rows {N // 3}), in ms. Page rows run the explorers' "
        "own ES modules in node (the same code the browser runs; drawing to the canvas is not included, see the "
        "browser section for key → pixels). Kernel rows time what a tick costs the kernel now: receiving the "
        "synced state. The baselines are the old kernel-bound path, timed in the same run; the ratio is the "
        "baseline's p50 over the row's. One torch thread. "
        f"1-minute load average during the run: {load:.1f} on {os.cpu_count()} cores.",
        "",
        "| explorer / path | ticks | p50 ms | p95 ms | speed-up vs old path |",
        "|---|---:|---:|---:|---:|",
        *rows,
        "",
        "State shipped once per explorer (bytes traits raw, the rest as JSON; the static text/html copy carries "
        "it as base64, a third more). Budget: 1.5 MB.",
        "",
        "| explorer | shipped | under 1.5 MB |",
        "|---|---:|---|",
        *[f"| {name} | {b / 1024:.0f} KB | {'yes' if b < 1.5 * MB else '**no**'} |" for name, b in sizes],
        "",
    ]
    write_fragment(OUT.stem, "\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
