"""tools/nbstrip.py: the strip policy, and that it never loses work (validate all first, refuse stale or
read-only files, keep modes and symlinks, leave clean files alone)."""

import importlib.util
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tools import nbstrip

ROOT = Path(__file__).resolve().parents[1]


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


def _write(path, nb=None):
    path.write_text(json.dumps(nb or _nb()), encoding="utf-8")
    return path


def _mode(p):
    return stat.S_IMODE(os.stat(p).st_mode)


def test_nbstrip_is_not_in_the_learner_package():
    assert importlib.util.find_spec("vae_teach.nbstrip") is None
    assert not (ROOT / "vae_teach" / "nbstrip.py").exists()


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
    _write(tmp_path / "01_x.ipynb")
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


def test_read_only_notebook_is_refused_and_kept(tmp_path, capsys):
    path = _write(tmp_path / "a.ipynb")
    before = path.read_bytes()
    path.chmod(0o444)
    assert nbstrip.main([str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: read-only (mode 0444)" in err and "chmod u+w" in err
    assert path.read_bytes() == before and _mode(path) == 0o444
    assert nbstrip.main(["--check", str(path)]) == 1, "--check still reads a read-only notebook"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o664, 0o600])
def test_stripping_keeps_the_mode(tmp_path, mode):
    path = _write(tmp_path / "a.ipynb")
    path.chmod(mode)
    assert nbstrip.main([str(path)]) == 0
    assert nbstrip.violations(json.loads(path.read_text(encoding="utf-8"))) == []
    assert _mode(path) == mode


def test_a_symlink_strips_its_target_and_stays_a_link(tmp_path):
    real = _write(tmp_path / "real.ipynb")
    real.chmod(0o640)
    folder = tmp_path / "nb"
    folder.mkdir()
    link = folder / "a.ipynb"
    link.symlink_to(real)
    assert nbstrip.main([str(folder)]) == 0
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert nbstrip.violations(json.loads(real.read_text(encoding="utf-8"))) == []
    assert _mode(real) == 0o640


def test_a_file_and_a_link_to_it_are_stripped_once(tmp_path, capsys):
    _write(tmp_path / "a.ipynb")
    (tmp_path / "b.ipynb").symlink_to("a.ipynb")
    assert nbstrip.main([str(tmp_path)]) == 0
    assert capsys.readouterr().out.count("stripped") == 1


def test_an_already_stripped_file_is_not_rewritten(tmp_path, capsys):
    path = tmp_path / "a.ipynb"
    path.write_text(json.dumps(nbstrip.strip(_nb()), indent=2), encoding="utf-8")  # clean, other indentation
    before = os.stat(path)
    assert nbstrip.main([str(path)]) == 0
    after = os.stat(path)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert capsys.readouterr().out == ""


BAD_FILES = {
    "empty": (b"", "the file is empty (0 bytes)"),
    "blank": (b"  \n", "the file is empty"),
    "latin-1": ('{"cells": [], "x": "caf\u00e9"}'.encode("latin-1"), "not UTF-8 text (byte 0xe9 at offset"),
    "truncated": (b'{"cells": [', "not valid JSON (line 1, column 12"),
    "not json": (b"print('hi')", "not valid JSON (line 1, column 1"),
    "a list": (b"[1, 2]", "not a notebook (expected a JSON object with a 'cells' list)"),
    "no cells": (b'{"metadata": {}}', "not a notebook"),
    "odd cell": (b'{"cells": [{"cell_type": "code"}, 3]}', "not a notebook (cell 1 is not a JSON object)"),
}


