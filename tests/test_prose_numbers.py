"""Prose never disagrees with output: every number the text quotes repeats a recorded output or a code constant.

The rule (TEAM.md): every decimal number in a markdown cell, and every integer followed by a unit (nats, bits, %,
×, s), outside $…$ / $$…$$ maths, inline code, links and URLs, section and equation numbers ("§3", "eq. 7",
"(10)") and the References section, must match a number in a recorded `# NBVAL_CHECK_OUTPUT` output of the same
notebook or a number in one of its code cells:
- after rounding the reference to the prose's precision ("0.70" matches 0.702; "24 nats" matches 23.6);
- or within 10 % when the prose marks it as approximate ("about", "around", "≈", "~"). An approximate number is
  a measured result, so it must match a recorded output: a code constant (a setting such as `sigma_x = 0.1` or a
  grid size of 50) is exact and never makes "about 0.1" or "about 50 nats" true.
Signs are ignored ("falls 24 nats short" quotes a printed -24.0). "79 %" also matches a printed 0.79.

The match is local: a number must repeat an output or code number **of its own section**, the cells from one
`##` / `###` heading to the next (a markdown cell that holds a heading is split there). So "1.43 against 0.96",
written beside a cell that prints 0.96 and 1.50, fails even though a later section prints 1.43. The opening cell
(title and short answer), Summary and Try it recap the notebook, so they may quote any section.

Inside maths only a decimal of three or more significant digits counts (see math_numbers): "$\\rho = 0.163$" is a
result, "$z \\approx 1.4$" (√2) and "$\\pi/2 \\approx 1.57$" are arithmetic.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = [*sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")),
             *sorted((ROOT / "notebooks" / "zh").glob("[0-9][0-9]_*.ipynb"))]  # and the Chinese edition
MARK = "NBVAL_CHECK_OUTPUT"

# --- what the text quotes -------------------------------------------------------------------------------------
# one number: digits with optional thousands groups ("2,000", "100 000", "100\u202f000") and decimals; not part of
# a Latin word or a dotted version ("C.1", "x1", "2.13.0"); Chinese text may touch it ("间隙为0.702奈特")
_NUM = r"(?<![A-Za-z0-9_.])(?:\d{1,3}(?:(?:,|[ \u00a0\u202f\u2009])\d{3})+(?![\d.,]\d)|\d+)(?:\.\d+)?(?!\.\d)(?![\d])"
NUMBER = re.compile(_NUM)
# a unit after an integer: nats, bits, %, × (not "8×8", a size), seconds
UNIT = re.compile(r"\s?(?:nats?\b|bits?\b|%|×(?!\s*\d)|seconds?\b|奈特|比特|秒)"
                  r"|\s(?:s(?![\w.])|s\.(?!\w))")  # "5s" is a plural
APPROX = re.compile(r"(?:\babout|\baround|≈|~|∼|约|大约|近)\s*[-−+±]?\s*$")  # the Chinese edition: 约 0.7
RANGE_JOIN = re.compile(r"^\s*(?:–|—|-|to)\s*$")  # "0.015–0.02": the second inherits the first's "about"

_STRIP = [  # (pattern, replacement): what is not prose, in the order it is removed
    (re.compile(r"<!--.*?-->", re.S), " "),
    (re.compile(r"```.*?```", re.S), " "),
    (re.compile(r"`[^`\n]*`"), " "),
    (re.compile(r"!?\[[^\]\n]*\]\([^)\n]*\)"), " "),  # links and images: text and target
    (re.compile(r"https?://\S+|www\.\S+|arXiv:\s*\S+", re.I), " "),
    (re.compile(r"<[^>\n]+>"), " "),  # HTML tags
    # section, equation, figure and line numbers: "§5c", "section 2.1", "sections 2.1–2.2", "eq. (1)–(3)", "eq. 7"
    (re.compile(r"(?:§|\b(?:sections?|eqs?\.?|equations?|appendix|appendices|figures?|fig\.|tables?|chapters?|"
                r"algorithm|lines?|items?|step|exercises?|notebooks?)\s*)\s*\(?[A-Z]?\d+(?:\.\d+)*[a-z]?\)?"
                r"(?:\s*(?:–|-|,|and|or)\s*\(?[A-Z]?\d+(?:\.\d+)*[a-z]?\)?)*", re.I), " "),
    (re.compile(r"\(\d+\)"), " "),  # "(10)": an equation number
    # the same in the Chinese edition: "第 2.1 节", "第 3–4 章", "式 (7)", "公式 7", "附录 C.1", "图 4", "练习 2"
    (re.compile(r"第\s*[A-Z]?\d+(?:\.\d+)*[a-z]?(?:\s*[–\-、,，]\s*[A-Z]?\d+(?:\.\d+)*[a-z]?)*\s*[节章步条行项]"), " "),
    (re.compile(r"(?:式|公式|方程|附录|图|表|算法|练习|笔记本)\s*\(?[A-Z]?\d+(?:\.\d+)*[a-z]?\)?"
                r"(?:\s*(?:–|-|、|,|，|和|或)\s*\(?[A-Z]?\d+(?:\.\d+)*[a-z]?\)?)*"), " "),
]
_MATH = re.compile(r"\$\$.*?\$\$|(?<!\\)\$(?:\\\$|[^$])+?(?<!\\)\$", re.S)


def _without_references(text: str) -> str:
    """Drop a References section (from its heading to the next heading of the same or higher level)."""
    out, skip_level = [], None
    for line in text.splitlines():
        heading = re.match(r"^(#+)\s", line)
        if heading and skip_level is not None and len(heading[1]) <= skip_level:
            skip_level = None
        if heading and re.match(r"^#+\s*(?:\d+\s*·\s*)?References\b", line):
            skip_level = len(heading[1])
        if skip_level is None:
            out.append(line)
    return "\n".join(out)


def prose(markdown: str) -> str:
    """The markdown's prose: maths, code, links, URLs, references, section and equation numbers removed."""
    text = _without_references(markdown)
    # a maths span that is only "≈" or "~" still marks the next number as approximate
    text = _MATH.sub(lambda m: " ≈ " if re.fullmatch(r"\$\s*\\(?:approx|sim)\s*\$", m[0]) else " ", text)
    for pattern, repl in _STRIP:
        text = pattern.sub(repl, text)
    return text


