"""ELBO, IWAE and Gaussian KL, checked on the linear-Gaussian model where log p(x) and p(z|x) are exact.

Monte Carlo tolerances are Z standard errors, with the standard error estimated from the same samples.
"""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import distributions as D

from vae_teach import bounds, toy

F64 = torch.float64
Z = 5.0  # standard errors allowed for a Monte Carlo comparison (two-sided p ~ 6e-7 per comparison)


def gen(seed):
    return torch.Generator().manual_seed(seed)


def setup(d=5, k=2, n=4, sigma=0.7, seed=0):
    g = gen(seed)
    m = toy.LinearGaussian(torch.randn(d, k, generator=g, dtype=F64), torch.randn(d, generator=g, dtype=F64), sigma)
    _, x = m.sample(n, generator=g)
    return m, x


def random_q(n, k, seed, kind="diag", scale=1.0):
    g = gen(seed)
    loc = torch.randn(n, k, generator=g, dtype=F64)
    if kind == "diag":
        sd = scale * torch.exp(0.5 * torch.randn(n, k, generator=g, dtype=F64))
        return D.Independent(D.Normal(loc, sd), 1)
    L = torch.tril(0.3 * torch.randn(n, k, k, generator=g, dtype=F64), -1)
    L = L + torch.diag_embed(scale * torch.exp(0.3 * torch.randn(n, k, generator=g, dtype=F64)))
    return D.MultivariateNormal(loc, scale_tril=L)


def as_mvn(q):
    if isinstance(q, D.MultivariateNormal):
        return q
    return D.MultivariateNormal(q.base_dist.loc, scale_tril=torch.diag_embed(q.base_dist.scale))


def mc_close(samples, target):
    """Per-row |mean - target| <= Z * standard error, for samples [S, n]."""
    mean, se = samples.mean(0), samples.std(0) / math.sqrt(samples.shape[0])
    return bool(((mean - target).abs() <= Z * se + 1e-12).all()), (mean - target).abs().max().item()


# ---------------------------------------------------------------- gaussian_kl
@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=3), seed=st.integers(0, 2**16))
def test_gaussian_kl_matches_torch_and_is_nonnegative(shape, seed):
    g = gen(seed)
    mu = 2 * torch.randn(shape, generator=g, dtype=F64)
    logvar = 2 * torch.randn(shape, generator=g, dtype=F64)
    got = bounds.gaussian_kl(mu, logvar)
    q = D.Independent(D.Normal(mu, (0.5 * logvar).exp()), 1)
    p = D.Independent(D.Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1)
    want = D.kl_divergence(q, p)
    assert got.shape == tuple(shape[:-1])
    assert (got - want).abs().max() < 1e-6
    assert (got >= 0).all()


def test_gaussian_kl_is_exactly_zero_at_the_prior():
    assert torch.equal(bounds.gaussian_kl(torch.zeros(3, 4), torch.zeros(3, 4)), torch.zeros(3))


def test_gaussian_kl_float32_matches_torch():
    g = gen(1)
    mu, logvar = torch.randn(100, 8, generator=g), torch.randn(100, 8, generator=g)
    q = D.Independent(D.Normal(mu, (0.5 * logvar).exp()), 1)
    want = D.kl_divergence(q, D.Independent(D.Normal(torch.zeros(8), torch.ones(8)), 1))
    assert (bounds.gaussian_kl(mu, logvar) - want).abs().max() < 1e-5


# ---------------------------------------------------------------- ELBO
@pytest.mark.parametrize("kind", ["diag", "full"])
@pytest.mark.parametrize("analytic_kl", [False, True])
def test_log_evidence_equals_kl_to_posterior_plus_elbo(kind, analytic_kl):
    """log p(x) = KL(q || p(z|x)) + ELBO, for a random Gaussian q (within Z Monte Carlo standard errors)."""
    m, x = setup()
    q = random_q(4, 2, seed=7, kind=kind)
    gap = D.kl_divergence(as_mvn(q), m.posterior(x))
    s = bounds.elbo_samples(x, q, m.prior(), m.likelihood, 10000, analytic_kl, generator=gen(2))
    assert s.shape == (10000, 4)
    assert (gap > 0.1).all()  # a q far enough from the posterior that the identity is not trivial
    ok, err = mc_close(s, m.log_marginal(x) - gap)
    assert ok, err


