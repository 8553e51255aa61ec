"""The notebook-01 checkers accept the reference, reject a typical mistake and wait politely for `...`."""

import math

import torch
from exercise_contract import contract

from vae_teach.exercises import generative as ex


def _likelihood_only(x, z, w, b, s):
    return torch.distributions.Normal(z @ w.T + b, s).log_prob(x).sum(-1)


CASES = [
    (ex.check_sample_x, ex._sample_x, lambda w, b, s, ez, ex_: ez @ w.T + b + s**2 * ex_),  # variance, not std
    (ex.check_log_joint, ex._log_joint, _likelihood_only),
    (ex.check_naive_log_evidence, ex._naive_log_evidence, lambda ll: ll.mean()),  # Jensen: the mean of logs
]

globals().update(contract(CASES))


def test_sample_x(capsys):
    assert ex.check_sample_x(lambda w, b, s, ez, ex_: ez @ w.T + b + s * ex_) is True
    assert ex.check_sample_x(lambda w, b, s, ez, ex_: ez @ w.T + b + s**2 * ex_) is False  # variance, not std
    assert "✗" in capsys.readouterr().out


def test_sample_x_tuple_says_return_only_x(capsys):
    def z_and_x(w, b, s, ez, ex_):
        return ez, ez @ w.T + b + s * ex_  # like LinearGaussian.sample

    assert ex.check_sample_x(z_and_x) is False
    out = capsys.readouterr().out
    assert "✗" in out and "Return only x" in out


def test_log_joint(capsys):
    def ref(x, z, w, b, s):
        prior = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
        return prior + torch.distributions.Normal(z @ w.T + b, s).log_prob(x).sum(-1)

    def likelihood_only(x, z, w, b, s):
        return torch.distributions.Normal(z @ w.T + b, s).log_prob(x).sum(-1)

    assert ex.check_log_joint(ref) is True
    assert ex.check_log_joint(likelihood_only) is False


def test_naive_log_evidence():
    assert ex.check_naive_log_evidence(lambda ll: torch.logsumexp(ll, 0) - math.log(len(ll))) is True
    assert ex.check_naive_log_evidence(lambda ll: ll.mean()) is False  # Jensen: the mean of logs is lower
    assert ex.check_naive_log_evidence(lambda ll: ll.exp().mean().log()) is False  # underflows to -inf


def test_placeholders_print_todo(capsys):
    def todo(*args):
        ...

    for checker in (ex.check_sample_x, ex.check_log_joint, ex.check_naive_log_evidence):
        assert checker(todo) is None
    out = capsys.readouterr().out
    assert out.count("○") == 3 and "✗" not in out
