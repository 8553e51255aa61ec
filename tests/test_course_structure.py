"""The course's shape: stripped notebooks, the notebook skeleton, the README map, and a side-effect-free package."""

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
def test_notebook_ends_with_link_to_next(path):
    last = _cells(path)[-1]
    i = NOTEBOOKS.index(path)
    target = NOTEBOOKS[i + 1].name if i + 1 < len(NOTEBOOKS) else NOTEBOOKS[0].name
    assert last["cell_type"] == "markdown" and f"]({target})" in last["source"], (
        f"{path.name}: the last cell must be markdown with a link to {target}"
    )


@pytest.mark.parametrize("path", NOTEBOOKS[1:], ids=lambda p: p.name)
def test_numbered_notebook_has_checks_exercises_summary_references(path):
    cells = _cells(path)
    code = [c["source"] for c in cells if c["cell_type"] == "code"]
    text = "\n".join(c["source"] for c in cells if c["cell_type"] == "markdown")
    checks = [s for s in code if s.lstrip().startswith("# check:")]
    assert checks and all("assert " in s for s in checks), f"{path.name}: needs '# check:' cells, each with an assert"
    assert any("exercises.check_" in s for s in code), f"{path.name}: needs a 'Try it' exercise with a checker"
    for heading in ("Try it", "Summary", "References"):
        assert re.search(rf"^##+ .*{heading}", text, re.M), f"{path.name}: missing a '{heading}' section"


def _plain(text):
    """Text with LaTeX and markdown escapes folded away, for comparing a title with the README."""
    for a, b in (("\\phi", "φ"), ("\\theta", "θ"), ("\\|", "|"), ("$", ""), ("\\", ""), ("{", ""), ("}", "")):
        text = text.replace(a, b)
    return " ".join(text.split())


def test_readme_map_lists_exactly_the_notebooks_in_order():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\|\s*\[[^\]]*\]\(notebooks/(\d\d_[\w]+\.ipynb)\)", readme, re.M)
    assert listed == [p.name for p in NOTEBOOKS], f"README map lists {listed}, folder has {[p.name for p in NOTEBOOKS]}"
    for p in NOTEBOOKS:  # the map's question matches the notebook's title
        question = _cells(p)[0]["source"].splitlines()[0].split(" · ", 1)[1]
        row = next(line for line in readme.splitlines() if f"(notebooks/{p.name})" in line)
        assert _plain(question) in _plain(row), f"README row for {p.name} should quote its title question {question!r}"
        minutes = re.search(r"\|\s*(\d+)\s*min\s*\|\s*$", row)
        assert minutes, f"README row for {p.name} needs a minutes column"
        stated = re.search(r"\*\*Time:\*\* about (\d+) minutes", _cells(p)[0]["source"])
        assert stated and stated[1] == minutes[1], (
            f"{p.name}: its title cell should say '**Time:** about {minutes[1]} minutes', as the README map does"
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
