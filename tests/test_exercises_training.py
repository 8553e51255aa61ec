"""Notebook-06 checkers: accept the reference, reject a typical mistake, report `...` as unanswered."""

import math

from exercise_contract import contract

from vae_teach.exercises import training

CASES = [
    (training.check_kl_per_dim, training._kl_per_dim,
     lambda mu, logvar: (0.5 * (mu**2 + logvar.exp() - 1 - logvar)).sum(0)),
    (training.check_active_units, training._active_units, lambda mu: int((mu.var(1) > 0.01).sum())),
    (training.check_bits_per_dim, training._bits_per_dim, lambda nats: nats / math.log(2)),
]


globals().update(contract(CASES))


def test_reference_active_units_counts_the_varying_dims():
    mu, _ = training._cases_mu_logvar()[0]
    assert training._active_units(mu) == 2
