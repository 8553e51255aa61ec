"""The Chinese edition against its English twins, and tools/zh_sync.py (make zh-sync) on temp copies."""

import copy
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from nbval.plugin import find_comment_markers

from tools import nbstrip, zh_sync

ROOT = Path(__file__).resolve().parents[1]
ZH = ROOT / "notebooks" / "zh"
PAIRS = [(ROOT / "notebooks" / p.name, p) for p in sorted(ZH.glob("[0-9][0-9]_*.ipynb"))]
IDS = [z.name for _, z in PAIRS]


def _nb(path):
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_edition_has_started_and_every_twin_has_an_english_notebook():
    assert PAIRS and PAIRS[0][1].name == "00_start_here.ipynb", "notebooks/zh/00_start_here.ipynb must exist"
    for en, zh in PAIRS:
        assert en.exists(), f"{zh.relative_to(ROOT)} has no English notebook {en.relative_to(ROOT)}"


@pytest.mark.parametrize("en, zh", PAIRS, ids=IDS)
def test_same_cells_same_code_same_checked_outputs(en, zh):
    a, b = _nb(en)["cells"], _nb(zh)["cells"]
    assert [c["cell_type"] for c in a] == [c["cell_type"] for c in b], (
        f"{zh.name}: cell types differ from the English notebook: run make zh-sync")
    for i, (ce, cz) in enumerate(zip(a, b, strict=True)):
        if ce["cell_type"] != "code":
            continue
        code_en = zh_sync.strip_comments(zh_sync.source(ce))
        code_zh = zh_sync.strip_comments(zh_sync.source(cz), drop_language_line=True)
        assert code_zh == code_en, f"{zh.name} cell {i}: the code differs from English (comments ignored)"
        if nbstrip.is_checked(ce):
            assert nbstrip.is_checked(cz), f"{zh.name} cell {i}: lost its NBVAL_CHECK_OUTPUT mark"
            assert (cz["outputs"], cz["execution_count"]) == (ce["outputs"], ce["execution_count"]), (
                f"{zh.name} cell {i}: the recorded CHECK_OUTPUT output differs from English: run make zh-sync")


def _nbval_markers(cell):
    """The markers nbval itself reads in a code cell (e.g. [('check', True)]); [] for any other cell."""
    return list(find_comment_markers(zh_sync.source(cell))) if cell["cell_type"] == "code" else []


def _nbval_checked(cell):
    return ("check", True) in _nbval_markers(cell)


@pytest.mark.parametrize("en, zh", PAIRS, ids=IDS)
def test_nbval_reads_the_same_markers_in_every_zh_cell_as_in_english(en, zh):
    """nbval honours `# NBVAL_CHECK_OUTPUT` only alone on its line: a zh cell says it exactly where English does."""
    for i, (ce, cz) in enumerate(zip(_nb(en)["cells"], _nb(zh)["cells"], strict=True)):
        assert _nbval_markers(cz) == _nbval_markers(ce), (
            f"{zh.name} cell {i}: nbval reads {_nbval_markers(cz)} here, {_nbval_markers(ce)} in English")
        if _nbval_checked(ce):
            assert (cz["outputs"], cz["execution_count"]) == (ce["outputs"], ce["execution_count"]), (
                f"{zh.name} cell {i}: nbval compares this output, and it differs from English: run make zh-sync")


