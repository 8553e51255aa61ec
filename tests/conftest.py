"""Shared test settings: one torch thread for the unit tests' tiny tensors; shared small fixtures."""

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: one torch thread is faster than two and immune to a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def temp_files_denied(monkeypatch):
    """Make creating any '*.tmp' file fail with EACCES, as in a folder the user cannot write (root can, so fake it)."""
    import errno
    import os

    real_open = os.open

    def deny(p, flags, *a, **k):
        if str(p).endswith(".tmp"):
            raise PermissionError(errno.EACCES, "Permission denied", str(p))
        return real_open(p, flags, *a, **k)

    monkeypatch.setattr(os, "open", deny)


@pytest.fixture(scope="module")
def digits():
    """The first 120 test digits and their labels: x [120, 64] in levels 0..16, y [120]."""
    from vae_teach import data

    x, y = data.load_digits("test")
    return x[:120], y[:120]