def _value(token: str) -> float:
    return float(re.sub(r"[,\s\u00a0\u202f\u2009]", "", token))


def quoted_numbers(markdown: str) -> list[dict]:
    """Every number the prose commits to: {'text', 'value', 'decimals', 'approx', 'percent', 'context'}."""
    text = prose(markdown)
    found, prev_end, prev_approx = [], None, False
    for m in NUMBER.finditer(text):
        token, after = m[0], text[m.end():]
        unit = UNIT.match(after)
        decimals = len(token.split(".", 1)[1]) if "." in token else 0
        approx = bool(APPROX.search(text[max(0, m.start() - 20):m.start()]))
        if not approx and prev_end is not None and RANGE_JOIN.match(text[prev_end:m.start()]):
            approx = prev_approx
        prev_end, prev_approx = m.end(), approx
        if decimals == 0 and not unit:
            continue  # a plain integer: a count, an index, a year
        context = " ".join(text[max(0, m.start() - 40):m.end() + 12].split())
        found.append({"text": token, "value": _value(token), "decimals": decimals, "approx": approx,
                      "percent": bool(unit) and unit[0].strip() == "%", "context": context})
    return found



# inside $…$ a decimal of three or more significant digits is a measured result too ("$\\rho = 0.163$"), unless it
# approximates a constant expression ("$\\pi/2 \\approx 1.57$", "$\\log 2 \\approx 0.693$"); shorter ones
# ("$z \\approx 1.4$" for √2, "$\\beta = 0.25$") are arithmetic or settings
MATH_DECIMAL = re.compile(r"(?<![\w.\\])\d+\.\d+(?![\d.])")
CONSTANT_LEFT = re.compile(r"(?:\\pi|\be\b|\\log|\\ln|\\sqrt|\\frac\{?\d|\d\s*/\s*\d|\\Phi)[^=≈]*"
                           r"(?:\\approx|=|≈)\s*$")


