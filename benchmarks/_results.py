"""Where benchmark scripts put what they measured: results/<name>.md fragments, written atomically."""

from pathlib import Path

from vae_teach import atomic

RESULTS = Path(__file__).resolve().parent / "results"


def write_atomic(path: Path, text: str) -> Path:
    """Write text to path through a temp file beside it and a rename (vae_teach.atomic: fsync, normal mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic.write_text(path, text if text.endswith("\n") else text + "\n")


def write_fragment(name: str, text: str) -> Path:
    """Write one benchmark's markdown section to results/<name>.md (run_all.py assembles RESULTS.md from them)."""
    return write_atomic(RESULTS / f"{name}.md", text)
