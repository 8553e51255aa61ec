"""Tests for vae_teach.train: History, determinism, early stopping, divergence errors, save/load, beta sweeps."""

import json
import math
import re

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


# ---------------------------------------------------------------- divergence: raise, restore, advise rightly
def _digits():
    from vae_teach import data

    return data.load_digits("train")[0][:200], data.load_digits("val")[0][:100]


def _weights(m):
    return {k: v.clone() for k, v in m.state_dict().items()}


def test_a_huge_learning_rate_raises_restores_finite_weights_and_the_advised_lr_works():
    xtr, xva = _digits()
    m = models.VAE(64, 2, hidden=(32,), seed=0)
    with pytest.raises(train.TrainingDiverged, match=r"lower the learning rate \(lr=1000, try lr=0\.001\)") as e:
        train.fit(m, xtr, xva, epochs=1, batch_size=100, lr=1e3, progress=False)
    assert all(torch.isfinite(p).all() for p in m.parameters())
    assert math.isfinite(float(m.loss(xva).total.detach()))
    advised = float(re.search(r"try lr=([0-9.e+-]+)\)", str(e.value)).group(1))
    h = train.fit(m, xtr, xva, epochs=2, batch_size=100, lr=advised, progress=False)  # the retry trains
    assert all(math.isfinite(v) for v in h.val_loss + h.train_loss)


def test_divergence_after_some_epochs_restores_the_last_finite_epoch():
    x, xv = _data(), _data(40, seed=1)
    m = _model()
    kept = {}

    class Sabotage(torch.optim.Adam):  # a fine optimiser that wrecks the weights during epoch 2
        steps = 0

        def step(self, closure=None):
            Sabotage.steps += 1
            if Sabotage.steps == 2 * 3 + 1:  # 3 steps per epoch (96 rows, batch 32): first step of epoch 2
                kept.update(_weights(m))
            out = super().step(closure)
            if Sabotage.steps == 2 * 3 + 1:
                with torch.no_grad():
                    m.decoder[-1].bias.fill_(math.inf)
            return out

    with pytest.raises(train.TrainingDiverged, match=r"at epoch 2 \(step 1\).*lower the learning rate"):
        train.fit(m, x, xv, epochs=5, batch_size=32, optimizer=Sabotage(m.parameters(), lr=1e-3), progress=False)
    for k, v in _weights(m).items():  # back at the end of epoch 1, the weights before epoch 2's first step
        assert torch.equal(v, kept[k]), k


def test_non_finite_validation_loss_raises_even_with_patience():
    x = torch.rand(40, X_DIM)
    m = models.VAE(X_DIM, Z_DIM, hidden=(16,), likelihood="gaussian", seed=0)
    start = _weights(m)
    xv = torch.rand(10, X_DIM)
    xv[0, 0] = 3e19  # finite, but its squared error overflows float32
    with pytest.raises(train.TrainingDiverged, match=r"epoch 0 \(validation\).*data val holds values up to 3e\+19"):
        train.fit(m, x, xv, epochs=3, batch_size=20, patience=2, progress=False)
    for k, v in _weights(m).items():  # no epoch finished with finite losses: back at the initial weights
        assert torch.equal(v, start[k]), k


def test_the_advice_names_the_data_or_the_model_when_the_learning_rate_is_not_to_blame():
    m = models.VAE(X_DIM, Z_DIM, hidden=(16,), likelihood="gaussian", seed=0)
    with pytest.raises(train.TrainingDiverged, match=r"data train holds values up to 1e\+20.*rescale") as e:
        train.fit(m, torch.full((20, X_DIM), 1e20), epochs=1, progress=False)
    assert "lr=" not in str(e.value)
    tiny = models.VAE(X_DIM, Z_DIM, hidden=(16,), likelihood="gaussian", sigma=1e-30, seed=0)
    with pytest.raises(train.TrainingDiverged, match=r"learning rate is not the cause.*sigma=1e-30") as e:
        train.fit(tiny, torch.rand(20, X_DIM), epochs=1, progress=False)
    assert "try lr" not in str(e.value)
    with pytest.raises(ValueError, match=r"lr must be a finite number > 0, got inf"):  # never advises lr=inf
        train.fit(_model(), _data(), lr=math.inf, progress=False)


