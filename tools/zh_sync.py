"""Keep the Chinese edition in step with the English notebooks: `python -m tools.zh_sync` (what `make zh-sync` runs).

For each notebooks/NN_x.ipynb with a twin notebooks/zh/NN_x.ipynb, the twin is rebuilt cell by cell from the
English notebook, keeping what is Chinese and copying what must be identical:

- **Cells are paired** by a key: a code cell by its code with comments removed (and without the zh-only
  `exercises.use_language("zh")` line), a markdown cell by the SHA-256 of the English markdown it was
  translated from, which the twin records in the cell's metadata (`"zh": {"en": "<12 hex digits>"}`).
  The two key sequences are aligned (difflib), so an added, removed or edited English cell is found even
  when everything around it moved. A cell that moved (say, into Going deeper) keeps its translation: outside
  the aligned runs, an English cell first takes an unpaired twin with its own key, wherever that twin is.
- **Code cells** take the English code. A translated comment is kept when the code part of its line is
  unchanged (lines aligned on their code parts) and the comment keeps every directive of the English one
  (`NBVAL_CHECK_OUTPUT`, `noqa`, a leading `check:`); otherwise the English comment is used. A whole-line
  nbval marker (`# NBVAL_CHECK_OUTPUT` alone on a line, the only form nbval honours) is code, not a comment:
  it is compared as code and always copied unchanged. The setup cell gets a blank line and
  `exercises.use_language("zh")` after the import block holding the `exercises` import (the form ruff's isort
  rule accepts): that is the one difference from the English code the tests allow. Outputs and execution
  counts of `# NBVAL_CHECK_OUTPUT` cells are copied from English (nbval compares them); every other code
  cell is stripped.
- **Markdown cells** keep their Chinese text when their English cell is unchanged. A new or edited English
  markdown cell is never guessed at: the English text goes in, headed by the marker line
  `<!-- zh-sync: UNTRANSLATED ... -->` (the tests fail while a marker is left), followed by the previous
  translation, if there was one, inside an HTML comment to reuse. The tool prints every such cell.
- **Links** in markdown are kept working from notebooks/zh/: a link to another notebook points at its zh twin
  when the twin exists and at the English notebook (`../NN_x.ipynb`) otherwise, so links follow translations
  as they arrive; the English markdown copied into untranslated cells gets its relative links rewritten
  (`../vae_teach/…` becomes `../../vae_teach/…`, `../README.md` becomes `../../README.zh-CN.md`).

The notebook map in README.zh-CN.md follows too: each row links the zh twin (or the English notebook while
there is none) and states the minutes of the twin's title cell (or of the English README's row); the Chinese
question of a row is taken from the twin's title, and kept as written while the notebook is untranslated.

Every notebook is read and validated (as tools/nbstrip.py does) before any is written; writes are atomic
(vae_teach/atomic.py) and skipped when nothing changed, so a second run changes nothing. An English notebook
with no twin is just reported. `--start NN_x` makes a new twin with every markdown cell marked untranslated.

How to translate a notebook (also in notebooks/zh/TRANSLATING.md):
  1. `.venv/bin/python -m tools.zh_sync --start 03_elbo` (or, if the twin exists, `make zh-sync`).
  2. In notebooks/zh/03_elbo.ipynb, translate each markdown cell that starts with the UNTRANSLATED marker and
     delete the marker line (and the old translation's comment). Translate code comments if you like; never
     change code. Use the glossary in zh/00 (tests/test_zh_terms.py lists the banned variants).
  3. `make zh-sync` again (it fixes links and copies outputs), then
     `.venv/bin/pytest tests/test_zh_sync.py tests/test_zh_terms.py notebooks/zh/03_elbo.ipynb -q`.
"""

from __future__ import annotations

import argparse
import collections
import copy
import difflib
import hashlib
import io
import re
import sys
import tokenize
from pathlib import Path

from tools import nbstrip
from vae_teach import atomic

