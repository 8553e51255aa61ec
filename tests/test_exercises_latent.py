"""Notebook 08's checkers accept the reference, reject a typical wrong answer, and treat `...` as unanswered."""

import torch
from exercise_contract import contract
from torch.distributions import Normal

from vae_teach import latent
from vae_teach.exercises import latent as ex


def _leaves_out_b(a, b, steps):
    t = torch.arange(steps).unsqueeze(1) / steps
    return (1 - t) * a + t * b


CASES = [
    (ex.check_inverse_cdf, ex._inverse_cdf, lambda u: Normal(0.0, 1.0).cdf(u)),  # the CDF, not its inverse
    (ex.check_interpolate, latent.interpolate, _leaves_out_b),
    (ex.check_correlation, ex._pearson, lambda x, y: float(((x - x.mean()) * (y - y.mean())).mean())),  # covariance
]

globals().update(contract(CASES))


def test_inverse_cdf():
    assert ex.check_inverse_cdf(lambda u: Normal(0.0, 1.0).icdf(u)) is True
    assert ex.check_inverse_cdf(lambda u: Normal(0.0, 1.0).cdf(u)) is False  # CDF instead of its inverse
    assert ex.check_inverse_cdf(lambda u: 2**0.5 * torch.erfinv(2 * u - 1)) is True


def test_interpolate():
    def line(a, b, steps):
        t = torch.linspace(0, 1, steps).unsqueeze(1)
        return (1 - t) * a + t * b

    def off_by_one(a, b, steps):  # leaves out the end point b
        t = torch.arange(steps).unsqueeze(1) / steps
        return (1 - t) * a + t * b

    assert ex.check_interpolate(line) is True
    assert ex.check_interpolate(off_by_one) is False


def test_correlation():
    def pearson(x, y):
        xc, yc = x - x.mean(), y - y.mean()
        return float((xc * yc).sum() / (xc.norm() * yc.norm()))

    assert ex.check_correlation(pearson) is True
    assert ex.check_correlation(lambda x, y: float(((x - x.mean()) * (y - y.mean())).mean())) is False  # covariance


def test_unanswered_placeholders(capsys):
    def blank(*args):
        ...

    assert ex.check_inverse_cdf(blank) is None
    assert ex.check_interpolate(blank) is None
    assert ex.check_correlation(blank) is None
    assert capsys.readouterr().out.count("not answered") == 3
