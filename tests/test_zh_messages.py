"""The checkers in Chinese: one message table per language, and every checker's contract run in zh prints Chinese."""

import importlib
import pkgutil
import re
import string

import pytest
import torch

from vae_teach import exercises
from vae_teach.exercises import _check, _messages

CJK = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]")  # Chinese characters and full-width punctuation
# fixed words of the English templates: none may reach a learner who asked for Chinese
ENGLISH_WORDS = ("not quite", "Hint:", "expected", ": correct.", "not answered", "your code raised",
                 "ran longer than", "a tensor of shape")
MODULES = ("generative", "p_and_q", "elbo", "loss", "reparam", "training", "tradeoff", "latent", "why_aevb")
CHECKER_MODULES = sorted(m.name for m in pkgutil.iter_modules(exercises.__path__) if not m.name.startswith("_"))
CASES = [case for m in MODULES for case in importlib.import_module(f"test_exercises_{m}").CASES]


def _fields(template):
    return sorted({f for _, f, _, _ in string.Formatter().parse(template) if f})


@pytest.fixture
def zh():
    exercises.use_language("zh")
    yield
    exercises.use_language("en")


def test_every_english_message_has_a_chinese_one_with_the_same_fields():
    missing = sorted(set(_messages.EN) - set(_messages.ZH))
    extra = sorted(set(_messages.ZH) - set(_messages.EN))
    assert not missing and not extra, f"zh table: missing {missing}, unknown {extra}"
    for key, en in _messages.EN.items():
        zh_fields = _fields(_messages.ZH[key])
        assert zh_fields == _fields(en), f"{key}: zh fields {zh_fields} vs en {_fields(en)}"
        assert CJK.search(_messages.ZH[key]), f"{key}: the zh message is not Chinese: {_messages.ZH[key]!r}"


def test_every_checker_uses_the_table():
    """Each checker module names its messages by key, so no learner-facing English literal is left behind."""
    for m in MODULES:
        src = importlib.import_module(f"vae_teach.exercises.{m}").__file__
        text = open(src, encoding="utf-8").read()
        assert 'hint="' not in text and "hint=(" not in text, f"{m}.py passes a literal hint, not text(key)"
        assert re.search(r'check\(\s*"', text) is None, f"{m}.py passes a literal checker name, not text(key)"


@pytest.mark.parametrize("bad", ["cn", "ZH", "", None, 3, ["zh"]])
def test_bad_language_is_a_clear_value_error(bad):
    with pytest.raises(ValueError) as e:
        exercises.use_language(bad)
    msg = str(e.value)
    assert "language" in msg and "'en'" in msg and "'zh'" in msg and repr(bad) in msg, msg
    assert exercises.current_language() == "en"


def _chinese(out):
    assert CJK.search(out), out
    leaked = [w for w in ENGLISH_WORDS if w in out]
    assert not leaked, f"English words {leaked} in a zh verdict: {out!r}"
    return out


@pytest.mark.parametrize("checker, reference, wrong", CASES, ids=lambda c: getattr(c, "__name__", "f"))
def test_contract_speaks_chinese(checker, reference, wrong, zh, capsys, monkeypatch):
    assert checker(reference) is True
    assert "✓" in _chinese(capsys.readouterr().out)
    assert checker(wrong) is False
    assert "✗" in _chinese(capsys.readouterr().out)
    assert checker(lambda *a: ...) is None
    assert "尚未作答" in _chinese(capsys.readouterr().out)
    assert checker(lambda *a: "text") is False
    assert "应为" in _chinese(capsys.readouterr().out)
    assert checker(lambda *a: 1 / 0) is False
    assert "ZeroDivisionError" in _chinese(capsys.readouterr().out)
    monkeypatch.setattr(_check, "TIME_LIMIT", 0.2)

    def forever(*args):
        while True:
            pass

    assert checker(forever) is False
    assert "0.2 秒" in _chinese(capsys.readouterr().out)


def test_wrong_shape_and_tuple_messages_in_chinese(zh, capsys):
    from vae_teach.exercises import generative, reparam

    assert generative.check_sample_x(lambda w, b, s, ez, ex: torch.zeros(3, 3, 3)) is False
    assert "形状应为 [5, 3]，得到的是 [3, 3, 3]" in _chinese(capsys.readouterr().out)
    assert generative.check_sample_x(lambda w, b, s, ez, ex: (ez, ez @ w.T + b + s * ex)) is False
    assert "tuple" in _chinese(capsys.readouterr().out)
    assert reparam.check_score(lambda z, mu, s: torch.stack([mu, s])) is False
    assert "两个张量" in _chinese(capsys.readouterr().out)


def test_english_is_back_after_switching(capsys):
    from vae_teach.exercises import loss

    exercises.use_language("zh")
    exercises.use_language("en")
    assert loss.check_gaussian_kl(lambda mu, logvar: mu.sum(-1)) is False
    out = capsys.readouterr().out
    assert out.startswith("✗ closed-form Gaussian KL: not quite. Hint: KL = ½ Σ_j") and not CJK.search(out), out
    assert _check.too_slow_message(10.0) == "your function ran longer than 10 s"


@pytest.mark.parametrize("name", CHECKER_MODULES)
def test_each_checker_module_switches_the_language_as_a_zh_setup_cell_does(name, capsys):
    """`from vae_teach.exercises import <name> as exercises` then `exercises.use_language("zh")` (and back)."""
    module = importlib.import_module(f"vae_teach.exercises.{name}")
    assert module.use_language is _messages.use_language, f"{name}.py must re-export use_language"
    checker = next(c for c, _, _ in CASES if c.__module__ == module.__name__)
    try:
        module.use_language("zh")
        assert exercises.current_language() == "zh"
        assert checker(lambda *a: ...) is None
        assert "尚未作答" in _chinese(capsys.readouterr().out)
        module.use_language("en")
        assert exercises.current_language() == "en"
        assert checker(lambda *a: ...) is None
        out = capsys.readouterr().out
        assert "not answered yet" in out and not CJK.search(out), out
    finally:
        _messages.use_language("en")


def test_every_checker_module_is_in_the_language_tests():
    assert sorted(MODULES) == CHECKER_MODULES, "add the new checker module to MODULES (and its CASES)"