@settings(max_examples=15, deadline=None)
@given(d=st.integers(1, 6), k=st.integers(1, 4), sigma=st.floats(0.2, 2.0), seed=st.integers(0, 2**16))
def test_elbo_is_below_log_evidence_for_every_q(d, k, sigma, seed):
    m, x = setup(d, k, 3, sigma, seed)
    q = random_q(3, k, seed + 1, kind="full")
    s = bounds.elbo_samples(x, q, m.prior(), m.likelihood, 2000, True, generator=gen(seed))
    se = s.std(0) / math.sqrt(2000)
    assert (s.mean(0) <= m.log_marginal(x) + Z * se).all()
    exact_elbo = m.log_marginal(x) - D.kl_divergence(as_mvn(q), m.posterior(x))
    ok, err = mc_close(s, exact_elbo)
    assert ok, err


def test_elbo_equals_log_evidence_at_the_exact_posterior():
    """At q = p(z|x), estimator A is log p(x) for every single sample (zero variance); B is right on average."""
    m, x = setup()
    post = m.posterior(x)
    a = bounds.elbo_samples(x, post, m.prior(), m.likelihood, 5000, analytic_kl=False, generator=gen(3))
    b = bounds.elbo_samples(x, post, m.prior(), m.likelihood, 5000, analytic_kl=True, generator=gen(3))
    assert (a - m.log_marginal(x)).abs().max() < 1e-10
    assert a.var(0).max() < 1e-20
    assert (b.var(0) > 0.05).all()
    ok, err = mc_close(b, m.log_marginal(x))
    assert ok, err


def test_estimators_a_and_b_have_the_same_mean():
    """A - B = log p(z) - log q(z) + KL(q || p) on shared draws has mean 0 (eqs. 6 and 7)."""
    m, x = setup(n=6)
    q = random_q(6, 2, seed=11)
    a = bounds.elbo_samples(x, q, m.prior(), m.likelihood, 10000, analytic_kl=False, generator=gen(4))
    b = bounds.elbo_samples(x, q, m.prior(), m.likelihood, 10000, analytic_kl=True, generator=gen(4))
    ok, err = mc_close(a - b, torch.zeros(6, dtype=F64))
    assert ok, err


def test_estimator_b_usually_has_lower_variance():
    """For narrow encoder-like q (VAE regime), B beats A on most rows; at the exact posterior A wins (var 0)."""
    m, x = setup(n=40, seed=5)
    post = m.posterior(x)
    g = gen(6)
    loc = post.mean + 0.3 * torch.randn(40, 2, generator=g, dtype=F64)
    sd = 0.3 * post.stddev * torch.exp(0.3 * torch.randn(40, 2, generator=g, dtype=F64))
    q = D.Independent(D.Normal(loc, sd), 1)
    a = bounds.elbo_samples(x, q, m.prior(), m.likelihood, 4000, analytic_kl=False, generator=gen(7))
    b = bounds.elbo_samples(x, q, m.prior(), m.likelihood, 4000, analytic_kl=True, generator=gen(7))
    assert (b.var(0) < a.var(0)).float().mean() >= 0.8


