"""The notebooks' commit policy: stripped, except `# NBVAL_CHECK_OUTPUT` cells, which keep output and count.

nbval only compares a cell whose execution count is set, so the cells whose printed text is a regression
check keep their recorded output; every other cell is committed empty.

    python tools/nbstrip.py notebooks/             # strip in place (what `make strip` runs)
    python tools/nbstrip.py --check notebooks/     # list violations, exit 1 if any
    python tools/nbstrip.py --record notebooks/03_elbo.ipynb   # execute, then keep CHECK_OUTPUT outputs

Nothing is lost: every file is read and validated before any is written (a malformed, empty or non-UTF-8
notebook, or a read-only one, stops the run with its name and the problem, exit 2); a file that changed on
disk while nbstrip ran (a save during `--record`) is not overwritten; an already-clean file is not rewritten;
a symlink's target is stripped and the link kept; writes are atomic and keep the file's mode.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from vae_teach import atomic

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


class NotebookError(ValueError):
    """A notebook nbstrip cannot use: missing, empty, not UTF-8, not JSON, not a notebook, or read-only."""


@dataclass
class Loaded:
    """A notebook as read: its path, text, JSON and a stamp (mtime, size, SHA-256) to detect later saves."""

    path: Path
    text: str
    nb: dict
    stamp: tuple


def _stamp(path: Path) -> tuple[tuple, bytes]:
    """(mtime_ns, size, sha256) of the file behind `path`, and its bytes."""
    raw = path.read_bytes()
    st = path.stat()
    return (st.st_mtime_ns, st.st_size, hashlib.sha256(raw).hexdigest()), raw


def _decode(path: Path, raw: bytes) -> tuple[str, dict]:
    """The text and JSON of a notebook file; NotebookError naming the file and the problem."""
    if not raw.strip():
        raise NotebookError(f"{path}: the file is empty ({len(raw)} bytes), not a notebook")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise NotebookError(f"{path}: not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start})") from None
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as e:
        raise NotebookError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise NotebookError(f"{path}: not a notebook (expected a JSON object with a 'cells' list)")
    odd = [i for i, c in enumerate(nb["cells"]) if not isinstance(c, dict)]
    if odd:
        raise NotebookError(f"{path}: not a notebook (cell {odd[0]} is not a JSON object)")
    return text, nb


def load(path: Path, writing: bool) -> Loaded:
    """Read and validate one notebook (and, when `writing`, that it may be rewritten): -> Loaded."""
    if path.is_symlink() and not path.exists():
        raise NotebookError(f"{path}: a symlink to a missing file")
    if not path.exists():
        raise NotebookError(f"{path}: no such file")
    if not path.is_file():
        raise NotebookError(f"{path}: not a regular file")
    stamp, raw = _stamp(path)
    text, nb = _decode(path, raw)
    mode = path.stat().st_mode
    if writing and (not mode & stat.S_IWUSR or not os.access(path, os.W_OK)):
        raise NotebookError(f"{path}: read-only (mode {stat.S_IMODE(mode):04o}); nbstrip leaves read-only files "
                            "alone: make it writable (chmod u+w) to strip it")
    return Loaded(path, text, nb, stamp)


def dumps(nb: dict) -> str:
    """The notebook as the course commits it: JSON, indent 1, UTF-8 characters kept, a final newline."""
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def write_atomic(path: Path, nb: dict) -> None:
    """Write the notebook to `path` atomically (vae_teach.atomic: temp beside it, fsync, rename, mode kept)."""
    atomic.write_text(path, dumps(nb))


def save_if_unchanged(item: Loaded, nb: dict) -> bool:
    """Write `nb` over item.path unless the file changed since it was read (then say so): True when written."""
    now, _ = _stamp(item.path)
    if now != item.stamp:
        print(f"{item.path}: changed on disk since nbstrip read it (saved while it ran?); not overwritten, "
              "so that save is kept. Run nbstrip again.", file=sys.stderr)
        return False
    write_atomic(item.path, nb)
    return True


def record(path: Path, text: str | None = None, timeout: int = 300) -> dict:
    """Execute the notebook top to bottom in its folder and return it with outputs (nbclient)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.reads(text, as_version=4) if text is not None else nbformat.read(path, as_version=4)
    resources = {"metadata": {"path": str(path.parent)}}
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources=resources).execute()
    return json.loads(nbformat.writes(nb))


def notebooks(paths: list[str]) -> list[Path]:
    """Expand folders into their *.ipynb files (checkpoints excluded), sorted; each file once."""
    found, seen = [], set()
    for p in map(Path, paths):
        for f in sorted(p.glob("*.ipynb")) if p.is_dir() else [p]:
            key = os.path.realpath(f)
            if ".ipynb_checkpoints" not in f.parts and key not in seen:
                seen.add(key)
                found.append(f)
    return found


def load_all(paths: list[Path], writing: bool) -> list[Loaded] | None:
    """Validate every notebook before any is written: the loaded list, or None after printing every problem."""
    loaded, problems = [], []
    for path in paths:
        try:
            loaded.append(load(path, writing))
        except (NotebookError, OSError) as e:
            problems.append(str(e))
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"nothing was written: fix the {len(problems)} file(s) above first", file=sys.stderr)
        return None
    return loaded


def _process(item: Loaded, recording: bool) -> bool:
    """Strip (or execute, then strip) one notebook and write it back if it changed: False if refused or failed."""
    if recording:
        try:
            nb = record(item.path, item.text)
        except Exception as e:  # a failing cell: say which notebook (with nbclient's cell and traceback), keep the file
            print(f"{item.path}: not recorded, running it failed: {type(e).__name__}: {e}", file=sys.stderr)
            return False
    else:
        nb = copy.deepcopy(item.nb)
    nb = strip(nb)
    if nb == item.nb:
        return True  # already clean: not rewritten, its mtime kept
    if not save_if_unchanged(item, nb):
        return False
    print(f"{'recorded' if recording else 'stripped'} {item.path}")
    return True


def main(argv: list[str] | None = None) -> int:
    """Command line: strip (default), --check, or --record; exit 0 clean, 1 violations or refusals, 2 bad files."""
    ap = argparse.ArgumentParser(prog="python tools/nbstrip.py", description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="+")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="report violations, change nothing")
    mode.add_argument("--record", action="store_true", help="execute, then strip keeping CHECK_OUTPUT cells")
    args = ap.parse_args(argv)
    loaded = load_all(notebooks(args.paths), writing=not args.check)
    if loaded is None:
        return 2
    if args.check:
        bad = [f"{item.path}: {v}" for item in loaded for v in violations(item.nb)]
        for line in bad:
            print(line)
        return 1 if bad else 0
    ok = [_process(item, args.record) for item in loaded]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
