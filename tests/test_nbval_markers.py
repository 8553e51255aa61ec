"""The course's checked outputs are really checked: nbval must see every `# NBVAL_CHECK_OUTPUT` marker.

nbval honours a marker only on a comment line of its own (nbval.plugin.find_comment_markers); a trailing
`print(x)  # NBVAL_CHECK_OUTPUT` is silently ignored, and under --nbval-lax that cell's recorded output is then
never compared. nbval's own parser is the oracle here. Exercise cells carry no marker: their verdict is a
checker's message (and the Chinese edition prints it in Chinese), not one of the course's results.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from nbval.plugin import find_comment_markers

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")) + sorted(
    (ROOT / "notebooks" / "zh").glob("[0-9][0-9]_*.ipynb"))
MARK = "NBVAL_CHECK_OUTPUT"


def nbval_checks(source: str) -> bool:
    """True when nbval compares this cell's output under --nbval-lax."""
    return ("check", True) in set(find_comment_markers(source))


def marker_problems(cells: list[dict], name: str) -> list[str]:
    """One line per code cell that names the marker where nbval does not see it, or marks an exercise."""
    out = []
    for i, cell in enumerate(cells):
        source = "".join(cell.get("source", ""))
        if cell.get("cell_type") != "code" or MARK not in source:
            continue
        if not nbval_checks(source):
            out.append(f"{name} cell {i}: '{MARK}' is not on a comment line of its own, so nbval ignores it")
        if "exercises.check_" in source:
            out.append(f"{name} cell {i}: an exercise cell is marked {MARK}; its verdict is not a course result")
    return out


def test_nbval_ignores_a_trailing_marker():
    # the oracle itself: this is why the markers stand on their own line
    assert not nbval_checks("print(1)  # NBVAL_CHECK_OUTPUT")
    assert nbval_checks("# check: something\n# NBVAL_CHECK_OUTPUT\nprint(1)")


def test_marker_problems_names_each_kind():
    cells = [{"cell_type": "code", "source": "print(1)  # NBVAL_CHECK_OUTPUT"},
             {"cell_type": "code", "source": "# NBVAL_CHECK_OUTPUT\nexercises.check_warmup(f)"},
             {"cell_type": "code", "source": "# NBVAL_CHECK_OUTPUT\nprint(2)"},
             {"cell_type": "markdown", "source": "NBVAL_CHECK_OUTPUT in prose"}]
    found = marker_problems(cells, "nb")
    assert len(found) == 2 and "cell 0" in found[0] and "own" in found[0] and "cell 1" in found[1], found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT / "notebooks").as_posix())
def test_every_marker_is_one_nbval_reads(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    found = marker_problems(cells, path.name)
    assert not found, "\n".join(found)
    assert any(nbval_checks("".join(c["source"])) for c in cells if c["cell_type"] == "code"), \
        f"{path.name}: no cell's output is checked by nbval"


def _one_cell_notebook(path: Path, source: str, recorded: str) -> None:
    cell = {"cell_type": "code", "execution_count": 1, "id": "c1", "metadata": {}, "source": source,
            "outputs": [{"name": "stdout", "output_type": "stream", "text": recorded}]}
    nb = {"cells": [cell], "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                        "language": "python"}}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb), encoding="utf-8")


def test_nbval_under_the_course_options_fails_a_wrong_recorded_output(tmp_path):
    # end to end, with the options pyproject.toml gives: a whole-line marker is compared, a trailing one is not
    _one_cell_notebook(tmp_path / "whole.ipynb", "# NBVAL_CHECK_OUTPUT\nprint(1)", "2\n")
    _one_cell_notebook(tmp_path / "trailing.ipynb", "print(1)  # NBVAL_CHECK_OUTPUT", "2\n")
    args = ["--nbval-lax", "--nbval-current-env", "-p", "no:cacheprovider", "-q", "-c", "/dev/null",
            "--rootdir", str(tmp_path), "whole.ipynb", "trailing.ipynb"]
    run = subprocess.run([sys.executable, "-m", "pytest", *args],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert "1 failed, 1 passed" in run.stdout, run.stdout[-2000:]
    assert "whole.ipynb" in run.stdout.split("short test summary")[-1], run.stdout[-2000:]
