"""Notebook 07's checkers accept the reference, reject a typical wrong answer, and treat `...` as unanswered."""

import torch
from exercise_contract import contract

from vae_teach.exercises import tradeoff as ex

CASES = [
    (ex.check_beta_loss, ex._beta_loss, lambda d, r, beta: d - beta * r),  # sign of the KL flipped
    (ex.check_warmup, ex._warmup, lambda e, w: e / w),  # forgot to cap at 1
    (ex.check_dims_in_use, ex._dims_in_use, lambda kl, t: int((kl >= t).sum())),  # counts the threshold itself
]

globals().update(contract(CASES))


def test_beta_loss(capsys):
    assert ex.check_beta_loss(lambda d, r, beta: d + beta * r) is True
    assert ex.check_beta_loss(lambda d, r, beta: d - beta * r) is False  # sign of the KL flipped
    assert "Hint" in capsys.readouterr().out


def test_warmup():
    assert ex.check_warmup(lambda e, w: min(1.0, e / w)) is True
    assert ex.check_warmup(lambda e, w: e / w) is False  # forgot to cap at 1


def test_dims_in_use():
    assert ex.check_dims_in_use(lambda kl, t: int((kl > t).sum())) is True
    assert ex.check_dims_in_use(lambda kl, t: int((kl > 0).sum())) is False  # ignores the threshold
    assert ex.check_dims_in_use(lambda kl, t: int((kl >= t).sum())) is False  # counts the threshold itself


def test_dims_in_use_wants_an_int(capsys):
    assert ex.check_dims_in_use(lambda kl, t: (kl > t).sum()) is False  # a 0-d tensor, not an int
    assert "Python int" in capsys.readouterr().out
    assert ex.check_dims_in_use(lambda kl, t: bool((kl > t).sum())) is False


def test_unanswered_placeholders(capsys):
    def blank(*args):
        ...

    assert ex.check_beta_loss(blank) is None
    assert ex.check_warmup(blank) is None
    assert ex.check_dims_in_use(blank) is None
    assert capsys.readouterr().out.count("not answered") == 3


def test_a_crashing_answer_does_not_raise(capsys):
    def boom(*args):
        raise RuntimeError("oops")

    assert ex.check_warmup(boom) is False
    assert "RuntimeError" in capsys.readouterr().out


def test_reference_returns_tensor_shape():
    out = ex._beta_loss(torch.ones(3), torch.ones(3), 2.0)
    assert out.shape == (3,)
