"""Tests for vae_teach.train: History, determinism, early stopping, divergence errors, save/load, beta sweeps."""

import json
import math

import pytest
import torch

from vae_teach import models, recipes, train

X_DIM, Z_DIM = 16, 2


def _data(n=96, seed=0):
    g = torch.Generator().manual_seed(seed)
    proto = torch.randint(0, 17, (4, X_DIM), generator=g)
    idx = torch.randint(0, 4, (n,), generator=g)
    noise = torch.randint(-2, 3, (n, X_DIM), generator=g)
    return (proto[idx] + noise).clamp(0, 16)


def _model(seed=0, **kw):
    return models.VAE(X_DIM, Z_DIM, hidden=(16,), seed=seed, **kw)


def _numbers(h):
    d = h.as_dict()
    d.pop("time")
    return d


def test_history_fields_and_learning():
    x, xv = _data(), _data(40, seed=1)
    h = train.fit(_model(), x, xv, epochs=6, batch_size=32, lr=1e-2, progress=False)
    assert len(h) == 6 and h.epoch == list(range(6))
    for name in ("train_loss", "train_recon", "train_kl", "val_loss", "val_recon", "val_kl", "sigma", "time"):
        values = getattr(h, name)
        assert len(values) == 6 and all(math.isfinite(v) for v in values), name
    assert len(h.train_kl_per_dim[0]) == Z_DIM and len(h.val_kl_per_dim[0]) == Z_DIM
    assert all(abs(r + k - t) < 1e-3 for r, k, t in zip(h.train_recon, h.train_kl, h.train_loss, strict=True))
    assert h.time == sorted(h.time)
    assert h.train_loss[-1] < h.train_loss[0]
    json.dumps(h.as_dict())


def test_same_seed_gives_bit_identical_history_and_leaves_global_rng_alone():
    x, xv = _data(), _data(40, seed=1)
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = train.fit(_model(), x, xv, epochs=3, batch_size=32, seed=7, progress=False)
    after = torch.rand(1)
    assert torch.equal(before, after)
    b = train.fit(_model(), x, xv, epochs=3, batch_size=32, seed=7, progress=False)
    c = train.fit(_model(), x, xv, epochs=3, batch_size=32, seed=8, progress=False)
    assert _numbers(a) == _numbers(b)
    assert _numbers(a) != _numbers(c)


def test_beta_warm_up_callable():
    h = train.fit(_model(), _data(), epochs=4, batch_size=48, beta=lambda e: min(1.0, e / 2), progress=False)
    assert h.beta == [0.0, 0.5, 1.0, 1.0]
    assert abs(h.train_loss[0] - h.train_recon[0]) < 1e-6
    assert h.val_loss == []
    with pytest.raises(ValueError, match="beta"):
        train.fit(_model(), _data(), epochs=1, beta=lambda e: float("nan"), progress=False)


def test_progress_bar_finishes_at_the_epoch_early_stopping_ends(capsys):
    x, xv = _data(), _data(40, seed=1)
    h = train.fit(_model(), x, xv, epochs=60, batch_size=32, lr=0.3, patience=2, progress=True)
    err = capsys.readouterr().err
    assert h.stopped_early
    assert f"{len(h)}/{len(h)}" in err and "stopped early" in err, err[-300:]


def test_early_stopping_restores_best_weights():
    x, xv = _data(), _data(40, seed=1)
    m = _model()
    # a huge learning rate makes the validation loss bounce, so patience runs out well before 60 epochs
    h = train.fit(m, x, xv, epochs=60, batch_size=32, lr=0.3, patience=2, progress=False)
    assert h.stopped_early and len(h) < 60
    assert h.best_epoch == min(range(len(h)), key=h.val_loss.__getitem__)
    vl = train._evaluate(m, xv, 1.0)[0]  # one-sample estimate of the restored model's val loss
    assert abs(vl - h.val_loss[h.best_epoch]) < 0.25 * abs(h.val_loss[h.best_epoch]) + 5
    with pytest.raises(ValueError, match="patience"):
        train.fit(_model(), x, epochs=2, patience=3, progress=False)


def test_forced_nan_raises_divergence_error_naming_term_and_epoch():
    m = _model()
    with torch.no_grad():
        m.encoder[-1].bias[Z_DIM:] = 1e4  # log-variance so large that the KL is infinite
    # non-finite before any update: the advice names the model, not the learning rate
    with pytest.raises(train.TrainingDiverged, match=r"KL term .* at epoch 0 .*learning rate is not the cause.*model"):
        train.fit(m, _data(), epochs=2, progress=False)
    m = _model()
    with torch.no_grad():
        m.decoder[-1].bias.fill_(float("nan"))
    with pytest.raises(train.TrainingDiverged, match=r"reconstruction term .* epoch 0.*weights hold NaN or inf"):
        train.fit(m, _data(), epochs=2, progress=False)


def test_fit_validates_arguments():
    with pytest.raises(ValueError, match=r"train: x must be .*\[n, 16\]"):
        train.fit(_model(), torch.zeros(5, 3, dtype=torch.long), progress=False)
    with pytest.raises(ValueError, match="batch_size"):
        train.fit(_model(), _data(), batch_size=0, progress=False)


