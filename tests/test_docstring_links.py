"""Link both ways: every public function, class and method names the notebook section that teaches it.

A docstring carries ``Taught in 03 §2.``, ``Taught in 04 Going deeper D2.``, ``Exercise in 04 Try it.`` or, for
package plumbing, ``Used by <caller>; not called from a notebook.``. Every ``NN §M``, ``NN Going deeper Dk`` and
``NN Try it`` written anywhere in a docstring must be a heading of notebook NN, and a taught name must appear in
a code cell under that heading, so renumbering a notebook or moving a cell breaks this test instead of the link.
"""

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "vae_teach"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SHIMS = {"widgets.py", "toy_widgets.py", "widget_kit.py"}  # compatibility imports only
NOT_CALLED = "not called from a notebook"

SECTION = re.compile(r"\b(\d\d) §(\d+)")
DEEPER = re.compile(r"\b(\d\d) Going deeper (?:(D\d+|[A-Z])\b|\"([^\"]+)\")")
TRY_IT = re.compile(r"\b(\d\d) Try it\b")
TAUGHT = re.compile(r"^(Taught|Exercise) in (.*)$", re.M)


def _modules():
    """Public modules in vae_teach/, explorers/ and exercises/: [(dotted name, path)]."""
    paths = [*PACKAGE.glob("*.py"), *(PACKAGE / "explorers").glob("*.py"), *(PACKAGE / "exercises").glob("*.py")]
    return sorted((".".join(p.relative_to(ROOT).with_suffix("").parts), p) for p in paths
                  if not p.name.startswith("_") and p.name not in SHIMS)


def _reexported_privates():
    """Names a package __init__ re-exports from one of its private modules (e.g. explorers._base.snap)."""
    out = {}
    for init in PACKAGE.rglob("__init__.py"):
        for node in ast.parse(init.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[-1].startswith("_"):
                out.setdefault(node.module, set()).update(a.name for a in node.names)
    return out


def _public_defs(path, only=None):
    """[(qualified name, kind, docstring)] of public top-level defs and public methods of public classes."""
    out = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if not isinstance(node, (ast.FunctionDef, ast.ClassDef)) or node.name.startswith("_"):
            continue
        if only is not None and node.name not in only:
            continue
        out.append((node.name, "def", ast.get_docstring(node) or ""))
        if isinstance(node, ast.ClassDef):
            out += [(f"{node.name}.{m.name}", "method", ast.get_docstring(m) or "") for m in node.body
                    if isinstance(m, ast.FunctionDef) and not m.name.startswith("_")]
    return out


def _targets():
    """{dotted module: [(qualified name, kind, docstring)]} for every name this test covers."""
    targets = {mod: _public_defs(path) for mod, path in _modules()}
    for mod, names in _reexported_privates().items():
        path = ROOT / (mod.replace(".", "/") + ".py")
        targets[mod] = _public_defs(path, only=names)
    return targets


def _aliases():
    """{defined short name: module names a notebook may write before it}, from shims and package __init__ files."""
    out = {}
    for path in [*(PACKAGE / s for s in SHIMS), *PACKAGE.rglob("__init__.py")]:
        if not path.exists():
            continue
        alias = path.parent.name if path.name == "__init__.py" else path.stem
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ImportFrom):
                for a in node.names:
                    out.setdefault(a.asname or a.name, set()).add(alias)
    return out


def _notebook_index():
    """{NN: dict(sections, deeper_labels, deeper_titles, try_it, code, code_in)} from headings and code cells.

    code_in maps a place ('§3', 'Going deeper D2', 'Going deeper <title>', 'Try it') to the code under it.
    """
    index = {}
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        entry = dict(sections=set(), deeper_labels=set(), deeper_titles=[], try_it=False, code=[], code_in={})
        in_deeper, place = False, None
        for cell in cells:
            src = "".join(cell["source"])
            if cell["cell_type"] == "code":
                entry["code"].append(src)
                if place:
                    entry["code_in"][place] = entry["code_in"].get(place, "") + "\n" + src
                continue
            for line in src.splitlines():
                if line.startswith("## "):
                    title = line[3:].strip()
                    in_deeper, place = title.startswith("Going deeper"), None
                    if title.startswith("Try it"):
                        entry["try_it"], place = True, "Try it"
                    if m := re.match(r"(\d+) · ", title):
                        entry["sections"].add(m.group(1))
                        place = f"§{m.group(1)}"
                elif line.startswith("### ") and in_deeper:
                    title = line[4:].strip()
                    entry["deeper_titles"].append(title)
                    place = f"Going deeper {title}"
                    if m := re.match(r"(D\d+|[A-Z]) · ", title):
                        entry["deeper_labels"].add(m.group(1))
                        place = f"Going deeper {m.group(1)}"
        entry["code"] = "\n".join(entry["code"])
        index[path.name[:2]] = entry
    return index


NB = _notebook_index()
ALIASES = _aliases()