# ---------------------------------------------------------------- bad input, case by case (issue 14)
def _sweep(betas, make_model=None, **kw):
    return train.beta_sweep(betas, _data(), make_model=make_model or (lambda: _model()), epochs=1, progress=False,
                            **kw)


_SHARED = _model()
BAD = [  # (name, call, message pattern naming the argument)
    ("fit seed str", lambda: train.fit(_model(), _data(), seed="0", progress=False), r"seed must be an int >= 0"),
    ("fit seed negative", lambda: train.fit(_model(), _data(), seed=-1, progress=False), r"seed must be an int"),
    ("fit seed float", lambda: train.fit(_model(), _data(), seed=1.5, progress=False), r"seed must be an int"),
    ("fit seed bool", lambda: train.fit(_model(), _data(), seed=True, progress=False), r"seed must be an int"),
    ("fit lr nan", lambda: train.fit(_model(), _data(), lr=math.nan, progress=False), r"lr must be a finite"),
    ("fit lr str", lambda: train.fit(_model(), _data(), lr="1e-3", progress=False), r"lr must be a finite"),
    ("fit lr 0", lambda: train.fit(_model(), _data(), lr=0, progress=False), r"lr must be a finite number > 0"),
    ("fit epochs bool", lambda: train.fit(_model(), _data(), epochs=True, progress=False), r"epochs must be an int"),
    ("fit epochs 0", lambda: train.fit(_model(), _data(), epochs=0, progress=False), r"epochs must be an int >= 1"),
    ("fit batch bool", lambda: train.fit(_model(), _data(), batch_size=True, progress=False), r"batch_size must"),
    ("fit patience bool", lambda: train.fit(_model(), _data(), _data(8), patience=True, progress=False),
     r"patience must be an int >= 1"),
    ("fit empty train", lambda: train.fit(_model(), _data()[:0], progress=False), r"train: x must hold at least"),
    ("fit empty val", lambda: train.fit(_model(), _data(), _data()[:0], progress=False), r"val: x must hold at least"),
    ("fit NaN train", lambda: train.fit(models.VAE(X_DIM, Z_DIM, hidden=(8,), likelihood="gaussian"),
                                        torch.full((4, X_DIM), math.nan), progress=False),
     r"train: x must hold finite values"),
    ("fit val shape", lambda: train.fit(_model(), _data(), torch.zeros(3, 5, dtype=torch.long), progress=False),
     r"val: x must be a tensor \[n, 16\]"),
    ("fit model", lambda: train.fit("vae", _data(), progress=False), r"model must be a vae_teach VAE"),
    ("fit beta str", lambda: train.fit(_model(), _data(), beta="1", progress=False), r"beta must be a finite"),
    ("fit beta negative", lambda: train.fit(_model(), _data(), beta=-1.0, progress=False), r"beta must be"),
    ("fit beta bool", lambda: train.fit(_model(), _data(), beta=True, progress=False), r"beta must be"),
    ("recipe ema str", lambda: recipes.fit_averaged(_model(), _data(), ema="0.9", progress=False), r"ema must be"),
    ("recipe weight_decay", lambda: recipes.fit_averaged(_model(), _data(), weight_decay=-1, progress=False),
     r"weight_decay must be"),
    ("rate_distortion n_samples 0", lambda: train.rate_distortion(_model(), _data(), n_samples=0),
     r"n_samples must be an int >= 1, got 0"),
    ("rate_distortion n_samples bool", lambda: train.rate_distortion(_model(), _data(), n_samples=True),
     r"n_samples must be an int >= 1, got True"),
    ("rate_distortion seed str", lambda: train.rate_distortion(_model(), _data(), seed="0"), r"seed must be an int"),
    ("rate_distortion empty", lambda: train.rate_distortion(_model(), _data()[:0]), r"x: x must hold at least one"),
    ("sweep shared instance", lambda: _sweep([0.5, 1.0], make_model=lambda: _SHARED),
     r"make_model must return a fresh VAE on every call.*the same model"),
    ("sweep not a VAE", lambda: _sweep([1.0], make_model=lambda: "vae"), r"make_model must return a fresh VAE"),
    ("sweep late bad beta", lambda: _sweep([1.0, 2.0, -1.0]), r"betas\[2\] must be a finite number >= 0, got -1"),
    ("sweep nan beta", lambda: _sweep([1.0, math.nan]), r"betas\[1\] must be a finite number"),
    ("sweep str beta", lambda: _sweep([1.0, "2"]), r"betas\[1\] must be a finite number"),
    ("sweep bool beta", lambda: _sweep([True]), r"betas\[0\] must be a finite number"),
    ("sweep empty", lambda: _sweep([]), r"betas must be a non-empty list"),
    ("sweep seed", lambda: _sweep([1.0], seed="0"), r"seed must be an int >= 0"),
]