@pytest.mark.parametrize("en, zh", PAIRS, ids=IDS)
def test_the_only_code_difference_is_the_language_line_in_the_setup_cell(en, zh):
    cells = [c for c in _nb(zh)["cells"] if c["cell_type"] == "code"]
    with_line = [i for i, c in enumerate(cells) if zh_sync.LANG_LINE in zh_sync.source(c)]
    imports = [i for i, c in enumerate(cells) if re.search(r"^from vae_teach\.exercises import .* as exercises",
                                                             zh_sync.source(c), re.M)]
    assert with_line == imports[:1], (
        f"{zh.name}: `{zh_sync.LANG_LINE}` belongs in the setup cell, after its import block, "
        f"found in code cells {with_line}")
    for i in with_line:
        code = zh_sync.source(cells[i]).split("\n")
        parts = [c for c, _ in zh_sync.split_comments(zh_sync.strip_comments(zh_sync.source(cells[i]), True))]
        at = code.index(zh_sync.LANG_LINE)
        assert at == zh_sync.language_line_at(parts) + 1 and code[at - 1] == "", (
            f"{zh.name}: `{zh_sync.LANG_LINE}` goes after the import block, behind a blank line (ruff I001)")


@pytest.mark.parametrize("en, zh", PAIRS, ids=IDS)
def test_no_untranslated_or_stale_markdown(en, zh):
    for i, (ce, cz) in enumerate(zip(_nb(en)["cells"], _nb(zh)["cells"], strict=True)):
        if ce["cell_type"] != "markdown":
            continue
        text = zh_sync.source(cz)
        assert zh_sync.MARKER not in text and "zh-sync:" not in text, f"{zh.name} cell {i} is not translated yet"
        recorded = cz.get("metadata", {}).get("zh", {}).get("en")
        assert recorded == zh_sync.en_hash(zh_sync.source(ce)), (
            f"{zh.name} cell {i} was translated from another English text: run make zh-sync and translate it")
        assert re.search(r"[\u4e00-\u9fff]", text) or not re.search(r"[A-Za-z]{4,}", text), (
            f"{zh.name} cell {i} holds no Chinese")


@pytest.mark.parametrize("en, zh", PAIRS, ids=IDS)
def test_zh_notebook_is_stripped_by_policy(en, zh):
    assert not nbstrip.violations(_nb(zh)), nbstrip.violations(_nb(zh))


@pytest.mark.parametrize("en, zh", PAIRS, ids=IDS)
def test_relative_links_work_from_the_zh_folder(en, zh):
    for i, c in enumerate(_nb(zh)["cells"]):
        if c["cell_type"] != "markdown":
            continue
        for target in re.findall(r"\]\(([^)\s]+)\)", zh_sync.source(c)):
            if re.match(r"https?:|mailto:|#", target):
                continue
            path = (ZH / target.split("#")[0]).resolve()
            assert path.exists(), f"{zh.name} cell {i}: link {target!r} leads nowhere"
            if re.fullmatch(r"(\.\./)?\d\d_[\w-]+\.ipynb", target.split("#")[0]):
                name = Path(target.split("#")[0]).name
                want = name if (ZH / name).exists() else f"../{name}"
                assert target.split("#")[0] == want, f"{zh.name} cell {i}: link {target!r} should be {want!r}"
            assert not target.endswith("README.md"), f"{zh.name} cell {i}: link the Chinese README.zh-CN.md"


# ---- the tool, on temp copies ---------------------------------------------------------------------------------
def _repo(tmp_path, names=("00_start_here",)):
    """A temp repository with the English notebooks `names` and every zh twin as committed.

    Every twin comes along, even those of English notebooks left out, because a twin's links point at the
    other twins that exist: zh/00 links zh/03 once zh/03 is committed, and ../03 before. (A twin with no
    English notebook is not synced.) The tests hold whichever twins the repository holds.
    """
    (tmp_path / "notebooks" / "zh").mkdir(parents=True)
    for n in names:
        shutil.copy2(ROOT / "notebooks" / f"{n}.ipynb", tmp_path / "notebooks" / f"{n}.ipynb")
    for twin in ZH.glob("[0-9][0-9]_*.ipynb"):
        shutil.copy2(twin, tmp_path / "notebooks" / "zh" / twin.name)
    return tmp_path


def _without_twin(repo, name):
    """Take the zh twin of `name` out of the temp repository (so it stands for a notebook not yet translated)."""
    (repo / "notebooks" / "zh" / f"{name}.ipynb").unlink(missing_ok=True)


