"""Random bad input to the public maths functions: what a user sees is a result, or a ValueError/TypeError
that names one of the function's arguments, never a torch internal error.

Each example starts from a valid call and replaces some arguments with random values: tensors of random shape
(including empty), dtype (float16/32/64, int, uint8, bool) and content (NaN, ±inf, 1e30), or numbers, strings,
bools, None and lists.
"""

import inspect
import math
import re

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vae_teach import amortise, data, evidence, latent, toy
from vae_teach import likelihoods as L
from vae_teach.gradients import grad_samples

F64 = torch.float64
DTYPES = [torch.float32, torch.float64, torch.float16, torch.int64, torch.int32, torch.uint8, torch.bool]
VALUES = [0.0, 1.0, -1.0, 0.5, 0.2, 2.0, 16.0, -3.0, 1e30, -1e30, math.nan, math.inf, -math.inf]


@st.composite
def tensors(draw):
    """A tensor of 0-3 dims, each of size 0-4, of a random dtype, holding values from VALUES."""
    shape = draw(st.lists(st.integers(0, 4), max_size=3))
    n = math.prod(shape)
    values = draw(st.lists(st.sampled_from(VALUES), min_size=n, max_size=n))
    dtype = draw(st.sampled_from(DTYPES))
    t = torch.tensor(values, dtype=F64).reshape(shape)
    if not dtype.is_floating_point and dtype != torch.bool:
        t = torch.nan_to_num(t, nan=0.0, posinf=200.0, neginf=-200.0).clamp(-200, 200)  # a defined cast
    return t.to(dtype)


ANY = st.one_of(
    tensors(),
    st.none(),
    st.booleans(),
    st.integers(-3, 9),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=3),
    st.lists(st.floats(-2, 2), max_size=3),
)


def _lg(d=3, k=2):
    g = torch.Generator().manual_seed(0)
    return toy.LinearGaussian(torch.randn(d, k, generator=g, dtype=F64), torch.zeros(d, dtype=F64), 0.5)


LG, NL = _lg(), toy.Nonlinear1D(n_grid=801)
X3 = torch.randn(4, 3, generator=torch.Generator().manual_seed(1), dtype=F64)
P = torch.full((2, 3), 0.3)
MODELS = st.sampled_from([LG, NL, object(), None])

# function -> (valid keyword arguments, strategies for arguments that need more than ANY)
CALLS = {
    toy.LinearGaussian: ({"W": torch.ones(3, 2), "b": torch.zeros(3), "sigma": 0.5}, {}),
    LG.log_marginal: ({"x": X3}, {}),
    LG.posterior: ({"x": X3}, {}),
    LG.likelihood: ({"z": torch.zeros(4, 2)}, {}),
    LG.sample: ({"n": 3}, {}),
    toy.LinearGaussian.fit_ppca: ({"x": X3, "k": 1, "ddof": 0}, {}),
    toy.Nonlinear1D: ({"sigma": 0.5, "z_limit": 12.0, "n_grid": 101},
                      {"f": st.sampled_from([None, torch.sin, toy.square, lambda z: z.sum(), lambda z: z[:1], 3])}),
    NL.log_marginal: ({"x": torch.tensor([0.5, 1.0])}, {}),
    NL.log_joint: ({"x": torch.tensor([0.5]), "z": torch.zeros(3)}, {}),
    NL.posterior_density: ({"x": torch.tensor([0.5]), "z": torch.zeros(3)}, {}),
    NL.likelihood: ({"z": torch.zeros(3, 1)}, {}),
    NL.sample: ({"n": 3}, {}),
    evidence.naive_mc_log_evidence: ({"model": LG, "x": X3, "n": 5, "chunk": 2}, {"model": MODELS}),
    evidence.relative_error: ({"log_estimate": torch.zeros(3), "log_exact": torch.zeros(3)}, {}),
    amortise.exact_gap: ({"model": LG, "x": X3, "mu": torch.zeros(4, 2, dtype=F64), "std": torch.ones(4, 2)},
                         {"model": MODELS}),
    amortise.Encoder: ({"d": 3, "k": 2, "hidden": 4}, {}),
    amortise.diag_gaussian: ({"mu": torch.zeros(4, 2), "std": torch.ones(4, 2)}, {}),
    amortise.best_diagonal_gap: ({"model": LG, "x": X3}, {"model": MODELS}),
    amortise.fit_per_x: ({"model": LG, "x": X3, "steps": 2, "lr": 0.1, "seed": 0}, {"model": MODELS}),
    amortise.fit_encoder: ({"model": LG, "x_eval": X3, "n_train": 8, "steps": 2, "batch": 4, "hidden": 3},
                           {"model": MODELS}),
    L.bernoulli_nll: ({"x": torch.ones(2, 3), "probs": P}, {}),
    L.bce: ({"x": P, "probs": P}, {}),
    L.bce_mass: ({"probs": P}, {}),
    L.bce_mass_numeric: ({"probs": P, "n_grid": 5}, {}),
    L.gaussian_nll: ({"x": P, "mean": P, "sigma_x": 1.0}, {}),
    L.mse_as_gaussian_nll: ({"x": P, "mean": P, "sigma_x": 1.0}, {}),
    L.categorical_nll: ({"levels": torch.zeros(2, 3, dtype=torch.long), "logits": torch.zeros(2, 3, 4)}, {}),
    latent.unit_grid: ({"n": 3}, {}),
    latent.manifold_grid: ({"n": 3}, {}),
    latent.interpolate: ({"a": torch.zeros(2), "b": torch.ones(2), "steps": 3}, {}),
    latent.correlation_matrix: ({"latents": torch.randn(4, 2), "factors": torch.randn(4)}, {}),
    latent.nearest_distance: ({"points": torch.zeros(3, 2), "reference": torch.ones(2, 2)}, {}),
    latent.aggregate_log_density: ({"z": torch.zeros(3, 2), "mu": torch.zeros(2, 2), "sigma": torch.ones(2, 2)},
                                   {}),
    data.to_unit: ({"x": torch.tensor([[0, 16]])}, {}),
    data.make_sprites: ({"n": 2, "size": 8, "seed": 0}, {}),
    grad_samples: ({"f": torch.sin, "mu": 0.0, "sigma": 1.0, "n": 4, "method": "reparam"},
                   {"f": st.sampled_from([torch.sin, toy.square, lambda z: z.sum(), 2.0, None]),
                    "method": st.sampled_from(["reparam", "score", "pathwise", None, 0])}),
}
INTERNAL = ("Expected parameter", "cannot reshape", "must have the same dtype", "not implemented for",
            "Trying to create tensor", "size of tensor a", "out of bounds")