@pytest.mark.parametrize("call,match", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_arguments_raise_value_errors_naming_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_beta_sweep_checks_everything_before_training_anything():
    made = []

    def make_model():
        made.append(1)
        return _model()

    with pytest.raises(ValueError, match=r"betas\[3\]"):
        _sweep([1.0, 2.0, 4.0, math.inf], make_model=make_model)
    assert made == []  # no model was even built
    calls = []

    def shared():
        calls.append(1)
        return _SHARED

    before = _weights(_SHARED)
    with pytest.raises(ValueError, match="the same model"):
        _sweep([1.0, 2.0], make_model=shared)
    assert len(calls) == 2 and all(torch.equal(v, before[k]) for k, v in _weights(_SHARED).items())  # untrained


def test_rate_distortion_goes_through_the_loss():
    """rate is the closed-form KL and distortion the mean of n_samples one-sample reconstruction terms."""
    m, x = _model(), _data(30)
    rate, dist = train.rate_distortion(m, x, n_samples=4, seed=2)
    g = torch.Generator().manual_seed(2)
    with torch.no_grad():
        terms = [m.loss(x, generator=g) for _ in range(4)]
    assert abs(rate - float(models.kl_per_dim(m, x).sum())) < 1e-5
    assert abs(dist - sum(float(t.recon) for t in terms) / 4) < 1e-9


def test_fit_takes_data_load_digits_pairs_and_old_recipe_names_still_import():
    from vae_teach import data

    pair = data.load_digits("val")
    h = train.fit(models.VAE(64, 2, hidden=(8,), seed=0), pair, pair, epochs=1, progress=False)
    assert len(h.val_loss) == 1
    assert train.DIGITS_MODEL is recipes.DIGITS_MODEL and train.DIGITS_FIT is recipes.DIGITS_FIT
    with pytest.raises(AttributeError, match="no_such_name"):
        train.no_such_name  # noqa: B018


def test_mask_dropout_has_the_law_of_nn_dropout():
    d = recipes.MaskDropout(0.4).train()
    torch.manual_seed(0)
    y = d(torch.ones(200, 500))
    kept = (y != 0).double().mean()
    assert abs(float(kept) - 0.6) < 0.005  # 100000 draws: 5 standard errors is 0.0077
    assert torch.allclose(y[y != 0], torch.full_like(y[y != 0], 1 / 0.6))
    assert torch.equal(d.eval()(y), y) and torch.equal(recipes.MaskDropout(0.0).train()(y), y)


def test_speed_settings_are_undone_and_the_model_ends_in_eval_mode():
    x, xv = _data(), _data(48, seed=1)
    before = torch.get_float32_matmul_precision()
    m = _model(dropout=0.3)
    layers = [type(layer) for layer in m.encoder]
    h = recipes.fit_averaged(m, x, xv, epochs=2, batch_size=32, ema=0.9, fast_dropout=True,
                             matmul_precision="medium", progress=False)
    assert len(h) == 2 and torch.get_float32_matmul_precision() == before
    assert [type(layer) for layer in m.encoder] == layers and torch.nn.Dropout in layers
    assert not any(layer.training for layer in [*m.encoder, *m.decoder])  # dropout off when evaluating
    x0 = x[:8]
    assert torch.equal(m.encode(x0).mean, m.encode(x0).mean)
    m2 = _model(dropout=0.3)
    h2 = recipes.fit_averaged(m2, x, xv, epochs=2, batch_size=32, ema=0.9, fast_dropout=True,
                              matmul_precision="medium", progress=False)
    assert _numbers(h) == _numbers(h2)  # seeded: the rand masks are reproducible too
    with pytest.raises(ValueError, match="matmul_precision must be one of"):
        recipes.fit_averaged(_model(), x, matmul_precision="low", progress=False)
