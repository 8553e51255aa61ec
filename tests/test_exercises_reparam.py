"""Notebook-05 checkers: accept the reference, reject a typical mistake, report `...` as unanswered."""

import pytest
import torch
from exercise_contract import contract

from vae_teach.exercises import reparam

CASES = [
    (reparam.check_reparam_sample, reparam._reparam_sample, lambda mu, sigma, eps: mu + sigma**2 * eps),
    (reparam.check_score, reparam._score, lambda z, mu, sigma: ((z - mu) / sigma, (z - mu) ** 2 / sigma**3)),
    (reparam.check_pathwise_sin, reparam._pathwise_sin,
     lambda mu, sigma, eps: (torch.cos(mu + sigma * eps), torch.cos(mu + sigma * eps))),
    (reparam.check_exact_grad_exp, reparam._exact_grad_exp,
     lambda mu, sigma: (torch.exp(mu + sigma**2 / 2), torch.exp(mu + sigma**2 / 2))),
]


globals().update(contract(CASES))


def test_learner_exception_does_not_raise(capsys):
    def broken(mu, sigma, eps):
        raise RuntimeError("oops")

    assert reparam.check_reparam_sample(broken) is False
    assert "RuntimeError" in capsys.readouterr().out


@pytest.mark.parametrize("checker, reference", [
    (reparam.check_score, lambda z, mu, sigma: torch.stack(reparam._score(z, mu, sigma))),
    (reparam.check_pathwise_sin, lambda mu, sigma, eps: torch.stack(reparam._pathwise_sin(mu, sigma, eps))),
    (reparam.check_exact_grad_exp, lambda mu, sigma: torch.stack(reparam._exact_grad_exp(mu, sigma))),
])
def test_stacked_answer_gets_a_form_hint(checker, reference, capsys):
    assert checker(reference) is False
    out = capsys.readouterr().out
    assert "✗" in out and "tuple of two tensors" in out


def test_wrong_maths_gets_a_maths_hint(capsys):
    assert reparam.check_exact_grad_exp(lambda mu, sigma: (torch.exp(mu), sigma * torch.exp(mu))) is False
    out = capsys.readouterr().out
    assert "closed form" in out and "tuple of two tensors" not in out
