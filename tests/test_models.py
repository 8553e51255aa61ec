"""Tests for vae_teach.models: shapes per likelihood, loss vs ELBO, IWAE >= ELBO, input validation, helpers."""

import math

import pytest
import torch
from torch import distributions as D

from vae_teach import data, models

X_DIM, Z_DIM = 12, 3


def _x(likelihood, n=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    if likelihood == "categorical":
        return torch.randint(0, 17, (n, X_DIM), generator=g)
    if likelihood == "bernoulli":
        return (torch.rand(n, X_DIM, generator=g) < 0.5).float()
    return torch.rand(n, X_DIM, generator=g)


CASES = [("categorical", {}), ("bernoulli", {}), ("gaussian", {"sigma": 0.2}), ("gaussian", {"sigma": "learned"})]


@pytest.mark.parametrize("likelihood,kw", CASES)
def test_shapes_and_dtypes(likelihood, kw):
    m = models.VAE(X_DIM, Z_DIM, hidden=(16,), likelihood=likelihood, seed=0, **kw)
    x = _x(likelihood)
    q = m.encode(x)
    assert q.batch_shape == (8,) and q.event_shape == (Z_DIM,)
    px = m.decode(q.rsample())
    assert px.batch_shape == (8,) and px.event_shape == (X_DIM,)
    assert px.log_prob(x).shape == (8,)
    terms = m.loss(x)
    assert terms.total.shape == () and terms.recon.shape == () and terms.kl.shape == ()
    assert terms.kl_per_dim.shape == (Z_DIM,)
    assert torch.isclose(terms.kl_per_dim.sum(), terms.kl, atol=1e-5)
    assert m.elbo(x, n_samples=3).shape == (8,)
    assert m.log_likelihood(x, n_samples=5).shape == (8,)
    s = m.sample(4, generator=torch.Generator().manual_seed(0))
    assert s.shape == (4, X_DIM)
    assert s.dtype == (torch.int64 if likelihood == "categorical" else torch.float32)
    if likelihood == "categorical":
        assert int(s.min()) >= 0 and int(s.max()) <= 16
    for img in (m.decode_mean(torch.zeros(5, Z_DIM)), m.reconstruct(x)):
        assert img.dtype == torch.float32 and float(img.min()) >= 0 and float(img.max()) <= 1
    assert m.decode_mean(torch.zeros(5, Z_DIM)).shape == (5, X_DIM)


def test_loss_is_minus_elbo_in_expectation_at_beta_one():
    m = models.VAE(X_DIM, Z_DIM, hidden=(16,), seed=1)
    x = _x("categorical", n=16)
    torch.manual_seed(0)
    with torch.no_grad():
        loss = m.loss(x.repeat(400, 1)).total  # one z per copy: the mean over copies is the expectation
    elbo = m.elbo(x, n_samples=400, generator=torch.Generator().manual_seed(1)).mean().detach()
    assert abs(float(loss + elbo)) < 0.1
    t = m.loss(x, beta=0.0)
    assert torch.isclose(t.total, t.recon)


def test_beta_multiplies_the_kl():
    m = models.VAE(X_DIM, Z_DIM, hidden=(16,), seed=1)
    x = _x("categorical")
    torch.manual_seed(3)
    a = m.loss(x, beta=1.0)
    torch.manual_seed(3)
    b = m.loss(x, beta=4.0)
    assert torch.isclose(b.total - a.total, 3 * a.kl, atol=1e-4)


def test_log_likelihood_at_least_elbo_on_average():
    m = models.VAE(X_DIM, Z_DIM, hidden=(16,), seed=2)
    x = _x("categorical", n=20)
    g = torch.Generator().manual_seed(0)
    ll = m.log_likelihood(x, n_samples=200, generator=g)
    el = m.elbo(x, n_samples=200, generator=g).detach()
    assert float(ll.mean()) >= float(el.mean())


def test_log_likelihood_chunks_agree():
    m = models.VAE(X_DIM, Z_DIM, hidden=(16,), seed=2)
    x = _x("categorical", n=6)
    a = m.log_likelihood(x, n_samples=50, generator=torch.Generator().manual_seed(0))
    b = m.log_likelihood(x, n_samples=50, generator=torch.Generator().manual_seed(0), max_elements=1)
    # different chunking draws different samples; both are estimates of the same quantity
    assert torch.allclose(a, b, atol=2.0)


def test_seeded_construction_is_reproducible():
    a = models.VAE(X_DIM, Z_DIM, hidden=(16,), seed=5)
    b = models.VAE(X_DIM, Z_DIM, hidden=(16,), seed=5)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def test_bad_inputs_raise_value_error_naming_forms():
    m = models.VAE(64, 4, hidden=(8,))
    x = torch.randint(0, 17, (350, 64), generator=torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match=r"\[n, 64\].*got shape \[350, 8, 8\]"):
        m.loss(x.view(-1, 8, 8))
    with pytest.raises(ValueError, match=r"0\.\.16.*got levels 0\.\.17"):
        m.loss(torch.cat([x[:2], torch.full((1, 64), 17)]))
    with pytest.raises(ValueError, match="integer grey levels"):
        m.elbo(data.to_unit(x))
    with pytest.raises(ValueError, match="z_dim must be an int >= 1, got 0"):
        models.VAE(64, 0)
    with pytest.raises(ValueError, match="likelihood"):
        models.VAE(64, 2, likelihood="poisson")
    with pytest.raises(ValueError, match=r"z must be"):
        m.decode_mean(torch.zeros(3, 5))
    b = models.VAE(4, 2, hidden=(8,), likelihood="bernoulli")
    with pytest.raises(ValueError, match=r"\[0, 1\].*got values in"):
        b.loss(torch.tensor([[0.0, 2.0, 1.0, 0.0]]))
    with pytest.raises(ValueError, match="beta"):
        m.loss(x, beta=-1.0)


def test_kl_per_dim_and_active_units():
    m = models.VAE(X_DIM, Z_DIM, hidden=(16,), seed=0)
    x = _x("categorical", n=50)
    kl = models.kl_per_dim(m, x)
    assert kl.shape == (Z_DIM,) and (kl >= 0).all()
    with torch.no_grad():
        t = m.loss(x)  # the same closed form, but on mu/logvar of the same x
    assert torch.allclose(kl, t.kl_per_dim, atol=1e-5)
    mu, _ = models.encoder_stats(m, x)
    assert models.active_units(m, x) == int((mu.var(0) > 0.01).sum())
    assert models.active_units(m, x, threshold=1e9) == 0
    with torch.no_grad():  # switch off one unit: its encoder mean no longer depends on x
        m.encoder[-1].weight[0].zero_()
    assert models.unit_activity(m, x)[0] == 0


def test_config_round_trip():
    m = models.VAE(X_DIM, Z_DIM, hidden=(16, 8), likelihood="gaussian", sigma="learned")
    c = m.config()
    c["hidden"] = tuple(c["hidden"])
    assert models.VAE(**c).config() == m.config()


# ---------------------------------------------------------------- bad input, case by case (issue 14)
def _cat(**kw):
    return models.VAE(X_DIM, Z_DIM, hidden=(8,), seed=0, **kw)


def _gauss(**kw):
    return models.VAE(X_DIM, Z_DIM, hidden=(8,), likelihood="gaussian", seed=0, **kw)


def _with(x, i, v):
    x = x.clone()
    x.view(-1)[i] = v
    return x


XG = _x("gaussian")
BAD_CONSTRUCTION = [  # (constructor keyword arguments, the argument the message must name)
    ({"sigma": math.inf}, "sigma"), ({"sigma": math.nan}, "sigma"), ({"sigma": "0.1"}, "sigma"),
    ({"sigma": True}, "sigma"), ({"sigma": 0.0}, "sigma"), ({"sigma": -1.0}, "sigma"),
    ({"dropout": "0.2"}, "dropout"), ({"dropout": 1.0}, "dropout"), ({"dropout": math.nan}, "dropout"),
    ({"dropout": -0.1}, "dropout"), ({"dropout": True}, "dropout"),
    ({"seed": "0"}, "seed"), ({"seed": -1}, "seed"), ({"seed": 1.5}, "seed"), ({"seed": True}, "seed"),
    ({"x_dim": True}, "x_dim"), ({"x_dim": 0}, "x_dim"), ({"z_dim": 2.0}, "z_dim"), ({"z_dim": "2"}, "z_dim"),
    ({"hidden": (32, True)}, "hidden"), ({"hidden": 5}, "hidden"), ({"hidden": (0,)}, "hidden"),
    ({"levels": True}, "levels"), ({"levels": 1}, "levels"), ({"levels": "17"}, "levels"),
    ({"likelihood": "poisson"}, "likelihood"),
]


@pytest.mark.parametrize("kw,name", BAD_CONSTRUCTION, ids=[f"{k}" for k, _ in BAD_CONSTRUCTION])
def test_bad_constructor_arguments_name_the_argument(kw, name):
    args = {"x_dim": X_DIM, "z_dim": Z_DIM, "hidden": (8,), "likelihood": "gaussian"} | kw
    if "levels" in kw:
        args["likelihood"] = "categorical"
    with pytest.raises(ValueError, match=rf"\b{name}\b.*got"):
        models.VAE(**args)


BAD_CALLS = [  # (a call on a fresh model, the argument the message must name)
    ("loss NaN data", lambda: _gauss().loss(_with(XG, 3, math.nan)), r"x must hold finite values.*got NaN"),
    ("loss inf data", lambda: _gauss().loss(_with(XG, 3, math.inf)), r"x must hold finite values.*got inf"),
    ("loss -inf data", lambda: _gauss().loss(_with(XG, 0, -math.inf)), r"x must hold finite values"),
    ("loss NaN bernoulli", lambda: models.VAE(X_DIM, Z_DIM, hidden=(8,), likelihood="bernoulli").loss(
        _with(_x("bernoulli"), 2, math.nan)), r"x must hold finite values"),
    ("loss empty batch", lambda: _cat().loss(torch.zeros(0, X_DIM, dtype=torch.long)), r"x must hold at least one"),
    ("loss empty gaussian", lambda: _gauss().loss(torch.zeros(0, X_DIM)), r"x must hold at least one"),
    ("loss beta str", lambda: _cat().loss(_x("categorical"), beta="1"), r"beta must be a finite number >= 0"),
    ("loss beta bool", lambda: _cat().loss(_x("categorical"), beta=True), r"beta must be"),
    ("loss beta nan", lambda: _cat().loss(_x("categorical"), beta=math.nan), r"beta must be"),
    ("loss beta inf", lambda: _cat().loss(_x("categorical"), beta=math.inf), r"beta must be"),
    ("loss beta negative", lambda: _cat().loss(_x("categorical"), beta=-1), r"beta must be"),
    ("loss x list", lambda: _cat().loss([[0] * X_DIM]), r"x must be a tensor"),
    ("loss x 1-D", lambda: _cat().loss(torch.zeros(X_DIM, dtype=torch.long)), r"x must be a tensor"),
    ("loss bool x", lambda: _cat().loss(torch.zeros(2, X_DIM, dtype=torch.bool)), r"x must be .*torch.bool"),
    ("loss negative level", lambda: _cat().loss(torch.full((2, X_DIM), -1)), r"x must be .*got levels -1"),
    ("sample bool", lambda: _cat().sample(True), r"n must be an int >= 1, got True"),
    ("sample 0", lambda: _cat().sample(0), r"n must be an int >= 1"),
    ("sample float", lambda: _cat().sample(2.0), r"n must be an int >= 1"),
    ("sample str", lambda: _cat().sample("3"), r"n must be an int >= 1"),
    ("elbo n_samples 0", lambda: _cat().elbo(_x("categorical"), n_samples=0), r"n_samples must be an int >= 1"),
    ("elbo n_samples bool", lambda: _cat().elbo(_x("categorical"), n_samples=True), r"n_samples must be"),
    ("elbo NaN data", lambda: _gauss().elbo(_with(XG, 1, math.nan)), r"x must hold finite values"),
    ("elbo empty", lambda: _gauss().elbo(torch.zeros(0, X_DIM)), r"x must hold at least one"),
    ("log_likelihood n_samples 0", lambda: _cat().log_likelihood(_x("categorical"), n_samples=0),
     r"n_samples must be an int >= 1"),
    ("log_likelihood n_samples bool", lambda: _cat().log_likelihood(_x("categorical"), n_samples=True),
     r"n_samples must be an int"),
    ("log_likelihood inf", lambda: _gauss().log_likelihood(_with(XG, 1, math.inf), n_samples=2), r"x must hold finite"),
    ("encode NaN", lambda: _gauss().encode(_with(XG, 1, math.nan)), r"x must hold finite values"),
    ("decode int z", lambda: _cat().decode(torch.zeros(2, Z_DIM, dtype=torch.long)), r"z must be a float tensor"),
    ("decode wrong z", lambda: _cat().decode(torch.zeros(2, Z_DIM + 1)), r"z must be a float tensor"),
    ("decode_mean list", lambda: _cat().decode_mean([0.0] * Z_DIM), r"z must be a float tensor"),
    ("reconstruct NaN", lambda: _gauss().reconstruct(_with(XG, 0, math.nan)), r"x must hold finite values"),
    ("active_units threshold str", lambda: models.active_units(_cat(), _x("categorical"), threshold="0.1"),
     r"threshold must be a finite number"),
    ("encoder_stats empty", lambda: models.encoder_stats(_cat(), torch.zeros(0, X_DIM, dtype=torch.long)),
     r"x must hold at least one"),
]


@pytest.mark.parametrize("call,match", [c[1:] for c in BAD_CALLS], ids=[c[0] for c in BAD_CALLS])
def test_bad_calls_raise_value_errors_naming_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16])
@pytest.mark.parametrize("likelihood,kw", CASES)
def test_a_float64_or_float16_model_casts_its_inputs(dtype, likelihood, kw):
    m = models.VAE(X_DIM, Z_DIM, hidden=(16,), likelihood=likelihood, seed=0, **kw).to(dtype)
    x = _x(likelihood)  # float32 (or int64 levels) data, as data.py gives it
    assert m.dtype == dtype
    t = m.loss(x)
    assert t.total.dtype == dtype and torch.isfinite(t.total)
    assert m.elbo(x, n_samples=2).dtype == dtype and m.log_likelihood(x, n_samples=3).dtype == dtype
    assert m.decode_mean(torch.zeros(2, Z_DIM)).dtype == dtype  # float32 z is cast too
    assert m.sample(2, generator=torch.Generator().manual_seed(0)).dtype == (
        torch.int64 if likelihood == "categorical" else dtype)
    if dtype == torch.float64:  # the same weights in float64 give the float32 numbers to float32 precision
        m32 = models.VAE(X_DIM, Z_DIM, hidden=(16,), likelihood=likelihood, seed=0, **kw)
        z = torch.randn(8, Z_DIM, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            assert torch.allclose(m.decode(z).log_prob(x).float(), m32.decode(z).log_prob(x), atol=1e-3)
        assert torch.allclose(models.kl_per_dim(m, x).float(), models.kl_per_dim(m32, x), atol=1e-5)


def test_loss_is_the_reparameterised_elbo_written_out_against_torch_distributions():
    """VAE.loss against an independent computation: the same ε, torch's Categorical and kl_divergence."""
    m = models.VAE(X_DIM, Z_DIM, hidden=(16,), seed=3)
    x = _x("categorical", n=32)
    t = m.loss(x, beta=0.7, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        mu, logvar = models.encoder_stats(m, x)
        eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(5))
        z = mu + (0.5 * logvar).exp() * eps
        recon = -D.Categorical(logits=m.decoder(z).reshape(32, X_DIM, 17)).log_prob(x).sum(1)
        q, p = D.Normal(mu, (0.5 * logvar).exp()), D.Normal(torch.zeros_like(mu), torch.ones_like(mu))
        kl_dims = D.kl_divergence(q, p)
    assert torch.allclose(t.recon, recon.mean(), atol=1e-4)
    assert torch.allclose(t.kl_per_dim, kl_dims.mean(0), atol=1e-5)
    assert torch.allclose(t.total, (recon + 0.7 * kl_dims.sum(1)).mean(), atol=1e-4)
    assert torch.allclose(t.sigma, (0.5 * logvar).exp().mean())


def test_loss_generator_convention():
    """generator=None draws ε from the global RNG (as torch.randn_like does); a generator gives its own stream."""
    m, x = models.VAE(X_DIM, Z_DIM, hidden=(16,), seed=0), _x("categorical")
    torch.manual_seed(4)
    a = m.loss(x).total
    torch.manual_seed(4)
    b = m.loss(x, generator=torch.Generator().manual_seed(4)).total  # same seed, same stream
    c = m.loss(x).total  # the global RNG was not used by b, so this is a's ε again
    assert torch.equal(a, b) and torch.equal(a, c)
    assert not torch.equal(a, m.loss(x, generator=torch.Generator().manual_seed(5)).total)