def _write(path, nb):
    nbstrip.write_atomic(path, nb)


def test_sync_of_the_committed_edition_changes_nothing_and_runs_twice_the_same(tmp_path):
    repo = _repo(tmp_path, [en.stem for en, _ in PAIRS])
    before = {p: p.read_bytes() for p in (repo / "notebooks" / "zh").glob("*.ipynb")}
    assert zh_sync.main([], repo=repo) == 0
    assert {p: p.read_bytes() for p in before} == before, "make zh-sync would change the committed edition"
    assert zh_sync.main(["--check"], repo=repo) == 0


def test_english_changes_flow_in_and_a_second_run_changes_nothing(tmp_path, capsys):
    repo = _repo(tmp_path)
    en_path, zh_path = repo / "notebooks" / "00_start_here.ipynb", repo / "notebooks" / "zh" / "00_start_here.ipynb"
    en = _nb(en_path)
    setup = en["cells"][1]
    setup["source"] = zh_sync.source(setup).replace("import sys\n", "import os\nimport sys\n")
    check_cell = en["cells"][4]
    check_cell["outputs"][0]["text"] = ["a new recorded output\n"]
    en["cells"][2]["source"] = zh_sync.source(en["cells"][2]) + "\n\nA new English sentence."
    en["cells"].insert(6, {"cell_type": "markdown", "id": "new-md", "metadata": {}, "source": ["## A new part"]})
    en["cells"].insert(7, {"cell_type": "code", "id": "new-code", "metadata": {}, "execution_count": None,
                           "outputs": [], "source": ["x = 1  # a new comment"]})
    _write(en_path, en)
    zh_before = _nb(zh_path)
    zh_sync.main([], repo=repo)
    out = capsys.readouterr().out
    zh = _nb(zh_path)
    assert [c["cell_type"] for c in zh["cells"]] == [c["cell_type"] for c in en["cells"]]
    src = [zh_sync.source(c) for c in zh["cells"]]
    assert "import os\nimport sys" in src[1] and "模型很小" in src[1], "new code in, translated comment kept"
    assert zh["cells"][4]["outputs"] == en["cells"][4]["outputs"]
    assert "# check: 软件包" in src[4]
    assert src[2].startswith(zh_sync.MARKER) and "A new English sentence." in src[2], "an edited cell is marked"
    assert "怎样使用这套笔记本" in src[2], "the previous translation is kept for reuse"
    assert "../../vae_teach/bounds.py" in src[2], "English links are rewritten for notebooks/zh/"
    assert src[6].startswith(zh_sync.MARKER) and "## A new part" in src[6]
    assert src[7] == "x = 1  # a new comment"
    assert src[5] == zh_sync.source(zh_before["cells"][5]), "an unchanged markdown cell keeps its translation"
    assert "cell 2: translate" in out and "cell 6: translate" in out and "(the English changed)" in out
    once = zh_path.read_bytes()
    zh_sync.main([], repo=repo)
    assert zh_path.read_bytes() == once, "a second run changed the twin"
    assert zh_sync.main(["--check"], repo=repo) == 1, "--check fails while cells are untranslated"


def test_removed_english_cells_leave_and_a_changed_comment_line_takes_english(tmp_path):
    repo = _repo(tmp_path)
    en_path, zh_path = repo / "notebooks" / "00_start_here.ipynb", repo / "notebooks" / "zh" / "00_start_here.ipynb"
    en = _nb(en_path)
    del en["cells"][3]  # the versions cell
    setup = en["cells"][1]
    setup["source"] = zh_sync.source(setup).replace(
        "gen = torch.Generator().manual_seed(SEED)", "gen = torch.Generator().manual_seed(SEED + 1)")
    _write(en_path, en)
    zh_sync.main([], repo=repo)
    zh = _nb(zh_path)
    assert len(zh["cells"]) == len(en["cells"])
    src = zh_sync.source(zh["cells"][1])
    assert "manual_seed(SEED + 1)  # every random draw below takes this generator or SEED" in src
    assert "# 模型很小" in src