def test_elbo_shapes_and_reproducibility():
    m, x = setup()
    q = random_q(4, 2, seed=1)
    e1 = bounds.elbo(x, q, m.prior(), m.likelihood, n_samples=3, generator=gen(0))
    e2 = bounds.elbo(x, q, m.prior(), m.likelihood, n_samples=3, generator=gen(0))
    assert e1.shape == (4,) and torch.equal(e1, e2)
    # more samples than one chunk: still [n]
    assert bounds.elbo(x, q, m.prior(), m.likelihood, n_samples=bounds.ROWS // 4 + 3).shape == (4,)


# ---------------------------------------------------------------- IWAE
def test_iwae_at_k1_is_estimator_a_with_the_same_draws():
    m, x = setup()
    q = random_q(4, 2, seed=2, kind="full")
    iw = bounds.iwae_bound(x, q, m.prior(), m.likelihood, n_samples=1, generator=gen(8))
    a = bounds.elbo(x, q, m.prior(), m.likelihood, n_samples=1, analytic_kl=False, generator=gen(8))
    assert torch.allclose(iw, a, rtol=0, atol=1e-12)


def test_iwae_is_the_log_mean_of_the_a_weights_across_chunks(monkeypatch):
    """With chunks of 7 draws, the running logsumexp equals one logsumexp over all k log-weights."""
    monkeypatch.setattr(bounds, "CHUNK", 7)
    monkeypatch.setattr(bounds, "ROWS", 1)
    m, x = setup()
    q = random_q(4, 2, seed=3)
    iw = bounds.iwae_bound(x, q, m.prior(), m.likelihood, n_samples=50, generator=gen(9))
    log_w = bounds.elbo_samples(x, q, m.prior(), m.likelihood, 50, analytic_kl=False, generator=gen(9))
    assert torch.allclose(iw, torch.logsumexp(log_w, 0) - math.log(50), rtol=0, atol=1e-12)


def test_iwae_is_non_decreasing_in_k_on_average():
    """E[IWAE_k] rises with k (Burda et al. theorem 1); 400 independent replicates per k."""
    m, x = setup(n=1)
    r = 400
    xr = x.expand(r, -1)
    q = D.Independent(D.Normal(torch.zeros(r, 2, dtype=F64), torch.ones(r, 2, dtype=F64)), 1)  # q = prior
    means, ses = [], []
    for i, k in enumerate([1, 4, 16, 64, 256]):
        v = bounds.iwae_bound(xr, q, m.prior(), m.likelihood, n_samples=k, generator=gen(100 + i))
        means.append(v.mean().item())
        ses.append(v.std().item() / math.sqrt(r))
    for i in range(4):
        assert means[i + 1] >= means[i] - Z * math.hypot(ses[i], ses[i + 1]), (means, ses)
    assert means[-1] > means[0] + Z * math.hypot(ses[0], ses[-1])  # and it really rises
    assert means[-1] <= m.log_marginal(x).item() + Z * ses[-1]


def test_iwae_converges_to_log_evidence():
    """k = 5000 with a q wider than the posterior: error within Z SE of log mean w plus the O(1/k) bias."""
    m, x = setup(n=5)
    post = m.posterior(x)
    q = D.MultivariateNormal(post.mean + 0.2, scale_tril=1.5 * post.scale_tril)
    k = 5000
    got = bounds.iwae_bound(x, q, m.prior(), m.likelihood, n_samples=k, generator=gen(10))
    log_w = bounds.elbo_samples(x, q, m.prior(), m.likelihood, k, analytic_kl=False, generator=gen(11))
    w = torch.exp(log_w - torch.logsumexp(log_w, 0) + math.log(k))  # weights normalised to mean 1
    rel_var = w.var(0)
    tol = Z * (rel_var / k).sqrt() + rel_var / k
    err = (got - m.log_marginal(x)).abs()
    assert (err <= tol).all(), (err, tol)
    assert tol.max() < 0.1  # the check has teeth: a wrong estimator would be off by more than this


# ---------------------------------------------------------------- other distributions and a VAE-like decoder
def test_works_with_a_float32_bernoulli_decoder_and_keeps_gradients():
    g = gen(12)
    enc, dec = torch.nn.Linear(64, 2 * 3), torch.nn.Linear(3, 64)
    x = (torch.rand(10, 64, generator=g) > 0.5).float()
    mu, logvar = enc(x).chunk(2, -1)
    q = D.Independent(D.Normal(mu, (0.5 * logvar).exp()), 1)
    prior = D.Independent(D.Normal(torch.zeros(3), torch.ones(3)), 1)

    def likelihood(z):
        return D.Independent(D.Bernoulli(logits=dec(z)), 1)

    e = bounds.elbo(x, q, prior, likelihood, n_samples=2, generator=gen(0))
    iw = bounds.iwae_bound(x, q, prior, likelihood, n_samples=300, generator=gen(0))
    assert e.shape == iw.shape == (10,) and e.dtype == torch.float32
    e.mean().backward()
    assert enc.weight.grad is not None and dec.weight.grad is not None


def test_non_gaussian_q_is_refused_and_a_prior_without_closed_form_kl_needs_estimator_a():
    """Only Gaussian q can be reparameterised from a generator; B needs a closed-form KL, A does not."""
    m, x = setup()
    q = D.Independent(D.StudentT(5.0, torch.zeros(4, 2, dtype=F64), torch.ones(4, 2, dtype=F64)), 1)
    with pytest.raises(ValueError, match=r"q must be a Gaussian .*got Independent\(StudentT\)"):
        bounds.elbo(x, q, m.prior(), m.likelihood, n_samples=10, generator=gen(13))
    heavy = D.Independent(D.StudentT(3.0, torch.zeros(2, dtype=F64), torch.ones(2, dtype=F64)), 1)  # heavy tails
    q = random_q(4, 2, seed=0)
    with pytest.raises(ValueError, match="analytic_kl=True needs a closed-form KL.*analytic_kl=False"):
        bounds.elbo(x, q, heavy, m.likelihood, n_samples=10, generator=gen(13))
    a = bounds.elbo_samples(x, q, heavy, m.likelihood, n_samples=10, analytic_kl=False, generator=gen(13))
    z = bounds.rsample(q, 10, gen(13))  # the same draws, scored by hand: log p(x|z) + log p(z) - log q(z|x)
    want = m.likelihood(z.reshape(40, 2)).log_prob(x.repeat(10, 1)).reshape(10, 4) + heavy.log_prob(z) - q.log_prob(z)
    assert torch.allclose(a, want, rtol=0, atol=1e-12)


def test_rsample_is_mu_plus_sigma_eps_with_the_generators_eps():
    """Diagonal and full-covariance q: z = mu + sigma * eps and z = mu + L eps, eps from the generator."""
    q = random_q(3, 2, seed=4)
    eps = torch.randn(5, 3, 2, generator=gen(1), dtype=F64)
    assert torch.equal(bounds.rsample(q, 5, gen(1)), q.base_dist.loc + q.base_dist.scale * eps)
    full = random_q(3, 2, seed=4, kind="full")
    want = full.loc + (full.scale_tril @ eps.unsqueeze(-1)).squeeze(-1)
    assert torch.allclose(bounds.rsample(full, 5, gen(1)), want, rtol=0, atol=1e-12)
    torch.manual_seed(3)  # generator=None draws from the global RNG, exactly like torch.randn_like
    z = bounds.reparameterise(q.base_dist.loc, q.base_dist.scale)
    torch.manual_seed(3)
    assert torch.equal(z, q.base_dist.loc + q.base_dist.scale * torch.randn_like(q.base_dist.loc))


def test_gaussian_kl_per_dim_matches_torch_per_dimension():
    g = gen(2)
    mu, logvar = 2 * torch.randn(6, 4, generator=g, dtype=F64), torch.randn(6, 4, generator=g, dtype=F64)
    want = D.kl_divergence(D.Normal(mu, (0.5 * logvar).exp()), D.Normal(torch.zeros_like(mu), torch.ones_like(mu)))
    got = bounds.gaussian_kl_per_dim(mu, logvar)
    assert got.shape == (6, 4) and (got - want).abs().max() < 1e-12
    assert torch.equal(got.sum(-1), bounds.gaussian_kl(mu, logvar))


# ---------------------------------------------------------------- bad input
def test_bad_counts_raise_clear_errors():
    m, x = setup()
    q = random_q(4, 2, seed=0)
    with pytest.raises(ValueError, match="n_samples must be an int >= 1, got 0"):
        bounds.elbo(x, q, m.prior(), m.likelihood, n_samples=0)
    with pytest.raises(ValueError, match="n_samples must be an int >= 1, got 0"):
        bounds.iwae_bound(x, q, m.prior(), m.likelihood, n_samples=0)
    with pytest.raises(ValueError, match="n_samples must be an int >= 1, got 2.5"):
        bounds.iwae_bound(x, q, m.prior(), m.likelihood, n_samples=2.5)


def test_shape_mismatches_raise_clear_errors():
    m, x = setup()
    with pytest.raises(ValueError, match=r"q must have batch shape \[n\] = \[4\].*got \[3\]"):
        bounds.elbo(x, random_q(3, 2, seed=0), m.prior(), m.likelihood)
    with pytest.raises(ValueError, match=r"same event shape, got \[2\] and \[3\]"):
        bounds.elbo(x, random_q(4, 3, seed=0), m.prior(), m.likelihood)
    with pytest.raises(ValueError, match="x must be a tensor"):
        bounds.elbo([1.0], random_q(1, 2, seed=0), m.prior(), m.likelihood)

    def per_pixel(z):  # forgot Independent: log_prob is [m, d], not [m]
        return D.Normal(m.likelihood(z).mean, 1.0)

    with pytest.raises(ValueError, match=r"log_prob of shape \[m\] = \[4\].*got \[4, 5\].*Independent"):
        bounds.elbo(x, random_q(4, 2, seed=0), m.prior(), per_pixel)
    with pytest.raises(ValueError, match=r"same shape \[\.\.\., J\], got \[3, 2\] and \[3\]"):
        bounds.gaussian_kl(torch.zeros(3, 2), torch.zeros(3))


def test_kl_helper_mixes_diagonal_and_full_gaussians_and_says_none_otherwise():
    m, x = setup()
    q = random_q(4, 2, seed=5)
    want = D.kl_divergence(as_mvn(q), as_mvn(m.prior()))
    assert torch.allclose(bounds.kl(m.posterior(x), m.prior()), D.kl_divergence(m.posterior(x), as_mvn(m.prior())))
    assert torch.allclose(bounds.kl(q, m.prior()), want)
    t = D.Independent(D.StudentT(5.0, torch.zeros(4, 2, dtype=F64), torch.ones(4, 2, dtype=F64)), 1)
    assert bounds.kl(t, m.prior()) is None


def test_nonlinear_model_plugs_into_the_bounds():
    """On the two-peaked 1-D model, IWAE with a broad q reaches the quadrature log p(x); the ELBO stays below."""
    model = toy.Nonlinear1D()
    x = torch.tensor([[2.0], [0.5], [-0.5]], dtype=F64)
    q = D.Independent(D.Normal(torch.zeros(3, 1, dtype=F64), torch.full((3, 1), 1.5, dtype=F64)), 1)
    k = 4000
    iw = bounds.iwae_bound(x, q, model.prior(), model.likelihood, n_samples=k, generator=gen(14))
    log_w = bounds.elbo_samples(x, q, model.prior(), model.likelihood, k, analytic_kl=False, generator=gen(15))
    w = torch.exp(log_w - torch.logsumexp(log_w, 0) + math.log(k))
    tol = Z * (w.var(0) / k).sqrt() + w.var(0) / k
    exact = model.log_marginal(x)
    assert ((iw - exact).abs() <= tol).all(), (iw - exact, tol)
    se = log_w.std(0) / math.sqrt(k)
    assert (log_w.mean(0) < exact + Z * se).all()


# ---------------------------------------------------------------- bad input, case by case (issue 14)
def _lg():
    m, x = setup()
    return m, x, random_q(4, 2, seed=0)


def _nan_q():
    q = random_q(4, 2, seed=0)
    loc = q.base_dist.loc.clone()
    loc[1, 0] = math.nan
    return D.Independent(D.Normal(loc, q.base_dist.scale, validate_args=False), 1)  # as a NaN encoder gives


def _with(x, v):
    x = x.clone()
    x[0, 0] = v
    return x


def _elbo(x=None, q=None, **kw):
    m, x0, q0 = _lg()
    return bounds.elbo(x0 if x is None else x, q0 if q is None else q, m.prior(), m.likelihood, **kw)


def _iwae(x=None, q=None, n_samples=3):
    m, x0, q0 = _lg()
    return bounds.iwae_bound(x0 if x is None else x, q0 if q is None else q, m.prior(), m.likelihood, n_samples)


_X = setup()[1]
BAD = [
    ("elbo NaN x", lambda: _elbo(x=_with(_X, math.nan)), r"x must hold finite values, got NaN"),
    ("elbo inf x", lambda: _elbo(x=_with(_X, math.inf)), r"x must hold finite values, got inf"),
    ("elbo empty x", lambda: _elbo(x=_X[:0], q=random_q(1, 2, 0)), r"x must be a tensor .*n >= 1.*got \[0, 5\]"),
    ("elbo NaN q", lambda: _elbo(q=_nan_q()), r"q's parameters must hold finite values, got NaN"),
    ("elbo n_samples bool", lambda: _elbo(n_samples=True), r"n_samples must be an int >= 1, got True"),
    ("elbo n_samples float", lambda: _elbo(n_samples=2.0), r"n_samples must be an int >= 1"),
    ("elbo q not a distribution", lambda: _elbo(q=torch.zeros(4, 2)), r"q and prior must be torch.distributions"),
    ("elbo_samples n_samples 0", lambda: bounds.elbo_samples(_X, random_q(4, 2, 0), setup()[0].prior(),
                                                             setup()[0].likelihood, 0), r"n_samples must be"),
    ("elbo likelihood not callable", lambda: bounds.elbo(_X, random_q(4, 2, 0), setup()[0].prior(), 3.0),
     r"likelihood must be a callable"),
    ("elbo likelihood returns tensor", lambda: bounds.elbo(_X, random_q(4, 2, 0), setup()[0].prior(),
                                                           lambda z: z), r"likelihood\(z\) must return a torch"),
    ("iwae NaN x", lambda: _iwae(x=_with(_X, math.nan)), r"x must hold finite values"),
    ("iwae -inf x", lambda: _iwae(x=_with(_X, -math.inf)), r"x must hold finite values, got inf"),
    ("iwae empty x", lambda: _iwae(x=_X[:0], q=random_q(1, 2, 0)), r"x must be a tensor .*n >= 1"),
    ("iwae NaN q", lambda: _iwae(q=_nan_q()), r"q's parameters must hold finite values"),
    ("iwae n_samples bool", lambda: _iwae(n_samples=True), r"n_samples must be an int >= 1, got True"),
    ("iwae n_samples str", lambda: _iwae(n_samples="3"), r"n_samples must be an int >= 1"),
    ("gaussian_kl NaN mu", lambda: bounds.gaussian_kl(torch.tensor([math.nan, 0.0]), torch.zeros(2)),
     r"mu must hold finite values, got NaN"),
    ("gaussian_kl inf logvar", lambda: bounds.gaussian_kl(torch.zeros(2), torch.tensor([0.0, math.inf])),
     r"logvar must hold finite values, got inf"),
    ("gaussian_kl lists", lambda: bounds.gaussian_kl([0.0], [0.0]), r"mu and logvar must be tensors"),
    ("gaussian_kl 0-d", lambda: bounds.gaussian_kl(torch.tensor(0.0), torch.tensor(0.0)),
     r"mu and logvar must have the same shape \[\.\.\., J\]"),
    ("gaussian_kl_per_dim shapes", lambda: bounds.gaussian_kl_per_dim(torch.zeros(2, 3), torch.zeros(3, 2)),
     r"mu and logvar must have the same shape"),
]


@pytest.mark.parametrize("call,match", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_inputs_raise_value_errors_naming_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()
