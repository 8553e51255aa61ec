"""Bad input to the maths modules (toy, evidence, amortise, likelihoods, latent, data, gradients, image_grid).

Each case is one call a learner could plausibly make. It must raise ValueError with a message that names the
offending argument (and, where given, says what was expected), or, for the cases at the end, give the
corrected answer instead of a silent wrong number.
"""

import math
import re

import numpy as np
import pytest
import torch

from vae_teach import amortise, data, evidence, latent, plots, toy
from vae_teach import likelihoods as L
from vae_teach.gradients import grad_samples

NAN, INF = float("nan"), float("inf")
F64 = torch.float64


def lg(d=3, k=2):
    """A small float64 LinearGaussian with x [n, d], z [n, k]."""
    g = torch.Generator().manual_seed(0)
    return toy.LinearGaussian(torch.randn(d, k, generator=g, dtype=F64), torch.zeros(d, dtype=F64), 0.5)


def nl(**kw):
    """A small Nonlinear1D (coarse grid, fast)."""
    return toy.Nonlinear1D(n_grid=801, **kw)


def with_value(t, index, value):
    """A copy of t with one entry replaced."""
    t = t.clone()
    t.view(-1)[index] = value
    return t


X4 = torch.randn(5, 4, generator=torch.Generator().manual_seed(1), dtype=F64)  # for lg(4, 2) and amortise
P = torch.full((2, 3), 0.3)
XB = torch.tensor([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
LOGITS = torch.zeros(2, 3, 5)
LEVELS = torch.tensor([[0, 1, 4], [2, 3, 0]])
PROBS_OPEN = torch.tensor([0.2, 0.7])


def _raise(z):
    raise RuntimeError("boom")


# (call, argument the message must name, optional fragment the message must contain)
TOY = [
    ("W string", lambda: toy.LinearGaussian("a", torch.zeros(3), 0.5), "W", "[d, k]"),
    ("W vector", lambda: toy.LinearGaussian(torch.zeros(5), torch.zeros(5), 1.0), "W", "[5]"),
    ("W ints", lambda: toy.LinearGaussian(torch.zeros(3, 2, dtype=torch.long), torch.zeros(3), 1.0), "W", "float"),
    ("W nan", lambda: toy.LinearGaussian(with_value(torch.zeros(3, 2), 0, NAN), torch.zeros(3), 1.0), "W", "NaN"),
    ("W inf", lambda: toy.LinearGaussian(with_value(torch.zeros(3, 2), 1, INF), torch.zeros(3), 1.0), "W", "inf"),
    ("b shape", lambda: toy.LinearGaussian(torch.zeros(3, 2), torch.zeros(4), 1.0), "b", "[3]"),
    ("b nan", lambda: toy.LinearGaussian(torch.zeros(3, 2), torch.full((3,), NAN), 1.0), "b", "NaN"),
    ("sigma 0", lambda: toy.LinearGaussian(torch.zeros(3, 2), torch.zeros(3), 0.0), "sigma", "> 0"),
    ("sigma str", lambda: toy.LinearGaussian(torch.zeros(3, 2), torch.zeros(3), "0.5"), "sigma", "number"),
    ("sigma inf", lambda: toy.LinearGaussian(torch.zeros(3, 2), torch.zeros(3), INF), "sigma", "finite"),
    ("sigma nan", lambda: toy.LinearGaussian(torch.zeros(3, 2), torch.zeros(3), NAN), "sigma", "finite"),
    ("sigma bool", lambda: toy.LinearGaussian(torch.zeros(3, 2), torch.zeros(3), True), "sigma", "number"),
    ("log_marginal x d", lambda: lg().log_marginal(torch.zeros(2, 4)), "x", "[n, 3]"),
    ("log_marginal x vector", lambda: lg().log_marginal(torch.zeros(3)), "x", "[n, 3]"),
    ("log_marginal x nan", lambda: lg().log_marginal(torch.full((2, 3), NAN)), "x", "NaN"),
    ("log_marginal x inf", lambda: lg().log_marginal(with_value(torch.zeros(2, 3), 4, -INF)), "x", "inf"),
    ("log_marginal x list", lambda: lg().log_marginal([[0.0, 0.0, 0.0]]), "x", "tensor"),
    ("log_marginal x empty", lambda: lg().log_marginal(torch.zeros(0, 3)), "x", "one row"),
    ("posterior x empty", lambda: lg().posterior(torch.zeros(0, 3)), "x", "one row"),
    ("W empty", lambda: toy.LinearGaussian(torch.zeros(0, 2), torch.zeros(0), 1.0), "W", "empty"),
    ("log_marginal x bool", lambda: lg().log_marginal(torch.zeros(2, 3, dtype=torch.bool)), "x", "bool"),
    ("posterior x d", lambda: lg().posterior(torch.zeros(2, 5)), "x", "[n, 3]"),
    ("posterior x inf", lambda: lg().posterior(torch.full((2, 3), INF)), "x", "inf"),
    ("likelihood z k", lambda: lg().likelihood(torch.zeros(3, 3)), "z", "[..., 2]"),
    ("likelihood z nan", lambda: lg().likelihood(torch.full((3, 2), NAN)), "z", "NaN"),
    ("sample 0", lambda: lg().sample(0), "n", ">= 1"),
    ("sample True", lambda: lg().sample(True), "n", "True"),
    ("sample float", lambda: lg().sample(2.5), "n", "2.5"),
    ("sample str", lambda: lg().sample("3"), "n", "'3'"),
    ("fit_ppca x vector", lambda: toy.LinearGaussian.fit_ppca(torch.zeros(20), 1), "x", "[n, d]"),
    ("fit_ppca x nan", lambda: toy.LinearGaussian.fit_ppca(with_value(X4, 0, NAN), 1), "x", "NaN"),
    ("fit_ppca x empty", lambda: toy.LinearGaussian.fit_ppca(torch.zeros(0, 4), 1), "x", "one row"),
    ("fit_ppca k 0", lambda: toy.LinearGaussian.fit_ppca(X4, 0), "k", ">= 1"),
    ("fit_ppca k d", lambda: toy.LinearGaussian.fit_ppca(X4, 4), "k", "< d = 4"),
    ("fit_ppca k bool", lambda: toy.LinearGaussian.fit_ppca(X4, True), "k", "True"),
    ("fit_ppca ddof", lambda: toy.LinearGaussian.fit_ppca(X4, 1, ddof=2), "ddof", "(0, 1)"),
    ("fit_ppca ddof str", lambda: toy.LinearGaussian.fit_ppca(X4, 1, ddof="1"), "ddof", "'1'"),
    ("Nonlinear f number", lambda: toy.Nonlinear1D(f=3), "f", "callable"),
    ("Nonlinear f sum", lambda: toy.Nonlinear1D(f=lambda z: z.sum()), "f", "elementwise"),
    ("Nonlinear f centred", lambda: toy.Nonlinear1D(f=lambda z: z - z.mean()), "f", "elementwise"),
    ("Nonlinear f raises", lambda: toy.Nonlinear1D(f=_raise), "f", "boom"),
    ("Nonlinear f list", lambda: toy.Nonlinear1D(f=lambda z: z.tolist()), "f", "elementwise"),
    ("Nonlinear sigma 0", lambda: nl(sigma=0), "sigma", "> 0"),
    ("Nonlinear sigma str", lambda: nl(sigma="a"), "sigma", "number"),
    ("Nonlinear z_limit neg", lambda: nl(z_limit=-1), "z_limit", "> 0"),
    ("Nonlinear z_limit inf", lambda: nl(z_limit=INF), "z_limit", "finite"),
    ("Nonlinear n_grid float", lambda: toy.Nonlinear1D(n_grid=2.5), "n_grid", "2.5"),
    ("Nonlinear n_grid bool", lambda: toy.Nonlinear1D(n_grid=True), "n_grid", "True"),
    ("Nonlinear n_grid 1", lambda: toy.Nonlinear1D(n_grid=1), "n_grid", ">= 3"),
    ("log_marginal inf", lambda: nl().log_marginal(INF), "x", "inf"),
    ("log_marginal nan", lambda: nl().log_marginal(torch.tensor([0.0, NAN])), "x", "NaN"),
    ("log_marginal str", lambda: nl().log_marginal("1.0"), "x", "'1.0'"),
    ("log_marginal 2x2", lambda: nl().log_marginal(torch.zeros(2, 2)), "x", "[n] or [n, 1]"),
    ("log_marginal far x", lambda: nl(z_limit=3.0).log_marginal(torch.tensor([30.0])), "z_limit", "grid edge"),
    ("log_joint z nan", lambda: nl().log_joint(torch.zeros(2), torch.tensor([0.0, NAN])), "z", "NaN"),
    ("log_joint z str", lambda: nl().log_joint(torch.zeros(2), "z"), "z", "tensor"),
    ("posterior_density x inf", lambda: nl().posterior_density(-INF, torch.zeros(3)), "x", "inf"),
    ("Nonlinear likelihood z [4]", lambda: nl().likelihood(torch.zeros(4)), "z", "[..., 1]"),
    ("Nonlinear sample 0", lambda: nl().sample(0), "n", ">= 1"),
]

EVIDENCE = [
    ("x 4-vector for d=3", lambda: evidence.naive_mc_log_evidence(lg(), torch.tensor([1.0, 2, 3, 4], dtype=F64), 20),
     "x", "[m, 3]"),
    ("x wrong d", lambda: evidence.naive_mc_log_evidence(lg(), torch.zeros(2, 4, dtype=F64), 20), "x", "[m, 3]"),
    ("x 3-D", lambda: evidence.naive_mc_log_evidence(lg(), torch.zeros(2, 3, 4, dtype=F64), 20), "x", "[m, 3]"),
    ("x long", lambda: evidence.naive_mc_log_evidence(lg(), torch.zeros(2, 3, dtype=torch.long), 20), "x", "float"),
    ("x list", lambda: evidence.naive_mc_log_evidence(lg(), [[1.0, 2.0, 3.0]], 20), "x", "list"),
    ("x nan", lambda: evidence.naive_mc_log_evidence(lg(), torch.full((2, 3), NAN, dtype=F64), 20), "x", "NaN"),
    ("x inf", lambda: evidence.naive_mc_log_evidence(nl(), torch.tensor([INF]), 20), "x", "inf"),
    ("x empty", lambda: evidence.naive_mc_log_evidence(lg(), torch.zeros(0, 3, dtype=F64), 20), "x", "one row"),
    ("n 0", lambda: evidence.naive_mc_log_evidence(lg(), torch.zeros(2, 3), 0), "n", ">= 1"),
    ("n bool", lambda: evidence.naive_mc_log_evidence(lg(), torch.zeros(2, 3), True), "n", "True"),
    ("n float", lambda: evidence.naive_mc_log_evidence(lg(), torch.zeros(2, 3), 1e4), "n", "10000.0"),
    ("chunk 0", lambda: evidence.naive_mc_log_evidence(lg(), torch.zeros(2, 3), 10, chunk=0), "chunk", ">= 1"),
    ("generator int", lambda: evidence.naive_mc_log_evidence(lg(), torch.zeros(2, 3), 10, generator=0),
     "generator", "torch.Generator"),
    ("model object", lambda: evidence.naive_mc_log_evidence(object(), torch.zeros(2, 3), 10), "model", ".prior()"),
    ("relative_error shapes", lambda: evidence.relative_error(torch.zeros(3), torch.zeros(2)),
     "log_estimate and log_exact", "[3] and [2]"),
    ("relative_error nan", lambda: evidence.relative_error(torch.tensor([NAN]), torch.zeros(1)), "log_estimate", "NaN"),
    ("relative_error list", lambda: evidence.relative_error([0.0], torch.zeros(1)), "log_estimate", "list"),
    ("relative_error exact nan", lambda: evidence.relative_error(torch.zeros(1), torch.tensor([NAN])), "log_exact",
     "NaN"),
]

M4 = lg(4, 2)
AMORTISE = [
    ("fit_per_x x d", lambda: amortise.fit_per_x(M4, X4[:, :3]), "x", "[n, 4]"),
    ("fit_per_x x nan", lambda: amortise.fit_per_x(M4, with_value(X4, 3, NAN)), "x", "NaN"),
    ("fit_per_x x empty", lambda: amortise.fit_per_x(M4, X4[:0]), "x", "one row"),
    ("fit_per_x x long", lambda: amortise.fit_per_x(M4, X4.long()), "x", "float"),
    ("fit_per_x steps 0", lambda: amortise.fit_per_x(M4, X4, steps=0), "steps", ">= 1"),
    ("fit_per_x steps bool", lambda: amortise.fit_per_x(M4, X4, steps=True), "steps", "True"),
    ("fit_per_x lr str", lambda: amortise.fit_per_x(M4, X4, lr="0.1"), "lr", "number"),
    ("fit_per_x lr 0", lambda: amortise.fit_per_x(M4, X4, lr=0), "lr", "> 0"),
    ("fit_per_x lr nan", lambda: amortise.fit_per_x(M4, X4, lr=NAN), "lr", "finite"),
    ("fit_per_x seed str", lambda: amortise.fit_per_x(M4, X4, seed="0"), "seed", "int"),
    ("fit_per_x seed neg", lambda: amortise.fit_per_x(M4, X4, seed=-1), "seed", ">= 0"),
    ("fit_per_x lr diverges", lambda: amortise.fit_per_x(M4, X4, steps=5, lr=1e17), "lr", "too large"),
    ("fit_encoder lr diverges", lambda: amortise.fit_encoder(M4, X4, n_train=20, steps=5, batch=10, lr=1e30), "lr",
     "too large"),
    ("fit_per_x record_every", lambda: amortise.fit_per_x(M4, X4, record_every=-1), "record_every", ">= 0"),
    ("fit_per_x model", lambda: amortise.fit_per_x(nl(), X4), "model", "LinearGaussian"),
    ("fit_encoder n_train < batch", lambda: amortise.fit_encoder(M4, X4, n_train=10, batch=50), "n_train", "batch"),
    ("fit_encoder batch 0", lambda: amortise.fit_encoder(M4, X4, batch=0), "batch", ">= 1"),
    ("fit_encoder hidden 0", lambda: amortise.fit_encoder(M4, X4, hidden=0), "hidden", ">= 1"),
    ("fit_encoder lr str", lambda: amortise.fit_encoder(M4, X4, lr="fast"), "lr", "number"),
    ("fit_encoder x_eval nan", lambda: amortise.fit_encoder(M4, with_value(X4, 0, NAN)), "x_eval", "NaN"),
    ("exact_gap mu shape", lambda: amortise.exact_gap(M4, X4, torch.zeros(5, 3), torch.ones(5, 3)),
     "mu and std", "[5, 2]"),
    ("exact_gap std list", lambda: amortise.exact_gap(M4, X4, torch.zeros(5, 2), [[1.0, 1.0]] * 5), "mu and std",
     "list"),
    ("exact_gap std neg", lambda: amortise.exact_gap(M4, X4, torch.zeros(5, 2), -torch.ones(5, 2)), "std", "(0, "),
    ("exact_gap mu nan", lambda: amortise.exact_gap(M4, X4, torch.full((5, 2), NAN), torch.ones(5, 2)), "mu", "NaN"),
    ("diag_gaussian std 0", lambda: amortise.diag_gaussian(torch.zeros(2, 2), torch.zeros(2, 2)), "std", "(0, "),
    ("diag_gaussian shapes", lambda: amortise.diag_gaussian(torch.zeros(2, 2), torch.ones(2, 3)), "mu and std",
     "[2, 2] and [2, 3]"),
    ("diag_gaussian mu nan", lambda: amortise.diag_gaussian(torch.full((2, 2), NAN), torch.ones(2, 2)), "mu", "NaN"),
    ("Encoder d 0", lambda: amortise.Encoder(0, 2), "d", ">= 1"),
    ("Encoder hidden str", lambda: amortise.Encoder(4, 2, hidden="32"), "hidden", "'32'"),
    ("best_diagonal_gap x inf", lambda: amortise.best_diagonal_gap(M4, with_value(X4, 0, INF)), "x", "inf"),
]

LIKELIHOODS = [
    ("bernoulli logits", lambda: L.bernoulli_nll(torch.tensor([[0.0, 1, 1]]), torch.tensor([[-3.0, 2, 3]])), "probs",
     "[0, 1]"),
    ("bernoulli probs 1.5", lambda: L.bernoulli_nll(XB, torch.full((2, 3), 1.5)), "probs", "sigmoid"),
    ("bernoulli probs -0.2", lambda: L.bernoulli_nll(XB, torch.full((2, 3), -0.2)), "probs", "[0, 1]"),
    ("bernoulli probs nan", lambda: L.bernoulli_nll(XB, with_value(P, 0, NAN)), "probs", "NaN"),
    ("bernoulli x grey", lambda: L.bernoulli_nll(torch.full((2, 3), 0.5), P), "x", "binary"),
    ("bernoulli x nan", lambda: L.bernoulli_nll(with_value(XB, 0, NAN), P), "x", "NaN"),
    ("bernoulli shapes", lambda: L.bernoulli_nll(XB, torch.full((2, 4), 0.5)), "x and probs", "one shape"),
    ("bernoulli probs list", lambda: L.bernoulli_nll(XB, [[0.5] * 3] * 2), "probs", "list"),
    ("bernoulli x scalar", lambda: L.bernoulli_nll(torch.tensor(1.0), torch.tensor(0.5)), "x", "[..., d]"),
    ("bernoulli probs ints", lambda: L.bernoulli_nll(XB, XB.long()), "probs", "float"),
    ("bce x nan", lambda: L.bce(with_value(P, 2, NAN), P), "x", "NaN"),
    ("bce probs nan", lambda: L.bce(P, with_value(P, 2, NAN)), "probs", "NaN"),
    ("bce x 1.5", lambda: L.bce(torch.full((2, 3), 1.5), P), "x", "[0, 1]"),
    ("bce probs 2", lambda: L.bce(P, torch.full((2, 3), 2.0)), "probs", "[0, 1]"),
    ("bce x inf", lambda: L.bce(with_value(P, 0, INF), P), "x", "inf"),
    ("bce_mass nan", lambda: L.bce_mass(torch.tensor([0.3, NAN])), "probs", "NaN"),
    ("bce_mass 0", lambda: L.bce_mass(torch.tensor([0.0, 0.5])), "probs", "inside (0, 1)"),
    ("bce_mass list", lambda: L.bce_mass([0.3]), "probs", "list"),
    ("bce_mass ints", lambda: L.bce_mass(torch.tensor([1])), "probs", "float"),
    ("bce_mass_numeric n_grid float", lambda: L.bce_mass_numeric(PROBS_OPEN, n_grid=2.5), "n_grid", "2.5"),
    ("bce_mass_numeric n_grid 1", lambda: L.bce_mass_numeric(PROBS_OPEN, n_grid=1), "n_grid", ">= 2"),
    ("bce_mass_numeric probs 1", lambda: L.bce_mass_numeric(torch.tensor([1.0])), "probs", "inside"),
    ("gaussian sigma_x str", lambda: L.gaussian_nll(P, P, "1"), "sigma_x", "number"),
    ("gaussian sigma_x 0", lambda: L.gaussian_nll(P, P, 0.0), "sigma_x", "> 0"),
    ("gaussian sigma_x nan", lambda: L.gaussian_nll(P, P, NAN), "sigma_x", "finite"),
    ("gaussian sigma_x underflows", lambda: L.gaussian_nll(P, P, 1e-250), "sigma_x", "float32"),
    ("mse sigma_x underflows", lambda: L.mse_as_gaussian_nll(P.double(), P.double(), 1e-200), "sigma_x", "float64"),
    ("mse sigma_x overflows", lambda: L.mse_as_gaussian_nll(P, P, 1.2e213), "sigma_x", "< "),
    ("gaussian sigma_x bool", lambda: L.gaussian_nll(P, P, True), "sigma_x", "number"),
    ("gaussian sigma_x tensor neg", lambda: L.gaussian_nll(P, P, torch.tensor([1.0, -1.0, 1.0])), "sigma_x", "(0, "),
    ("gaussian sigma_x tensor shape", lambda: L.gaussian_nll(P, P, torch.ones(5)), "sigma_x", "broadcast"),
    ("gaussian sigma_x tensor nan", lambda: L.gaussian_nll(P, P, torch.tensor(NAN)), "sigma_x", "NaN"),
    ("gaussian mean nan", lambda: L.gaussian_nll(P, with_value(P, 1, NAN), 1.0), "mean", "NaN"),
    ("gaussian x inf", lambda: L.gaussian_nll(with_value(P, 1, INF), P, 1.0), "x", "inf"),
    ("gaussian shapes", lambda: L.gaussian_nll(torch.zeros(2, 3), torch.zeros(2, 4), 1.0), "x and mean", "one shape"),
    ("mse sigma_x str", lambda: L.mse_as_gaussian_nll(P, P, "a"), "sigma_x", "number"),
    ("mse sigma_x neg", lambda: L.mse_as_gaussian_nll(P, P, -1.0), "sigma_x", "> 0"),
    ("mse mean list", lambda: L.mse_as_gaussian_nll(P, [[0.0] * 3] * 2, 1.0), "mean", "list"),
    ("categorical levels float", lambda: L.categorical_nll(LEVELS.float(), LOGITS), "levels", "integer"),
    ("categorical levels bool", lambda: L.categorical_nll(LEVELS > 0, LOGITS), "levels", "bool"),
    ("categorical L 0", lambda: L.categorical_nll(LEVELS, torch.zeros(2, 3, 0)), "logits", "L >= 1"),
    ("categorical levels too high", lambda: L.categorical_nll(LEVELS + 1, LOGITS), "levels", "[0, 4]"),
    ("categorical levels negative", lambda: L.categorical_nll(LEVELS - 1, LOGITS), "levels", "[-1, 3]"),
    ("categorical logits nan", lambda: L.categorical_nll(LEVELS, with_value(LOGITS, 0, NAN)), "logits", "NaN"),
    ("categorical logits shape", lambda: L.categorical_nll(LEVELS, torch.zeros(2, 4, 5)), "logits", "[..., d, L"),
    ("categorical empty", lambda: L.categorical_nll(LEVELS[:0], LOGITS[:0]), "levels", "empty"),
    ("categorical logits ints", lambda: L.categorical_nll(LEVELS, LOGITS.long()), "logits", "float"),
]

LATENT = [
    ("unit_grid 0", lambda: latent.unit_grid(0), "n", ">= 1"),
    ("unit_grid bool", lambda: latent.unit_grid(True), "n", "True"),
    ("unit_grid float", lambda: latent.unit_grid(2.5), "n", "2.5"),
    ("unit_grid margin str", lambda: latent.unit_grid(3, margin="0.1"), "margin", "number"),
    ("unit_grid margin 0.7", lambda: latent.unit_grid(3, margin=0.7), "margin", "(0, 0.5)"),
    ("unit_grid margin nan", lambda: latent.unit_grid(3, margin=NAN), "margin", "finite"),
    ("manifold_grid margin", lambda: latent.manifold_grid(3, margin=0.7), "margin", "(0, 0.5)"),
    ("manifold_grid n str", lambda: latent.manifold_grid("3"), "n", "'3'"),
    ("interpolate lengths", lambda: latent.interpolate(torch.zeros(2), torch.zeros(3), 4), "a and b", "[2] and [3]"),
    ("interpolate steps 1", lambda: latent.interpolate(torch.zeros(2), torch.zeros(2), 1), "steps", ">= 2"),
    ("interpolate steps str", lambda: latent.interpolate(torch.zeros(2), torch.zeros(2), "3"), "steps", "'3'"),
    ("interpolate a nan", lambda: latent.interpolate(torch.tensor([NAN, 0.0]), torch.zeros(2), 3), "a", "NaN"),
    ("interpolate b str", lambda: latent.interpolate(torch.zeros(2), "b", 3), "b", "'b'"),
    ("interpolate a matrix", lambda: latent.interpolate(torch.zeros(2, 2), torch.zeros(2, 2), 3), "a", "[d]"),
    ("correlation n", lambda: latent.correlation_matrix(torch.zeros(5, 2), torch.zeros(4, 1)), "factors", "[5, m]"),
    ("correlation latents nan", lambda: latent.correlation_matrix(with_value(torch.randn(5, 2), 3, NAN),
                                                                  torch.randn(5)), "latents", "NaN"),
    ("correlation factors inf", lambda: latent.correlation_matrix(torch.randn(5, 2),
                                                                  with_value(torch.randn(5), 0, INF)), "factors",
     "inf"),
    ("correlation one row", lambda: latent.correlation_matrix(torch.zeros(1, 2), torch.zeros(1)), "latents", "2 rows"),
    ("correlation latents vector", lambda: latent.correlation_matrix(torch.zeros(5), torch.zeros(5)), "latents",
     "[n, k]"),
    ("correlation factors str", lambda: latent.correlation_matrix(torch.zeros(5, 2), "shape"), "factors", "'shape'"),
    ("nearest k", lambda: latent.nearest_distance(torch.zeros(5, 2), torch.zeros(4, 3)), "reference", "[m, 2]"),
    ("nearest empty reference", lambda: latent.nearest_distance(torch.zeros(5, 2), torch.zeros(0, 2)), "reference",
     "one row"),
    ("nearest points nan", lambda: latent.nearest_distance(torch.full((2, 2), NAN), torch.zeros(3, 2)), "points",
     "NaN"),
    ("aggregate sigma 0", lambda: latent.aggregate_log_density(torch.zeros(2, 2), torch.zeros(3, 2),
                                                               torch.zeros(3, 2)), "sigma", "(0, "),
    ("aggregate mu empty", lambda: latent.aggregate_log_density(torch.zeros(2, 2), torch.zeros(0, 2),
                                                                torch.zeros(0, 2)), "mu", "one row"),
    ("aggregate z nan", lambda: latent.aggregate_log_density(torch.full((2, 2), NAN), torch.zeros(3, 2),
                                                             torch.ones(3, 2)), "z", "NaN"),
    ("aggregate sigma shape", lambda: latent.aggregate_log_density(torch.zeros(2, 2), torch.zeros(3, 2),
                                                                   torch.ones(3, 1)), "sigma", "[3, 2]"),
    ("aggregate z k", lambda: latent.aggregate_log_density(torch.zeros(2, 3), torch.zeros(3, 2), torch.ones(3, 2)),
     "z", "[m, 2]"),
]

DIGITS = torch.tensor([[0, 16, 8]])
DATA = [
    ("to_unit bool", lambda: data.to_unit(torch.ones(2, 3, dtype=torch.bool)), "x", "bool"),
    ("to_unit float", lambda: data.to_unit(torch.tensor([[0.5]])), "x", "integer"),
    ("to_unit list", lambda: data.to_unit([[0, 1]]), "x", "list"),
    ("to_unit levels float", lambda: data.to_unit(DIGITS, levels=16.5), "levels", "16.5"),
    ("to_unit levels str", lambda: data.to_unit(DIGITS, levels="17"), "levels", "'17'"),
    ("to_unit levels bool", lambda: data.to_unit(DIGITS, levels=True), "levels", "True"),
    ("to_unit levels 1", lambda: data.to_unit(DIGITS, levels=1), "levels", ">= 2"),
    ("to_unit above range", lambda: data.to_unit(torch.tensor([[17]])), "x", "[0, 16]"),
    ("to_unit negative", lambda: data.to_unit(torch.tensor([[-1, 3]])), "x", "[0, 16]"),
    ("to_unit uint8 levels", lambda: data.to_unit(torch.tensor([[200]], dtype=torch.uint8), levels=17), "x",
     "[0, 16]"),
    ("load_digits split", lambda: data.load_digits("validation"), "split", "'train'"),
    ("load_digits split list", lambda: data.load_digits(["train"]), "split", "list"),
    ("make_sprites 0", lambda: data.make_sprites(0), "n", ">= 1"),
    ("make_sprites bool", lambda: data.make_sprites(True), "n", "True"),
    ("make_sprites size", lambda: data.make_sprites(4, size=3), "size", ">= 8"),
    ("make_sprites seed str", lambda: data.make_sprites(4, seed="0"), "seed", "'0'"),
    ("make_sprites seed neg", lambda: data.make_sprites(4, seed=-1), "seed", ">= 0"),
    ("make_sprites seed float", lambda: data.make_sprites(4, seed=1.5), "seed", "1.5"),
    ("load_mnist folder int", lambda: data.load_mnist(3), "folder", "str or pathlib.Path"),
    ("load_mnist split", lambda: data.load_mnist(".", split="val"), "split", "'train'"),
]


def _grad(**kw):
    args = {"f": torch.sin, "mu": 0.0, "sigma": 1.0, "n": 5, "method": "reparam"} | kw
    return grad_samples(**args)


GRADIENTS = [
    ("method", lambda: _grad(method="pathwise"), "method", "'reparam'"),
    ("method none", lambda: _grad(method=None), "method", "None"),
    ("f number", lambda: _grad(f=2.0), "f", "callable"),
    ("f sum", lambda: _grad(f=lambda z: z.sum()), "f", "elementwise"),
    ("f returns float", lambda: _grad(f=lambda z: 3.0), "f", "3.0"),
    ("f score returns list", lambda: _grad(f=lambda z: z.tolist(), method="score"), "f", "list"),
    ("f score sum", lambda: _grad(f=lambda z: z.sum(), method="score"), "f", "elementwise"),
    ("n 0", lambda: _grad(n=0), "n", ">= 1"),
    ("n bool", lambda: _grad(n=True), "n", "True"),
    ("mu str", lambda: _grad(mu="0"), "mu", "number"),
    ("mu inf", lambda: _grad(mu=INF), "mu", "finite"),
    ("sigma nan", lambda: _grad(sigma=NAN), "sigma", "finite"),
    ("sigma str", lambda: _grad(sigma="1"), "sigma", "number"),
    ("sigma 0", lambda: _grad(sigma=0.0), "sigma", "> 0"),
    ("generator int", lambda: _grad(generator=3), "generator", "torch.Generator"),
]

PLOTS = [
    ("image_grid int levels beyond 0..16", lambda: plots.image_grid(torch.tensor([[0, 255, 3, 9]])), "images", "0, 16"),
]

CASES = [pytest.param(call, name, fragment, id=f"{group}: {label}")
         for group, table in [("toy", TOY), ("evidence", EVIDENCE), ("amortise", AMORTISE),
                              ("likelihoods", LIKELIHOODS), ("latent", LATENT), ("data", DATA),
                              ("gradients", GRADIENTS), ("plots", PLOTS)]
         for label, call, name, fragment in table]


@pytest.mark.parametrize("call, name, fragment", CASES)
def test_bad_input_names_the_argument(call, name, fragment):
    with pytest.raises(ValueError) as err:
        call()
    message = str(err.value)
    assert re.search(rf"(^|\W){re.escape(name)}\b", message), f"message does not name {name!r}: {message}"
    assert fragment in message, f"message lacks {fragment!r}: {message}"


def test_the_table_holds_at_least_150_cases():
    assert len(CASES) >= 150


# ---------------------------------------------------------------- corrected behaviour


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("scale", [1e-30, 1.0, 1e30])
def test_correlation_of_perfectly_correlated_latents_is_one_at_any_scale(scale, dtype):
    t = torch.randn(50, 1, generator=torch.Generator().manual_seed(0), dtype=dtype)
    z = torch.cat([scale * t, -scale * t, torch.full_like(t, 3.0)], dim=1)
    got = latent.correlation_matrix(z, t)
    torch.testing.assert_close(got, torch.tensor([[1.0], [-1.0], [0.0]], dtype=dtype))


def test_stable_correlation_matches_numpy_corrcoef_at_large_and_small_scale():
    g = torch.Generator().manual_seed(3)
    z = torch.randn(40, 3, generator=g, dtype=F64)
    f = z[:, :2] @ torch.randn(2, 2, generator=g, dtype=F64) + 0.5 * torch.randn(40, 2, generator=g, dtype=F64)
    want = np.corrcoef(z.T.numpy(), f.T.numpy())[:3, 3:]
    for scale in (1e-150, 1.0, 1e150):  # squares of these would under/overflow float64
        got = latent.correlation_matrix(scale * z, f / scale)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)


def test_correlation_of_latents_with_huge_offset_and_spread():
    t = torch.linspace(-1, 1, 11, dtype=F64)
    z = (1e300 * t).unsqueeze(1)  # a naive sum of squares is inf
    assert latent.correlation_matrix(z, 2 * t + 1).item() == pytest.approx(1.0, abs=1e-12)


def test_categorical_nll_accepts_every_integer_dtype():
    logits = torch.randn(2, 3, 5, generator=torch.Generator().manual_seed(0))
    want = L.categorical_nll(LEVELS, logits)
    for dtype in (torch.uint8, torch.int8, torch.int16, torch.int32):
        torch.testing.assert_close(L.categorical_nll(LEVELS.to(dtype), logits), want)


def test_bernoulli_and_bce_accept_probabilities_at_the_ends_and_binary_ints():
    probs = torch.tensor([[0.0, 1.0, 0.5]])
    x = torch.tensor([[0, 1, 1]])
    got = L.bernoulli_nll(x, probs)
    assert torch.isfinite(got).all() and got.item() == pytest.approx(math.log(2), abs=1e-5)
    assert L.bce(x.bool(), probs).item() == pytest.approx(got.item(), abs=1e-6)


def test_gaussian_nll_keeps_a_learnt_sigma_x_differentiable():
    sigma_x = torch.tensor(0.7, requires_grad=True)
    L.gaussian_nll(P, torch.zeros(2, 3), sigma_x).sum().backward()
    assert sigma_x.grad is not None and torch.isfinite(sigma_x.grad)


def test_empty_batches_give_empty_results():
    assert nl().log_marginal(torch.zeros(0)).shape == (0,)
    assert L.gaussian_nll(torch.zeros(0, 3), torch.zeros(0, 3), 1.0).shape == (0,)
    assert L.bernoulli_nll(torch.zeros(0, 3), torch.zeros(0, 3)).shape == (0,)
    assert data.to_unit(torch.zeros(0, 64, dtype=torch.long)).shape == (0, 64)
    assert latent.nearest_distance(torch.zeros(0, 2), torch.zeros(3, 2)).shape == (0,)
    assert latent.aggregate_log_density(torch.zeros(0, 2), torch.zeros(3, 2), torch.ones(3, 2)).shape == (0,)
    assert evidence.relative_error(torch.zeros(0), torch.zeros(0)).shape == (0,)


def test_relative_error_of_an_estimate_that_missed_everything_is_one():
    assert evidence.relative_error(torch.tensor([-INF]), torch.tensor([-3.0])).item() == 1.0


def test_nonlinear_accepts_an_elementwise_f_and_keeps_its_exact_log_marginal():
    m = toy.Nonlinear1D(f=torch.sin, sigma=0.3)
    x = torch.tensor([0.2, -0.5], dtype=F64)
    z = torch.linspace(-12, 12, 200_001, dtype=F64)
    dens = torch.distributions.Normal(0.0, 1.0).log_prob(z).exp() * torch.distributions.Normal(
        torch.sin(z), 0.3).log_prob(x[:, None]).exp()
    torch.testing.assert_close(m.log_marginal(x), torch.trapezoid(dens, z).log(), rtol=1e-9, atol=1e-9)


def test_image_grid_scales_integer_grey_levels_like_to_unit():
    digits = torch.randint(0, 17, (6, 64), generator=torch.Generator().manual_seed(0))  # digits-like levels
    want = plots.image_grid(data.to_unit(digits))
    assert np.array_equal(plots.image_grid(digits), want)
    assert np.array_equal(plots.image_grid(digits.numpy()), want)
    assert 0 < want.mean() < 250  # not all white
    mnist_like = torch.tensor([[0, 255, 128, 64]], dtype=torch.uint8)
    assert plots.image_grid(mnist_like, pad=0).ravel().tolist() == [0, 255, 128, 64]


def test_to_unit_is_exact_on_levels_and_empty():
    x = torch.arange(17).reshape(1, 17)
    torch.testing.assert_close(data.to_unit(x), (torch.arange(17) / 16).reshape(1, 17).float())
    assert data.to_unit(torch.tensor([[0, 255]], dtype=torch.uint8)).tolist() == [[0.0, 1.0]]
    assert data.to_unit(torch.tensor([[0, 3]]), levels=4).tolist() == [[0.0, 1.0]]


def test_amortise_casts_x_to_the_models_dtype():
    model = lg(4, 2)
    for dtype in (torch.float16, torch.float32):
        enc, fit = amortise.fit_encoder(model, X4.to(dtype), n_train=20, steps=3, batch=10)
        assert fit.mu.dtype == F64 and math.isfinite(fit.gap)
        assert math.isfinite(amortise.fit_per_x(model, X4.to(dtype), steps=3).gap)


def test_latent_computes_half_precision_input_in_float32():
    points = torch.tensor([[0.0, 0.0], [3.0, 4.0]], dtype=torch.float16)
    got = latent.nearest_distance(points, torch.zeros(1, 2, dtype=torch.bfloat16))
    assert got.dtype == torch.float32 and got.tolist() == [0.0, 5.0]


def test_python_numbers_keep_float64_precision_in_the_toy_models():
    m = nl()
    torch.testing.assert_close(m.log_marginal(0.7), m.log_marginal(torch.tensor([0.7], dtype=F64)), rtol=0, atol=0)
    got = m.posterior_density(0.7, [0.1, 0.3])
    assert got.shape == (2,) and got.dtype == F64
    torch.testing.assert_close(got, m.posterior_density(torch.tensor([0.7], dtype=F64),
                                                        torch.tensor([0.1, 0.3], dtype=F64))[0], rtol=0, atol=0)
    W = torch.ones(3, 2, dtype=F64)
    assert toy.LinearGaussian(W, [0.1, 0.2, 0.3], 0.5).b.tolist() == [0.1, 0.2, 0.3]
