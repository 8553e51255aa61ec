"""The course's shape: stripped notebooks, the notebook skeleton, the README map, and a side-effect-free package."""

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tools import nbstrip

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _cells(path):
    """The notebook's cells as dicts with 'source' joined into one string."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [dict(c, source="".join(c["source"]) if isinstance(c["source"], list) else c["source"]) for c in nb["cells"]]


def test_series_exists_and_is_numbered_from_00():
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert numbers and numbers == list(range(len(numbers))), f"need 00, 01, ... with no gaps: {numbers}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stripped_by_policy(path):
    problems = nbstrip.violations(json.loads(path.read_text(encoding="utf-8")))
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_title_names_its_question(path):
    first = _cells(path)[0]
    assert first["cell_type"] == "markdown", f"{path.name}: the first cell must be the markdown title cell"
    title = first["source"].splitlines()[0]
    assert re.fullmatch(rf"# {path.name[:2]} · .+\?", title), (
        f"{path.name}: the first line must be '# {path.name[:2]} · <the question it answers>?', got {title!r}"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_title_cell_has_the_skeleton_strings(path):
    title = _cells(path)[0]["source"]
    for words in ("**Short answer.**", "**In this notebook you will:**", "**Before this:**"):
        assert words in title, f"{path.name}: the title cell needs the exact words {words!r}"
    before = next(line for line in title.splitlines() if "**Before this:**" in line)
    assert re.search(r"\*\*Time:\*\* about \d+ minutes", before), (
        f"{path.name}: the '**Before this:**' line must end with '**Time:** about N minutes', got {before!r}"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_ends_with_link_to_next(path):
    last = _cells(path)[-1]
    i = NOTEBOOKS.index(path)
    target = NOTEBOOKS[i + 1].name if i + 1 < len(NOTEBOOKS) else NOTEBOOKS[0].name
    assert last["cell_type"] == "markdown" and f"]({target})" in last["source"], (
        f"{path.name}: the last cell must be markdown with a link to {target}"
    )
    if i + 1 < len(NOTEBOOKS):
        assert re.search(rf"\[Next: [^\]]+\]\({re.escape(target)}\)", last["source"]), (
            f"{path.name}: the last cell's link must read '[Next: …]({target})'"
        )


@pytest.mark.parametrize("path", NOTEBOOKS[1:], ids=lambda p: p.name)
def test_numbered_notebook_has_checks_exercises_summary_references(path):
    cells = _cells(path)
    code = [c["source"] for c in cells if c["cell_type"] == "code"]
    checks = [s for s in code if s.lstrip().startswith("# check:")]
    assert checks and all("assert " in s for s in checks), f"{path.name}: needs '# check:' cells, each with an assert"
    assert any("exercises.check_" in s for s in code), f"{path.name}: needs a 'Try it' exercise with a checker"


# --- the skeleton: one set of words and one order for every notebook (TEAM.md, issue 11 item 7) -----------------
GOING_DEEPER = re.compile(r"## Going deeper \(optional, about (\d+) min\)")
FIXED_HEADINGS = ("## Try it", "## Summary", "## References")


def _headings(path):
    """Every level-2 heading as (cell index, text), in order; '##' inside code fences is ignored."""
    out = []
    for i, c in enumerate(_cells(path)):
        if c["cell_type"] != "markdown":
            continue
        text = re.sub(r"```.*?```", "", c["source"], flags=re.S)
        out += [(i, line.rstrip()) for line in text.splitlines() if re.match(r"##(?!#)", line)]
    return out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_sections_follow_the_skeleton(path):
    heads = _headings(path)
    kinds = []
    for i, h in heads:
        numbered = re.fullmatch(r"## (\d+) · \S.*", h)
        if numbered:
            kinds.append(("section", int(numbered[1])))
        elif GOING_DEEPER.fullmatch(h):
            kinds.append(("deeper", 0))
        elif h in FIXED_HEADINGS:
            kinds.append((h, 0))
        else:
            pytest.fail(f"{path.name} cell {i}: heading {h!r} is none of '## N · Title', "
                        f"'## Going deeper (optional, about M min)', {', '.join(map(repr, FIXED_HEADINGS))}")
    numbers = [n for k, n in kinds if k == "section"]
    assert numbers == list(range(1, len(numbers) + 1)), f"{path.name}: sections must be numbered 1, 2, …: {numbers}"
    order = [k for k, _ in kinds if k != "section"]
    expected = (["deeper"] if "deeper" in order else []) + [h for h in FIXED_HEADINGS if h in order]
    assert order == expected, f"{path.name}: after the numbered sections the order is {expected}, got {order}"
    for h in FIXED_HEADINGS[path.name[:2] == "00":]:  # 00 has no exercises
        assert h in order, f"{path.name}: missing the heading {h!r}"
    last_section = max((j for j, (k, _) in enumerate(kinds) if k == "section"), default=-1)
    assert all(k != "section" for k, _ in kinds[last_section + 1:]) and (
        last_section < 0 or all(k == "section" for k, _ in kinds[:last_section + 1])
    ), f"{path.name}: the numbered sections come first, then Going deeper, Try it, Summary, References"


SETUP_TAIL = (
    "SEED = 0",
    "gen = torch.Generator().manual_seed(SEED)",
    "torch.set_num_threads(1)",
)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_one_canonical_setup_cell(path):
    cells = _cells(path)
    setup = cells[1]
    lines = [line for line in setup["source"].splitlines() if line.strip()]
    assert setup["cell_type"] == "code" and lines and lines[0] in ("%matplotlib inline", "%matplotlib widget"), (
        f"{path.name}: cell 1 must be the setup cell and start with '%matplotlib inline'"
    )
    positions = []
    for start in SETUP_TAIL:
        hit = [j for j, line in enumerate(lines) if line.startswith(start)]
        assert hit, f"{path.name}: the setup cell (cell 1) needs a line starting {start!r}"
        positions.append(hit[0])
    assert positions == sorted(positions), f"{path.name}: the setup cell ends with {SETUP_TAIL} in that order"
    imports = [j for j, line in enumerate(lines) if re.match(r"(import|from) \S", line)]
    assert imports and max(imports) < positions[0], f"{path.name}: every import of the setup cell comes before SEED"
    if "import math" in setup["source"]:
        assert lines[1] == "import math", f"{path.name}: the setup cell's order is %matplotlib, import math, …"
    for j, c in enumerate(cells[2:], start=2):
        if c["cell_type"] == "code":
            assert not re.search(r"^SEED\s*=|^%matplotlib", c["source"], re.M), (
                f"{path.name} cell {j}: SEED and %matplotlib belong to the setup cell only"
            )


MAX_CODE_LINES = 30


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_cells_are_short(path):
    long = [(i, len(c["source"].rstrip().splitlines())) for i, c in enumerate(_cells(path))
            if c["cell_type"] == "code" and len(c["source"].rstrip().splitlines()) > MAX_CODE_LINES]
    assert not long, f"{path.name}: code cells over {MAX_CODE_LINES} lines (cell, lines): {long}"


PLOTTING = re.compile(r"\bplt\.|\.imshow\(|\.plot\(|\.scatter\(|\.set_title\(|\.subplots\(|\bFigure\(")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_plotting_functions_defined_in_notebooks(path):
    for i, c in enumerate(_cells(path)):
        if c["cell_type"] != "code":
            continue
        src = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in c["source"].splitlines())
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                body = ast.get_source_segment(src, node) or ""
                name = getattr(node, "name", "lambda")
                assert not re.match(r"(show|plot|draw)_", name) and not PLOTTING.search(body), (
                    f"{path.name} cell {i}: '{name}' draws a figure; plotting helpers live in vae_teach.plots"
                )


GREY_MAPS = {"gray", "grey", "Greys", "Greys_r", "binary", "binary_r", "gist_gray", "gist_yarg", "bone", "gray_r"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_one_colour_map_for_digit_images(path):
    for i, c in enumerate(_cells(path)):
        if c["cell_type"] != "code":
            continue
        for cmap in re.findall(r"cmap\s*=\s*[\"']([\w]+)[\"']", c["source"]):
            assert cmap not in GREY_MAPS - {"gray_r"}, (
                f"{path.name} cell {i}: digit images use cmap='gray_r', not {cmap!r}"
            )
        for call in re.finditer(r"\.imshow\((.*?)\)\s*$", c["source"], re.M):
            if re.search(r"image_grid|images|digits|recon|samples|draws", call[1]):
                assert re.search(r"cmap\s*=\s*[\"']gray_r[\"']", call[1]), (
                    f"{path.name} cell {i}: a digit image shown without cmap='gray_r': {call[0][:80]!r}"
                )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_explorers_are_shown_as_the_last_line_of_a_cell(path):
    for i, c in enumerate(_cells(path)):
        if c["cell_type"] == "code":
            assert not re.search(r"display\([^)]*(explorer|\.widget\b)", c["source"], re.I), (
                f"{path.name} cell {i}: show an explorer as the last line of its cell, not through display(…)"
            )


def _words(markdown):
    """Words as a reader meets them: whitespace-separated tokens, display maths and table rules left out."""
    text = re.sub(r"\$\$.*?\$\$", " ", markdown, flags=re.S)
    tokens = text.split()
    return sum(1 for t in tokens if re.search(r"[^\W_]", t))


def main_path_words(path):
    """Words in the markdown before 'Going deeper' (or before 'Try it' when there is no Going deeper)."""
    total = 0
    for c in _cells(path):
        if c["cell_type"] != "markdown":
            continue
        stop = re.search(r"^## (Going deeper|Try it|Summary)\b", c["source"], re.M)
        total += _words(c["source"][: stop.start()] if stop else c["source"])
        if stop:
            break
    return total


WORD_BUDGET = {"00": 900}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_main_path_is_short(path):
    budget = WORD_BUDGET.get(path.name[:2], 1300)
    words = main_path_words(path)
    assert words <= budget, f"{path.name}: {words} words of markdown before Going deeper, budget {budget}"


def _plain(text):
    """Text with LaTeX and markdown escapes folded away, for comparing a title with the README."""
    for a, b in (("\\phi", "φ"), ("\\theta", "θ"), ("\\|", "|"), ("$", ""), ("\\", ""), ("{", ""), ("}", "")):
        text = text.replace(a, b)
    return " ".join(text.split())


# the target: the main path of 01–08 in at most 3.5 h (210 min). The README's claims sum to 200 after the
# main paths were cut (material moved into Going deeper); whether a fresh reader's time lands within 20 % of them is
# measured by a reader, not here. Never raise this above the target: shorten the main path instead.
MAIN_PATH_MINUTES_01_08 = 210


def _readme_rows():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = {}
    for line in readme.splitlines():
        m = re.match(r"^\|\s*\[[^\]]*\]\(notebooks/(\d\d_[\w]+\.ipynb)\)", line)
        if m:
            rows[m[1]] = [col.strip() for col in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
    return readme, rows


def test_readme_map_lists_exactly_the_notebooks_in_order():
    readme, rows = _readme_rows()
    listed = re.findall(r"^\|\s*\[[^\]]*\]\(notebooks/(\d\d_[\w]+\.ipynb)\)", readme, re.M)
    assert listed == [p.name for p in NOTEBOOKS], f"README map lists {listed}, folder has {[p.name for p in NOTEBOOKS]}"
    for p in NOTEBOOKS:  # the map's question matches the notebook's title
        question = _cells(p)[0]["source"].splitlines()[0].split(" · ", 1)[1]
        row = next(line for line in readme.splitlines() if f"(notebooks/{p.name})" in line)
        assert _plain(question) in _plain(row), f"README row for {p.name} should quote its title question {question!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_readme_minutes_are_the_notebooks_minutes(path):
    cols = _readme_rows()[1][path.name]
    assert len(cols) == 4, f"README row for {path.name}: notebook | question | main path | going deeper, got {cols}"
    main, deeper = cols[2], cols[3]
    stated = re.search(r"\*\*Time:\*\* about (\d+) minutes", _cells(path)[0]["source"])
    assert stated and main == f"{stated[1]} min", (
        f"{path.name}: README says {main!r} for the main path, the title cell says {stated[0] if stated else None!r}"
    )
    gd = [m[1] for m in (GOING_DEEPER.fullmatch(h) for _, h in _headings(path)) if m]
    want = f"{gd[0]} min" if gd else "—"
    assert deeper == want, f"{path.name}: README's going-deeper column says {deeper!r}, the notebook says {want!r}"


def test_readme_main_path_of_01_to_08_fits_the_budget():
    rows = _readme_rows()[1]
    total = sum(int(re.match(r"(\d+) min", rows[p.name][2])[1]) for p in NOTEBOOKS if "01" <= p.name[:2] <= "08")
    assert total <= MAIN_PATH_MINUTES_01_08, (
        f"the main path of 01–08 takes {total} min by the README, budget {MAIN_PATH_MINUTES_01_08}"
    )


def test_no_sys_path_edits_anywhere():
    offenders = []
    for f in [*ROOT.glob("vae_teach/**/*.py"), *ROOT.glob("tests/**/*.py"), *ROOT.glob("benchmarks/*.py"), *NOTEBOOKS]:
        if f.name == Path(__file__).name:
            continue
        if re.search(r"sys\.path\.(insert|append)|sys\.path\s*[+]?=", f.read_text(encoding="utf-8")):
            offenders.append(str(f.relative_to(ROOT)))
    assert not offenders, f"edit sys.path nowhere; install the package instead: {offenders}"


def test_importing_the_package_has_no_side_effects():
    modules = sorted(p.stem for p in (ROOT / "vae_teach").glob("*.py") if p.stem not in {"__init__", "__main__"})
    code = (
        "import torch, random, numpy as np\n"
        "torch.manual_seed(7); random.seed(7); np.random.seed(7)\n"
        "a = (torch.rand(1).item(), random.random(), np.random.rand())\n"
        "torch.manual_seed(7); random.seed(7); np.random.seed(7)\n"
        "import vae_teach, vae_teach.exercises\n"
        + "".join(f"import vae_teach.{m}\n" for m in modules)
        + "b = (torch.rand(1).item(), random.random(), np.random.rand())\n"
        "assert a == b, 'importing vae_teach changed a global random state'\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "", f"importing vae_teach printed {out.stdout!r}"


def test_a_failing_notebook_cell_fails_pytest(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("1 / 0")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "broken.ipynb")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--nbval-lax", "--nbval-current-env", "-p", "no:cacheprovider",
         "-c", "/dev/null", str(tmp_path / "broken.ipynb")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert run.returncode == 1 and "ZeroDivisionError" in run.stdout, run.stdout[-2000:]


def test_ruff_is_clean():
    ruff = Path(sys.executable).with_name("ruff")
    if not ruff.exists():
        pytest.skip(f"ruff is not installed beside {sys.executable}; install requirements.txt")
    run = subprocess.run([str(ruff), "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-3000:]


# --- the Chinese edition's skeleton (notebooks/zh/, issue 16): the same shape, in Chinese words ------------------
ZH_NOTEBOOKS = sorted((ROOT / "notebooks" / "zh").glob("[0-9][0-9]_*.ipynb"))
ZH_TITLE_WORDS = ("**简短回答。**", "**在本笔记本中，你将：**", "**预备：**")
ZH_GOING_DEEPER = re.compile(r"## 深入一步（选读，约 (\d+) 分钟）")
ZH_FIXED_HEADINGS = ("## 动手试试", "## 小结", "## 参考文献")


@pytest.mark.parametrize("path", ZH_NOTEBOOKS, ids=lambda p: p.name)
def test_zh_title_cell_has_the_chinese_skeleton(path):
    title = _cells(path)[0]["source"]
    assert re.fullmatch(rf"# {path.name[:2]} · .+？", title.splitlines()[0]), (
        f"zh/{path.name}: the first line must be '# {path.name[:2]} · <问题>？', got {title.splitlines()[0]!r}")
    for words in ZH_TITLE_WORDS:
        assert words in title, f"zh/{path.name}: the title cell needs the exact words {words!r}"
    before = next(line for line in title.splitlines() if "**预备：**" in line)
    assert re.search(r"\*\*时长：\*\* 约 \d+ 分钟。$", before), (
        f"zh/{path.name}: the '**预备：**' line must end with '**时长：** 约 N 分钟。', got {before!r}")


@pytest.mark.parametrize("path", ZH_NOTEBOOKS, ids=lambda p: p.name)
def test_zh_sections_follow_the_english_skeleton(path):
    """Each English heading has its Chinese twin in the same place: '## N · …', Going deeper, Try it, …"""
    en = _headings(ROOT / "notebooks" / path.name)
    zh = _headings(path)
    assert [i for i, _ in zh] == [i for i, _ in en], f"zh/{path.name}: headings sit in other cells than in English"
    fixed = dict(zip(FIXED_HEADINGS, ZH_FIXED_HEADINGS, strict=True))
    for (i, e), (_, z) in zip(en, zh, strict=True):
        n = re.fullmatch(r"## (\d+) · \S.*", e)
        if n:
            assert re.fullmatch(rf"## {n[1]} · \S.*", z), f"zh/{path.name} cell {i}: {z!r} should be '## {n[1]} · …'"
        elif GOING_DEEPER.fullmatch(e):
            m = ZH_GOING_DEEPER.fullmatch(z)
            assert m and m[1] == GOING_DEEPER.fullmatch(e)[1], (
                f"zh/{path.name} cell {i}: {z!r} should be '## 深入一步（选读，约 "
                f"{GOING_DEEPER.fullmatch(e)[1]} 分钟）'")
        else:
            assert z == fixed.get(e), f"zh/{path.name} cell {i}: {z!r} should be {fixed.get(e)!r}"


@pytest.mark.parametrize("path", ZH_NOTEBOOKS, ids=lambda p: p.name)
def test_zh_notebook_ends_with_link_to_next(path):
    i = NOTEBOOKS.index(ROOT / "notebooks" / path.name)
    if i + 1 == len(NOTEBOOKS):
        return
    name = NOTEBOOKS[i + 1].name
    target = name if (ROOT / "notebooks" / "zh" / name).exists() else f"../{name}"
    assert re.search(rf"\[下一篇：[^\]]+\]\({re.escape(target)}\)", _cells(path)[-1]["source"]), (
        f"zh/{path.name}: the last cell must read '[下一篇：…]({target})'")
