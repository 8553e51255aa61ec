"""Where benchmark scripts put what they measured: results/<name>.md fragments, written atomically."""

import os
import tempfile
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def write_atomic(path: Path, text: str) -> Path:
    """Write text to path through a temp file beside it and a rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text if text.endswith("\n") else text + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_fragment(name: str, text: str) -> Path:
    """Write one benchmark's markdown section to results/<name>.md (run_all.py assembles RESULTS.md from them)."""
    return write_atomic(RESULTS / f"{name}.md", text)
