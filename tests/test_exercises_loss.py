"""Notebook-04 checkers: accept the reference, reject a typical mistake, report `...` as unanswered."""

import torch
from exercise_contract import contract
from torch import distributions as D

from vae_teach.exercises import loss


def _wrong_sign_kl(mu, logvar):
    return 0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(-1)


CASES = [
    (loss.check_gaussian_kl, loss._gaussian_kl, _wrong_sign_kl),
    (loss.check_gaussian_nll, loss._gaussian_nll, lambda x, mean, sigma: ((x - mean) ** 2).sum(-1)),
    (loss.check_bce_mass, loss._bce_mass, lambda p: torch.ones_like(p)),
    (loss.check_loss_per_image, loss._loss_per_image, lambda r, k: r.mean() + k.mean()),
]


globals().update(contract(CASES))


def test_references_agree_with_torch_distributions():
    t = loss._inputs()
    q = D.Normal(t["mu"], (0.5 * t["logvar"]).exp())
    p = D.Normal(torch.zeros_like(t["mu"]), torch.ones_like(t["mu"]))
    assert torch.allclose(loss._gaussian_kl(t["mu"], t["logvar"]), D.kl_divergence(q, p).sum(-1))
    want = -D.Normal(t["mean"], 0.3).log_prob(t["x"]).sum(-1)
    assert torch.allclose(loss._gaussian_nll(t["x"], t["mean"], 0.3), want)
    p = torch.tensor([0.2, 0.7], dtype=torch.float64)
    assert torch.allclose(loss._bce_mass(p), (2 * p - 1) / torch.logit(p), atol=1e-6)


def test_bce_mass_accepts_the_closed_form(capsys):
    assert loss.check_bce_mass(lambda p: (2 * p - 1) / torch.log(p / (1 - p))) is True
    assert "✓" in capsys.readouterr().out


def test_loss_hint_names_a_batch_sum(capsys):
    assert loss.check_loss_per_image(lambda r, k: r.sum() + k.sum()) is False
    out = capsys.readouterr().out
    assert "too large" in out and "summed over the batch" in out


def test_loss_hint_names_a_pixel_mean(capsys):
    assert loss.check_loss_per_image(lambda r, k: r.mean() + k.sum(-1).mean()) is False
    out = capsys.readouterr().out
    assert "averaged over pixels" in out and "too large" not in out


def test_loss_hint_survives_a_crashing_answer(capsys):
    def crash(r, k):
        raise RuntimeError("boom")

    assert loss.check_loss_per_image(crash) is False
    assert "RuntimeError" in capsys.readouterr().out