def test_cells_moved_into_going_deeper_keep_their_translation(tmp_path, capsys):
    """A block of cells moved down the notebook (as into Going deeper) is paired with its twin by key, not re-marked."""
    repo = _repo(tmp_path, ["04_loss"])
    en_path, zh_path = repo / "notebooks" / "04_loss.ipynb", repo / "notebooks" / "zh" / "04_loss.ipynb"
    zh_sync.main([], repo=repo)  # bring the twin in step first, so only this test's edits count
    before = capsys.readouterr().out.count("translate '")
    en, zh_before = _nb(en_path), _nb(zh_path)
    block = en["cells"][12:15]  # a markdown cell and the cells after it
    assert any(c["cell_type"] == "markdown" for c in block)
    del en["cells"][12:15]
    en["cells"][-4:-4] = block  # before Try it / Summary / References / the next link
    en["cells"][2]["source"] = zh_sync.source(en["cells"][2]) + "\n\nA new English sentence."
    _write(en_path, en)
    zh_sync.main([], repo=repo)
    out = capsys.readouterr().out
    zh = _nb(zh_path)
    assert [c["cell_type"] for c in zh["cells"]] == [c["cell_type"] for c in en["cells"]]
    moved_to = len(en["cells"]) - 4 - len(block)
    for k, old in enumerate(zh_before["cells"][12:15]):
        assert zh_sync.source(zh["cells"][moved_to + k]) == zh_sync.source(old), f"moved cell {k} lost its twin"
    assert zh_sync.source(zh["cells"][2]).startswith(zh_sync.MARKER), "the edited cell is still marked"
    assert out.count("translate '") == before + 1, out


def test_a_longer_english_comment_run_is_not_half_translated():
    """A two-line English comment over a one-line translation stays English, never line 2 = translated line 1."""
    en = "# check: both sides agree\n# to 6 decimals\nprint(x)"
    zh = "# check: 两边相等\nprint(x)"
    assert zh_sync.merge_code(en, zh) == en
    longer = "# check: 两边相等\n# 到小数点后 6 位\n# 第三行\nprint(x)"
    assert zh_sync.merge_code(en, longer) == "# check: 两边相等\n# 到小数点后 6 位\nprint(x)"


def test_ids_stay_unique_when_a_moved_twin_keeps_an_id_a_new_cell_takes():
    en = [{"cell_type": "markdown", "id": "a", "source": "x"}, {"cell_type": "markdown", "id": "b", "source": "y"},
          {"cell_type": "code", "id": "c", "source": "z"}]
    cells = [{"id": "b"}, {"id": "b"}, {"id": "b"}]
    assert [c["id"] for c in zh_sync.unique_ids(cells, en)] == ["b", "b-zh1", "c"]


