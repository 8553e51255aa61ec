"""Notebook 00's notation table says where each symbol is used, and its prose speaks to learners, not maintainers."""

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START = ROOT / "notebooks" / "00_start_here.ipynb"


def _cells(path):
    return [(c["cell_type"], "".join(c["source"])) for c in json.loads(path.read_text(encoding="utf-8"))["cells"]]


def test_tau_row_names_exactly_the_notebooks_whose_code_uses_tau():
    row = next(line for _, s in _cells(START) for line in s.splitlines() if line.startswith("| $\\tau$"))
    scope = re.search(r"\(notebooks ([^)]*)\)", row)[1]  # "01–04 and 09"
    named = set()
    for a, b in re.findall(r"(\d\d)(?:–(\d\d))?", scope):
        named |= {f"{n:02d}" for n in range(int(a), int(b or a) + 1)}
    users = {p.name[:2] for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
             if p.name[:2] != "00" and any(k == "code" and re.search(r"\btau\b", s) for k, s in _cells(p))}
    assert users and named == users, f"00 says τ is used in notebooks {scope}, the code uses it in {sorted(users)}"


def test_no_maintainer_talk_in_the_learners_first_notebook():
    text = "\n".join(s for k, s in _cells(START) if k == "markdown")
    for phrase in ("make site", "never a count", "The README lists"):
        assert phrase not in text, f"00 still says {phrase!r}"
