"""checkpoint.save / load / load_or_train: integrity (checksum, finite weights), atomic writes, clear path errors."""

import errno
import json
import os
import stat

import pytest
import torch
from safetensors.torch import save_file

from vae_teach import checkpoint
from vae_teach.models import VAE


def _model(seed=0):
    return VAE(64, 2, hidden=(8,), seed=seed)


def _mode(p):
    return stat.S_IMODE(os.stat(p).st_mode)


@pytest.fixture
def umask022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_round_trip_with_normal_mode(tmp_path, umask022):
    m = _model()
    p = checkpoint.save(m, tmp_path / "vae.safetensors")
    assert _mode(p) == 0o644, "a new checkpoint gets 0666 & ~umask, not the temp file's 0600"
    m2 = checkpoint.load(p)
    for (k1, v1), (k2, v2) in zip(m.state_dict().items(), m2.state_dict().items(), strict=True):
        assert k1 == k2 and torch.equal(v1, v2)
    assert [f.name for f in tmp_path.iterdir()] == ["vae.safetensors"]


def test_overwrite_keeps_the_files_mode(tmp_path):
    p = checkpoint.save(_model(), tmp_path / "vae.safetensors")
    p.chmod(0o640)
    checkpoint.save(_model(seed=1), p, overwrite=True)
    assert _mode(p) == 0o640
    assert torch.equal(checkpoint.load(p).encoder[0].weight, _model(seed=1).encoder[0].weight)


def test_read_only_checkpoint_is_not_replaced(tmp_path):
    p = checkpoint.save(_model(), tmp_path / "vae.safetensors")
    before = p.read_bytes()
    p.chmod(0o444)
    with pytest.raises(PermissionError, match=r"vae\.safetensors is read-only"):
        checkpoint.save(_model(seed=1), p, overwrite=True)
    assert p.read_bytes() == before and _mode(p) == 0o444


def test_dangling_symlink_needs_overwrite_and_stays_a_link(tmp_path):
    link = tmp_path / "vae.safetensors"
    link.symlink_to("elsewhere.safetensors")
    with pytest.raises(FileExistsError, match=r"vae\.safetensors is a symlink to a missing file.*overwrite=True"):
        checkpoint.save(_model(), link)
    assert link.is_symlink() and not (tmp_path / "elsewhere.safetensors").exists()
    checkpoint.save(_model(), link, overwrite=True)
    assert link.is_symlink() and (tmp_path / "elsewhere.safetensors").is_file()
    assert checkpoint.load(link).config() == _model().config()


def test_save_onto_a_folder_names_it_even_with_overwrite(tmp_path):
    for overwrite in (False, True):
        with pytest.raises(IsADirectoryError, match=f"{tmp_path} is a folder; give a file name"):
            checkpoint.save(_model(), tmp_path, overwrite=overwrite)
    with pytest.raises(IsADirectoryError, match="is a folder, not a saved model"):
        checkpoint.load(tmp_path)


@pytest.mark.parametrize("bad, match", [("", r"path must name a file, got ''"), (5, "path must be a file name"),
                                        (f"x{os.sep}", "not a folder")])
def test_bad_paths(bad, match, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a relative name that slipped through would land here, not in the repository
    with pytest.raises(ValueError, match=match):
        checkpoint.save(_model(), bad)
    with pytest.raises(ValueError, match=match):
        checkpoint.load(bad)


@pytest.mark.parametrize("model, overwrite, match", [("not a model", False, "model must be a vae_teach"),
                                                     (None, False, "got NoneType"),
                                                     (_model(), "yes", "overwrite must be True or False")])
def test_bad_arguments(tmp_path, model, overwrite, match):
    with pytest.raises(ValueError, match=match):
        checkpoint.save(model, tmp_path / "m.safetensors", overwrite=overwrite)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_folder_names_the_users_path(tmp_path, temp_files_denied):
    target = tmp_path / "new.safetensors"
    with pytest.raises(PermissionError) as e:
        checkpoint.save(_model(), target)
    assert str(target) in str(e.value) and ".tmp" not in str(e.value)


def test_long_valid_name(tmp_path):
    p = tmp_path / ("m" * 240 + ".safetensors")  # 252 bytes, under NAME_MAX 255
    checkpoint.save(_model(), p)
    assert checkpoint.load(p).config() == _model().config()


def test_corrupt_tail_fails_loudly(tmp_path):
    p = checkpoint.save(_model(), tmp_path / "vae.safetensors")
    raw = bytearray(p.read_bytes())
    raw[-100:] = b"\xff" * 100  # 0xffffffff as float32 is NaN: without the checksum this loaded silently
    p.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"vae\.safetensors: corrupt model file \(the weights' SHA-256"):
        checkpoint.load(p)


def test_one_flipped_bit_fails(tmp_path):
    p = checkpoint.save(_model(), tmp_path / "vae.safetensors")
    raw = bytearray(p.read_bytes())
    raw[-1] ^= 1
    p.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="SHA-256 does not match"):
        checkpoint.load(p)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_weights_are_refused_on_save(tmp_path, value):
    m = _model()
    with torch.no_grad():
        m.encoder[0].weight[0, 0] = value
    with pytest.raises(ValueError, match=r"non-finite weights in encoder\.0\.weight \(1 of 512 .*not written"):
        checkpoint.save(m, tmp_path / "vae.safetensors")
    assert list(tmp_path.iterdir()) == []