def _code_nb(*sources):
    return {"cells": [{"cell_type": "code", "id": f"c{i}", "metadata": {}, "execution_count": None, "outputs": [],
                       "source": zh_sync.lines(src)} for i, src in enumerate(sources)],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


SETUP = "import torch\n\nfrom vae_teach.exercises import elbo as exercises\n\nSEED = 0  # the seed"


def test_the_setup_cell_gets_the_language_line_and_keeps_it(tmp_path):
    en_nb = _code_nb(SETUP)
    new, todo = zh_sync.sync(en_nb, None, tmp_path)
    src = zh_sync.source(new["cells"][0])
    assert src == ("import torch\n\nfrom vae_teach.exercises import elbo as exercises\n\n"
                   f"{zh_sync.LANG_LINE}\n\nSEED = 0  # the seed"), "a blank line between the imports and the call"
    assert zh_sync.strip_comments(src, drop_language_line=True) == zh_sync.strip_comments(SETUP)
    again, _ = zh_sync.sync(en_nb, new, tmp_path)
    assert again == new and not todo


def test_the_language_line_goes_after_the_whole_import_block(tmp_path):
    en = ("from vae_teach.exercises import elbo as exercises\nfrom zzz import (a,\n                 b)\n"
          "import zzz2\n\n# the seed\nSEED = 0")
    src = zh_sync.source(zh_sync.sync(_code_nb(en), None, tmp_path)[0]["cells"][0])
    assert src.split("\n")[3:7] == ["import zzz2", "", zh_sync.LANG_LINE, ""]
    assert zh_sync.merge_code("x = 1", None) == "x = 1", "no exercises import, no language line"


def test_a_twin_with_the_old_language_line_form_is_brought_to_the_new_one(tmp_path):
    """Twins made before the blank line existed had the call glued to the import; a sync moves them over."""
    old = SETUP.replace("as exercises\n", f"as exercises\n{zh_sync.LANG_LINE}\n").replace("# the seed", "# 种子")
    zh_nb = _code_nb(old)
    assert zh_sync.strip_comments(old, drop_language_line=True) == zh_sync.strip_comments(SETUP)
    new, _ = zh_sync.sync(_code_nb(SETUP), zh_nb, tmp_path)
    assert zh_sync.source(new["cells"][0]) == ("import torch\n\nfrom vae_teach.exercises import elbo as exercises"
                                               f"\n\n{zh_sync.LANG_LINE}\n\nSEED = 0  # 种子")


def _ruff():
    ruff = Path(sys.executable).with_name("ruff")
    if not ruff.exists():
        pytest.skip(f"ruff is not installed beside {sys.executable}; install requirements.txt")
    return ruff


def _ruff_codes(ruff, folder):
    """ruff's findings over the notebooks in `folder`, under the repository's own configuration."""
    run = subprocess.run([str(ruff), "check", "--no-cache", "--output-format", "concise", "--config",
                          str(ROOT / "pyproject.toml"), str(folder)], capture_output=True, text=True, timeout=120)
    assert run.returncode in (0, 1), run.stderr
    return run.stdout


def test_every_started_twin_passes_ruff(tmp_path, capsys):
    """The setup cell zh_sync writes passes ruff (I001 wants the blank line before the call), and the old form fails."""
    ruff = _ruff()
    names = [p.stem for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))]
    repo = _repo(tmp_path, names)
    for twin in (repo / "notebooks" / "zh").glob("*.ipynb"):
        twin.unlink()
    assert zh_sync.main(["--start", *names], repo=repo) == 0
    zh = repo / "notebooks" / "zh"
    started = sorted(zh.glob("*.ipynb"))
    with_line = [p for p in started if any(zh_sync.LANG_LINE in zh_sync.source(c) for c in _nb(p)["cells"])]
    assert len(with_line) >= 9, f"every notebook with exercises gets the language line: {with_line}"
    out = _ruff_codes(ruff, repo / "notebooks")
    assert "All checks passed" in out, out[-3000:]
    glued = _nb(with_line[0])
    for cell in glued["cells"]:
        glued_src = zh_sync.source(cell).replace(f"\n\n{zh_sync.LANG_LINE}", f"\n{zh_sync.LANG_LINE}")
        cell["source"] = zh_sync.lines(glued_src)
    (tmp_path / "control").mkdir()
    _write(tmp_path / "control" / with_line[0].name, glued)
    assert "I001" in _ruff_codes(ruff, tmp_path / "control"), "the control (the call glued to the imports) must fail"