def math_numbers(markdown: str) -> list[dict]:
    """Decimals with ≥ 3 significant digits inside $…$ that are not a constant's value, in quoted_numbers' form."""
    found = []
    for span in _MATH.finditer(_without_references(markdown)):
        math = re.sub(r"\\text\{[^}]*\}|\\tag\{[^}]*\}", " ", span[0])  # "\text{(AEVB §2.1)}" is a reference
        for m in MATH_DECIMAL.finditer(math):
            digits = m[0].replace(".", "").lstrip("0")
            if len(digits) < 3 or CONSTANT_LEFT.search(math[:m.start()]):
                continue
            before = math[:m.start()]
            found.append({"text": m[0], "value": float(m[0]), "decimals": len(m[0].split(".")[1]),
                          "approx": bool(re.search(r"(?:\\approx|\\sim|≈|~)\s*$", before)), "percent": False,
                          "context": " ".join(math[max(0, m.start() - 40):m.end() + 12].split())})
    return found

# --- what the notebook shows ----------------------------------------------------------------------------------
REFERENCE = re.compile(r"(?<![\w.])\d[\d_,]*(?:\.\d+)?(?:[eE][+-]?\d+)?|(?<![\w\d])\.\d+")


def _refs_in(text: str) -> set[float]:
    """Every number in a code cell's source or a recorded output: '1_000', '10,000', '1.0e-03', '.5'."""
    out = set()
    for token in REFERENCE.findall(text):
        token = token.rstrip(",_")
        for variant in {token.replace("_", "").replace(",", ""), *re.split(r"[,_]", token)}:
            try:
                out.add(abs(float(variant)))
            except ValueError:
                pass
    # "100 000" printed with a space as the thousands separator
    for m in re.finditer(r"(?<![\d.])\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?![\d.])", text):
        out.add(float(re.sub(r"\s", "", m[0])))
    return out


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _output_text(output: dict) -> str:
    if "text" in output:
        return "".join(output["text"]) if isinstance(output["text"], list) else output["text"]
    plain = output.get("data", {}).get("text/plain", "")
    return "".join(plain) if isinstance(plain, list) else plain


# an f-string format spec ("{x:.1f}", "{n:>10,}") is not a number the code states
FORMAT_SPEC = re.compile(r":[<>^=]?[+\- ]?#?0?\d*[,_]?(?:\.\d+)?[bcdeEfFgGnosxX%]?\}")


def reference_numbers(cells: list[dict]) -> tuple[set[float], set[float]]:
    """Numbers a notebook's prose may quote: (recorded outputs of its CHECK_OUTPUT cells, its code cells' numbers)."""
    outputs, code = set(), set()
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        code |= _refs_in(FORMAT_SPEC.sub("}", _source(cell)))
        if MARK in _source(cell) and cell.get("execution_count") is not None:
            for output in cell.get("outputs", []):
                outputs |= _refs_in(_output_text(output))
    return outputs, code


def _matches(q: dict, refs: tuple[set[float], set[float]]) -> bool:
    outputs, code = refs
    candidates = [(q["value"], q["decimals"])]
    if q["percent"]:
        candidates.append((q["value"] / 100, q["decimals"] + 2))
    for value, decimals in candidates:
        for r in (outputs if q["approx"] else outputs | code):
            if q["approx"]:
                if abs(r - value) <= 0.1 * value + 1e-12:
                    return True
            elif abs(r - value) <= 0.5 * 10**-decimals + 1e-9:
                return True
    return False


HEADING = re.compile(r"^#{2,3}\s", re.M)
RECAP = re.compile(r"^##\s+(?:\d+\s*·\s*)?(?:Summary|Try it|小结|动手试试)")


def section_pieces(cells: list[dict]) -> list[tuple[int, int, dict]]:
    """(cell index, section number, cell or markdown piece) in order; a section starts at each ## or ### heading."""
    out, section = [], 0
    for i, cell in enumerate(cells):
        if cell.get("cell_type") != "markdown":
            out.append((i, section, cell))
            continue
        text = _source(cell)
        starts = [m.start() for m in HEADING.finditer(text)]
        bounds = sorted({0, *starts})
        for a, b in zip(bounds, [*bounds[1:], len(text)], strict=True):
            if a in starts:
                section += 1
            if text[a:b].strip():
                out.append((i, section, {"cell_type": "markdown", "source": text[a:b]}))
    return out


