"""The site builder's logic without a browser or a kernel: the course map read from title cells, and the
static versions of widget outputs (progress bars, explorer copies, other widgets)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from site_tools import load

REPO = Path(__file__).resolve().parents[1]

cm = load("course_map")
so = load("static_outputs")


def nb(*cells: tuple[str, str]) -> dict:
    return {"cells": [{"cell_type": k, "source": s, "metadata": {}} for k, s in cells], "metadata": {}}


# ---- the course map ------------------------------------------------------------------------------------
@pytest.mark.parametrize("time_line, minutes", [
    ("**Before this:** nothing. **Time:** about 10 minutes.", 10),
    ("**Before this:** [02 · What is q?](02_p_and_q.ipynb), about 30 min.", 30),
    ("**Read first:** [01](01.ipynb) and section 2.1 of the paper. **Time:** about 25 minutes.", 25),
    ("**Before this:** [06](06.ipynb). **Time:** about 30 minutes; the cells run in under a minute.", 30),
])
def test_title_cell_gives_question_and_minutes(time_line, minutes):
    page = cm.read_page(nb(("markdown", f"# 03 · Where does the ELBO come from?\n\n**Short answer.** x\n\n{time_line}"),
                           ("markdown", "## Going deeper (optional, about 12 min)\n\ntext")), Path("n/03_elbo.ipynb"))
    assert (page.number, page.title, page.minutes, page.deeper_minutes) == (
        "03", "Where does the ELBO come from?", minutes, 12)
    assert page.heading == "03 · Where does the ELBO come from?"


def test_time_line_wins_over_an_earlier_duration():
    text = "# 06 · What does training look like?\n\nIt trains for 2 min.\n\n**Time:** about 25 minutes."
    assert cm.read_page(nb(("markdown", text)), Path("06.ipynb")).minutes == 25


@pytest.mark.parametrize("cells, needle", [
    ((("code", "print(1)"),), "first cell must be a markdown"),
    ((("markdown", "Some text\n\nabout 5 minutes"),), "must start with"),
    ((("markdown", "# 04 · What is the loss?\n\nNo time given."),), "no reading time"),
])
def test_bad_title_cells_name_the_notebook_and_the_problem(cells, needle):
    with pytest.raises(ValueError, match=needle) as e:
        cm.read_page(nb(*cells), Path("notebooks/04_loss.ipynb"))
    assert "04_loss.ipynb" in str(e.value)


def test_an_app_has_a_plain_title_and_no_number():
    page = cm.read_page(nb(("markdown", "# Explore a VAE as an app\n\nA small VAE.")), Path("apps/explore.ipynb"))
    assert (page.number, page.title, page.minutes) == (None, "Explore a VAE as an app", None)


def test_discover_follows_the_notebooks_folder_in_order():
    pages = cm.discover(REPO)
    files = sorted(p.name for p in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    numbered = [p for p in pages if p.number]
    assert [p.path.name for p in numbered] == files
    assert [p.number for p in numbered] == [f[:2] for f in files]
    for p in numbered:  # the map shows exactly the heading each notebook opens with
        first = json.loads((REPO / p.path).read_text(encoding="utf-8"))["cells"][0]
        assert "".join(first["source"]).splitlines()[0] == f"# {p.heading}"
        assert p.minutes and p.minutes > 0
    assert [p.path.as_posix() for p in pages if not p.number] == sorted(
        f"apps/{a.name}" for a in (REPO / "apps").glob("*.ipynb"))


def test_discover_rejects_two_notebooks_with_one_number(tmp_path):
    (tmp_path / "notebooks").mkdir()
    for name in ("03_a.ipynb", "03_b.ipynb"):
        (tmp_path / "notebooks" / name).write_text(json.dumps(nb(("markdown", "# 03 · Q?\n\n**Time:** 5 min"))))
    with pytest.raises(ValueError, match="share a number"):
        cm.discover(tmp_path, apps=None)


def test_index_lists_every_question_with_its_minutes_and_fixes_the_page_order():
    pages = [cm.Page(Path("notebooks/00_a.ipynb"), "00", "How do I start?", 10, None),
             cm.Page(Path("notebooks/01_b.ipynb"), "01", "What is q(z|x)?", 25, 8),
             cm.Page(Path("apps/explore.ipynb"), None, "Explore", None, None)]
    md = cm.index_markdown(pages, "Intro text.")
    assert "| 00 | [How do I start?](notebooks/00_a.ipynb) | 10\u00a0min |" in md
    assert "| 01 | [What is q(z\\|x)?](notebooks/01_b.ipynb) | 25\u00a0min (+\u00a08 optional) |" in md
    assert "about 35 minutes" in md and "Intro text." in md and "[Explore](apps/explore.ipynb)" in md
    toc = md.split("```{toctree}")[1].split("```")[0].split()
    assert toc[-3:] == ["notebooks/00_a", "notebooks/01_b", "apps/explore"]


# ---- static outputs ------------------------------------------------------------------------------------
def tqdm_state(value, maximum, right, style="success", left="training: 100%"):
    """Widget state as nbclient stores it for a tqdm bar: HBox(HTML, FloatProgress, HTML)."""
    return {
        "box": {"model_name": "HBoxModel", "state": {"children": ["IPY_MODEL_l", "IPY_MODEL_p", "IPY_MODEL_r"],
                                                       "layout": "IPY_MODEL_lay"}},
        "lay": {"model_name": "LayoutModel", "state": {}},
        "l": {"model_name": "HTMLModel", "state": {"value": left}},
        "p": {"model_name": "FloatProgressModel", "state": {"value": value, "max": maximum, "bar_style": style}},
        "r": {"model_name": "HTMLModel", "state": {"value": right}},
    }


def widget_out(model_id, **extra):
    return {"output_type": "display_data", "metadata": {},
            "data": {"text/plain": "training:   0%|          | 0/100 [00:00<?, ?epoch/s]",
                     so.WIDGET_VIEW: {"model_id": model_id, "version_major": 2, "version_minor": 0}, **extra}}


def notebook_with(outputs, states):
    book = nb(("markdown", "See [`bounds.elbo`](../vae_teach/bounds.py) and [x](../vae_teach/explorers/latent.py#L3)."),
              ("code", "fit()"))
    book["cells"][1]["outputs"] = outputs
    book["metadata"]["widgets"] = {so.WIDGET_STATE: {"state": states, "version_major": 2, "version_minor": 0}}
    return book


def test_a_progress_bar_stopped_early_shows_its_finished_state():
    right = "73/73\u2007[00:05<00:00,\u200712.27epoch/s,\u2007loss=87.63]".replace("<", "&lt;")
    states = tqdm_state(73, 100, right, left="training\u2007(stopped\u2007early):\u2007100%")
    book = so.make_static(notebook_with([widget_out("box")], states))
    data = book["cells"][1]["outputs"][0]["data"]
    assert set(data) == {"text/html", "text/plain"}
    assert "0/" not in data["text/plain"] and "73/73 [00:05<00:00, 12.27epoch/s, loss=87.63]" in data["text/plain"]
    assert data["text/plain"].startswith("training (stopped early): 100%|" + "█" * 20 + "|")
    assert 'style="width:100.0%"' in data["text/html"] and "vae-progress-success" in data["text/html"]
    assert "73/73 [00:05&lt;00:00" in data["text/html"]
    assert "widgets" not in book["metadata"]


def test_a_bar_that_failed_half_way_stays_half_full_and_red():
    states = tqdm_state(20, 40, "20/40 [00:02<00:02, 9.1epoch/s]", style="danger", left="training:  50%")
    data = so.make_static(notebook_with([widget_out("box")], states))["cells"][1]["outputs"][0]["data"]
    assert 'style="width:50.0%"' in data["text/html"] and "vae-progress-danger" in data["text/html"]
    assert data["text/plain"].startswith("training:  50%|" + "█" * 10 + " " * 10 + "|")


def test_an_explorer_copy_wins_and_other_widgets_become_a_note():
    copy = '<div data-explorer="LatentExplorer"><canvas></canvas><script type="module">/* esm */</script></div>'
    states = {"vb": {"model_name": "VBoxModel", "state": {}}, "ex": {"model_name": "AnyModel", "state": {}}}
    outs = [widget_out("ex", **{"text/html": copy}), widget_out("vb"), widget_out("gone"),
            {"output_type": "stream", "name": "stdout", "text": "0/3 done\n"}]
    book = so.make_static(notebook_with(outs, states))
    kept = book["cells"][1]["outputs"]
    assert len(kept) == 3  # the widget closed before the run ended is dropped
    assert kept[0]["data"] == {"text/plain": outs[0]["data"]["text/plain"], "text/html": copy}
    assert "vae-needs-kernel" in kept[1]["data"]["text/html"] and 'data-widget="VBoxModel"' in kept[1]["data"][
        "text/html"]
    assert kept[2] == {"output_type": "stream", "name": "stdout", "text": "0/3 done\n"}  # not a widget: untouched
    assert so.count_static(book) == {"explorers": 1, "needs_kernel": 1}


def test_links_to_package_source_point_to_the_source_pages():
    book = so.make_static(notebook_with([], {}))
    assert book["cells"][0]["source"] == ("See [`bounds.elbo`](../vae_teach/bounds.md) and "
                                          "[x](../vae_teach/explorers/latent.md#L3).")
    assert so.source_links("[paper](https://arxiv.org/abs/1312.6114) [n](04_loss.ipynb)") == (
        "[paper](https://arxiv.org/abs/1312.6114) [n](04_loss.ipynb)")


# ---- the output folder -----------------------------------------------------------------------------------
def test_a_folder_the_builder_did_not_make_is_never_replaced(tmp_path):
    build = load("build")
    mine = tmp_path / "site"
    mine.mkdir()
    (mine / "notes.txt").write_text("my own file")
    new = tmp_path / "work" / "html"
    new.mkdir(parents=True)
    with pytest.raises(SystemExit, match="was not built by this tool"):
        build.replace_dir(new, mine)
    assert (mine / "notes.txt").read_text() == "my own file" and new.exists()


def test_a_previous_build_is_replaced_whole(tmp_path):
    build = load("build")
    out = tmp_path / "site"
    out.mkdir()
    (out / build.MARKER).write_text("")
    (out / "stale.html").write_text("old")
    new = tmp_path / "work" / "html"
    new.mkdir(parents=True)
    (new / "index.html").write_text("new")
    build.replace_dir(new, out)
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site", "work"]  # nothing beside site/ but the work dir


def test_a_notebook_that_fails_stops_the_build_and_names_the_cell(tmp_path):
    build = load("build")
    (tmp_path / "notebooks").mkdir()
    book = nb(("markdown", "# 00 · Does it run?\n\n**Time:** 1 min."), ("code", "1 / 0"))
    book["cells"][1].update(outputs=[], execution_count=None)
    book.update(nbformat=4, nbformat_minor=5)
    book["metadata"]["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (tmp_path / "notebooks" / "00_fails.ipynb").write_text(json.dumps(book))
    with pytest.raises(SystemExit) as e:
        build.build(tmp_path / "site", repo=tmp_path, jobs=1)
    assert "00_fails.ipynb did not run to the end" in str(e.value) and "ZeroDivisionError" in str(e.value)
    assert not (tmp_path / "site").exists()