@pytest.mark.parametrize("raw, message", BAD_FILES.values(), ids=BAD_FILES.keys())
@pytest.mark.parametrize("flag", [[], ["--check"], ["--record"]])
def test_a_bad_notebook_stops_a_folder_run_before_anything_is_written(tmp_path, capsys, raw, message, flag):
    a, c = _write(tmp_path / "a.ipynb"), _write(tmp_path / "c.ipynb")
    before = a.read_bytes(), c.read_bytes()
    (tmp_path / "b.ipynb").write_bytes(raw)
    assert nbstrip.main([*flag, str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'b.ipynb'}: {message}" in err and "nothing was written" in err
    assert (a.read_bytes(), c.read_bytes()) == before, "a.ipynb and c.ipynb must be untouched"


@pytest.mark.parametrize("make, message", [(lambda p: None, "no such file"),
                                           (lambda p: p.symlink_to("gone.ipynb"), "a symlink to a missing file"),
                                           (lambda p: p.mkdir() or (p / "x").touch(), "")])
def test_missing_files_are_named(tmp_path, capsys, make, message):
    path = tmp_path / "m.ipynb"
    make(path)
    if path.is_dir():  # a folder named like a notebook is expanded, not read: nothing in it, nothing to do
        assert nbstrip.main([str(path)]) == 0
        return
    assert nbstrip.main([str(path)]) == 2
    assert f"{path}: {message}" in capsys.readouterr().err


def test_record_does_not_overwrite_a_save_made_while_it_ran(tmp_path, monkeypatch, capsys):
    path = _write(tmp_path / "a.ipynb")
    saved = _nb()
    saved["cells"][0]["source"] = "# 01 · Why? (edited by the teacher while the notebook ran)"

    def run_and_meanwhile_save(p, text=None, timeout=300):
        _write(path, saved)  # the teacher presses Ctrl-S in JupyterLab during the run
        return json.loads(text)

    monkeypatch.setattr(nbstrip, "record", run_and_meanwhile_save)
    assert nbstrip.main(["--record", str(path)]) == 1
    assert "changed on disk since nbstrip read it" in capsys.readouterr().err
    assert json.loads(path.read_text(encoding="utf-8")) == saved


@pytest.mark.parametrize("change", ["content, same size and mtime", "mtime only"])
def test_a_stale_read_is_refused(tmp_path, change, capsys):
    path = _write(tmp_path / "a.ipynb")
    item = nbstrip.load(path, writing=True)
    st = os.stat(path)
    if change == "mtime only":
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    else:
        path.write_text(item.text.replace("print(1)", "print(7)"), encoding="utf-8")
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    kept = path.read_bytes()
    assert nbstrip.save_if_unchanged(item, nbstrip.strip(item.nb)) is False
    assert path.read_bytes() == kept
    assert f"{path}: changed on disk" in capsys.readouterr().err


def test_record_runs_the_notebook_and_keeps_only_check_output(tmp_path):
    v4 = nbformat.v4
    cells = [v4.new_code_cell("print(6 * 7)"), v4.new_code_cell("print(2 + 2)  # NBVAL_CHECK_OUTPUT")]
    nb = v4.new_notebook(cells=cells)
    path = tmp_path / "r.ipynb"
    path.write_text(nbformat.writes(nb), encoding="utf-8")
    path.chmod(0o640)
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "nbstrip.py"), "--record", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    assert cells[0]["outputs"] == [] and "".join(cells[1]["outputs"][0]["text"]) == "4\n"
    assert _mode(path) == 0o640


def test_the_repository_notebooks_pass_check_from_the_command_line():
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "nbstrip.py"), "--check", str(ROOT / "notebooks")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_record_refuses_a_read_only_file_before_running_anything(tmp_path, monkeypatch, capsys):
    ran = []
    monkeypatch.setattr(nbstrip, "record", lambda *a, **k: ran.append(a))
    real = _write(tmp_path / "real.ipynb")
    real.chmod(0o444)
    (tmp_path / "link.ipynb").symlink_to(real.name)
    other = _write(tmp_path / "z.ipynb")
    assert nbstrip.main(["--record", str(tmp_path / "link.ipynb"), str(other)]) == 2
    assert ran == [], "no notebook may run when one of them cannot be written back"
    assert "link.ipynb: read-only (mode 0444)" in capsys.readouterr().err


def test_a_failing_notebook_is_named_and_kept(tmp_path, monkeypatch, capsys):
    path = _write(tmp_path / "a.ipynb")
    before = path.read_bytes()

    def fails(p, text=None, timeout=300):
        raise RuntimeError("cell 2 raised ZeroDivisionError")

    monkeypatch.setattr(nbstrip, "record", fails)
    assert nbstrip.main(["--record", str(path)]) == 1
    assert f"{path}: not recorded, running it failed: RuntimeError: cell 2 raised" in capsys.readouterr().err
    assert path.read_bytes() == before
