"""Run time of every notebook, top to bottom in a fresh kernel, against an empty notebook's run as the baseline."""

import time
from pathlib import Path

import nbformat
from _results import write_fragment
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
LIMIT_S = 60.0


def run(nb, folder: Path) -> float:
    """Execute a notebook in a fresh python3 kernel; seconds of wall time."""
    t0 = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    return time.perf_counter() - t0


def main() -> None:
    """Time each notebook once (and the empty baseline before and after), write results/notebooks.md."""
    folder = ROOT / "notebooks"
    empty = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass")])
    base = [run(empty, folder)]
    rows = []
    for path in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        seconds = run(nbformat.read(path, as_version=4), folder)
        rows.append((path.name, seconds))
        print(f"{path.name}: {seconds:.1f} s", flush=True)
    base.append(run(empty, folder))
    baseline = min(base)
    total = sum(s for _, s in rows)
    lines = [
        "## Notebook run times",
        "",
        "Each notebook executed top to bottom in a fresh kernel with nbclient, one after another in one process. "
        f"Baseline: an empty notebook (kernel start and shutdown only), {baseline:.2f} s. Limit: {LIMIT_S:.0f} s each.",
        "",
        "| notebook | wall time (s) | × empty-notebook baseline | within 60 s |",
        "|---|---:|---:|:---:|",
        *[f"| {name} | {s:.1f} | {s / baseline:.1f}× | {'yes' if s <= LIMIT_S else '**no**'} |" for name, s in rows],
        f"| **all {len(rows)}** | {total:.1f} | {total / baseline:.1f}× "
        f"| {'yes' if total <= 300 else '**no**'} (≤ 300 s) |",
        "",
    ]
    write_fragment("notebooks", "\n".join(lines))


if __name__ == "__main__":
    main()