def mismatches(cells: list[dict], name: str = "notebook") -> list[str]:
    """One readable line per number the prose quotes that no output or code cell of its section shows; [] if none."""
    pieces = section_pieces(cells)
    recap = {s for _, s, c in pieces if c["cell_type"] == "markdown" and (s == 0 or RECAP.match(_source(c)))}
    everywhere = reference_numbers(cells)
    by_section = {s: reference_numbers([c for _, t, c in pieces if t == s]) for s in {s for _, s, _ in pieces}}
    out = []
    for i, section, cell in pieces:
        if cell.get("cell_type") != "markdown":
            continue
        refs = everywhere if section in recap else by_section[section]
        where = "" if section in recap else " of its section"
        for q in quoted_numbers(_source(cell)) + math_numbers(_source(cell)):
            if not _matches(q, refs):
                if q["approx"]:
                    what = f"recorded {MARK} output{where} (within 10 %; an approximate number repeats a result)"
                else:
                    what = f"recorded {MARK} output or code-cell number{where} (rounded to {q['decimals']} decimals)"
                out.append(f"{name} cell {i}: {q['text']!r} matches no {what}, in: …{q['context']}…")
    return out


# --- self-tests: the parser, and the two mismatches that shipped on main ------------------------------------------
def _md(text):
    return {"cell_type": "markdown", "source": text}


def _recorded(source, output):
    return {"cell_type": "code", "source": source, "execution_count": 1,
            "outputs": [{"output_type": "stream", "name": "stdout", "text": output}]}


# 07 §4 as it stood on main: the text says the rate spans about 50 nats; the β sweep printed rates 37.23 … 0.00
# (that print was not a CHECK_OUTPUT cell on main: recorded here as it would be)
FIXTURE_07_MD = (
    "## 4 · The whole trade-off: a rate–distortion curve\n\nEach trained model is one point $(R, D)$. Minimising "
    "$D + \\beta R$ picks the point where the curve's slope is $-\\beta$, so $\\beta = 1$ is where the curve touches "
    "a slope $-1$ line: the best ELBO. (The two axes have very different scales, the rate spanning about 50 nats and "
    "the distortion under 20, so the slope $-1$ line looks almost vertical; on equal scales it would be at 45°.)"
)
FIXTURE_07_CODE = (
    "print(\"rate:\", \" > \".join(f\"{run.rate:.2f}\" for run in runs))\n"
    "print(f\"-ELBO at β = 1: {neg_elbo[1.0]:.2f} nats; best in the sweep: {best:.2f} nats\")  # NBVAL_CHECK_OUTPUT\n"
)
FIXTURE_07_OUT = (
    "rate: 37.23 > 10.78 > 7.03 > 3.66 > 1.37 > 0.07 > 0.01 > 0.00\n"
    "-ELBO at β = 1: 101.74 nats; best in the sweep: 101.74 nats\n"
)

# 04 §5c as it stood on main: "about 0.1" for the per-pixel mean, printed just below as 1.47 nats
FIXTURE_04_MD = (
    "### 5c · Units: nats per image\n\nLogs are natural logs, so every term is in **nats**. With the sums of 5a, the "
    "loss is in nats *per image*. Two conversions are common in papers: bits per image (divide by $\\ln 2$) and bits "
    "per dimension, where a dimension is one pixel (divide by $d\\ln 2$). A reported loss near the per-pixel mean "
    "printed below (about 0.1 for binarised MNIST) is almost certainly a per-pixel mean (5a), not a per-image loss."
)
FIXTURE_04_CODE = (
    "print(f\"{loss_nats:.1f} nats per image = {bits_image:.1f} bits per image = {bits_dim:.2f} bits per dimension "
    "(pixel); per-pixel mean {loss_nats / d:.2f} nats\")  # NBVAL_CHECK_OUTPUT\n"
)
FIXTURE_04_OUT = (
    "94.3 nats per image = 136.1 bits per image = 2.13 bits per dimension (pixel); per-pixel mean 1.47 nats\n"
)


def test_flags_the_07_rate_span_that_shipped_on_main():
    cells = [_md(FIXTURE_07_MD), _recorded(FIXTURE_07_CODE, FIXTURE_07_OUT)]
    found = mismatches(cells, "07")
    assert any("'50'" in line and "cell 0" in line for line in found), found
    # and it names only what is wrong: 20 ("under 20") and 45° carry no unit, so they are not quoted numbers
    assert len(found) == 1, found


