"""The shared checker (vae_teach.exercises._check): maintainer errors, the time limit, and contract coverage."""

import importlib
import inspect
import pkgutil
import signal
import time

import pytest
import torch

import vae_teach.exercises
from vae_teach.exercises import _check
from vae_teach.exercises._check import CheckerError, check

MODULES = sorted(m.name for m in pkgutil.iter_modules(vae_teach.exercises.__path__) if not m.name.startswith("_"))


def test_every_checker_is_under_the_contract():
    listed, found = set(), set()
    for name in MODULES:
        mod = importlib.import_module(f"vae_teach.exercises.{name}")
        found |= {f for n, f in inspect.getmembers(mod, inspect.isfunction) if n.startswith("check_")}
        tests = importlib.import_module(f"test_exercises_{name}")
        listed |= {c[0] for c in tests.CASES}
        assert "test_time_limit_off_the_main_thread" in vars(tests), f"test_exercises_{name} must call contract()"
    assert found - listed == set(), f"checkers missing from a CASES list: {sorted(f.__name__ for f in found - listed)}"
    assert len(found) == 26


def test_no_cases_is_a_maintainer_error():
    with pytest.raises(CheckerError, match="'x' is broken: it has no test cases"):
        check("x", lambda: 1.0, lambda: 1.0, cases=[])
    with pytest.raises(CheckerError, match="no test cases"):
        check("x", lambda: 1.0, lambda: 1.0, cases=iter(()))


@pytest.mark.parametrize("reference, match", [(lambda: 1 / 0, "its reference raised ZeroDivisionError"),
                                              (lambda: None, "its reference returned None"),
                                              (lambda: torch.tensor([1.0, float("nan")]), "returned tensor"),
                                              (lambda: float("inf"), "returned inf")])
def test_broken_reference_is_a_maintainer_error_not_a_tick(reference, match):
    with pytest.raises(CheckerError, match=match):
        check("x", lambda: 1.0, reference)


def test_default_limit_and_its_message():
    assert _check.TIME_LIMIT == 10.0
    assert _check.too_slow_message(_check.TIME_LIMIT) == "your function ran longer than 10 s"


def test_time_limit_is_for_the_whole_check(monkeypatch, capsys):
    monkeypatch.setattr(_check, "TIME_LIMIT", 0.3)
    t0 = time.monotonic()
    assert check("slow", lambda i: time.sleep(0.12) or 1.0, lambda i: 1.0, cases=[(i,) for i in range(10)]) is False
    assert time.monotonic() - t0 < 1.0
    assert "ran longer than 0.3 s" in capsys.readouterr().out


def test_an_answer_that_catches_exception_still_times_out(monkeypatch, capsys):
    monkeypatch.setattr(_check, "TIME_LIMIT", 0.2)

    def stubborn():
        while True:
            try:
                time.sleep(1)
            except Exception:
                pass

    assert check("stubborn", stubborn, lambda: 1.0) is False
    assert "ran longer than" in capsys.readouterr().out


def test_an_outer_alarm_survives_a_check():
    fired = []
    old = signal.signal(signal.SIGALRM, lambda *a: fired.append(1))
    try:
        signal.setitimer(signal.ITIMER_REAL, 5.0)
        assert check("x", lambda: 1.0, lambda: 1.0) is True
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 4.0 < left <= 5.0, "the outer timer must be re-armed with what was left of it"
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        time.sleep(0.2)
        assert fired == [1], "the outer handler must be restored"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_no_alarm_left_behind():
    check("x", lambda: 1.0, lambda: 1.0)
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)


def test_keyboard_interrupt_still_stops_the_cell():
    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        check("x", interrupted, lambda: 1.0)


@pytest.mark.parametrize("got, want, message", [
    ("a", torch.zeros(2), "expected a tensor of shape [2], got str"),
    (torch.zeros(3, 3, 3), torch.zeros(2), "expected shape [2], got [3, 3, 3]"),
    (torch.zeros(2, dtype=torch.complex64), torch.zeros(2), "expected real numbers"),
    (torch.zeros(2), (torch.zeros(2), torch.zeros(2)), "expected a tuple of 2 tensors, got a tensor of shape [2]"),
    ((torch.zeros(2),), (torch.zeros(2), torch.zeros(2)), "got a tuple of 1"),
    (True, 1.0, "expected a number, got bool"),
    (1.5, 2, "expected a Python int, got float"),
    (torch.zeros(1), 1.0, "expected a single number (shape []), got [1]"),
])
def test_form_errors(got, want, message):
    integer = isinstance(want, int) and not isinstance(want, bool)
    assert message in _check.form_error(got, want, integer=integer)


@pytest.mark.parametrize("got, want", [(1.0, torch.tensor(1.0)), (torch.tensor(2.0), 2.0), (3, 3.0),
                                       (torch.zeros(2, dtype=torch.float64), torch.zeros(2))])
def test_forms_that_are_accepted(got, want):
    assert _check.form_error(got, want) is None


def test_plain_value_answers_are_still_compared(capsys):
    assert check("v", 2.0, lambda: 2.0) is True
    assert check("v", 3.0, lambda: 2.0) is False
    assert "you gave 3.0" in capsys.readouterr().out


class _Hostile:
    """An answer whose every attribute access raises (a badly broken tensor subclass, say)."""

    def __getattribute__(self, name):
        raise RuntimeError("no")

    def __len__(self):
        raise RuntimeError("no")


@pytest.mark.parametrize("want", [torch.zeros(2), 1.0, (torch.zeros(2), torch.zeros(2))])
def test_an_answer_nothing_can_read_still_gets_a_verdict(want, capsys):
    assert check("odd", lambda: _Hostile(), lambda: want) is False
    assert "✗ odd: expected" in capsys.readouterr().out
