"""Datasets that need no download: sklearn's 8x8 digits, procedural sprites, and MNIST files on disk.

Images come back flattened as rows, ``[n, pixels]``. Digits keep their integer grey levels 0..16 so a
categorical likelihood gives a proper discrete log-likelihood in nats; ``to_unit`` scales them to [0, 1]
for Bernoulli or Gaussian likelihoods and for display.
"""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np
import torch

from vae_teach import _checks as check

DIGITS_SPLITS = {"train": slice(0, 1000), "val": slice(1000, 1350), "test": slice(1350, 1797)}
DIGITS_LEVELS = 17
SHAPES = ("square", "ellipse", "triangle")
MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def load_digits(split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """sklearn's 8x8 digits, split 1000/350/447: (x LongTensor [n, 64] levels 0..16, y LongTensor [n]).

    Taught in 04 §1.
    """
    check.choice("split", split, (*DIGITS_SPLITS, "all"))
    from sklearn.datasets import load_digits as _sk_load_digits

    bunch = _sk_load_digits()
    x = torch.from_numpy(bunch.data.astype(np.int64))
    y = torch.from_numpy(bunch.target.astype(np.int64))
    if split == "all":
        return x, y
    s = DIGITS_SPLITS[split]
    return x[s].clone(), y[s].clone()


def to_unit(x: torch.Tensor, levels: int | None = None) -> torch.Tensor:
    """Grey levels [n, d] -> float32 [n, d] in [0, 1], divided by levels-1 (default 17; 256 for uint8).

    Taught in 04 §3.
    """
    x = check.tensor("x", x, kind="int")
    levels = check.count("levels", (256 if x.dtype == torch.uint8 else DIGITS_LEVELS) if levels is None else levels,
                         minimum=2)
    check.in_range("x", x, 0, levels - 1, f"grey levels for levels = {levels}")
    return x.to(torch.float32) / (levels - 1)


def make_sprites(n: int, size: int = 28, seed: int = 0) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Binary shape images [n, size*size] in {0., 1.} and true factors (shape, scale, x, y), each [n].

    Taught in 01 Going deeper D1.
    """
    check.count("n", n)
    check.count("size", size, minimum=8)  # pixels
    g = torch.Generator().manual_seed(check.count("seed", seed, minimum=0))
    shape = torch.randint(0, len(SHAPES), (n,), generator=g)
    scale = 0.12 + 0.16 * torch.rand(n, generator=g)  # half-width as a fraction of the image side
    lo, hi = scale, 1.0 - scale
    cx = lo + (hi - lo) * torch.rand(n, generator=g)
    cy = lo + (hi - lo) * torch.rand(n, generator=g)
    grid = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    dx = (grid.view(1, 1, size) - cx.view(n, 1, 1)) / scale.view(n, 1, 1)  # columns
    dy = (grid.view(1, size, 1) - cy.view(n, 1, 1)) / scale.view(n, 1, 1)  # rows, downwards
    square = (dx.abs() <= 1) & (dy.abs() <= 1)
    ellipse = dx.square() + (dy / 0.6).square() <= 1
    triangle = (dy.abs() <= 1) & (dx.abs() <= (dy + 1) / 2)  # apex at the top
    k = shape.view(n, 1, 1)
    img = torch.where(k == 0, square, torch.where(k == 1, ellipse, triangle))
    factors = {"shape": shape, "scale": scale, "x": cx, "y": cy}
    return img.reshape(n, size * size).to(torch.float32), factors


def _read_idx(path: Path, ndim: int) -> np.ndarray:
    """Parse one IDX file of unsigned bytes (optionally gzipped) into an array with `ndim` dims."""
    try:
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
    except (OSError, EOFError) as e:
        raise ValueError(f"{path}: cannot read file ({e})") from e
    if len(raw) < 4:
        raise ValueError(f"{path}: truncated IDX file, {len(raw)} bytes is shorter than the 4-byte header")
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(
            f"{path}: not an IDX file of unsigned bytes; expected magic 00 00 08 xx, got {raw[:4].hex(' ')}"
        )
    if raw[3] != ndim:
        raise ValueError(f"{path}: expected an IDX file with {ndim} dimensions, got {raw[3]}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header, expected {header} bytes, got {len(raw)}")
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    expected = header + math.prod(dims)
    if len(raw) != expected:
        kind = "truncated" if len(raw) < expected else "malformed (trailing bytes)"
        raise ValueError(
            f"{path}: {kind} IDX file, header says {dims} so expected {expected} bytes, got {len(raw)}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _find(folder: Path, name: str) -> Path:
    """The path of `name` or `name.gz` in folder, else FileNotFoundError naming both."""
    for candidate in (folder / name, folder / (name + ".gz")):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"MNIST file {folder / name} (or {name}.gz) not found; vae_teach never downloads, "
        "so place the IDX files from the MNIST distribution in that folder"
    )


def load_mnist(folder: str | Path, split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST IDX files on disk (plain or .gz), no download: (x uint8 [n, 784] 0..255, y LongTensor [n]).

    Taught in 06 Going deeper D2.
    """
    check.choice("split", split, MNIST_FILES)
    if not isinstance(folder, str | Path):
        raise ValueError(f"folder must be a str or pathlib.Path, got {check.describe(folder)}")
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"MNIST folder {folder} does not exist; vae_teach never downloads MNIST")
    img_path, lab_path = (_find(folder, name) for name in MNIST_FILES[split])
    images = _read_idx(img_path, ndim=3)
    labels = _read_idx(lab_path, ndim=1)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"{img_path} holds {images.shape[0]} images but {lab_path} holds {labels.shape[0]} labels"
        )
    if labels.size and labels.max() > 9:
        raise ValueError(f"{lab_path}: labels must be digits 0..9, got a maximum of {labels.max()}")
    x = torch.from_numpy(images.reshape(images.shape[0], -1).copy())
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y
