"""Argument checks shared by the public functions: each raises ValueError naming the argument, what was
expected and what was got, so the maths behind them can trust its inputs.

Conventions: a bool is never a count or a number (``count("n", True)`` raises); strings never pass as
numbers; tensors are finite unless a caller says otherwise.
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import distributions as D

_KINDS = {"float": "a float tensor", "int": "an integer tensor", "number": "a tensor", "any": "a tensor"}


def describe(value, typed: bool = False) -> str:
    """What was received, for messages: '[3, 4] float32' for a tensor, else a short repr.

    typed=True is the form that names the type after the value ('True (bool)', 'Tensor of shape [2] (Tensor)'),
    which the model, bounds and training checks (count(..., typed=True), number(..., plain=True)) print.
    """
    if typed:
        shown = repr(value) if not hasattr(value, "shape") else f"{type(value).__name__} of shape {list(value.shape)}"
        plain_number = isinstance(value, int | float) and not isinstance(value, bool)
        return shown if plain_number else f"{shown} ({type(value).__name__})"
    if isinstance(value, torch.Tensor):
        return f"{list(value.shape)} {str(value.dtype).removeprefix('torch.')}"
    text = repr(value) if len(repr(value)) <= 40 else repr(value)[:30] + "..."
    return text if value is None or isinstance(value, numbers.Number | str) else f"{type(value).__name__} {text}"


def count(name: str, value, minimum: int = 1, *, typed: bool = False) -> int:
    """value as an int >= minimum; bools, floats and strings are refused (typed: describe(typed=True), as seeds)."""
    integral = int if typed else numbers.Integral
    if isinstance(value, bool) or not isinstance(value, integral) or value < minimum:
        hint = " (a bool is not a count)" if isinstance(value, bool) and not typed else ""
        raise ValueError(f"{name} must be an int >= {minimum}, got {describe(value, typed)}{hint}")
    return int(value)


def number(name: str, value, *, above: float | None = None, at_least: float | None = None,
           below: float | None = None, finite: bool = True, why: str = "", plain: bool = False) -> float:
    """value (a real number or one-element tensor) as a float, within the given bounds (why says why).

    plain=True takes Python numbers only and states the whole requirement in every message
    ('lr must be a finite number > 0, got 0'), as the model, recipe and training arguments do.
    """
    limits = [(b, op) for b, op in ((above, ">"), (at_least, ">="), (below, "<")) if b is not None]
    v, value = _as_float(name, value, limits, finite, plain)
    inside = (above is None or v > above) and (at_least is None or v >= at_least) and (below is None or v < below)
    if not inside:
        want = _want(name, limits, finite) if plain else \
            f"{name} must be a number {' and '.join(f'{op} {b:g}' for b, op in limits)}{f' ({why})' if why else ''}"
        raise ValueError(f"{want}, got {value!r}")
    return v


def _want(name: str, limits: list, finite: bool) -> str:
    """The plain form of a number requirement: 'dropout must be a finite number >= 0 < 1'."""
    return f"{name} must be a {'finite ' if finite else ''}number" + "".join(f" {op} {b:g}" for b, op in limits)


def _as_float(name: str, value, limits: list, finite: bool, plain: bool) -> tuple[float, object]:
    """(value as a float, value as a Python number), raising unless it is a number (not a bool), not NaN (nor ±inf)."""
    ok_type = isinstance(value, int | float if plain else numbers.Real) and not isinstance(value, bool)
    if not plain and isinstance(value, torch.Tensor) and value.numel() == 1 and value.dtype != torch.bool:
        ok_type, value = True, value.item()
    if not ok_type:
        got = f"{_want(name, limits, finite)}, got {describe(value, True)}" if plain else \
            f"{name} must be a number, got {describe(value)}"
        raise ValueError(got)
    v = float(value)
    if math.isnan(v) or (finite and math.isinf(v)):
        raise ValueError(f"{_want(name, limits, finite)}, got {value!r}" if plain else
                         f"{name} must be a finite number, got {v!r}")
    return v, value


def choice(name: str, value, options) -> object:
    """value, raising unless it is one of options."""
    if not isinstance(value, str | int) or isinstance(value, bool) or value not in options:
        raise ValueError(f"{name} must be one of {tuple(options)}, got {describe(value)}")
    return value


def generator(name: str, value) -> torch.Generator | None:
    """value, raising unless it is None or a torch.Generator (pass seeds as torch.Generator().manual_seed(s))."""
    if value is not None and not isinstance(value, torch.Generator):
        raise ValueError(f"{name} must be a torch.Generator or None, got {describe(value)}")
    return value


def _shape_ok(shape, spec) -> bool:
    """Whether shape matches spec: ints are fixed sizes, strings are free, a leading '...' is any dims."""
    if spec[:1] == ("...",):
        spec = spec[1:]
        return len(shape) >= len(spec) and _shape_ok(shape[len(shape) - len(spec):], spec)
    return len(shape) == len(spec) and all(not isinstance(s, int) or n == s for n, s in zip(shape, spec, strict=True))


def tensor(name: str, value, shape: tuple | None = None, *, kind: str = "number", convert: bool | torch.dtype = False,
           finite: bool = True, allow_inf: bool = False, min_rows: int = 0, nonempty: bool = False) -> torch.Tensor:
    """value as a tensor of the given kind ('float', 'int', 'number' = either, 'any' = bools too) and shape.

    convert: turn a number, list or array into a tensor (of this dtype, if convert is a dtype).
    shape: a tuple of fixed sizes (ints) and free names (str), e.g. ("n", 5) or ("...", "d"); finite rejects
    NaN and (unless allow_inf) ±inf; min_rows is the least size of the first dim; nonempty refuses 0 entries.
    """
    expected = _KINDS[kind] + ("" if shape is None else " [" + ", ".join(map(str, shape)) + "]")
    if convert and not isinstance(value, torch.Tensor):
        try:
            value = torch.as_tensor(value, dtype=None if convert is True else convert)
        except (TypeError, ValueError, RuntimeError, OverflowError):
            raise ValueError(f"{name} must be {expected}, got {describe(value)}") from None
    bad_kind = not isinstance(value, torch.Tensor) or value.is_complex() or {
        "float": lambda t: not t.is_floating_point(),
        "int": lambda t: t.is_floating_point() or t.dtype == torch.bool,
        "number": lambda t: t.dtype == torch.bool,
        "any": lambda t: False,
    }[kind](value)
    if bad_kind or (shape is not None and not _shape_ok(tuple(value.shape), tuple(shape))):
        raise ValueError(f"{name} must be {expected}, got {describe(value)}")
    if min_rows and (value.dim() == 0 or value.shape[0] < min_rows):
        rows = "one row" if min_rows == 1 else f"{min_rows} rows"
        raise ValueError(f"{name} must have at least {rows} (first dim), got {describe(value)}")
    if nonempty and value.numel() == 0:
        raise ValueError(f"{name} must not be empty, got {describe(value)}")
    if finite and value.is_floating_point():
        check_finite(name, value, allow_inf=allow_inf, tally=True)
    return value


def check_finite(name: str, t: torch.Tensor, what: str = "", *, allow_inf: bool = False,
                 tally: bool = False) -> torch.Tensor:
    """t, raising if a float t holds NaN (or, unless allow_inf, ±inf); an empty or integer tensor passes.

    The message says which bad value came first ('got NaN'), or with tally=True how many of each ('got 2 NaN
    and 0 inf among its 6 values'), as tensor() reports; what adds the expected form after 'finite values'.
    """
    if not t.is_floating_point():
        return t
    bad = t.isnan() if allow_inf else ~t.isfinite()
    if bool(bad.any()):
        if not tally:
            raise ValueError(f"{name} must hold finite values{what}, got {'NaN' if bool(t.isnan().any()) else 'inf'}")
        raise ValueError(f"{name} must hold {'no NaN' if allow_inf else 'finite values'}, got "
                         f"{int(t.isnan().sum())} NaN and {int(t.isinf().sum())} inf among its {t.numel()} values")
    return t


def in_range(name: str, t: torch.Tensor, low: float, high: float, what: str = "", *,
             open_: bool = False) -> torch.Tensor:
    """t, raising unless every entry lies in [low, high] (or (low, high) when open_); what says why."""
    outside = (t <= low) | (t >= high) if open_ else (t < low) | (t > high)
    if t.numel() and bool(outside.any()):
        interval = f"({low:g}, {high:g})" if open_ else f"[{low:g}, {high:g}]"
        why = f" ({what})" if what else ""
        raise ValueError(f"{name} must lie {'strictly inside' if open_ else 'in'} {interval}{why}, got values in "
                         f"[{t.min().item():.4g}, {t.max().item():.4g}]")
    return t


def same_shape(names: str, a: torch.Tensor, b: torch.Tensor) -> None:
    """Raise unless a and b have one shape; names is e.g. 'x and probs'."""
    if a.shape != b.shape:
        raise ValueError(f"{names} must have one shape, got {list(a.shape)} and {list(b.shape)}")


def function(name: str, f) -> None:
    """Raise unless f is callable."""
    if not callable(f):
        raise ValueError(f"{name} must be a callable tensor -> tensor (elementwise), got {describe(f)}")


def returned_like(name: str, out, z: torch.Tensor) -> torch.Tensor:
    """out, raising unless the callable `name` returned a tensor shaped like its input z."""
    if not isinstance(out, torch.Tensor) or out.shape != z.shape:
        raise ValueError(f"{name} must act elementwise: for z {list(z.shape)} it returned {describe(out)}")
    return out


def elementwise(name: str, f, dtype: torch.dtype = torch.float64) -> None:
    """Raise unless f is a callable that maps a tensor to one of its shape, entry by entry (probed on 5 points)."""
    function(name, f)
    probe = torch.linspace(-1.5, 2.0, 5, dtype=dtype)
    try:
        whole, parts = f(probe), [f(probe[i : i + 1]) for i in range(5)]
    except Exception as e:  # the learner's f: any failure is reported as a bad argument
        raise ValueError(f"{name} must be elementwise tensor -> tensor; on z [5] it raised "
                         f"{type(e).__name__}: {e}") from e
    returned_like(name, whole, probe)
    for i, part in enumerate(parts):
        returned_like(name, part, probe[i : i + 1])
    if not torch.allclose(torch.cat(parts).double(), whole.double(), rtol=1e-6, atol=1e-9, equal_nan=True):
        raise ValueError(f"{name} must act elementwise: f(z)[i] must depend on z[i] alone, but f of the whole "
                         "probe z [5] differs from f of each entry")


def broadcastable(name: str, t: torch.Tensor, other_name: str, other: torch.Tensor) -> None:
    """Raise unless t broadcasts against other."""
    try:
        torch.broadcast_shapes(t.shape, other.shape)
    except RuntimeError:
        raise ValueError(f"{name} must broadcast against {other_name} {list(other.shape)}, "
                         f"got {describe(t)}") from None

# ---- the Gaussian KL and the bounds (bounds.py) --------------------------------------------------------
def kl_inputs(mu, logvar, finite_values: bool = False) -> None:
    """Check the arguments of a Gaussian KL: two tensors of one shape [..., J] with J >= 1 (finite if asked)."""
    if not isinstance(mu, torch.Tensor) or not isinstance(logvar, torch.Tensor):
        raise ValueError(
            f"mu and logvar must be tensors [..., J], got {type(mu).__name__} and {type(logvar).__name__}"
        )
    if mu.shape != logvar.shape or mu.dim() < 1:
        raise ValueError(
            f"mu and logvar must have the same shape [..., J], got {list(mu.shape)} and {list(logvar.shape)}"
        )
    if finite_values:
        check_finite("mu", mu)
        check_finite("logvar", logvar)


def _gaussian_params(d) -> list[torch.Tensor]:
    """The parameter tensors of a Gaussian distribution, or [] if d is not one."""
    base = d.base_dist if isinstance(d, D.Independent) else d
    if isinstance(base, D.Normal):
        return [base.loc, base.scale]
    if isinstance(base, D.MultivariateNormal):
        return [base.loc, base.scale_tril]
    return []


def bound_inputs(x, q, prior, likelihood) -> None:
    """Check the shared arguments of the ELBO and IWAE estimators (bounds.py)."""
    if not isinstance(x, torch.Tensor) or x.dim() < 1 or len(x) == 0:
        got = list(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"x must be a tensor [n, ...] with one row per data point (n >= 1), got {got}")
    check_finite("x", x)
    if not isinstance(q, D.Distribution) or not isinstance(prior, D.Distribution):
        raise ValueError(
            "q and prior must be torch.distributions objects, "
            f"got {type(q).__name__} and {type(prior).__name__}"
        )
    if not _gaussian_params(q):
        raise ValueError(
            "q must be a Gaussian (Normal, Independent(Normal, 1) or MultivariateNormal) to be reparameterised, "
            f"got {type(q).__name__}"
            + (f"({type(q.base_dist).__name__})" if isinstance(q, D.Independent) else "")
        )
    for t in _gaussian_params(q):
        check_finite("q's parameters", t)
    if len(q.batch_shape) != 1 or q.batch_shape[0] != x.shape[0]:
        raise ValueError(
            f"q must have batch shape [n] = [{x.shape[0]}] (one q per row of x), got {list(q.batch_shape)}"
        )
    if prior.event_shape != q.event_shape:
        raise ValueError(
            f"prior and q must have the same event shape, got {list(prior.event_shape)} "
            f"and {list(q.event_shape)}"
        )
    if not callable(likelihood):
        raise ValueError(f"likelihood must be a callable z -> distribution, got {type(likelihood).__name__}")
