"""Toy models against outside oracles: scipy.stats, scipy.integrate.quad and sklearn's PCA."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats
from sklearn.decomposition import PCA
from torch import distributions as D

from vae_teach import toy

F64 = torch.float64


def make_model(d=5, k=2, sigma=0.7, seed=0):
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(d, k, generator=g, dtype=F64)
    b = torch.randn(d, generator=g, dtype=F64)
    return toy.LinearGaussian(W, b, sigma)


# ---------------------------------------------------------------- LinearGaussian
def test_log_marginal_matches_torch_and_scipy():
    m = make_model()
    _, x = m.sample(50, generator=torch.Generator().manual_seed(1))
    cov = m.W @ m.W.T + m.sigma**2 * torch.eye(m.d, dtype=F64)
    want_torch = D.MultivariateNormal(m.b, cov).log_prob(x)
    want_scipy = stats.multivariate_normal(m.b.numpy(), cov.numpy()).logpdf(x.numpy())
    got = m.log_marginal(x)
    assert got.shape == (50,)
    assert (got - want_torch).abs().max() < 1e-10
    assert np.abs(got.numpy() - want_scipy).max() < 1e-10


def test_posterior_matches_gaussian_conditioning():
    """p(z|x) from conditioning the joint Gaussian of (z, x): mean W^T C^-1 (x - b), cov I - W^T C^-1 W."""
    m = make_model(d=6, k=3)
    _, x = m.sample(7, generator=torch.Generator().manual_seed(2))
    C = m.W @ m.W.T + m.sigma**2 * torch.eye(m.d, dtype=F64)
    mean = torch.linalg.solve(C, (x - m.b).T).T @ m.W
    cov = torch.eye(m.k, dtype=F64) - m.W.T @ torch.linalg.solve(C, m.W)
    post = m.posterior(x)
    assert isinstance(post, D.MultivariateNormal)
    assert post.batch_shape == (7,) and post.event_shape == (3,)
    assert (post.mean - mean).abs().max() < 1e-10
    assert (post.covariance_matrix - cov).abs().max() < 1e-10


@settings(max_examples=25, deadline=None)
@given(
    d=st.integers(1, 6),
    k=st.integers(1, 4),
    sigma=st.floats(0.1, 3.0),
    seed=st.integers(0, 2**16),
)
def test_bayes_rule_holds_for_random_models(d, k, sigma, seed):
    """log p(z|x) = log p(z) + log p(x|z) - log p(x) at random z, for random shapes and parameters."""
    m = make_model(d, k, sigma, seed)
    g = torch.Generator().manual_seed(seed + 1)
    _, x = m.sample(4, generator=g)
    z = torch.randn(4, k, generator=g, dtype=F64)
    lhs = m.posterior(x).log_prob(z)
    rhs = m.prior().log_prob(z) + m.likelihood(z).log_prob(x) - m.log_marginal(x)
    assert (lhs - rhs).abs().max() < 1e-8
    cov = (m.W @ m.W.T + sigma**2 * torch.eye(d, dtype=F64)).numpy()
    want = stats.multivariate_normal(m.b.numpy(), cov).logpdf(x.numpy())
    assert np.abs(m.log_marginal(x).numpy() - np.atleast_1d(want)).max() < 1e-8


def test_sample_shapes_and_moments():
    m = make_model()
    z, x = m.sample(20000, generator=torch.Generator().manual_seed(3))
    assert z.shape == (20000, 2) and x.shape == (20000, 5)
    var = torch.diagonal(m.W @ m.W.T) + m.sigma**2
    se = (var / 20000).sqrt()
    assert ((x.mean(0) - m.b).abs() < 5 * se).all()


def test_sample_is_reproducible_with_a_generator():
    m = make_model()
    a = m.sample(3, generator=torch.Generator().manual_seed(9))
    b = m.sample(3, generator=torch.Generator().manual_seed(9))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_likelihood_is_batched_over_rows():
    m = make_model()
    px = m.likelihood(torch.zeros(8, 2, dtype=F64))
    assert px.batch_shape == (8,) and px.event_shape == (5,)
    assert m.prior().event_shape == (2,)


@pytest.mark.parametrize("n, d, k", [(200, 5, 2), (500, 8, 3), (60, 4, 1)])
def test_fit_ppca_matches_sklearn_score(n, d, k):
    g = torch.Generator().manual_seed(n + d)
    x = torch.randn(n, d, generator=g, dtype=F64) @ torch.randn(d, d, generator=g, dtype=F64) + 3.0
    want = PCA(n_components=k).fit(x.numpy()).score(x.numpy())
    got = toy.LinearGaussian.fit_ppca(x, k, ddof=1).log_marginal(x).mean().item()
    assert abs(got - want) < 1e-5, abs(got - want)


def test_fit_ppca_default_is_the_maximum_of_the_likelihood():
    """ddof=0 is the MLE: it beats sklearn's n-1 fit, and every small perturbation of W, b, sigma lowers it."""
    g = torch.Generator().manual_seed(4)
    x = torch.randn(300, 5, generator=g, dtype=F64) @ torch.randn(5, 5, generator=g, dtype=F64)
    best = toy.LinearGaussian.fit_ppca(x, 2)
    top = best.log_marginal(x).mean().item()
    assert top > PCA(n_components=2).fit(x.numpy()).score(x.numpy())
    for _ in range(20):
        W = best.W + 1e-3 * torch.randn(best.W.shape, generator=g, dtype=F64)
        b = best.b + 1e-3 * torch.randn(best.b.shape, generator=g, dtype=F64)
        s = best.sigma * (1 + 1e-3 * float(torch.randn(1, generator=g)))
        assert toy.LinearGaussian(W, b, s).log_marginal(x).mean().item() < top


