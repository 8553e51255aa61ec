"""The contract every exercise checker keeps, as parametrised tests over (checker, reference, wrong) triples.

Each tests/test_exercises_<module>.py lists every checker of its module in CASES and calls
`globals().update(contract(CASES))`; tests/test_exercises_shared.py checks that none is left out.
Per checker, the contract asserts: ✓ for the reference, ✗ for a typical mistake, ○ for `...`; in-place
edits of the inputs neither fool it nor leak into the next check; a time limit (SIGALRM and, off the main
thread, a watched worker); str / tuple / generator answers are told the expected form; a wrong shape is told
"expected shape …, got [3, 3, 3]" before any maths hint; crashing, unreadable, NaN and sys.exit answers never
raise; and a reference that raises, or no test cases, is a CheckerError.
"""

import inspect
import sys
import threading
import time

import pytest
import torch

from vae_teach.exercises import _check

LIMIT = 0.2  # seconds: the time limit the tests run with (the default is _check.TIME_LIMIT = 10 s)


def like(value, leaf):
    """`value` (a tensor, number, or tuple/list of them) with every leaf replaced by leaf(x)."""
    if isinstance(value, tuple | list):
        return type(value)(like(v, leaf) for v in value)
    return leaf(value)


def _nan(x):
    return torch.full_like(x, float("nan"), dtype=torch.float64) if torch.is_tensor(x) else float("nan")


def _meta(x):
    return torch.empty(x.shape if torch.is_tensor(x) else (), device="meta")


def _with_grad(x):
    if torch.is_tensor(x) and x.is_floating_point():
        return x.detach().clone().requires_grad_(True)
    return x