def test_a_whole_line_nbval_marker_is_code_copied_unchanged():
    en = "# check: both sides agree\n# NBVAL_CHECK_OUTPUT\nprint(x)  # the value"
    zh = "# check: 两边相等\n# NBVAL_CHECK_OUTPUT（核对输出）\nprint(x)  # 数值"
    merged = zh_sync.merge_code(en, zh)
    assert merged == "# check: 两边相等\n# NBVAL_CHECK_OUTPUT\nprint(x)  # 数值"
    assert _nbval_checked({"cell_type": "code", "source": merged}) and not _nbval_checked(
        {"cell_type": "code", "source": zh}), "nbval reads the marker only when it is alone on its line"
    assert zh_sync.strip_comments(en) == "\n# NBVAL_CHECK_OUTPUT\nprint(x)", "the marker is code, the rest is not"
    assert zh_sync.strip_comments(zh) != zh_sync.strip_comments(en), "an altered marker is a code difference"
    assert zh_sync.merge_code("  ##  NBVAL_SKIP\nx = 1", "  ## NBVAL_SKIP 跳过\nx = 1") == "  ##  NBVAL_SKIP\nx = 1"


def test_a_trailing_marker_moves_to_its_own_line_when_english_does(tmp_path):
    """A twin from before the English conversion: its trailing marker goes, the English whole-line one comes."""
    before = "# check: both sides agree\nprint(x)  # NBVAL_CHECK_OUTPUT"
    after = "# check: both sides agree\n# NBVAL_CHECK_OUTPUT\nprint(x)"
    zh_nb = _code_nb("# check: 两边相等\nprint(x)  # NBVAL_CHECK_OUTPUT 输出")
    assert zh_sync.merge_code(before, zh_sync.source(zh_nb["cells"][0])) == zh_sync.source(zh_nb["cells"][0])
    new, _ = zh_sync.sync(_code_nb(after), zh_nb, tmp_path)
    assert zh_sync.source(new["cells"][0]) == "# check: 两边相等\n# NBVAL_CHECK_OUTPUT\nprint(x)"


def _mark_whole_line(nb):
    """An English notebook as the course marks it for nbval: `# NBVAL_CHECK_OUTPUT` alone on a line (after a
    leading `# check:` line, else first), and exercise cells (`exercises.check_…(…)`) unmarked."""
    for cell in nb["cells"]:
        src = zh_sync.source(cell) if cell["cell_type"] == "code" else ""
        if nbstrip.MARK not in src or any(zh_sync.NBVAL_LINE.match(line) for line in src.split("\n")):
            continue
        src = re.sub(r"[ \t]*#[ \t]*NBVAL_CHECK_OUTPUT[ \t]*$", "", src, flags=re.M)
        if re.search(r"^exercises\.check_\w+\(", src, re.M):
            cell["outputs"], cell["execution_count"] = [], None
        else:
            code = src.split("\n")
            at = 1 if re.match(r"#\s*check:", code[0]) else 0
            src = "\n".join(code[:at] + ["# NBVAL_CHECK_OUTPUT"] + code[at:])
        cell["source"] = zh_sync.lines(src)
    return nb