def _names(fn) -> set[str]:
    """The argument names a message may name: the function's own, and its model's for a bound method."""
    names = set(inspect.signature(fn).parameters) - {"self"}
    owner = getattr(fn, "__self__", None)
    if owner is not None and not isinstance(owner, type):
        names |= set(inspect.signature(type(owner)).parameters)
    return names


@st.composite
def near(draw, valid):
    """The valid value bent a little: another dtype, one NaN/inf/huge entry, or one dim cut to 0 (empty)."""
    if not isinstance(valid, torch.Tensor):
        return draw(ANY)
    t = valid.to(draw(st.sampled_from(DTYPES)))
    how = draw(st.sampled_from(["dtype", "value", "empty"]))
    if how == "value" and t.numel() and t.is_floating_point():
        t = t.clone()
        t.view(-1)[draw(st.integers(0, t.numel() - 1))] = draw(st.sampled_from(VALUES))
    if how == "empty" and t.dim():
        t = t.narrow(draw(st.integers(0, t.dim() - 1)), 0, 0)
    return t


@st.composite
def calls(draw):
    """A function, its valid arguments with a random subset replaced by random values."""
    fn = draw(st.sampled_from(list(CALLS)))
    valid, special = CALLS[fn]
    names = sorted(set(valid) | set(special))
    replaced = draw(st.sets(st.sampled_from(names), min_size=1))
    kwargs = dict(valid)
    for name in replaced:
        kwargs[name] = draw(special.get(name, st.one_of(ANY, near(valid.get(name)))))
    return fn, kwargs


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(call=calls())
def test_random_bad_input_gives_a_result_or_an_error_naming_an_argument(call):
    fn, kwargs = call
    try:
        fn(**kwargs)
    except (ValueError, TypeError) as e:
        message = str(e)
        assert not any(s in message for s in INTERNAL), f"internal error reached the user: {message}"
        named = [n for n in _names(fn) if re.search(rf"(^|[^\w.]){re.escape(n)}\b", message)]
        assert named, f"{fn.__qualname__}: message names no argument of {sorted(_names(fn))}: {message}"


@pytest.mark.parametrize("fn", list(CALLS), ids=lambda f: f.__qualname__)
def test_the_valid_calls_are_valid(fn):
    """The starting points really are good calls, so that a replaced argument is what the test exercises."""
    fn(**CALLS[fn][0])
