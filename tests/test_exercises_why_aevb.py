"""Notebook-09 checkers: accept the reference, reject a typical mistake, report `...` as unanswered."""

import torch
from exercise_contract import contract

from vae_teach.exercises import why_aevb


def wake_without_no_grad(model, x, eps):
    q = model.encode(x)
    z = q.mean + q.stddev * eps                  # gradient leaks into phi
    return -(model.prior().log_prob(z) + model.decode(z).log_prob(x)).mean()


def euler(z, p, grad, step):
    return z + step * p, p + step * grad(z)


CASES = [
    (why_aevb.check_wake_loss, why_aevb._wake_loss, wake_without_no_grad),
    (why_aevb.check_leapfrog, why_aevb._leapfrog, euler),
]

test_accepts_reference, test_rejects_typical_mistake, test_placeholder_is_not_answered = contract(CASES)


def test_reference_leapfrog_conserves_energy_to_second_order():
    z, p, grad, _ = why_aevb._leapfrog_cases()[0]
    def energy(z, p):
        return 0.5 * (z.pow(2) / torch.tensor([0.25, 4.0])).sum(-1) + 0.5 * p.pow(2).sum(-1)
    errs = [(energy(*why_aevb._leapfrog(z, p, grad, s)) - energy(z, p)).abs().max() for s in (0.02, 0.01)]
    assert errs[1] < errs[0] / 3                  # halving the step cuts the energy error about 4x
