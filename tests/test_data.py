"""Tests for vae_teach.data: the digits split, sprites and the MNIST IDX reader (on files written here)."""

import gzip

import numpy as np
import pytest
import torch

from vae_teach import data


def test_digits_split_sizes_dtypes_and_levels():
    sizes = {"train": 1000, "val": 350, "test": 447}
    for split, n in sizes.items():
        x, y = data.load_digits(split)
        assert x.shape == (n, 64) and x.dtype == torch.int64
        assert y.shape == (n,) and y.dtype == torch.int64
        assert int(x.min()) >= 0 and int(x.max()) <= 16
    x_all, _ = data.load_digits("all")
    x_test, _ = data.load_digits("test")
    assert torch.equal(x_all[-447:], x_test)


def test_digits_bad_split():
    with pytest.raises(ValueError, match="split"):
        data.load_digits("validation")


def test_to_unit_range_and_errors():
    x, _ = data.load_digits("val")
    u = data.to_unit(x)
    assert u.dtype == torch.float32 and float(u.min()) >= 0 and float(u.max()) == 1.0
    assert torch.allclose(u * 16, x.float())
    assert data.to_unit(torch.tensor([[0, 255]], dtype=torch.uint8)).tolist() == [[0.0, 1.0]]
    with pytest.raises(ValueError, match="0..16"):
        data.to_unit(torch.tensor([[17]]))
    with pytest.raises(ValueError, match="integer"):
        data.to_unit(torch.tensor([[0.5]]))


def test_sprites_binary_factors_and_determinism():
    x, f = data.make_sprites(500, size=28, seed=3)
    assert x.shape == (500, 784) and x.dtype == torch.float32
    assert set(x.unique().tolist()) <= {0.0, 1.0}
    assert (x.sum(1) > 10).all()  # every image shows a shape
    assert set(f) == {"shape", "scale", "x", "y"}
    assert all(v.shape == (500,) for v in f.values())
    assert set(f["shape"].unique().tolist()) == {0, 1, 2}
    x2, f2 = data.make_sprites(500, size=28, seed=3)
    assert torch.equal(x, x2) and torch.equal(f["x"], f2["x"])
    assert not torch.equal(x, data.make_sprites(500, size=28, seed=4)[0])


def test_sprites_factor_controls_the_image():
    x, f = data.make_sprites(300, size=16, seed=0)
    img = x.view(-1, 16, 16)
    cols = (img.sum(1) * torch.arange(16)).sum(1) / img.sum((1, 2))
    centre = (cols + 0.5) / 16
    assert (centre - f["x"]).abs().max() < 0.1  # the x factor is where the shape sits
    big = f["scale"] > f["scale"].median()
    assert x[big].sum(1).mean() > x[~big].sum(1).mean()


def test_sprites_bad_args():
    with pytest.raises(ValueError, match="n must be an int >= 1, got 0"):
        data.make_sprites(0)
    with pytest.raises(ValueError, match="size"):
        data.make_sprites(4, size=3)


def _idx_bytes(arr, ndim=None):
    arr = np.asarray(arr, dtype=np.uint8)
    ndim = arr.ndim if ndim is None else ndim
    head = bytes([0, 0, 8, ndim]) + b"".join(int(s).to_bytes(4, "big") for s in arr.shape)
    return head + arr.tobytes()


def _write_mnist(folder, n=5, gz=False, images=None, labels=None):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, size=(n, 28, 28)) if images is None else images
    labs = rng.integers(0, 10, size=n) if labels is None else labels
    for name, payload in (
        ("train-images-idx3-ubyte", _idx_bytes(imgs)),
        ("train-labels-idx1-ubyte", _idx_bytes(labs)),
    ):
        if gz:
            (folder / (name + ".gz")).write_bytes(gzip.compress(payload))
        else:
            (folder / name).write_bytes(payload)
    return np.asarray(imgs, dtype=np.uint8), np.asarray(labs)


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_reads_tiny_idx(tmp_path, gz):
    imgs, labs = _write_mnist(tmp_path, gz=gz)
    x, y = data.load_mnist(tmp_path)
    assert x.shape == (5, 784) and x.dtype == torch.uint8
    assert np.array_equal(x.numpy(), imgs.reshape(5, -1))
    assert y.dtype == torch.int64 and y.tolist() == labs.tolist()


def test_mnist_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        data.load_mnist(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        data.load_mnist(tmp_path / "nowhere")


def test_mnist_truncated_file(tmp_path):
    _write_mnist(tmp_path)
    p = tmp_path / "train-images-idx3-ubyte"
    p.write_bytes(p.read_bytes()[:-100])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte: truncated"):
        data.load_mnist(tmp_path)
    p.write_bytes(p.read_bytes()[:2])
    with pytest.raises(ValueError, match="truncated"):
        data.load_mnist(tmp_path)


def test_mnist_bad_magic_and_count_mismatch(tmp_path):
    _write_mnist(tmp_path)
    p = tmp_path / "train-labels-idx1-ubyte"
    p.write_bytes(b"\x12\x34" + p.read_bytes()[2:])
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte: not an IDX"):
        data.load_mnist(tmp_path)
    p.write_bytes(_idx_bytes(np.zeros(4)))
    with pytest.raises(ValueError, match="5 images but"):
        data.load_mnist(tmp_path)


def test_mnist_corrupt_gzip(tmp_path):
    _write_mnist(tmp_path, gz=True)
    p = tmp_path / "train-images-idx3-ubyte.gz"
    p.write_bytes(p.read_bytes()[:30])
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz"):
        data.load_mnist(tmp_path)


def test_sprites_speed_is_reasonable():
    # not a wall-clock assertion: just that 10,000 images render as one vectorised call
    x, _ = data.make_sprites(10_000, seed=1)
    assert x.shape == (10_000, 784)
