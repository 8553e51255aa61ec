"""README.zh-CN.md: the two commands, troubleshooting, links both ways, and a notebook map in step with the course.

Minutes come from the zh notebook's title cell where a zh twin exists, and from the English README otherwise;
the question from the zh title cell, or from zh/00's map while the notebook is not translated yet.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README, README_ZH = ROOT / "README.md", ROOT / "README.zh-CN.md"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ZH = ROOT / "notebooks" / "zh"
ZH_TIME = re.compile(r"\*\*时长：\*\* 约 (\d+) 分钟")
ZH_DEEPER = re.compile(r"^## 深入一步（选读，约 (\d+) 分钟）$", re.M)


def _rows(text, folder_pattern):
    rows = {}
    for line in text.splitlines():
        m = re.match(rf"^\|\s*\[[^\]]*\]\(({folder_pattern}(\d\d_\w+\.ipynb))\)", line)
        if m:
            rows[m[2]] = (m[1], [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))])
    return rows


def _md(path):
    return ["".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
            if c["cell_type"] == "markdown"]


def _plain(text):
    for a, b in (("\\phi", "φ"), ("\\theta", "θ"), ("\\|", "|"), ("$", ""), ("\\", ""), ("{", ""), ("}", "")):
        text = text.replace(a, b)
    return " ".join(text.split())


ZH_ROWS = _rows(README_ZH.read_text(encoding="utf-8"), r"notebooks/(?:zh/)?")
EN_ROWS = _rows(README.read_text(encoding="utf-8"), r"notebooks/")


def test_each_readme_links_the_other_on_its_first_lines():
    assert "](README.zh-CN.md)" in "\n".join(README.read_text(encoding="utf-8").splitlines()[:4])
    assert "](README.md)" in "\n".join(README_ZH.read_text(encoding="utf-8").splitlines()[:4])


def test_the_two_commands_and_troubleshooting():
    text = README_ZH.read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert block and re.search(r"^make lab\b", block[1], re.M) and re.search(r"^make test\b", block[1], re.M)
    assert "## 常见问题" in text and text.count("\n- **") >= 5


def test_map_lists_every_notebook_in_order():
    assert list(ZH_ROWS) == [p.name for p in NOTEBOOKS], f"README.zh-CN.md map: {list(ZH_ROWS)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_map_row_links_minutes_and_question(path):
    link, cols = ZH_ROWS[path.name]
    twin = ZH / path.name
    assert len(cols) == 4, cols
    if twin.exists():
        assert link == f"notebooks/zh/{path.name}", f"{path.name}: link the Chinese twin"
        title = _md(twin)[0]
        stated = ZH_TIME.search(title)
        deeper = [m for c in _md(twin) for m in ZH_DEEPER.findall(c)]
        want = (f"{stated[1]} 分钟" if stated else None, f"{deeper[0]} 分钟" if deeper else "—")
        question = title.splitlines()[0].split(" · ", 1)[1]
    else:
        assert link == f"notebooks/{path.name}", f"{path.name}: no zh twin yet, so link the English notebook"
        en = EN_ROWS[path.name][1]
        want = tuple(re.sub(r"^(\d+) min$", r"\1 分钟", c) for c in en[2:4])
        zh00 = "\n".join(_md(ZH / "00_start_here.ipynb"))
        m = re.search(rf"^\| \[{path.name[:2]}\]\([^)]*\) \| (.+?) \|$", zh00, re.M)
        question = m[1] if m else None
    assert tuple(cols[2:4]) == want, f"{path.name}: README.zh-CN.md says {cols[2:4]}, the course says {want}"
    assert question and _plain(question) == _plain(cols[1]), (
        f"{path.name}: README.zh-CN.md asks {cols[1]!r}, the notebooks ask {question!r}")