REPO = Path(__file__).resolve().parents[1]
ZH_DIR = "zh"
MARKER = "<!-- zh-sync: UNTRANSLATED"
MARKER_LINE = MARKER + " (translate the English below into Chinese, then delete this line) -->"
OLD_OPEN = "<!-- zh-sync: previous translation, of an older English text; reuse what fits, then delete:"
OLD_CLOSE = "-->"
LANG_LINE = 'exercises.use_language("zh")'
EXERCISES_IMPORT = re.compile(r"^from vae_teach\.exercises import .* as exercises\s*$")
IMPORT_LINE = re.compile(r"^(?:import|from)\s")
# a whole-line nbval marker, as nbval.plugin.find_comment_markers reads one: code, never a translatable comment
NBVAL_LINE = re.compile(r"^\s*#+\s*(?:NBVAL_[A-Z_]+|PYTEST_VALIDATE_IGNORE_OUTPUT)\s*$")
NBVAL_PREFIX = re.compile(r"^\s*#+\s*(NBVAL_[A-Z_]+|PYTEST_VALIDATE_IGNORE_OUTPUT)\b")
DIRECTIVES = ("NBVAL_CHECK_OUTPUT", "NBVAL_", "noqa", "type:")
NOTEBOOK_LINK = re.compile(r"\]\((?:\.\./)?(\d\d_[\w-]+\.ipynb)(#[^)\s]*)?\)")
RELATIVE_LINK = re.compile(r"\]\((?!https?:|mailto:|#|/|\.\./\.\./)([^)\s]+)\)")


def source(cell: dict) -> str:
    """The cell's source as one string."""
    return nbstrip._source(cell)


def lines(text: str) -> list[str]:
    """A cell source as nbformat files store it: a list of lines, each but the last ending in a newline."""
    return text.splitlines(keepends=True)


def en_hash(markdown: str) -> str:
    """The 12-hex-digit SHA-256 of an English markdown cell, recorded in its translation's metadata."""
    return hashlib.sha256(markdown.encode("utf-8")).hexdigest()[:12]


# ---- code: comments apart ---------------------------------------------------------------------------------
def split_comments(code: str) -> list[tuple[str, str]]:
    """Each line as (code part, comment part), split where Python's tokenizer sees a comment; IPython magics ok.

    A whole-line nbval marker (`# NBVAL_CHECK_OUTPUT` alone on its line) is a directive to nbval, so it is all
    code part: compared as code, and copied from English unchanged.
    """
    lines = code.split("\n")
    comments: dict[int, int] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type == tokenize.COMMENT:
                comments[tok.start[0] - 1] = tok.start[1]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass  # an unfinished cell: the comments found so far stand
    out = []
    for i, line in enumerate(lines):
        col = comments.get(i)
        out.append((line, "") if col is None or NBVAL_LINE.match(line) else (line[:col], line[col:]))
    return out


