"""The shared checker: call the learner's answer on test cases, compare with the reference, print ✓ / ✗ / ○."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch

PASS, FAIL, TODO = "✓", "✗", "○"


def _close(got: Any, want: Any, atol: float, rtol: float) -> bool:
    """True when got ≈ want (tensors, numbers, or tuples/lists of them)."""
    if isinstance(want, tuple | list):
        return isinstance(got, tuple | list) and len(got) == len(want) and all(
            _close(g, w, atol, rtol) for g, w in zip(got, want, strict=True)
        )
    got_t = torch.as_tensor(got, dtype=torch.float64)
    want_t = torch.as_tensor(want, dtype=torch.float64)
    return got_t.shape == want_t.shape and bool(torch.allclose(got_t, want_t, atol=atol, rtol=rtol))


def check(
    name: str,
    answer: Callable[..., Any] | Any,
    reference: Callable[..., Any] | Any,
    cases: Iterable[tuple] = ((),),
    hint: str = "",
    atol: float = 1e-5,
    rtol: float = 1e-4,
) -> bool | None:
    """Compare answer(*case) with reference(*case) on every case; print the verdict; True, False or None (unanswered).

    `answer` and `reference` may be functions (called on each case) or plain values (compared once).
    A function that returns None, or raises NotImplementedError, counts as not answered yet.
    """
    try:
        for case in cases:
            got = answer(*case) if callable(answer) else answer
            want = reference(*case) if callable(reference) else reference
            if got is None or got is Ellipsis:
                print(f"{TODO} {name}: not answered yet. Replace the `...` with your code and run the cell again.")
                return None
            if not _close(got, want, atol, rtol):
                shown = "" if callable(answer) else f" (you gave {got!r})"
                print(f"{FAIL} {name}: not quite{shown}. Hint: {hint}" if hint else f"{FAIL} {name}: not quite{shown}.")
                return False
    except NotImplementedError:
        print(f"{TODO} {name}: not answered yet. Replace the `...` with your code and run the cell again.")
        return None
    except Exception as e:  # a learner's bug must not stop the notebook
        print(f"{FAIL} {name}: your code raised {type(e).__name__}: {e}. Hint: {hint}")
        return False
    print(f"{PASS} {name}: correct.")
    return True