def test_whole_line_markers_reach_every_twin_where_nbval_reads_them(tmp_path):
    """All English notebooks marked the nbval way, twins started and their comments translated, then synced."""
    names = [p.stem for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))]
    repo = _repo(tmp_path, names)
    for twin in (repo / "notebooks" / "zh").glob("*.ipynb"):
        twin.unlink()
    for n in names:
        path = repo / "notebooks" / f"{n}.ipynb"
        _write(path, _mark_whole_line(_nb(path)))
    zh_sync.main(["--start", *names], repo=repo)
    for n in names:  # a translator's comments, the marker "translated" too
        path = repo / "notebooks" / "zh" / f"{n}.ipynb"
        nb = _nb(path)
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                src = re.sub(r"^# NBVAL_CHECK_OUTPUT$", "# NBVAL_CHECK_OUTPUT 核对", zh_sync.source(cell), flags=re.M)
                cell["source"] = zh_sync.lines(re.sub(r"^# check: .*$", "# check: 两边相等", src, flags=re.M))
        _write(path, nb)
    zh_sync.main([], repo=repo)
    checked = 0
    for n in names:
        en, zh = _nb(repo / "notebooks" / f"{n}.ipynb"), _nb(repo / "notebooks" / "zh" / f"{n}.ipynb")
        for i, (ce, cz) in enumerate(zip(en["cells"], zh["cells"], strict=True)):
            assert _nbval_markers(cz) == _nbval_markers(ce), f"{n} cell {i}: {zh_sync.source(cz)!r}"
            if _nbval_checked(ce):
                checked += 1
                assert (cz["outputs"], cz["execution_count"]) == (ce["outputs"], ce["execution_count"]), (
                    f"{n} cell {i}: the checked output differs from English")
                if zh_sync.source(ce).startswith("# check:"):  # the translation kept, the marker where English has it
                    en_lines, zh_lines = zh_sync.source(ce).split("\n"), zh_sync.source(cz).split("\n")
                    at = [k for k, line in enumerate(en_lines) if line == "# NBVAL_CHECK_OUTPUT"]
                    assert zh_lines[0] == "# check: 两边相等" and all(zh_lines[k] == en_lines[k] for k in at), (
                        f"{n} cell {i}: the translated check comment or the marker line was lost")
    assert checked >= 50, f"only {checked} cells are checked by nbval: the conversion above found no markers"


def test_a_comment_that_drops_a_directive_is_not_kept():
    en = "print(x)  # NBVAL_CHECK_OUTPUT\n# check: both sides agree\nassert y"
    zh = "print(x)  # 输出\n# 两边相等\nassert y"
    assert zh_sync.merge_code(en, zh) == en
    ok = "print(x)  # NBVAL_CHECK_OUTPUT 输出\n# check: 两边相等\nassert y"
    assert zh_sync.merge_code(en, ok) == ok


def test_hash_in_strings_is_not_a_comment():
    assert zh_sync.split_comments('s = "# not a comment"  # a comment') == [('s = "# not a comment"  ', "# a comment")]
    assert zh_sync.strip_comments("%matplotlib inline  # magic\nx = 1") == "%matplotlib inline\nx = 1"


def test_an_english_notebook_without_a_twin_is_only_reported(tmp_path, capsys):
    repo = _repo(tmp_path)
    _without_twin(repo, "03_elbo")
    shutil.copy2(ROOT / "notebooks" / "03_elbo.ipynb", repo / "notebooks" / "03_elbo.ipynb")
    assert zh_sync.main([], repo=repo) == 0
    assert "03_elbo.ipynb: no Chinese twin yet" in capsys.readouterr().out
    assert not (repo / "notebooks" / "zh" / "03_elbo.ipynb").exists()


def test_start_makes_a_twin_to_translate(tmp_path, capsys):
    repo = _repo(tmp_path)
    _without_twin(repo, "03_elbo")
    shutil.copy2(ROOT / "notebooks" / "03_elbo.ipynb", repo / "notebooks" / "03_elbo.ipynb")
    zh_sync.main(["--start", "03_elbo"], repo=repo)
    zh = _nb(repo / "notebooks" / "zh" / "03_elbo.ipynb")
    en = _nb(repo / "notebooks" / "03_elbo.ipynb")
    assert [c["cell_type"] for c in zh["cells"]] == [c["cell_type"] for c in en["cells"]]
    md = [zh_sync.source(c) for c in zh["cells"] if c["cell_type"] == "markdown"]
    assert all(m.startswith(zh_sync.MARKER) for m in md)
    assert any(zh_sync.LANG_LINE in zh_sync.source(c) for c in zh["cells"] if c["cell_type"] == "code")
    assert "need translating" in capsys.readouterr().out