def _drop_language_line(parts: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(code, comment) lines without the zh-only language line and the blank line merge_code puts before it."""
    out: list[tuple[str, str]] = []
    for code, comment in parts:
        if code.strip() == LANG_LINE:
            if out and not "".join(out[-1]).strip():
                out.pop()
            continue
        out.append((code, comment))
    return out


def language_line_at(code_parts: list[str]) -> int | None:
    """Where the language line goes: the index after the import block holding the exercises import, else None.

    The line goes after the whole block, behind a blank line (ruff's isort rule I001 wants one between an
    import block and the first statement after it).
    """
    start = next((i for i, c in enumerate(code_parts) if EXERCISES_IMPORT.match(c)), None)
    if start is None:
        return None
    end, depth = start, 0
    for j in range(start, len(code_parts)):
        part = code_parts[j]
        if j > start and depth == 0 and part.strip() and not IMPORT_LINE.match(part):
            break
        depth += part.count("(") - part.count(")")
        if part.strip():
            end = j
    return end + 1


def strip_comments(code: str, drop_language_line: bool = False) -> str:
    """The code with every comment removed and trailing spaces trimmed (and, optionally, the use_language line)."""
    parts = split_comments(code)
    if drop_language_line:
        parts = _drop_language_line(parts)
    return "\n".join(c.rstrip() for c, _ in parts)


def _directives(comment: str) -> set[str]:
    found = {d for d in DIRECTIVES if d in comment}
    if re.match(r"#\s*check:", comment):
        found.add("check:")
    return found


def _comment_ok(zh: str, en: str) -> bool:
    """A translated comment may replace the English one when it keeps every directive the English one has."""
    if not zh or not en:
        return False
    need = _directives(en)
    return need <= _directives(zh) and (("check:" not in need) or bool(re.match(r"#\s*check:", zh)))


def _units(parts: list[tuple[str, str]]) -> list[tuple[str, list[int]]]:
    """The lines grouped for alignment: (key, line indices); a run of whole-line comments is one unit.

    An nbval marker line is a unit of its own, keyed by the marker, even when a translator added words after it
    (`# NBVAL_CHECK_OUTPUT 核对`): so it splits the comment runs around it the same way in English and twin.
    """
    units: list[tuple[str, list[int]]] = []
    for i, (code, comment) in enumerate(parts):
        marker = NBVAL_PREFIX.match(code + comment)
        if marker:
            units.append(("\0marker " + marker.group(1), [i]))
        elif not code.strip() and comment:
            if units and units[-1][0] == "\0comments":
                units[-1][1].append(i)
                continue
            units.append(("\0comments", [i]))
        else:
            units.append((code.rstrip(), [i]))
    return units


def merge_code(en_code: str, zh_code: str | None) -> str:
    """The English code with the twin's translated comments kept where the code part of the line is unchanged.

    A run of whole-line comments is paired with the twin's run as a whole: line by line from the top when the
    twin's run is at least as long, else the English run stays English (a longer English comment is not half
    translated by a shorter translation).
    """
    en_lines = split_comments(en_code)
    zh_lines = _drop_language_line(split_comments(zh_code) if zh_code is not None else [])
    out = [c + m for c, m in en_lines]
    eu, zu = _units(en_lines), _units(zh_lines)
    sm = difflib.SequenceMatcher(None, [k for k, _ in eu], [k for k, _ in zu], autojunk=False)
    for block in sm.get_matching_blocks():
        for k in range(block.size):
            ei, zi = eu[block.a + k][1], zu[block.b + k][1]
            if len(ei) > len(zi):
                continue
            for a, b in zip(ei, zi, strict=False):
                (ec, em), (_, zm) = en_lines[a], zh_lines[b]
                if _comment_ok(zm, em):
                    out[a] = ec + zm
    at = language_line_at([c for c, _ in en_lines])
    if at is not None:
        out[at:at] = ["", LANG_LINE]
    return "\n".join(out)


# ---- markdown: links and markers ------------------------------------------------------------------------
def retarget_notebook_links(md: str, zh_folder: Path) -> str:
    """Point each notebook link at the zh twin when it exists in zh_folder, else at ../ the English notebook."""
    def fix(m: re.Match) -> str:
        name, anchor = m.group(1), m.group(2) or ""
        target = name if (zh_folder / name).exists() else f"../{name}"
        return f"]({target}{anchor})"
    return NOTEBOOK_LINK.sub(fix, md)


def localise_english(md: str, zh_folder: Path) -> str:
    """English markdown as it must read from notebooks/zh/: relative links one folder up, the README in Chinese."""
    def fix(m: re.Match) -> str:
        target = m.group(1)
        if NOTEBOOK_LINK.fullmatch(f"]({target})"):
            return m.group(0)
        if target in ("../README.md", "../README.md#troubleshooting"):
            return "](../" + target.replace("README.md", "README.zh-CN.md") + ")"
        return f"](../{target})"
    return retarget_notebook_links(RELATIVE_LINK.sub(fix, md), zh_folder)


def untranslated(en_md: str, old_zh: str | None, zh_folder: Path) -> str:
    """A markdown cell for the translator: the marker, the English text, and the previous translation if any."""
    text = f"{MARKER_LINE}\n{localise_english(en_md, zh_folder)}"
    if old_zh and old_zh.strip():
        old = strip_marker(old_zh).replace("-->", "-- >")
        text += f"\n\n{OLD_OPEN}\n{old}\n{OLD_CLOSE}"
    return text


def strip_marker(md: str) -> str:
    """A cell's text without the sync tool's marker line and old-translation comment (for reuse as the old text)."""
    md = re.sub(re.escape(OLD_OPEN) + r".*?" + re.escape(OLD_CLOSE), "", md, flags=re.S)
    return "\n".join(ln for ln in md.split("\n") if not ln.startswith(MARKER)).strip()


# ---- the sync --------------------------------------------------------------------------------------------
def _key(cell: dict, zh: bool) -> tuple[str, str | None]:
    if cell.get("cell_type") == "code":
        return ("code", strip_comments(source(cell), drop_language_line=zh))
    if cell.get("cell_type") == "markdown":
        if zh:
            return ("markdown", cell.get("metadata", {}).get("zh", {}).get("en"))
        return ("markdown", en_hash(source(cell)))
    return (cell.get("cell_type", "?"), source(cell))


def _code_cell(en: dict, zh: dict | None) -> dict:
    cell = copy.deepcopy(en)
    if zh is not None and zh.get("id"):
        cell["id"] = zh["id"]
    cell["source"] = lines(merge_code(source(en), source(zh) if zh is not None else None))
    if not nbstrip.is_checked(cell):
        cell["outputs"], cell["execution_count"] = [], None
    return cell


def _markdown_cell(en: dict, zh: dict | None, current: bool, zh_folder: Path, todo: list[str], i: int) -> dict:
    cell = copy.deepcopy(zh) if zh is not None and zh.get("cell_type") == "markdown" else copy.deepcopy(en)
    if zh is None or zh.get("cell_type") != "markdown":
        cell["id"] = en.get("id", cell.get("id"))
    cell.setdefault("metadata", {})["zh"] = {"en": en_hash(source(en))}
    if current:
        cell["source"] = lines(retarget_notebook_links(source(zh), zh_folder))
    else:
        old = source(zh) if zh is not None and zh.get("cell_type") == "markdown" else None
        cell["source"] = lines(untranslated(source(en), old, zh_folder))
    if MARKER in source(cell):
        first = strip_marker(source(cell)).split("\n")[0][:60]
        todo.append(f"cell {i}: translate {first!r}" + (" (the English changed)" if old_or(zh) else " (new)"))
    return cell


def old_or(zh: dict | None) -> bool:
    """True when a translation existed for this cell before (so the English changed), False for a new cell."""
    return zh is not None and zh.get("cell_type") == "markdown" and MARKER not in source(zh)


def pair_cells(en_cells: list[dict], zh_cells: list[dict]) -> list[tuple[dict, dict | None, bool]]:
    """(English cell, its old twin or None, whether the twin is current) for every English cell, in order."""
    ek = [_key(c, zh=False) for c in en_cells]
    zk = [_key(c, zh=True) for c in zh_cells]
    ops = difflib.SequenceMatcher(None, ek, zk, autojunk=False).get_opcodes()
    # a cell that moved (say, into Going deeper): its twin is reserved for it, found by key outside the aligned runs
    wanted = collections.Counter(ek[a] for op, a0, a1, _, _ in ops if op != "equal" for a in range(a0, a1))
    moved: dict[tuple, list[int]] = {}
    for op, _, _, b0, b1 in ops:
        for j in range(b0, b1) if op != "equal" else ():
            if zk[j][1] is not None and len(moved.get(zk[j], [])) < wanted[zk[j]]:
                moved.setdefault(zk[j], []).append(j)
    taken = {j for js in moved.values() for j in js}
    pairs: list[tuple[dict, dict | None, bool]] = []
    for op, a0, a1, b0, b1 in ops:
        if op == "equal":
            pairs += [(en_cells[a0 + k], zh_cells[b0 + k], True) for k in range(a1 - a0)]
            continue
        for a in range(a0, a1):
            if moved.get(ek[a]):
                pairs.append((en_cells[a], zh_cells[moved[ek[a]].pop(0)], True))
                continue
            # an edited cell takes the first old cell of its own type left in its place, in order
            j = next((j for j in range(b0, b1) if j not in taken
                      and zh_cells[j].get("cell_type") == en_cells[a].get("cell_type")), None)
            taken.update([] if j is None else [j])
            pairs.append((en_cells[a], zh_cells[j] if j is not None else None, False))
    return pairs


def unique_ids(cells: list[dict], en_cells: list[dict]) -> list[dict]:
    """The cells with every id unique: a repeated id becomes its English cell's id, else a fresh one (nbformat 4.5)."""
    seen: set[str] = set()
    for cell, en in zip(cells, en_cells, strict=True):
        if "id" not in cell:
            continue
        for candidate in (cell["id"], en.get("id"), *(f"{en.get('id', 'cell')}-zh{n}" for n in range(1, 100))):
            if candidate and candidate not in seen:
                cell["id"] = candidate
                break
        seen.add(cell["id"])
    return cells


