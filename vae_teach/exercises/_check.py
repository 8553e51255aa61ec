"""The shared checker: run the learner's answer on fresh copies of each case, compare, print ✓ / ✗ / ○.

Rules every checker keeps (tests/exercise_contract.py tests them for each one):
- the answer gets its own deep copy of every case, and the reference is computed on another copy, so an
  in-place operation (``eps.zero_()``, ``mu.add_(...)``) can neither fool the check nor change later checks;
- the answer runs under a time limit (TIME_LIMIT seconds for the whole check);
- the form of the answer (a tensor? a tuple of two? which shape?) is checked before the values, so a wrong
  type or shape gets "expected shape [4], got [3, 3, 3]", not a maths hint or the checker's own TypeError;
- nothing the learner does raises into the notebook; a broken checker (a reference that raises, no cases)
  raises CheckerError, because a silent "✓" would be a wrong verdict.
"""

from __future__ import annotations

import copy
import numbers
import signal
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch

from vae_teach.exercises._messages import text

PASS, FAIL, TODO = "✓", "✗", "○"
TIME_LIMIT = 10.0  # seconds per check, for all of its cases together


class CheckerError(RuntimeError):
    """The checker itself is broken (a maintainer's bug in vae_teach.exercises), not the learner's answer."""


class _TimeUp(BaseException):
    """Raised inside the learner's code by the SIGALRM handler (a BaseException, so `except Exception` misses it)."""


def too_slow_message(limit: float) -> str:
    """The verdict text for an answer that did not return in time."""
    return text("too_slow", limit=limit)


# ---- running the learner's code ------------------------------------------------------------------------
def _run_answers(answer: Callable, cases: list[tuple]) -> list[tuple[str, Any]]:
    """Call answer on a deep copy of each case: [('value', v) | ('todo', None) | ('raised', exc)], stopping early."""
    out = []
    for case in cases:
        try:
            got = answer(*copy.deepcopy(case))
        except NotImplementedError:
            out.append(("todo", None))
            break
        except (Exception, SystemExit) as e:  # a learner's bug must not stop the notebook
            out.append(("raised", e))
            break
        out.append(("value", got))
        if got is None or got is Ellipsis:
            break
    return out


def _with_alarm(run: Callable[[], list], limit: float) -> list | None:
    """run() under SIGALRM (main thread only): its result, or None when it ran past `limit` seconds."""

    done = False

    def ring(signum, frame):
        if not done:
            raise _TimeUp

    old_handler = signal.signal(signal.SIGALRM, ring)
    old_delay, old_interval = signal.setitimer(signal.ITIMER_REAL, limit)
    start = time.monotonic()
    try:
        try:
            result = run()
        finally:
            done = True
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _TimeUp:
        result = None
    finally:
        signal.signal(signal.SIGALRM, old_handler)
        if old_delay:  # someone else's alarm (e.g. pytest-timeout) was pending: re-arm what is left of it
            left = max(old_delay - (time.monotonic() - start), 1e-3)
            signal.setitimer(signal.ITIMER_REAL, left, old_interval)
    return result


def _with_thread(run: Callable[[], list], limit: float) -> list | None:
    """run() in a daemon thread (the fallback off the main thread): its result, or None after `limit` seconds."""
    box: list = []
    worker = threading.Thread(target=lambda: box.append(run()), daemon=True, name="vae_teach-check")
    worker.start()
    worker.join(limit)
    return box[0] if box else None


def run_limited(run: Callable[[], list], limit: float) -> list | None:
    """run() with a time limit: SIGALRM in the main thread, a watched worker thread elsewhere."""
    if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
        return _with_alarm(run, limit)
    return _with_thread(run, limit)


# ---- describing and comparing answers ------------------------------------------------------------------
def _is_number(v: Any) -> bool:
    """A real number that is not a bool (Python or numpy scalar)."""
    return isinstance(v, numbers.Real | np.number) and not isinstance(v, bool | np.bool_)


def _shape(v: Any) -> list[int] | None:
    """The shape of a tensor or array, else None."""
    return list(v.shape) if isinstance(v, torch.Tensor | np.ndarray) else None