# ---------------------------------------------------------------- Nonlinear1D
def _quad_log_marginal(x, f, sigma, peaks=None):
    """log ∫ N(z; 0, 1) N(x; f(z), sigma^2) dz by scipy quad; give narrow peaks as breakpoints (on [-15, 15])."""

    def log_joint(z):
        return -0.5 * z * z - 0.5 * ((x - f(z)) / sigma) ** 2 - math.log(2 * math.pi * sigma)

    top = float(np.max(log_joint(np.linspace(-15, 15, 30001))))  # a shift so tiny p(x) do not underflow

    def integrand(z):
        return math.exp(log_joint(z) - top)

    if peaks:
        val, _ = integrate.quad(integrand, -15, 15, epsabs=0, epsrel=1e-12, limit=400, points=peaks)
    else:
        val, _ = integrate.quad(integrand, -np.inf, np.inf, epsabs=0, epsrel=1e-12, limit=200)
    return top + math.log(val)


@pytest.mark.parametrize(
    "f, torch_f, sigma",
    [
        (lambda z: z**2, None, 0.5),
        (lambda z: z**2, None, 0.15),
        (np.sin, torch.sin, 0.3),
        (lambda z: z**3 - z, lambda z: z**3 - z, 1.0),
    ],
)
def test_nonlinear_log_marginal_matches_quad(f, torch_f, sigma):
    m = toy.Nonlinear1D(f=torch_f, sigma=sigma)
    xs = [-1.0, 0.0, 0.3, 2.0, 4.0]
    got = m.log_marginal(torch.tensor(xs, dtype=F64))
    want = torch.tensor([_quad_log_marginal(x, f, sigma) for x in xs], dtype=F64)
    assert (got - want).abs().max() < 1e-6, (got - want).abs().max()
    assert (got.exp() - want.exp()).abs().max() < 1e-6


@settings(max_examples=20, deadline=None)
@given(x=st.floats(-3.0, 8.0), sigma=st.floats(0.05, 3.0))
def test_nonlinear_log_marginal_matches_quad_for_random_x_and_sigma(x, sigma):
    got = toy.Nonlinear1D(sigma=sigma).log_marginal(torch.tensor([x], dtype=F64)).item()
    peaks = [-math.sqrt(x), 0.0, math.sqrt(x)] if x > 0 else [0.0]
    assert abs(got - _quad_log_marginal(x, lambda z: z**2, sigma, peaks)) < 1e-6


def test_nonlinear_refuses_x_whose_posterior_leaves_the_grid():
    with pytest.raises(ValueError, match="grid edge .* larger z_limit"):
        toy.Nonlinear1D(z_limit=5.0).log_marginal(torch.tensor([1.0, 30.0]))


