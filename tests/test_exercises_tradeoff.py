"""Notebook 07's checkers accept the reference, reject a typical wrong answer, and treat `...` as unanswered."""

import torch

from vae_teach.exercises import tradeoff as ex


def test_beta_loss(capsys):
    assert ex.check_beta_loss(lambda d, r, beta: d + beta * r) is True
    assert ex.check_beta_loss(lambda d, r, beta: d - beta * r) is False  # sign of the KL flipped
    assert "Hint" in capsys.readouterr().out


def test_warmup():
    assert ex.check_warmup(lambda e, w: min(1.0, e / w)) is True
    assert ex.check_warmup(lambda e, w: e / w) is False  # forgot to cap at 1


def test_active_units():
    assert ex.check_active_units(lambda kl, t: int((kl > t).sum())) is True
    assert ex.check_active_units(lambda kl, t: int((kl > 0).sum())) is False  # ignores the threshold


def test_unanswered_placeholders(capsys):
    def blank(*args):
        ...

    assert ex.check_beta_loss(blank) is None
    assert ex.check_warmup(blank) is None
    assert ex.check_active_units(blank) is None
    assert capsys.readouterr().out.count("not answered") == 3


def test_a_crashing_answer_does_not_raise(capsys):
    def boom(*args):
        raise RuntimeError("oops")

    assert ex.check_warmup(boom) is False
    assert "RuntimeError" in capsys.readouterr().out


def test_reference_returns_tensor_shape():
    out = ex._beta_loss(torch.ones(3), torch.ones(3), 2.0)
    assert out.shape == (3,)