def _describe_want(want: Any, integer: bool) -> str:
    """'a tensor of shape [4]', 'a number', 'a tuple of 2 tensors', … (what the answer should be)."""
    if isinstance(want, tuple | list):
        kind = "tuple" if isinstance(want, tuple) else "list"
        tensors = text("tensors") if all(isinstance(w, torch.Tensor) for w in want) else ""
        return text("want_sequence", kind=kind, n=len(want), tensors=tensors)
    if isinstance(want, torch.Tensor | np.ndarray):
        return text("want_tensor", shape=_shape(want))
    return text("want_int") if integer else text("want_number")


def _describe_got(got: Any) -> str:
    """How the learner's answer looks: 'str', 'a tensor of shape [3, 3, 3]', 'a tuple of 3', …"""
    if isinstance(got, torch.Tensor | np.ndarray):
        return text("got_tensor", shape=_shape(got))
    if isinstance(got, tuple | list):
        return text("got_sequence", kind=type(got).__name__, n=len(got))
    return type(got).__name__


def form_error(got: Any, want: Any, integer: bool = False) -> str | None:
    """Why `got` cannot be compared with `want` (wrong type, length or shape), or None when its form is right."""
    if isinstance(want, tuple | list):
        return _sequence_form(got, want, integer)
    if isinstance(want, torch.Tensor | np.ndarray):
        return _tensor_form(got, want)
    return _number_form(got, integer)


def _sequence_form(got: Any, want: tuple | list, integer: bool) -> str | None:
    """form_error for a tuple/list answer: the same length, then each element's form."""
    if not isinstance(got, tuple | list) or len(got) != len(want):
        return text("expected_got", want=_describe_want(want, integer), got=_describe_got(got))
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        why = form_error(g, w, integer)
        if why:
            return text("in_element", i=i, kind=type(got).__name__, why=why)
    return None


def _tensor_form(got: Any, want: torch.Tensor | np.ndarray) -> str | None:
    """form_error for a tensor answer: a tensor (or, for shape [], a number) of the same shape, real-valued."""
    if isinstance(got, torch.Tensor | np.ndarray):
        if _shape(got) != _shape(want):
            return text("expected_shape", want=_shape(want), got=_shape(got))
        if got.is_complex() if isinstance(got, torch.Tensor) else np.iscomplexobj(got):
            return text("complex")
        return None
    if _is_number(got) and _shape(want) == []:
        return None
    return text("expected_tensor", shape=_shape(want), got=_describe_got(got))


def _number_form(got: Any, integer: bool) -> str | None:
    """form_error for a number answer: a number or 0-d tensor; with `integer`, a Python int (a count)."""
    if integer:
        ok = isinstance(got, numbers.Integral) and not isinstance(got, bool | np.bool_)
        return None if ok else text("expected_int", got=_describe_got(got))
    if _is_number(got):
        return None
    if isinstance(got, torch.Tensor | np.ndarray):
        return None if _shape(got) == [] else text("expected_scalar", shape=_shape(got))
    return text("expected_number", got=_describe_got(got))


def _as_float64(v: Any) -> torch.Tensor:
    """A float64 copy of a number, array or tensor (detached, on the CPU)."""
    if isinstance(v, torch.Tensor):
        return v.detach().to("cpu", torch.float64)
    return torch.as_tensor(np.asarray(v, dtype=np.float64))


def _close(got: Any, want: Any, atol: float, rtol: float) -> bool:
    """True when got ≈ want, elementwise (tensors, numbers, or tuples/lists of them of the right form)."""
    if isinstance(want, tuple | list):
        return all(_close(g, w, atol, rtol) for g, w in zip(got, want, strict=True))
    g, w = _as_float64(got), _as_float64(want)
    return g.shape == w.shape and bool(torch.allclose(g, w, atol=atol, rtol=rtol))


def _non_finite(v: Any) -> bool:
    """True when any number inside v is NaN or inf."""
    if isinstance(v, tuple | list):
        return any(_non_finite(x) for x in v)
    try:
        return not bool(torch.isfinite(_as_float64(v)).all())
    except (TypeError, ValueError, RuntimeError):
        return False