@pytest.mark.parametrize("x", [2.0, 0.5, -0.5])
def test_nonlinear_posterior_integrates_to_one(x):
    """Gauss-Legendre (scipy fixed_quad, nodes unrelated to the model's grid) of p(z|x) over z gives 1."""
    m = toy.Nonlinear1D()
    val, _ = integrate.fixed_quad(lambda z: m.posterior_density(x, torch.from_numpy(z)).numpy(), -12, 12, n=3000)
    assert abs(val - 1) < 1e-6, val - 1


def test_nonlinear_default_posterior_is_bimodal_at_x_2():
    m = toy.Nonlinear1D()
    z = torch.linspace(-3, 3, 601, dtype=F64)
    p = m.posterior_density(2.0, z)
    peaks = [i for i in range(1, 600) if p[i] > p[i - 1] and p[i] > p[i + 1]]
    assert len(peaks) == 2
    assert abs(abs(z[peaks[0]].item()) - math.sqrt(2)) < 0.15
    assert p[300] < 0.01 * p[peaks[0]]  # a deep valley at z = 0


def test_nonlinear_shapes_and_sampling():
    m = toy.Nonlinear1D()
    assert torch.allclose(m.log_marginal(torch.tensor([[1.0], [2.0]])), m.log_marginal(torch.tensor([1.0, 2.0])))
    assert m.posterior_density(torch.tensor([1.0, 2.0]), torch.zeros(5)).shape == (2, 5)
    assert m.posterior_density(1.0, torch.zeros(5)).shape == (5,)
    z, x = m.sample(10, generator=torch.Generator().manual_seed(0))
    assert z.shape == (10, 1) and x.shape == (10, 1)
    px = m.likelihood(z)
    assert px.batch_shape == (10,) and px.event_shape == (1,)
    assert m.prior().event_shape == (1,)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "W, b, sigma, words",
    [
        (torch.zeros(5), torch.zeros(5), 1.0, ["W must be", "[d, k]", "[5]"]),
        (torch.zeros(5, 2), torch.zeros(4), 1.0, ["b must be", "[5]", "[4]"]),
        (torch.zeros(5, 2), torch.zeros(5), 0.0, ["sigma must be", "> 0", "0.0"]),
        (torch.zeros(5, 2), torch.zeros(5), -1.0, ["sigma must be", "-1.0"]),
    ],
)
def test_linear_gaussian_rejects_bad_parameters(W, b, sigma, words):
    with pytest.raises(ValueError) as err:
        toy.LinearGaussian(W, b, sigma)
    for w in words:
        assert w in str(err.value)


def test_linear_gaussian_rejects_bad_x_and_z():
    m = make_model()
    for call in (m.log_marginal, m.posterior):
        with pytest.raises(ValueError, match=r"x must be a tensor \[n, 5\], got \[3, 4\]"):
            call(torch.zeros(3, 4))
    with pytest.raises(ValueError, match=r"z must be a tensor \[\.\.\., 2\], got \[3, 3\]"):
        m.likelihood(torch.zeros(3, 3))
    with pytest.raises(ValueError, match="n must be an int >= 1, got 0"):
        m.sample(0)


def test_fit_ppca_rejects_bad_k():
    x = torch.randn(20, 4, generator=torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="k must be an int >= 1, got 0"):
        toy.LinearGaussian.fit_ppca(x, 0)
    with pytest.raises(ValueError, match="k must be < d = 4.*got 4"):
        toy.LinearGaussian.fit_ppca(x, 4)
    with pytest.raises(ValueError, match=r"x must be a tensor \[n, d\], got \[20\]"):
        toy.LinearGaussian.fit_ppca(x[:, 0], 1)


def test_nonlinear_rejects_bad_input():
    with pytest.raises(ValueError, match="sigma must be a number > 0, got 0"):
        toy.Nonlinear1D(sigma=0)
    with pytest.raises(ValueError, match="f must be a callable"):
        toy.Nonlinear1D(f=3)
    m = toy.Nonlinear1D()
    with pytest.raises(ValueError, match=r"x must be \[n\] or \[n, 1\], got \[2, 2\]"):
        m.log_marginal(torch.zeros(2, 2))
    with pytest.raises(ValueError, match=r"z must be a tensor \[\.\.\., 1\], got \[4\]"):
        m.likelihood(torch.zeros(4))
