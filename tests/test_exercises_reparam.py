"""Notebook-05 checkers: accept the reference, reject a typical mistake, report `...` as unanswered."""

import pytest

from vae_teach.exercises import reparam

CASES = [
    (reparam.check_reparam_sample, reparam._reparam_sample, lambda mu, sigma, eps: mu + sigma**2 * eps),
    (reparam.check_score, reparam._score, lambda z, mu, sigma: ((z - mu) / sigma, (z - mu) ** 2 / sigma**3)),
    (reparam.check_pathwise_z2, reparam._pathwise_z2,
     lambda mu, sigma, eps: (2 * (mu + sigma * eps), 2 * eps)),
    (reparam.check_exact_grad_z2, reparam._exact_grad_z2, lambda mu, sigma: (2 * mu, 2 * sigma**2)),
]


@pytest.mark.parametrize("checker, reference, wrong", CASES)
def test_accepts_reference(checker, reference, wrong, capsys):
    assert checker(reference) is True
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize("checker, reference, wrong", CASES)
def test_rejects_typical_mistake(checker, reference, wrong, capsys):
    assert checker(wrong) is False
    assert "✗" in capsys.readouterr().out


@pytest.mark.parametrize("checker, reference, wrong", CASES)
def test_placeholder_is_not_answered(checker, reference, wrong, capsys):
    def placeholder(*args):
        ...

    assert checker(placeholder) is None
    assert "○" in capsys.readouterr().out


def test_learner_exception_does_not_raise(capsys):
    def broken(mu, sigma, eps):
        raise RuntimeError("oops")

    assert reparam.check_reparam_sample(broken) is False
    assert "RuntimeError" in capsys.readouterr().out