def sync(en_nb: dict, zh_nb: dict | None, zh_folder: Path) -> tuple[dict, list[str]]:
    """The twin rebuilt from the English notebook (see the module docstring), and what still needs translating."""
    pairs = pair_cells(en_nb["cells"], zh_nb["cells"] if zh_nb is not None else [])
    todo: list[str] = []
    cells = []
    for i, (en, zh, same) in enumerate(pairs):
        if en.get("cell_type") == "code":
            cells.append(_code_cell(en, zh))
        elif en.get("cell_type") == "markdown":
            cells.append(_markdown_cell(en, zh, same, zh_folder, todo, i))
        else:
            cells.append(copy.deepcopy(en))
    out = copy.deepcopy(zh_nb) if zh_nb is not None else copy.deepcopy(en_nb)
    out["cells"] = unique_ids(cells, [en for en, _, _ in pairs])
    for k in ("nbformat", "nbformat_minor"):
        out[k] = en_nb.get(k, out.get(k))
    out.setdefault("metadata", {}).pop("widgets", None)
    return out, todo


# ---- README.zh-CN.md: the notebook map's links and minutes come from the notebooks ---------------------
ZH_TIME = re.compile(r"\*\*时长：\*\* 约 (\d+) 分钟")
ZH_DEEPER = re.compile(r"^## 深入一步（选读，约 (\d+) 分钟）$", re.M)
MAP_ROW = re.compile(r"^\|\s*\[([^\]]*)\]\(notebooks/(?:zh/)?(\d\d_[\w-]+\.ipynb)\)\s*\|(.*)$")


