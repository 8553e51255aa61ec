"""The shared argument checks (vae_teach/_checks.py): one family, and the exact messages users see."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

from vae_teach import _checks as check

NAN_INF = torch.tensor([math.nan, math.inf, 1.0])

# (call, the exact message); the plain and typed forms are those of the model, recipe and training arguments
REFUSED = [
    (lambda: check.count("seed", True, 0, typed=True), "seed must be an int >= 0, got True (bool)"),
    (lambda: check.count("seed", "3", 0, typed=True), "seed must be an int >= 0, got '3' (str)"),
    (lambda: check.count("seed", -1, 0, typed=True), "seed must be an int >= 0, got -1"),
    (lambda: check.count("seed", np.int64(3), 0, typed=True),
     "seed must be an int >= 0, got int64 of shape [] (int64)"),
    (lambda: check.count("n", True), "n must be an int >= 1, got True (a bool is not a count)"),
    (lambda: check.count("n", 2.5), "n must be an int >= 1, got 2.5"),
    (lambda: check.count("n", -1, 0), "n must be an int >= 0, got -1"),
    (lambda: check.count("n", "3"), "n must be an int >= 1, got '3'"),
    (lambda: check.number("beta", -1, at_least=0, plain=True), "beta must be a finite number >= 0, got -1"),
    (lambda: check.number("beta", "3", at_least=0, plain=True), "beta must be a finite number >= 0, got '3' (str)"),
    (lambda: check.number("beta", torch.tensor(0.5), at_least=0, plain=True),
     "beta must be a finite number >= 0, got Tensor of shape [] (Tensor)"),
    (lambda: check.number("lr", 0, above=0, plain=True), "lr must be a finite number > 0, got 0"),
    (lambda: check.number("dropout", 1, at_least=0, below=1, plain=True),
     "dropout must be a finite number >= 0 < 1, got 1"),
    (lambda: check.number("ema", 0.0, above=0, below=1, plain=True), "ema must be a finite number > 0 < 1, got 0.0"),
    (lambda: check.number("beta", math.nan, at_least=0, plain=True), "beta must be a finite number >= 0, got nan"),
    (lambda: check.number("t", math.nan, at_least=0, finite=False, plain=True), "t must be a number >= 0, got nan"),
    (lambda: check.number("mu", True), "mu must be a number, got True"),
    (lambda: check.number("mu", "3"), "mu must be a number, got '3'"),
    (lambda: check.number("mu", math.nan), "mu must be a finite number, got nan"),
    (lambda: check.number("sigma", 0, above=0), "sigma must be a number > 0, got 0"),
    (lambda: check.number("s", torch.tensor(0.5), above=0.5, below=2, why="because"),
     "s must be a number > 0.5 and < 2 (because), got 0.5"),
    (lambda: check.number("s", -math.inf, at_least=0, finite=False), "s must be a number >= 0, got -inf"),
    (lambda: check.number("mu", torch.tensor([1.0, 2.0])), "mu must be a number, got [2] float32"),
    (lambda: check.check_finite("x", torch.tensor([1.0, math.nan])), "x must hold finite values, got NaN"),
    (lambda: check.check_finite("x", torch.tensor([math.inf, 1.0]), " (finite floats)"),
     "x must hold finite values (finite floats), got inf"),
    (lambda: check.check_finite("x", NAN_INF), "x must hold finite values, got NaN"),
    (lambda: check.check_finite("x", NAN_INF, tally=True),
     "x must hold finite values, got 1 NaN and 1 inf among its 3 values"),
    (lambda: check.check_finite("x", NAN_INF, allow_inf=True, tally=True),
     "x must hold no NaN, got 1 NaN and 1 inf among its 3 values"),
    (lambda: check.tensor("x", torch.tensor([1.0, math.nan])),
     "x must hold finite values, got 1 NaN and 0 inf among its 2 values"),
    (lambda: check.tensor("x", NAN_INF, allow_inf=True), "x must hold no NaN, got 1 NaN and 1 inf among its 3 values"),
]


@pytest.mark.parametrize(("call", "message"), REFUSED, ids=[m for _, m in REFUSED])
def test_each_bad_value_is_refused_with_its_exact_message(call, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        call()


def test_good_values_pass_through_as_python_numbers():
    assert check.count("seed", 3, 0, typed=True) == 3 and type(check.count("n", np.int64(2))) is int
    assert check.number("s", torch.tensor(0.25), above=0) == 0.25
    assert check.number("t", math.inf, at_least=0, finite=False, plain=True) == math.inf
    assert check.number("lr", 1e-3, above=0, plain=True) == 1e-3


def test_tensors_that_may_hold_inf_or_are_integer_pass():
    t = torch.tensor([math.inf, 1.0])
    assert check.check_finite("x", t, allow_inf=True, tally=True) is t
    assert check.check_finite("x", torch.ones(2, dtype=torch.long)) is not None


def test_one_family_of_names():
    names = {n for n in vars(check) if not n.startswith("_") and callable(getattr(check, n))}
    assert not names & {"real", "seed", "finite"}, "the second family's names are merged into count/number/check_finite"
