"""The contract every exercise checker keeps: ✓ for the reference, ✗ for a typical mistake, ○ for `...`."""

import pytest


def contract(cases):
    """Three parametrised tests over (checker, reference, wrong) triples; assign them to test_* names in a module."""
    params = pytest.mark.parametrize("checker, reference, wrong", cases)

    @params
    def test_accepts_reference(checker, reference, wrong, capsys):
        assert checker(reference) is True
        assert "✓" in capsys.readouterr().out

    @params
    def test_rejects_typical_mistake(checker, reference, wrong, capsys):
        assert checker(wrong) is False
        assert "✗" in capsys.readouterr().out

    @params
    def test_placeholder_is_not_answered(checker, reference, wrong, capsys):
        def placeholder(*args):
            ...

        assert checker(placeholder) is None
        assert "○" in capsys.readouterr().out

    return test_accepts_reference, test_rejects_typical_mistake, test_placeholder_is_not_answered
