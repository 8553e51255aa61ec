"""The strip policy: everything stripped except NBVAL_CHECK_OUTPUT cells, written atomically."""

import json

import nbformat
import pytest

from vae_teach import nbstrip


def _nb():
    """A notebook with one ordinary executed cell, one executed check cell and a markdown cell."""
    v4 = nbformat.v4
    nb = v4.new_notebook(cells=[
        v4.new_markdown_cell("# 01 · Why?"),
        v4.new_code_cell("print(1)", execution_count=3, outputs=[v4.new_output("stream", text="1\n")]),
        v4.new_code_cell("print(2)  # NBVAL_CHECK_OUTPUT", execution_count=4,
                         outputs=[v4.new_output("stream", text="2\n")]),
    ])
    nb.metadata["widgets"] = {"state": {}}
    return json.loads(nbformat.writes(nb))


def test_strip_keeps_only_check_output_cells():
    nb = nbstrip.strip(_nb())
    plain, checked = nb["cells"][1], nb["cells"][2]
    assert plain["outputs"] == [] and plain["execution_count"] is None
    assert checked["outputs"] and checked["execution_count"] == 4
    assert "widgets" not in nb["metadata"]
    assert nbstrip.violations(nb) == []


def test_violations_name_the_cell_and_the_fix():
    problems = nbstrip.violations(_nb())
    assert any("cell 1" in p and "make strip" in p for p in problems)
    assert any("widget state" in p for p in problems)
    unrecorded = _nb()
    unrecorded["cells"][2]["execution_count"] = None
    assert any("make record" in p for p in nbstrip.violations(nbstrip.strip(unrecorded)))


def test_cli_strips_in_place_and_check_reports(tmp_path, capsys):
    path = tmp_path / "01_x.ipynb"
    path.write_text(json.dumps(_nb()), encoding="utf-8")
    assert nbstrip.main(["--check", str(tmp_path)]) == 1
    assert "01_x.ipynb" in capsys.readouterr().out
    assert nbstrip.main([str(tmp_path)]) == 0
    assert nbstrip.main(["--check", str(tmp_path)]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["01_x.ipynb"], "no temp file may be left behind"


def test_atomic_write_leaves_original_when_serialising_fails(tmp_path):
    path = tmp_path / "a.ipynb"
    path.write_text('{"keep": true}', encoding="utf-8")
    with pytest.raises(TypeError):
        nbstrip.write_atomic(path, {"bad": object()})
    assert path.read_text(encoding="utf-8") == '{"keep": true}'
    assert [p.name for p in tmp_path.iterdir()] == ["a.ipynb"]