def _reference(name: str, reference: Callable | Any, case: tuple) -> Any:
    """The reference answer on its own copy of the case; CheckerError if the reference itself is broken."""
    try:
        want = reference(*copy.deepcopy(case)) if callable(reference) else reference
    except Exception as e:
        raise CheckerError(f"checker {name!r} is broken: its reference raised {type(e).__name__}: {e} "
                           "(a bug in vae_teach.exercises, not in your answer)") from e
    if want is None or want is Ellipsis or _non_finite(want):
        raise CheckerError(f"checker {name!r} is broken: its reference returned {want!r} for a test case")
    return want


# ---- the check -------------------------------------------------------------------------------------------
def _todo(name: str) -> None:
    print(text("todo", mark=TODO, name=name))


def check(
    name: str,
    answer: Callable[..., Any] | Any,
    reference: Callable[..., Any] | Any,
    cases: Iterable[tuple] = ((),),
    hint: str = "",
    atol: float = 1e-5,
    rtol: float = 1e-4,
    *,
    explain: Callable[[Any, Any, tuple], str | None] | None = None,
    form_hint: str = "",
    integer: bool = False,
) -> bool | None:
    """Compare answer(*case) with reference(*case) on every case; print the verdict; True, False or None (unanswered).

    `answer` and `reference` may be functions (called on each case) or plain values (compared once).
    A function that returns None, or raises NotImplementedError, counts as not answered yet.
    `explain(got, want, case)` may return a more specific hint for a wrong answer (it never calls the answer);
    `form_hint` is added when the answer has the wrong form; `integer=True` asks for a Python int.
    """
    cases = [tuple(c) for c in cases]
    if not cases:
        raise CheckerError(f"checker {name!r} is broken: it has no test cases, so it could only say ✓")
    wants = [_reference(name, reference, case) for case in cases]
    if callable(answer):
        outcomes = run_limited(lambda: _run_answers(answer, cases), TIME_LIMIT)
        if outcomes is None:
            print(text("too_slow_verdict", mark=FAIL, name=name, too_slow=too_slow_message(TIME_LIMIT)))
            return False
    else:
        outcomes = [("value", answer)] * len(cases)
    for (kind, got), want, case in zip(outcomes, wants, cases, strict=False):
        if kind == "todo" or got is None or got is Ellipsis:
            _todo(name)
            return None
        if kind == "raised":
            print(text("raised", mark=FAIL, name=name, exc_type=type(got).__name__, exc=got, hint=hint))
            return False
        try:
            verdict = _judge(name, got, want, case, hint, atol, rtol, explain, form_hint, integer, callable(answer))
        except Exception:  # an answer so odd that even describing it fails: still a verdict, never a traceback
            print(text("unreadable", mark=FAIL, name=name, want=_describe_want(want, integer),
                       got_type=type(got).__name__))
            return False
        if verdict is not True:
            return verdict
    print(text("correct", mark=PASS, name=name))
    return True


def _judge(name, got, want, case, hint, atol, rtol, explain, form_hint, integer, is_function) -> bool:
    """Print ✗ with the most specific message and return False, or return True when got matches want."""
    why_form = form_error(got, want, integer)
    if why_form is None:
        try:
            if _close(got, want, atol, rtol):
                return True
        except Exception:  # the checker could not read the answer as numbers: a form problem, not the learner's bug
            why_form = text("not_numbers", want=_describe_want(want, integer), got=_describe_got(got))
    special = None
    if explain is not None:
        try:
            special = explain(got, want, copy.deepcopy(case))
        except Exception:  # a hint must never raise
            special = None
    if special:
        print(f"{FAIL} {name}: {special}")
    elif why_form:
        extra = text("hint_suffix", hint=form_hint) if form_hint else ""
        print(text("form_verdict", mark=FAIL, name=name, why=why_form, extra=extra))
    else:
        shown = "" if is_function else text("you_gave", got=repr(got))
        nan = text("nan") if _non_finite(got) and not _non_finite(want) else ""
        print(text("not_quite", mark=FAIL, name=name, shown=shown, nan=nan,
                   hint=text("hint_suffix", hint=hint) if hint else ""))
    return False