def _markdown_of(path: Path) -> list[str]:
    nb = nbstrip.load(path, writing=False).nb
    return [source(c) for c in nb["cells"] if c.get("cell_type") == "markdown"]


def readme_row(repo: Path, name: str, question: str, en_rows: dict[str, list[str]]) -> str:
    """One map row of README.zh-CN.md: the zh twin's link, question and minutes, else the English README's."""
    twin = repo / "notebooks" / ZH_DIR / name
    if twin.exists():
        md = _markdown_of(twin)
        title = md[0].split("\n")[0]
        question = title.split(" · ", 1)[1].replace("|", "\\|") if " · " in title else question
        main = ZH_TIME.search(md[0])
        deeper = [m for cell in md for m in ZH_DEEPER.findall(cell)]
        cols = [f"{main[1]} 分钟" if main else "?", f"{deeper[0]} 分钟" if deeper else "—"]
        link = f"notebooks/{ZH_DIR}/{name}"
    else:
        en = en_rows.get(name, ["", "", "?", "?"])
        cols = [re.sub(r"^(\d+) min$", r"\1 分钟", c) for c in en[2:4]]
        link = f"notebooks/{name}"
    return f"| [{Path(name).stem}]({link}) | {question} | {cols[0]} | {cols[1]} |"


def sync_readme(repo: Path) -> tuple[str, str, list[str]] | None:
    """(old text, new text, notes) of README.zh-CN.md with its map rows rebuilt; None when it does not exist."""
    path = repo / "README.zh-CN.md"
    if not path.exists() or not (repo / "README.md").exists():
        return None
    old = path.read_text(encoding="utf-8")
    en_rows = {}
    for line in (repo / "README.md").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\|\s*\[[^\]]*\]\(notebooks/(\d\d_[\w-]+\.ipynb)\)", line)
        if m:
            en_rows[m[1]] = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
    lines, notes, seen = old.split("\n"), [], []
    for i, line in enumerate(lines):
        m = MAP_ROW.match(line)
        if m:
            question = [c.strip() for c in re.split(r"(?<!\\)\|", m[3].strip().strip("|"))][0]
            lines[i] = readme_row(repo, m[2], question, en_rows)
            seen.append(m[2])
    missing = [n for n in en_rows if n not in seen]
    if missing:
        notes.append(f"README.zh-CN.md: add map rows for {', '.join(missing)} (question in Chinese)")
    return old, "\n".join(lines), notes


