"""Argument checks shared across modules; each raises ValueError naming what was expected and what came."""

from __future__ import annotations


def count(name: str, value) -> int:
    """Return value, raising unless it is an int >= 1 (a bool is refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    return value


# ---- models, bounds and train ---------------------------------------------------------------------------
import math  # noqa: E402  (imports of the helpers below, kept beside them)

import torch  # noqa: E402
from torch import distributions as D  # noqa: E402


def _got(value) -> str:
    """A short description of a bad value for an error message: its repr, and its type when that helps."""
    shown = repr(value) if not hasattr(value, "shape") else f"{type(value).__name__} of shape {list(value.shape)}"
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return shown if number else f"{shown} ({type(value).__name__})"


def real(name: str, value, *, low: float | None = None, high: float | None = None, low_open: bool = False,
         high_open: bool = False, finite: bool = True) -> float:
    """Return value as a float, raising unless it is a real number (not a bool), finite, inside [low, high]."""
    parts = [f">{'' if low_open else '='} {low:g}" if low is not None else "",
             f"<{'' if high_open else '='} {high:g}" if high is not None else ""]
    want = f"{name} must be a {'finite ' if finite else ''}number" + "".join(f" {p}" for p in parts if p)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{want}, got {_got(value)}")
    v = float(value)
    bad = (finite and not math.isfinite(v)) or math.isnan(v)
    bad = bad or (low is not None and (v < low or (low_open and v == low)))
    bad = bad or (high is not None and (v > high or (high_open and v == high)))
    if bad:
        raise ValueError(f"{want}, got {value!r}")
    return v


def seed(name: str, value) -> int:
    """Return value, raising unless it is an int >= 0 (a bool is refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be an int >= 0, got {_got(value)}")
    return value


def finite(name: str, t: torch.Tensor, what: str = "") -> torch.Tensor:
    """Return the float tensor t, raising unless every entry is finite (an empty tensor passes)."""
    if t.is_floating_point() and not bool(torch.isfinite(t).all()):
        bad = "NaN" if bool(t.isnan().any()) else "inf"
        raise ValueError(f"{name} must hold finite values{what}, got {bad}")
    return t


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
        finite("mu", mu)
        finite("logvar", logvar)


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
    finite("x", x)
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
        finite("q's parameters", t)
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
