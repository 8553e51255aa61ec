"""The Chinese edition against its English twins, and tools/zh_sync.py (make zh-sync) on temp copies."""

import copy
import json
import re
import shutil
from pathlib import Path

import pytest

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


@pytest.mark.parametrize("en, zh", PAIRS, ids=IDS)
def test_the_only_code_difference_is_the_language_line_in_the_setup_cell(en, zh):
    cells = [c for c in _nb(zh)["cells"] if c["cell_type"] == "code"]
    with_line = [i for i, c in enumerate(cells) if zh_sync.LANG_LINE in zh_sync.source(c)]
    imports = [i for i, c in enumerate(cells) if re.search(r"^from vae_teach\.exercises import .* as exercises",
                                                             zh_sync.source(c), re.M)]
    assert with_line == imports[:1], (
        f"{zh.name}: `{zh_sync.LANG_LINE}` belongs right after the exercises import of the setup cell, "
        f"found in code cells {with_line}")


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
    """A temp repository with the English notebooks `names` and their zh twins as committed."""
    (tmp_path / "notebooks" / "zh").mkdir(parents=True)
    for n in names:
        shutil.copy2(ROOT / "notebooks" / f"{n}.ipynb", tmp_path / "notebooks" / f"{n}.ipynb")
        if (ZH / f"{n}.ipynb").exists():
            shutil.copy2(ZH / f"{n}.ipynb", tmp_path / "notebooks" / "zh" / f"{n}.ipynb")
    return tmp_path


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


def test_the_setup_cell_gets_the_language_line_and_keeps_it(tmp_path):
    en_nb = {"cells": [{"cell_type": "code", "id": "a", "metadata": {}, "execution_count": None, "outputs": [],
                        "source": ["import torch\n", "\n", "from vae_teach.exercises import elbo as exercises\n",
                                   "\n", "SEED = 0  # the seed"]}],
             "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    new, todo = zh_sync.sync(en_nb, None, tmp_path)
    src = zh_sync.source(new["cells"][0])
    assert src.splitlines()[2:4] == ["from vae_teach.exercises import elbo as exercises", zh_sync.LANG_LINE]
    again, _ = zh_sync.sync(en_nb, new, tmp_path)
    assert again == new and not todo


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
    shutil.copy2(ROOT / "notebooks" / "03_elbo.ipynb", repo / "notebooks" / "03_elbo.ipynb")
    assert zh_sync.main([], repo=repo) == 0
    assert "03_elbo.ipynb: no Chinese twin yet" in capsys.readouterr().out
    assert not (repo / "notebooks" / "zh" / "03_elbo.ipynb").exists()


def test_start_makes_a_twin_to_translate(tmp_path, capsys):
    repo = _repo(tmp_path)
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


def test_readme_map_follows_the_english_minutes_and_the_zh_titles(tmp_path, capsys):
    repo = _repo(tmp_path)
    for name in ("README.md", "README.zh-CN.md"):
        shutil.copy2(ROOT / name, repo / name)
    assert zh_sync.main([], repo=repo) == 0
    assert (repo / "README.zh-CN.md").read_bytes() == (ROOT / "README.zh-CN.md").read_bytes(), "map out of step"
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
    assert "| [03_elbo](notebooks/03_elbo.ipynb) | 证据下界从哪里来？差距又是什么？ | 41 分钟 | 9 分钟 |" in text
    row00 = ("| [00_start_here](notebooks/zh/00_start_here.ipynb) | 这门课怎么用？论文里的符号各是什么意思？ "
             "| 12 分钟 | — |")
    assert row00 in text
    once = (repo / "README.zh-CN.md").read_bytes()
    zh_sync.main([], repo=repo)
    assert (repo / "README.zh-CN.md").read_bytes() == once
    assert "README.zh-CN.md: notebook map updated" in capsys.readouterr().out