def test_progress_bar_runs(capsys):
    h = train.fit(_model(), _data(), _data(20, seed=2), epochs=2, progress=True)
    assert len(h) == 2


@pytest.mark.parametrize("likelihood,kw", [("categorical", {}), ("gaussian", {"sigma": "learned"})])
def test_save_load_round_trip(tmp_path, likelihood, kw):
    m = _model(likelihood=likelihood, **kw)
    if likelihood == "gaussian":
        with torch.no_grad():
            m.log_sigma.fill_(-1.5)
    p = train.save(m, tmp_path / "sub" / "vae.safetensors")
    assert [f.name for f in p.parent.iterdir()] == ["vae.safetensors"]  # no temp file left behind
    m2 = train.load(p)
    assert m2.config() == m.config()
    for (k1, v1), (k2, v2) in zip(m.state_dict().items(), m2.state_dict().items(), strict=True):
        assert k1 == k2 and torch.equal(v1, v2)
    z = torch.randn(3, Z_DIM)
    assert torch.equal(m.decode_mean(z), m2.decode_mean(z))


def test_save_refuses_to_overwrite(tmp_path):
    p = train.save(_model(), tmp_path / "vae.safetensors")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        train.save(_model(seed=1), p)
    train.save(_model(seed=1), p, overwrite=True)
    assert torch.equal(train.load(p).encoder[0].weight, _model(seed=1).encoder[0].weight)


def test_load_rejects_bad_files(tmp_path):
    good = train.save(_model(), tmp_path / "good.safetensors")
    raw = good.read_bytes()
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match=r"truncated\.safetensors: corrupt or truncated"):
        train.load(truncated)
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\xff" * 64)
    with pytest.raises(ValueError, match=r"garbage\.safetensors: corrupt or truncated"):
        train.load(garbage)
    with pytest.raises(FileNotFoundError, match="missing"):
        train.load(tmp_path / "missing.safetensors")

    from safetensors.torch import save_file

    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, str(foreign))
    with pytest.raises(ValueError, match=r"foreign\.safetensors: not a vae_teach model"):
        train.load(foreign)
    mismatched = tmp_path / "mismatched.safetensors"
    cfg = _model().config() | {"z_dim": 5}
    state = {k: v.contiguous() for k, v in _model().state_dict().items()}
    save_file(state, str(mismatched), metadata={"format": train.FORMAT, "config": json.dumps(cfg)})
    with pytest.raises(ValueError, match=r"mismatched\.safetensors: weights do not match"):
        train.load(mismatched)


def test_beta_sweep_rate_falls_as_beta_rises():
    x = _data()
    runs = train.beta_sweep(
        [0.1, 8.0], x, make_model=lambda: models.VAE(X_DIM, Z_DIM, hidden=(16,)),
        epochs=8, batch_size=32, lr=1e-2, progress=False,
    )
    assert [r.beta for r in runs] == [0.1, 8.0]
    assert all(isinstance(r.model, models.VAE) and len(r.history) == 8 for r in runs)
    assert runs[0].rate > runs[1].rate and runs[0].distortion < runs[1].distortion
    with pytest.raises(ValueError, match="make_model"):
        train.beta_sweep([1.0], x, make_model=None)


def test_weight_averaging_and_cosine_schedule():
    x, xv = _data(), _data(40, seed=1)
    plain, avg = _model(), _model()
    train.fit(plain, x, xv, epochs=3, batch_size=32, progress=False)
    h = recipes.fit_averaged(avg, x, xv, epochs=3, batch_size=32, ema=0.9, cosine=True, progress=False)
    assert all(math.isfinite(v) for v in h.val_loss)
    assert not torch.equal(plain.decoder[0].weight, avg.decoder[0].weight)
    h2 = recipes.fit_averaged(_model(), x, xv, epochs=3, batch_size=32, ema=0.9, cosine=True, progress=False)
    assert _numbers(h) == _numbers(h2)
    with pytest.raises(ValueError, match="ema"):
        recipes.fit_averaged(_model(), x, ema=1.5, progress=False)


def test_cosine_schedule_and_weight_average_do_what_they_say():
    """The schedule gives lr (1 + cos(pi e / E)) / 2 per epoch; the average is the warm-up EMA of the weights."""
    w = torch.nn.Parameter(torch.zeros(3))
    opt = torch.optim.SGD([w], lr=0.4)
    sched = recipes.cosine_schedule(opt, 4)
    lrs = []
    for _ in range(4):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs == pytest.approx([0.4 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(4)], abs=1e-15)
    avg, want = recipes.WeightAverage([w], 0.5), torch.zeros(3)
    for step in range(1, 6):
        with torch.no_grad():
            w.fill_(float(step))
        avg.update()
        d = min(0.5, (1 + step) / (10 + step))
        want = d * want + (1 - d) * step
    avg.swap_in()
    assert torch.allclose(w.detach(), want)
    avg.swap_back()
    assert torch.equal(w.detach(), torch.full((3,), 5.0))


def test_fit_digits_recipe_runs_with_overrides():
    model, h = train.fit_digits(epochs=1, hidden=(16,), progress=False)
    assert model.z_dim == 16 and model.likelihood == "categorical" and model.hidden == (16,)
    assert len(h) == 1 and len(h.val_loss) == 1