def _missing_headings(doc):
    """Every notebook reference in doc that names no existing heading, as readable strings."""
    bad = []
    for nn, sec in SECTION.findall(doc):
        if nn not in NB or sec not in NB[nn]["sections"]:
            bad.append(f"'{nn} §{sec}' (no heading '## {sec} · …' in notebook {nn})")
    for nn, label, title in DEEPER.findall(doc):
        entry = NB.get(nn)
        if label and (entry is None or label not in entry["deeper_labels"]):
            bad.append(f"'{nn} Going deeper {label}' (no heading '### {label} · …' under Going deeper in {nn})")
        if title and (entry is None or not any(t.startswith(title) for t in entry["deeper_titles"])):
            bad.append(f"'{nn} Going deeper \"{title}\"' (no Going deeper heading starting so in {nn})")
    for nn in TRY_IT.findall(doc):
        if nn not in NB or not NB[nn]["try_it"]:
            bad.append(f"'{nn} Try it' (notebook {nn} has no '## Try it')")
    return bad


def _used_in(code, qualname, kind):
    """Whether notebook code uses the name: `.method` for a method, the bare name for a function or class."""
    name = qualname.split(".")[-1]
    return re.search(rf"\.{name}\b" if kind == "method" else rf"\b{name}\b", code) is not None


def _called_from(module, qualname):
    """Notebooks whose code calls the top-level name through its module (or a shim / package re-exporting it)."""
    names = {module.split(".")[-1], *ALIASES.get(qualname, ())}
    through_module = rf"\b(?:{'|'.join(sorted(names))})\.{qualname}\b"
    imported = rf"^\s*from vae_teach[\w.]* import .*\b{qualname}\b"
    pattern = re.compile(f"{through_module}|{imported}", re.M)
    return [nn for nn, entry in NB.items() if pattern.search(entry["code"])]


def _places(refs):
    """[(NN, place)] for each reference in a 'Taught in …' line, with place a key of code_in (or its start)."""
    out = [(nn, f"§{sec}") for nn, sec in SECTION.findall(refs)]
    out += [(nn, f"Going deeper {label or title}") for nn, label, title in DEEPER.findall(refs)]
    return out + [(nn, "Try it") for nn in TRY_IT.findall(refs)]


def problems(module, qualname, kind, doc):
    """What is wrong with one docstring's lesson link (an empty list when nothing is)."""
    where = f"{module}.{qualname}"
    taught = TAUGHT.findall(doc)
    if not taught and NOT_CALLED not in doc:
        return [f"{where}: docstring has no 'Taught in NN §M.' / 'Exercise in NN Try it.' line "
                f"and no '{NOT_CALLED}' note"]
    out = [f"{where}: docstring refers to {bad}" for bad in _missing_headings(doc)]
    for _, refs in taught:
        for nn, place in _places(refs):
            code = "\n".join(c for p, c in NB.get(nn, {}).get("code_in", {}).items()
                             if p == place or p.startswith((place + " ", place + ":")))
            if nn in NB and not _used_in(code, qualname, kind):
                out.append(f"{where}: docstring says it is taught in {nn} {place}, but no code cell there uses it "
                           "(did the section move or get renumbered?)")
    if NOT_CALLED in doc and kind == "def" and (nbs := _called_from(module, qualname)):
        out.append(f"{where}: docstring says '{NOT_CALLED}', but notebook(s) {', '.join(nbs)} call it; "
                   "write 'Taught in NN §M.' instead")
    return out


TARGETS = _targets()


def test_the_covered_set_is_not_empty_and_shims_hold_no_definitions():
    assert sum(len(v) for v in TARGETS.values()) > 200, "the docstring-link test found almost no public names"
    for shim in SHIMS:
        tree = ast.parse((PACKAGE / shim).read_text(encoding="utf-8"))
        defs = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
        assert not defs, f"vae_teach/{shim} is skipped as a compatibility shim but defines {defs}: link them"


@pytest.mark.parametrize("module", sorted(TARGETS))
def test_public_docstrings_link_to_the_lesson(module):
    found = [p for name, kind, doc in TARGETS[module] for p in problems(module, name, kind, doc)]
    assert not found, "\n".join(found)


def test_the_checker_catches_broken_links():
    """The rules above can fail: a stale section, a missing label, a false claim and a missing note."""
    nn = sorted(NB)[-1]
    assert problems("vae_teach.m", "f", "def", "Summary.")[0].endswith("note")
    assert "no heading '## 99 ·" in problems("vae_teach.m", "f", "def", f"S.\n\nTaught in {nn} §99.")[0]
    assert "'### D99 ·" in problems("vae_teach.m", "f", "def", f"S.\n\nTaught in {nn} Going deeper D99.")[0]
    assert any("no code cell there uses it" in p for p in problems("vae_teach.m", "no_such_name_xyz", "def",
                                                                     f"S.\n\nTaught in {nn} §1."))
    assert any("call it" in p for p in problems("vae_teach.train", "fit", "def", f"S.\n\nUsed by x; {NOT_CALLED}."))