def contract(cases):
    """The contract's tests over (checker, reference, wrong) triples: a {name: test} dict for a test module."""
    params = pytest.mark.parametrize("checker, reference, wrong", cases)
    tests = {}

    def test(fn):
        tests[fn.__name__] = params(fn)
        return fn

    @test
    def test_accepts_reference(checker, reference, wrong, capsys):
        assert checker(reference) is True
        assert "✓" in capsys.readouterr().out

    @test
    def test_rejects_typical_mistake(checker, reference, wrong, capsys):
        assert checker(wrong) is False
        assert "✗" in capsys.readouterr().out

    @test
    def test_placeholder_is_not_answered(checker, reference, wrong, capsys):
        def placeholder(*args):
            ...

        assert checker(placeholder) is None
        assert "○" in capsys.readouterr().out

    @test
    def test_not_implemented_is_not_answered(checker, reference, wrong, capsys):
        def todo(*args):
            raise NotImplementedError

        assert checker(todo) is None
        assert "○" in capsys.readouterr().out

    @test
    def test_zeroing_the_inputs_in_place_cannot_fool_it(checker, reference, wrong, capsys):
        seen = []

        def zero_then_reference(*args):  # issue 14's `(e.zero_(), mu.clone())[1]`, for any checker
            for a in args:
                if torch.is_tensor(a):
                    seen.append(a)
                    with torch.no_grad():
                        a.zero_()
            return reference(*args)

        verdict = checker(zero_then_reference)
        if not seen:
            pytest.skip("this checker passes no tensors")
        assert verdict is False, "the reference must be computed on the checker's own copies"
        assert checker(reference) is True, "an in-place edit leaked into the next check"

    @test
    def test_correct_answer_that_edits_inputs_in_place_passes(checker, reference, wrong, capsys):
        def add_in_place(*args):  # issue 14's `mu.add_(s * e)`: right values, inputs changed afterwards
            out = reference(*args)
            for a in args:
                if torch.is_tensor(a) and a.is_floating_point():
                    with torch.no_grad():
                        a.add_(1.0)
            return out

        assert checker(add_in_place) is True
        assert checker(add_in_place) is True and checker(reference) is True

    @test
    def test_answer_that_never_returns_times_out(checker, reference, wrong, capsys, monkeypatch):
        monkeypatch.setattr(_check, "TIME_LIMIT", LIMIT)

        def forever(*args):
            while True:
                pass

        t0 = time.monotonic()
        assert checker(forever) is False
        assert time.monotonic() - t0 < LIMIT + 2
        assert f"your function ran longer than {LIMIT:g} s" in capsys.readouterr().out

    @test
    def test_time_limit_off_the_main_thread(checker, reference, wrong, capsys, monkeypatch):
        monkeypatch.setattr(_check, "TIME_LIMIT", LIMIT)
        release = threading.Event()
        verdicts = []
        worker = threading.Thread(target=lambda: verdicts.append(checker(lambda *a: release.wait(10))))
        worker.start()
        worker.join(LIMIT + 5)
        release.set()
        assert verdicts == [False]
        assert "ran longer than" in capsys.readouterr().out

    @test
    @pytest.mark.parametrize("answer, shown", [("abc", "got str"), (("a", "b", "c"), "tuple"),
                                               ((i for i in range(3)), "got generator"), ({"x": 1}, "got dict")])
    def test_wrong_type_is_told_the_expected_form(checker, reference, wrong, capsys, answer, shown):
        assert checker(lambda *a: answer) is False
        out = capsys.readouterr().out
        assert "✗" in out and shown in out and "expected" in out or "Return only x" in out, out
        assert "raised" not in out and "not quite" not in out, out

    @test
    def test_wrong_shape_is_told_before_any_maths_hint(checker, reference, wrong, capsys):
        assert checker(lambda *a: like(reference(*a), lambda x: torch.zeros(3, 3, 3))) is False
        out = capsys.readouterr().out
        assert "[3, 3, 3]" in out and "expected" in out, out
        assert "not quite" not in out, "a shape problem must not get the maths hint"

    @test
    def test_crashing_answer_does_not_raise(checker, reference, wrong, capsys):
        def boom(*args):
            raise RuntimeError("boom")

        assert checker(boom) is False
        out = capsys.readouterr().out
        assert "your code raised RuntimeError: boom" in out

    @test
    def test_sys_exit_in_the_answer_does_not_raise(checker, reference, wrong, capsys):
        assert checker(lambda *a: sys.exit(3)) is False
        assert "SystemExit" in capsys.readouterr().out

    @test
    def test_unreadable_tensor_does_not_raise(checker, reference, wrong, capsys):
        assert checker(lambda *a: like(reference(*a), _meta)) is False
        assert "✗" in capsys.readouterr().out

    @test
    def test_nan_answer_is_wrong(checker, reference, wrong, capsys):
        assert checker(lambda *a: like(reference(*a), _nan)) is False
        assert "✗" in capsys.readouterr().out

    @test
    def test_answer_with_gradients_attached_passes(checker, reference, wrong, capsys):
        assert checker(lambda *a: like(reference(*a), _with_grad)) is True

    @test
    def test_reference_that_raises_is_a_maintainer_error(checker, reference, wrong, monkeypatch):
        home = sys.modules[reference.__module__]
        assert getattr(home, reference.__name__) is reference, "the contract patches the reference by name"

        def broken(*args):
            raise ZeroDivisionError("reference bug")

        monkeypatch.setattr(home, reference.__name__, broken)
        with pytest.raises(_check.CheckerError, match="its reference raised ZeroDivisionError: reference bug"):
            checker(reference)

    @test
    def test_no_cases_is_a_maintainer_error(checker, reference, wrong, monkeypatch):
        real = _check.check

        def without_cases(*args, **kwargs):
            bound = inspect.signature(real).bind(*args, **kwargs)
            bound.arguments["cases"] = []
            return real(*bound.args, **bound.kwargs)

        monkeypatch.setattr(sys.modules[checker.__module__], "check", without_cases)
        with pytest.raises(_check.CheckerError, match="no test cases"):
            checker(reference)

    return tests