def twins(repo: Path) -> tuple[list[tuple[Path, Path]], list[Path]]:
    """(English notebook, zh twin) pairs, and the English notebooks with no twin yet."""
    en = sorted((repo / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    zh = repo / "notebooks" / ZH_DIR
    pairs = [(p, zh / p.name) for p in en if (zh / p.name).exists()]
    return pairs, [p for p in en if not (zh / p.name).exists()]


def main(argv: list[str] | None = None, repo: Path = REPO) -> int:
    """Sync every twin (or check with --check: exit 1 when a sync would change a file or a marker is left)."""
    ap = argparse.ArgumentParser(prog="python -m tools.zh_sync", description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 if out of step or untranslated")
    ap.add_argument("--start", nargs="*", default=[], metavar="NN_x",
                    help="create the zh twin of these English notebooks, every markdown cell marked untranslated")
    args = ap.parse_args(argv)
    zh_folder = repo / "notebooks" / ZH_DIR
    for name in args.start:
        stem = name.removesuffix(".ipynb")
        en_path, zh_path = repo / "notebooks" / f"{stem}.ipynb", zh_folder / f"{stem}.ipynb"
        if zh_path.exists():
            print(f"{zh_path.relative_to(repo)} exists already: not replaced (make zh-sync updates it)")
            continue
        loaded = nbstrip.load_all([en_path], writing=False)
        if loaded is None:
            return 2
        zh_folder.mkdir(parents=True, exist_ok=True)
        nb, _ = sync(loaded[0].nb, None, zh_folder)
        nbstrip.write_atomic(zh_path, nb)
        print(f"started {zh_path.relative_to(repo)}: {len(nb['cells'])} cells, every markdown cell to translate")
    pairs, alone = twins(repo)
    for p in alone:
        print(f"{p.relative_to(repo)}: no Chinese twin yet (python -m tools.zh_sync --start {p.stem})")
    en_loaded = nbstrip.load_all([e for e, _ in pairs], writing=False)
    zh_loaded = nbstrip.load_all([z for _, z in pairs], writing=not args.check)
    if en_loaded is None or zh_loaded is None:
        return 2
    status = 0
    for en_item, zh_item in zip(en_loaded, zh_loaded, strict=True):
        new, todo = sync(en_item.nb, zh_item.nb, zh_folder)
        rel = zh_item.path.relative_to(repo)
        changed = new != zh_item.nb
        if args.check:
            status |= int(changed or bool(todo))
            print(f"{rel}: {'out of step: run make zh-sync' if changed else 'in step'}")
        elif changed:
            if not nbstrip.save_if_unchanged(zh_item, new):
                status = 1
                continue
            print(f"{rel}: updated from {en_item.path.relative_to(repo)}")
        else:
            print(f"{rel}: in step")
        for line in todo:
            print(f"  {line}")
        if todo:
            print(f"  {len(todo)} markdown cell(s) of {rel} need translating (marked {MARKER} … -->)")
    readme = sync_readme(repo)
    if readme is not None:
        old, new_text, notes = readme
        if new_text != old:
            if args.check:
                status = 1
                print("README.zh-CN.md: its notebook map is out of step: run make zh-sync")
            else:
                atomic.write_text(repo / "README.zh-CN.md", new_text)
                print("README.zh-CN.md: notebook map updated (links and minutes)")
        for line in notes:
            print(f"  {line}")
    return status


if __name__ == "__main__":
    sys.exit(main())