def test_bad_notebooks_stop_the_run_before_any_write(tmp_path, capsys):
    repo = _repo(tmp_path)
    zh_path = repo / "notebooks" / "zh" / "00_start_here.ipynb"
    en_path = repo / "notebooks" / "00_start_here.ipynb"
    en = _nb(en_path)
    en["cells"][3]["source"] = "print('changed')"
    _write(en_path, en)
    before = zh_path.read_bytes()
    (repo / "notebooks" / "01_broken.ipynb").write_text("{not json", encoding="utf-8")
    (repo / "notebooks" / "zh" / "01_broken.ipynb").write_text("{}", encoding="utf-8")
    assert zh_sync.main([], repo=repo) == 2
    assert zh_path.read_bytes() == before
    assert "not valid JSON" in capsys.readouterr().err


def test_writes_keep_the_mode_and_refuse_read_only_twins(tmp_path):
    repo = _repo(tmp_path)
    zh_path = repo / "notebooks" / "zh" / "00_start_here.ipynb"
    en_path = repo / "notebooks" / "00_start_here.ipynb"
    en = copy.deepcopy(_nb(en_path))
    en["cells"][3]["source"] = "print('changed')"
    _write(en_path, en)
    zh_path.chmod(0o640)
    assert zh_sync.main([], repo=repo) == 0
    assert zh_path.stat().st_mode & 0o777 == 0o640
    en["cells"][3]["source"] = "print('changed again')"
    _write(en_path, en)
    zh_path.chmod(0o440)
    before = zh_path.read_bytes()
    assert zh_sync.main([], repo=repo) == 2
    assert zh_path.read_bytes() == before and zh_path.stat().st_mode & 0o777 == 0o440


def _map_question(readme, name):
    row = next(line for line in readme.splitlines() if re.match(rf"^\| \[{name[:-6]}\]\(notebooks/", line))
    return re.split(r"(?<!\\)\|", row.strip().strip("|"))[1].strip()


def test_readme_map_follows_the_english_minutes_and_the_zh_titles(tmp_path, capsys):
    repo = _repo(tmp_path, [p.stem for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))])
    for name in ("README.md", "README.zh-CN.md"):
        shutil.copy2(ROOT / name, repo / name)
    assert zh_sync.main([], repo=repo) == 0
    assert (repo / "README.zh-CN.md").read_bytes() == (ROOT / "README.zh-CN.md").read_bytes(), "map out of step"
    question03 = _map_question((ROOT / "README.zh-CN.md").read_text(encoding="utf-8"), "03_elbo.ipynb")
    _without_twin(repo, "03_elbo")  # untranslated: the row keeps its question, its minutes come from English
    en = (repo / "README.md").read_text(encoding="utf-8")
    row = next(line for line in en.splitlines() if "(notebooks/03_elbo.ipynb)" in line)
    en = en.replace(row, re.sub(r"\| \d+ min \| (\d+ min|—) \|$", "| 41 min | 9 min |", row))
    (repo / "README.md").write_text(en, encoding="utf-8")
    zh_path = repo / "notebooks" / "zh" / "00_start_here.ipynb"
    zh = _nb(zh_path)
    zh["cells"][0]["source"] = zh_sync.source(zh["cells"][0]).replace("约 10 分钟", "约 12 分钟")
    _write(zh_path, zh)
    assert zh_sync.main(["--check"], repo=repo) == 1
    zh_sync.main([], repo=repo)
    text = (repo / "README.zh-CN.md").read_text(encoding="utf-8")
    assert f"| [03_elbo](notebooks/03_elbo.ipynb) | {question03} | 41 分钟 | 9 分钟 |" in text
    title00 = zh_sync.source(zh["cells"][0]).split("\n")[0].split(" · ", 1)[1]
    assert title00 == "这门课怎么用？论文里的符号各是什么意思？"
    assert f"| [00_start_here](notebooks/zh/00_start_here.ipynb) | {title00} | 12 分钟 | — |" in text
    once = (repo / "README.zh-CN.md").read_bytes()
    zh_sync.main([], repo=repo)
    assert (repo / "README.zh-CN.md").read_bytes() == once
    assert "README.zh-CN.md: notebook map updated" in capsys.readouterr().out
