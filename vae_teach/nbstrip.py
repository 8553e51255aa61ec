"""The notebooks' commit policy: stripped, except `# NBVAL_CHECK_OUTPUT` cells, which keep output and count.

nbval only compares a cell whose execution count is set, so the cells whose printed text is a regression
check keep their recorded output; every other cell is committed empty.

    python -m vae_teach.nbstrip notebooks/             # strip in place (what `make strip` runs)
    python -m vae_teach.nbstrip --check notebooks/     # list violations, exit 1 if any
    python -m vae_teach.nbstrip --record notebooks/03_elbo.ipynb   # execute, then keep CHECK_OUTPUT outputs
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

MARK = "NBVAL_CHECK_OUTPUT"
TAG = "nbval-check-output"


def _source(cell: dict) -> str:
    """The cell's source as one string (nbformat stores a string or a list of lines)."""
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def is_checked(cell: dict) -> bool:
    """True for a code cell whose output nbval compares (the comment mark or the tag)."""
    return cell.get("cell_type") == "code" and (
        MARK in _source(cell) or TAG in cell.get("metadata", {}).get("tags", [])
    )


def violations(nb: dict) -> list[str]:
    """Every way `nb` (a notebook as JSON) breaks the policy, as readable strings; [] when clean."""
    out = []
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        first = _source(cell).strip().splitlines()[:1] or [""]
        where = f"cell {i} ({first[0][:50]!r})"
        if is_checked(cell):
            if cell.get("execution_count") is None:
                out.append(f"{where} is marked {MARK} but has no recorded output: run `make record`")
        elif cell.get("outputs") or cell.get("execution_count") is not None:
            out.append(f"{where} has outputs or an execution count: run `make strip`")
    if "widgets" in nb.get("metadata", {}):
        out.append("notebook metadata holds saved widget state: run `make strip`")
    return out


def strip(nb: dict) -> dict:
    """Return `nb` stripped by the policy (mutates and returns it)."""
    nb.get("metadata", {}).pop("widgets", None)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
            continue
        cell.get("metadata", {}).pop("execution", None)
        if not is_checked(cell):
            cell["outputs"] = []
            cell["execution_count"] = None
    return nb


def write_atomic(path: Path, nb: dict) -> None:
    """Write JSON to a temp file beside `path`, then rename it into place."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(nb, f, indent=1, ensure_ascii=False)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def record(path: Path, timeout: int = 300) -> dict:
    """Execute the notebook top to bottom in its folder and return it with outputs (nbclient)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    resources = {"metadata": {"path": str(path.parent)}}
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources=resources).execute()
    return json.loads(nbformat.writes(nb))


def notebooks(paths: list[str]) -> list[Path]:
    """Expand folders into their *.ipynb files (checkpoints excluded), sorted."""
    found = []
    for p in map(Path, paths):
        found += sorted(p.glob("*.ipynb")) if p.is_dir() else [p]
    return [f for f in found if ".ipynb_checkpoints" not in f.parts]


def main(argv: list[str] | None = None) -> int:
    """Command line: strip (default), --check, or --record."""
    ap = argparse.ArgumentParser(prog="python -m vae_teach.nbstrip", description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="+")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="report violations, change nothing")
    mode.add_argument("--record", action="store_true", help="execute, then strip keeping CHECK_OUTPUT cells")
    args = ap.parse_args(argv)
    bad = 0
    for path in notebooks(args.paths):
        if args.check:
            for v in violations(json.loads(path.read_text(encoding="utf-8"))):
                print(f"{path}: {v}")
                bad += 1
            continue
        nb = record(path) if args.record else json.loads(path.read_text(encoding="utf-8"))
        before = path.read_text(encoding="utf-8")
        write_atomic(path, strip(nb))
        if path.read_text(encoding="utf-8") != before:
            print(f"{'recorded' if args.record else 'stripped'} {path}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
