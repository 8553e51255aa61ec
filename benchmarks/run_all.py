"""Run every benchmark script, then assemble benchmarks/RESULTS.md from their result fragments (never by hand)."""

import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path

import torch
from _results import write_atomic

HERE = Path(__file__).resolve().parent
ORDER = ["training", "quality", "widgets", "browser", "notebooks", "paper"]  # sections in this order, then any others


def machine() -> list[str]:
    """The machine facts at the top of RESULTS.md."""
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor() or "unknown")
    return [
        f"- date: {datetime.date.today().isoformat()}",
        f"- cores: {os.cpu_count()} ({cpu}); torch threads: {torch.get_num_threads()}",
        f"- python {platform.python_version()}, torch {torch.__version__}, {platform.system()} {platform.machine()}",
    ]


def main(argv: list[str]) -> int:
    """Run each benchmarks/*.py (or only those named), then write RESULTS.md atomically."""
    scripts = sorted(p for p in HERE.glob("*.py") if p.name != Path(__file__).name and not p.name.startswith("_"))
    if argv:
        scripts = [p for p in scripts if p.stem in argv]
    failed = []
    for script in scripts:
        print(f"== {script.name}", flush=True)
        if subprocess.run([sys.executable, str(script)], cwd=HERE.parent).returncode != 0:
            failed.append(script.name)
    fragments = sorted((HERE / "results").glob("*.md"),
                       key=lambda p: (ORDER.index(p.stem) if p.stem in ORDER else len(ORDER), p.stem))
    parts = ["# Benchmark results", "", "Written by `make bench` (benchmarks/run_all.py) from the fragments in "
             "benchmarks/results/; do not edit by hand. The browser section comes from benchmarks/browser.py, "
             "which runs tests/browser.", "",
             "## Machine", "", *machine(), ""]
    for frag in fragments:
        parts += [frag.read_text(encoding="utf-8").rstrip(), ""]
    out = write_atomic(HERE / "RESULTS.md", "\n".join(parts))
    print(f"wrote {out}" + (f"; FAILED: {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