def test_flags_the_04_per_pixel_mean_that_shipped_on_main():
    cells = [_md(FIXTURE_04_MD), _recorded(FIXTURE_04_CODE, FIXTURE_04_OUT)]
    found = mismatches(cells, "04")
    assert len(found) == 1 and "'0.1'" in found[0] and "04 cell 0" in found[0], found


def test_a_code_constant_does_not_make_an_approximate_claim_true():
    # on main, 07 drew its line with torch.linspace(0, max(rates), 50) and 04 set sigma_x = 0.1: neither is a result
    code_07 = _recorded("xs = torch.linspace(0, max(rates), 50)\n" + FIXTURE_07_CODE, FIXTURE_07_OUT)
    code_04 = _recorded("sigma_x = 0.1\n" + FIXTURE_04_CODE, FIXTURE_04_OUT)
    assert any("'50'" in line for line in mismatches([_md(FIXTURE_07_MD), code_07]))
    assert any("'0.1'" in line for line in mismatches([_md(FIXTURE_04_MD), code_04]))
    # an exact setting quoted exactly still matches its code constant
    exact = _md("We set the noise to 0.1 and train for 12 s.")
    assert mismatches([exact, code_04 | {"source": "t = 12\n" + code_04["source"]}]) == []


def test_the_corrected_texts_pass():
    fixed_07 = FIXTURE_07_MD.replace("about 50 nats", "from 0.00 to 37.23 nats")
    fixed_04 = FIXTURE_04_MD.replace("about 0.1 for binarised MNIST", "1.47 nats here")
    assert mismatches([_md(fixed_07), _recorded(FIXTURE_07_CODE, FIXTURE_07_OUT)]) == []
    assert mismatches([_md(fixed_04), _recorded(FIXTURE_04_CODE, FIXTURE_04_OUT)]) == []
    about = FIXTURE_07_MD.replace("about 50 nats", "about 40 nats")  # 37.23 is within 10 % of 40
    assert mismatches([_md(about), _recorded(FIXTURE_07_CODE, FIXTURE_07_OUT)]) == []


def test_only_recorded_outputs_count():
    unrecorded = dict(_recorded(FIXTURE_04_CODE, FIXTURE_04_OUT), execution_count=None)
    unmarked = _recorded("print(loss / d)\n", FIXTURE_04_OUT)
    text = _md("The per-pixel mean is 1.47 nats.")
    assert mismatches([text, unrecorded]) and mismatches([text, unmarked])
    assert mismatches([text, _recorded(FIXTURE_04_CODE, FIXTURE_04_OUT)]) == []


# 08 §4 as it stood on main before the second read: "1.43 against 0.96" beside a cell printing 0.96 and 1.50;
# 1.43 was printed too, but in §5, so a whole-notebook match let it through
FIXTURE_08 = [
    _md("## 4 · What a point decodes to: the mean image, and samples\n\nThe mean image is an average."),
    _recorded("print(f'mean images {a:.2f}, single samples {b:.2f}')  # NBVAL_CHECK_OUTPUT\n",
              "distance to the nearest training digit: mean images 0.96, single samples 1.50\n"),
    _md("A single draw lies farther from every real digit (1.43 against 0.96 for the mean images).\n\n"
        "## 5 · A path between two codes\n\nWalk from one code to another."),
    _recorded("print(f'latent path {m:.2f} / {x:.2f}')  # NBVAL_CHECK_OUTPUT\n", "latent path 1.07 / 1.43\n"),
]


def test_a_number_must_be_printed_in_its_own_section():
    found = mismatches(FIXTURE_08, "08")
    assert len(found) == 1 and "'1.43'" in found[0] and "08 cell 2" in found[0] and "its section" in found[0], found
    fixed = [dict(c) for c in FIXTURE_08]
    fixed[2] = _md(_source(FIXTURE_08[2]).replace("1.43 against", "1.50 against"))
    assert mismatches(fixed, "08") == []


