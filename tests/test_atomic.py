"""vae_teach.atomic: temp beside the target, fsync, rename; the normal mode; errors name the user's path."""

import errno
import os
import stat

import pytest

from vae_teach import atomic


@pytest.fixture
def umask():
    """Set a umask for one test and restore the old one."""
    old = os.umask(0o022)
    yield lambda m: os.umask(m)
    os.umask(old)


def _mode(p):
    return stat.S_IMODE(os.stat(p).st_mode)


@pytest.mark.parametrize("mask, want", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600), (0o002, 0o664)])
def test_new_file_gets_the_umask_mode(tmp_path, umask, mask, want):
    umask(mask)
    p = atomic.write_text(tmp_path / "a.txt", "hi")
    assert _mode(p) == want
    plain = tmp_path / "plain.txt"
    plain.write_text("hi")
    assert _mode(plain) == want, "the same mode an ordinary open() gives"


def test_overwrite_keeps_the_original_mode_and_leaves_no_temp(tmp_path, umask):
    p = tmp_path / "a.txt"
    p.write_text("old")
    p.chmod(0o640)
    atomic.write_text(p, "new")
    assert p.read_text() == "new" and _mode(p) == 0o640
    assert [f.name for f in tmp_path.iterdir()] == ["a.txt"]


def test_read_only_file_is_refused_and_kept(tmp_path):
    p = tmp_path / "ro.txt"
    p.write_text("keep")
    p.chmod(0o444)
    with pytest.raises(PermissionError, match=r"ro\.txt is read-only \(mode 0444\)"):
        atomic.write_text(p, "new")
    assert p.read_text() == "keep" and _mode(p) == 0o444


def test_symlink_writes_its_target_and_stays_a_link(tmp_path):
    real = tmp_path / "real.txt"
    real.write_text("old")
    real.chmod(0o604)
    link = tmp_path / "link.txt"
    link.symlink_to(real.name)
    atomic.write_text(link, "new")
    assert link.is_symlink() and real.read_text() == "new" and _mode(real) == 0o604


def test_long_valid_name_works(tmp_path):
    name = "n" * 250 + ".txt"  # 254 bytes: valid on every common file system (NAME_MAX 255)
    atomic.write_text(tmp_path / name, "x")
    assert (tmp_path / name).read_text() == "x"


@pytest.mark.parametrize("bad, match", [("", "path must name a file, got ''"), ("  ", "path must name a file"),
                                        (3, "path must be a file name .* got int"),
                                        (None, "got NoneType"), ("sub/", "not a folder")])
def test_bad_paths_are_value_errors(bad, match, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a relative name that slipped through would land here, not in the repository
    with pytest.raises(ValueError, match=match):
        atomic.write_text(bad, "x")


def test_folder_target_names_the_folder(tmp_path):
    with pytest.raises(IsADirectoryError, match=f"{tmp_path} is a folder"):
        atomic.write_text(tmp_path, "x")


def test_missing_folder_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope/a\.txt: the folder .*nope does not exist"):
        atomic.write_text(tmp_path / "nope" / "a.txt", "x")


def test_unwritable_folder_names_the_users_path_not_the_temp(tmp_path, temp_files_denied):
    with pytest.raises(PermissionError) as e:
        atomic.write_text(tmp_path / "a.txt", "x")
    assert str(tmp_path / "a.txt") in str(e.value) and ".tmp" not in str(e.value)
    assert e.value.filename == str(tmp_path / "a.txt")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a mode-0555 folder anyway")
def test_unwritable_folder_for_real(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(PermissionError, match=r"cannot write .*ro/a\.txt"):
            atomic.write_text(folder / "a.txt", "x")
    finally:
        folder.chmod(0o755)


def test_fsync_happens_before_the_rename(tmp_path, monkeypatch):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b))[1])
    atomic.write_text(tmp_path / "a.txt", "x")
    assert calls[:2] == ["fsync", "replace"], calls


def test_failed_write_keeps_the_original_and_removes_the_temp(tmp_path, monkeypatch):
    p = tmp_path / "a.txt"
    p.write_text("keep")

    def boom(a, b):
        raise OSError(errno.EIO, "I/O error", a)

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match=r"cannot write .*a\.txt: I/O error") as e:
        atomic.write_text(p, "new")
    assert ".tmp" not in str(e.value)
    assert p.read_text() == "keep" and [f.name for f in tmp_path.iterdir()] == ["a.txt"]


@pytest.mark.parametrize("rel", ["afile/x.txt", "afile/sub/x.txt"])
def test_a_file_in_place_of_a_folder_is_named(tmp_path, rel):
    (tmp_path / "afile").write_text("keep")
    with pytest.raises(NotADirectoryError, match=f"cannot write .*{rel}: .*afile is a file, not a folder"):
        atomic.write_text(tmp_path / rel, "x")
    with pytest.raises(NotADirectoryError, match="afile is a file, not a folder"):
        atomic.ensure_folder(tmp_path / rel, create=True)
    assert (tmp_path / "afile").read_text() == "keep"


def test_ensure_folder_creates_missing_folders(tmp_path):
    atomic.ensure_folder(tmp_path / "a" / "b" / "c.txt", create=True)
    assert (tmp_path / "a" / "b").is_dir()
