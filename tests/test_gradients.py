"""Gradient estimators against analytic gradients, closed-form variances and scipy quadrature over eps ~ N(0, 1)."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from vae_teach.gradients import grad_samples

Z = 5.0  # standard errors allowed for a Monte Carlo comparison
N = 100_000


def square(z):
    return z * z


# (d/dmu, d/dsigma) of E[f(z)], z ~ N(mu, sigma^2): E[z^2] = mu^2 + sigma^2, E[sin z] = sin(mu) exp(-sigma^2 / 2)
TRUE_GRAD = {
    "square": lambda mu, s: (2 * mu, 2 * s),
    "sin": lambda mu, s: (math.cos(mu) * math.exp(-s * s / 2), -s * math.sin(mu) * math.exp(-s * s / 2)),
}
TORCH_F = {"square": square, "sin": torch.sin}

# the per-sample estimators as functions of eps, written out by hand for the quadrature oracle
NP_F = {"square": lambda z: z * z, "sin": np.sin}
NP_DF = {"square": lambda z: 2 * z, "sin": np.cos}


def estimator(fname, method, mu, s):
    """(g_mu(eps), g_sigma(eps)) as numpy functions."""
    f, df = NP_F[fname], NP_DF[fname]
    if method == "reparam":
        return (lambda e: df(mu + s * e)), (lambda e: df(mu + s * e) * e)
    return (lambda e: f(mu + s * e) * e / s), (lambda e: f(mu + s * e) * (e * e - 1) / s)


def gauss_expect(h):
    """E[h(eps)], eps ~ N(0, 1), by scipy quad."""
    return integrate.quad(lambda e: h(e) * stats.norm.pdf(e), -np.inf, np.inf, epsabs=1e-12, limit=200)[0]


def exact_moments(h):
    """(mean, variance, 4th central moment) of h(eps) by quadrature."""
    m = gauss_expect(h)
    v = gauss_expect(lambda e: (h(e) - m) ** 2)
    m4 = gauss_expect(lambda e: (h(e) - m) ** 4)
    return m, v, m4


CASES = [
    (f, meth, mu, s)
    for f in ("square", "sin")
    for meth in ("reparam", "score")
    for mu, s in [(0.5, 1.0), (-1.3, 0.4)]
]


@pytest.mark.parametrize("fname, method, mu, sigma", CASES)
def test_estimators_are_unbiased_with_the_quadrature_variance(fname, method, mu, sigma):
    """Sample mean = analytic gradient within Z SE; sample variance = quadrature variance within Z SE of a variance."""
    g_mu, g_sigma = grad_samples(TORCH_F[fname], mu, sigma, N, method, generator=torch.Generator().manual_seed(1))
    assert g_mu.shape == g_sigma.shape == (N,) and g_mu.dtype == torch.float64
    hs, truths = estimator(fname, method, mu, sigma), TRUE_GRAD[fname](mu, sigma)
    for got, h, truth in zip((g_mu, g_sigma), hs, truths, strict=True):
        m, v, m4 = exact_moments(h)
        assert abs(m - truth) < 1e-8  # the quadrature oracle agrees with the analytic gradient
        assert abs(got.mean().item() - truth) <= Z * math.sqrt(v / N)
        assert abs(got.var().item() - v) <= Z * math.sqrt((m4 - v * v) / N)


@pytest.mark.parametrize("mu, sigma", [(0.5, 1.0), (-1.3, 0.4), (2.0, 0.1)])
def test_closed_form_variances(mu, sigma):
    """Var by quadrature equals the closed forms, e.g. reparam for z^2: g_mu = 2(mu + sigma eps) -> 4 sigma^2."""
    s2 = sigma * sigma
    closed = {
        ("square", "reparam"): (4 * s2, 4 * mu * mu + 8 * s2),
        ("square", "score"): (mu**4 / s2 + 14 * mu * mu + 15 * s2, None),
        ("sin", "reparam"): ((1 + math.cos(2 * mu) * math.exp(-2 * s2)) / 2 - math.cos(mu) ** 2 * math.exp(-s2), None),
    }
    for (fname, method), want in closed.items():
        for h, v in zip(estimator(fname, method, mu, sigma), want, strict=True):
            if v is not None:
                assert abs(exact_moments(h)[1] - v) < 1e-7 * max(1.0, v)


@pytest.mark.parametrize("fname", ["square", "sin"])
@pytest.mark.parametrize("mu, sigma", [(0.5, 1.0), (-1.3, 0.4), (2.0, 0.1)])
def test_reparam_has_lower_variance_than_score(fname, mu, sigma):
    g = torch.Generator().manual_seed(2)
    rep = grad_samples(TORCH_F[fname], mu, sigma, 20_000, "reparam", generator=g)
    sco = grad_samples(TORCH_F[fname], mu, sigma, 20_000, "score", generator=g)
    for i in range(2):
        exact_rep = exact_moments(estimator(fname, "reparam", mu, sigma)[i])[1]
        exact_sco = exact_moments(estimator(fname, "score", mu, sigma)[i])[1]
        assert exact_rep < exact_sco
        assert rep[i].var() < sco[i].var()


@settings(max_examples=20, deadline=None)
@given(mu=st.floats(-2, 2), sigma=st.floats(0.2, 2), method=st.sampled_from(["reparam", "score"]))
def test_unbiased_for_random_parameters(mu, sigma, method):
    n = 20_000
    g_mu, g_sigma = grad_samples(square, mu, sigma, n, method, generator=torch.Generator().manual_seed(3))
    for got, truth in zip((g_mu, g_sigma), (2 * mu, 2 * sigma), strict=True):
        assert abs(got.mean().item() - truth) <= Z * got.std().item() / math.sqrt(n) + 1e-12


def test_generator_makes_draws_reproducible():
    a = grad_samples(torch.sin, 0.1, 0.5, 10, "score", generator=torch.Generator().manual_seed(4))
    b = grad_samples(torch.sin, 0.1, 0.5, 10, "score", generator=torch.Generator().manual_seed(4))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        ({"method": "pathwise"}, r"method must be one of \('reparam', 'score'\), got 'pathwise'"),
        ({"sigma": 0.0}, r"sigma a number > 0, got mu=0.0, sigma=0.0"),
        ({"sigma": -1.0}, r"sigma a number > 0, got .*sigma=-1.0"),
        ({"n": 0}, r"n must be an int >= 1, got 0"),
        ({"f": lambda z: z.sum()}, r"f must act elementwise: for z \[5\] it returned \[\]"),
        ({"f": 2.0}, r"f must be a callable"),
    ],
)
def test_bad_input_raises_clear_errors(kwargs, pattern):
    args = {"f": square, "mu": 0.0, "sigma": 1.0, "n": 5, "method": "reparam"} | kwargs
    with pytest.raises(ValueError, match=pattern):
        grad_samples(**args)