def _forge(tmp_path, state, meta):
    p = tmp_path / "forged.safetensors"
    save_file(state, str(p), metadata=meta)
    return p


def test_non_finite_weights_are_refused_on_load(tmp_path):
    m = _model()
    state = {k: v.clone() for k, v in m.state_dict().items()}
    state["encoder.0.weight"][1, 1] = float("nan")
    meta = {"format": checkpoint.FORMAT, "config": json.dumps(m.config()), "sha256": checkpoint.tensors_sha256(state)}
    with pytest.raises(ValueError, match=r"forged\.safetensors: the saved weights are not finite: encoder\.0\.weight"):
        checkpoint.load(_forge(tmp_path, state, meta))


def test_missing_checksum_is_refused(tmp_path):
    m = _model()
    meta = {"format": checkpoint.FORMAT, "config": json.dumps(m.config())}
    with pytest.raises(ValueError, match=r"forged\.safetensors: no checksum"):
        checkpoint.load(_forge(tmp_path, dict(m.state_dict()), meta))


def test_checksum_depends_on_names_shapes_and_bytes():
    a = {"w": torch.zeros(2, 3)}
    assert checkpoint.tensors_sha256(a) != checkpoint.tensors_sha256({"v": torch.zeros(2, 3)})
    assert checkpoint.tensors_sha256(a) != checkpoint.tensors_sha256({"w": torch.zeros(3, 2)})
    assert checkpoint.tensors_sha256(a) != checkpoint.tensors_sha256({"w": torch.zeros(2, 3, dtype=torch.float64)})
    assert checkpoint.tensors_sha256(a) == checkpoint.tensors_sha256({"w": torch.zeros(2, 3)})


def test_fsync_before_rename(tmp_path, monkeypatch):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b))[1])
    checkpoint.save(_model(), tmp_path / "vae.safetensors")
    assert calls.index("fsync") < calls.index("replace")


def test_load_or_train_trains_once_then_loads(tmp_path):
    calls, said = [], []

    def train():
        calls.append(1)
        return _model(seed=3)

    p = tmp_path / "cache" / "m.safetensors"
    first = checkpoint.load_or_train(p, train, log=said.append)
    second = checkpoint.load_or_train(p, train, log=said.append)
    assert calls == [1] and p.is_file()
    assert torch.equal(first.encoder[0].weight, second.encoder[0].weight)
    assert "saved to" in said[0] and "loaded" in said[1]


def test_load_or_train_retrains_over_a_corrupt_cache(tmp_path):
    p = checkpoint.save(_model(), tmp_path / "m.safetensors")
    p.write_bytes(p.read_bytes()[:-10])
    said = []
    m = checkpoint.load_or_train(p, lambda: _model(seed=4), log=said.append)
    assert "training again" in said[0] and torch.equal(m.encoder[0].weight, _model(seed=4).encoder[0].weight)
    assert torch.equal(checkpoint.load(p).encoder[0].weight, m.encoder[0].weight)


def test_load_or_train_wants_a_function(tmp_path):
    with pytest.raises(ValueError, match="train must be a function"):
        checkpoint.load_or_train(tmp_path / "m.safetensors", _model())


def test_load_or_train_retrains_when_the_recipe_changes(tmp_path):
    p, said = tmp_path / "m.safetensors", []
    checkpoint.load_or_train(p, lambda: _model(seed=1), recipe={"lr": 1e-3, "hidden": (8,)}, log=said.append)
    same = checkpoint.load_or_train(p, lambda: _model(seed=9), recipe={"hidden": [8], "lr": 1e-3}, log=said.append)
    assert "loaded" in said[-1] and torch.equal(same.encoder[0].weight, _model(seed=1).encoder[0].weight)
    other = checkpoint.load_or_train(p, lambda: _model(seed=2), recipe={"lr": 3e-3, "hidden": (8,)}, log=said.append)
    assert "another recipe" in said[-2] and torch.equal(other.encoder[0].weight, _model(seed=2).encoder[0].weight)


def test_load_or_train_still_returns_a_model_when_the_cache_cannot_be_written(tmp_path, monkeypatch):
    def read_only(path, data):
        raise PermissionError(errno.EACCES, f"cannot write {path}: Permission denied", str(path))

    monkeypatch.setattr(checkpoint.atomic, "write_bytes", read_only)
    said = []
    m = checkpoint.load_or_train(tmp_path / "m.safetensors", lambda: _model(seed=5), log=said.append)
    assert isinstance(m, VAE) and not m.training
    assert "could not save it" in said[-1] and "m.safetensors" in said[-1]


@pytest.mark.parametrize("recipe, match", [([1, 2], "recipe must be a dict .* got list"),
                                           ({"f": object()}, "recipe must be a dict of JSON values")])
def test_bad_recipe(tmp_path, recipe, match):
    with pytest.raises(ValueError, match=match):
        checkpoint.save(_model(), tmp_path / "m.safetensors", recipe=recipe)
    assert list(tmp_path.iterdir()) == []
