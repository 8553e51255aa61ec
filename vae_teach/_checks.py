"""Argument checks shared across modules; each raises ValueError naming what was expected and what came."""

from __future__ import annotations


def count(name: str, value) -> int:
    """Return value, raising unless it is an int >= 1 (a bool is refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    return value
