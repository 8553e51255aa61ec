"""The notebook-02 checkers accept the reference, reject a typical mistake and wait politely for `...`."""

import torch
from exercise_contract import contract

from vae_teach.exercises import p_and_q as ex


def _grid_posterior(z, lp, ll):
    joint = (lp + ll).exp()
    return joint / (joint.sum() * (z[1] - z[0]))


def _lg_posterior(w, b, s, x):
    cov = torch.linalg.inv(torch.eye(w.shape[1], dtype=w.dtype) + w.T @ w / s**2)
    return (x - b) @ w @ cov / s**2, cov


def _no_prior(w, b, s, x):
    cov = torch.linalg.inv(w.T @ w / s**2)
    return (x - b) @ w @ cov / s**2, cov


CASES = [
    (ex.check_grid_posterior, ex._grid_posterior, lambda z, lp, ll: (lp + ll).exp()),  # not normalised
    (ex.check_linear_gaussian_posterior, ex._lg_posterior, _no_prior),
]

globals().update(contract(CASES))


def test_grid_posterior(capsys):
    assert ex.check_grid_posterior(_grid_posterior) is True
    assert ex.check_grid_posterior(lambda z, lp, ll: (lp + ll).exp()) is False  # not normalised
    assert "evidence" in capsys.readouterr().out


def test_linear_gaussian_posterior(capsys):
    assert ex.check_linear_gaussian_posterior(_lg_posterior) is True

    def no_prior(w, b, s, x):
        cov = torch.linalg.inv(w.T @ w / s**2)
        return (x - b) @ w @ cov / s**2, cov

    assert ex.check_linear_gaussian_posterior(no_prior) is False
    assert "prior" in capsys.readouterr().out


def test_placeholders_print_todo(capsys):
    def todo(*args):
        ...

    assert ex.check_grid_posterior(todo) is None
    assert ex.check_linear_gaussian_posterior(todo) is None
    out = capsys.readouterr().out
    assert out.count("○") == 2 and "✗" not in out
