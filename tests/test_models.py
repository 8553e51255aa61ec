"""Tests for vae_teach.models: shapes per likelihood, loss vs ELBO, IWAE >= ELBO, input validation, helpers."""

import pytest
import torch

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
    assert m.log_likelihood(x, k=5).shape == (8,)
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
    ll = m.log_likelihood(x, k=200, generator=g)
    el = m.elbo(x, n_samples=200, generator=g).detach()
    assert float(ll.mean()) >= float(el.mean())


def test_log_likelihood_chunks_agree():
    m = models.VAE(X_DIM, Z_DIM, hidden=(16,), seed=2)
    x = _x("categorical", n=6)
    a = m.log_likelihood(x, k=50, generator=torch.Generator().manual_seed(0))
    b = m.log_likelihood(x, k=50, generator=torch.Generator().manual_seed(0), max_elements=1)
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