def test_the_opening_summary_and_try_it_may_quote_any_section():
    later = [_md("## 1 · Setup\n\nNothing printed here."), _recorded("# NBVAL_CHECK_OUTPUT\n", "gap 0.702 nats\n")]
    for recap in ("# 03 · Where does the ELBO come from?\n\n**Short answer.** The gap is 0.702 nats.",
                  "## Summary\n\n- The gap is 0.702 nats.", "## Try it\n\nGet 0.702 nats yourself."):
        cells = [_md(recap), *later] if recap.startswith("# ") else [*later, _md(recap)]
        assert mismatches(cells) == [], recap
    assert mismatches([_md("## 2 · Elsewhere\n\nThe gap is 0.702 nats."), *later])  # an ordinary section may not


def test_a_heading_inside_a_cell_starts_a_new_section():
    cells = [_md("## 1 · One\n\ntext"), _recorded("# NBVAL_CHECK_OUTPUT\n", "0.25\n"),
             _md("So it is 0.25.\n\n## 2 · Two\n\nAnd here 0.25 again.")]
    found = mismatches(cells)
    assert len(found) == 1 and "And here" in found[0], found
    assert [s for _, s, _ in section_pieces(cells)] == [1, 1, 1, 2]


def test_a_measured_number_inside_maths_counts():
    cells = [_md("## 4 · Correlation\n\nHere $\\rho = 0.163$, so the gap is $-\\tfrac12\\log(1-\\rho^2)$."),
             _recorded("# NBVAL_CHECK_OUTPUT\n", "rho = 0.1620\n")]
    found = mismatches(cells)
    assert len(found) == 1 and "'0.163'" in found[0], found
    fine = ("$\\pi/2 \\approx 1.57$, $\\log 2 \\approx 0.693$, $z \\approx 1.4$, $\\beta = 0.25$, "
            "$$z = \\mu + \\sigma\\varepsilon \\qquad \\text{(paper, section 2.4)}$$, $\\rho = 0.1620$")
    assert [q["text"] for q in math_numbers(fine)] == ["0.1620"]
    assert mismatches([_md("## 4 · Correlation\n\n" + fine), cells[1]]) == []


def test_the_chinese_edition_reads_the_same_way():
    qs = quoted_numbers("见第 2.4 节、式 (7) 与附录 C.1：间隙约0.015奈特，而 0.702 奈特来自图 4，耗时 12 秒")
    assert [(q["text"], q["approx"]) for q in qs] == [("0.015", True), ("0.702", False), ("12", False)]
    cells = [_md("## 小结\n\n- 间隙为 0.702 奈特。"), _md("## 2 · 别处\n\n这里是 0.5。"),
             _recorded("# NBVAL_CHECK_OUTPUT\n", "gap 0.702 nats\n")]
    found = mismatches(cells)
    assert len(found) == 1 and "'0.5'" in found[0], found


@pytest.mark.parametrize(
    ("markdown", "quoted"),
    [
        ("the gap is 0.702 nats, $\\log 2 \\approx 0.69$", ["0.702"]),
        ("see §5.2, eq. (1)–(3), eq. 7, section 2.1, sections 2.1–2.2 and appendix C.1", []),
        ("an 8×8 image, 28 × 28 pixels, 5× faster, 12 s, 79 %, 20 samples, 3 nats, the 5s", ["5", "12", "79", "3"]),
        ("`lr=0.02` and [v0.5](https://x.org/1.5) and https://kexue.fm/archives/5253.5 (10)", []),
        ("torch 2.13.0, 100 000 nats, 2,000 bits, 1-D, 2-D", ["100 000", "2,000"]),
        ("## References\n- Kingma 2013, arXiv:1312.6114, 0.5\n## Try it\nabout 0.3", ["0.3"]),
    ],
)
def test_what_counts_as_a_quoted_number(markdown, quoted):
    assert [q["text"] for q in quoted_numbers(markdown)] == quoted


def test_approximate_markers_and_ranges():
    qs = quoted_numbers("a gap of about 0.015–0.02 nats, then 0.7 nats, ≈ 3 nats, ~40 %, around 1.4")
    assert [(q["text"], q["approx"]) for q in qs] == [
        ("0.015", True), ("0.02", True), ("0.7", False), ("3", True), ("40", True), ("1.4", True)]


# --- the course ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_prose_numbers_match_recorded_outputs(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    found = mismatches(cells, path.name)
    assert not found, f"{len(found)} number(s) in the prose of {path.name} that no cell shows:\n  " + "\n  ".join(found)
