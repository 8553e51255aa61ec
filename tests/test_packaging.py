"""Packaging: the wheel a normal `pip install .` builds holds every subpackage and every .js/.css asset."""

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import vae_teach

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = {".py", ".js", ".css"}


def _source_files(package: Path) -> set[str]:
    """Every .py, .js and .css file under `package`, as wheel paths (vae_teach/...)."""
    return {p.relative_to(package.parent).as_posix() for p in package.rglob("*")
            if p.suffix in SHIPPED and "__pycache__" not in p.parts}


def _build_wheel(src: Path, out: Path) -> Path:
    """`pip wheel --no-deps` offline (no index, no build isolation): -> the .whl path."""
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-index", "--no-build-isolation", "-q",
           "-w", str(out), str(src)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = out.glob("vae_teach-*.whl")
    return wheel


def test_wheel_holds_every_subpackage_and_asset(tmp_path):
    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    shutil.copytree(ROOT / "vae_teach", src / "vae_teach", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    # probes for what later rounds add: a subpackage with an ES module, a style sheet in a subfolder,
    # and a folder of modules without __init__.py
    probe = src / "vae_teach" / "zz_probe"
    (probe / "assets").mkdir(parents=True)
    (probe / "__init__.py").write_text('"""probe"""\n')
    (probe / "widget.js").write_text("export default {};\n")
    (probe / "assets" / "widget.css").write_text(".x {}\n")
    (src / "vae_teach" / "zz_namespace").mkdir()
    (src / "vae_teach" / "zz_namespace" / "mod.py").write_text("X = 1\n")

    wheel = _build_wheel(src, tmp_path / "dist")
    names = set(zipfile.ZipFile(wheel).namelist())
    want = _source_files(src / "vae_teach")
    assert {"vae_teach/exercises/_check.py", "vae_teach/zz_probe/widget.js",
            "vae_teach/zz_probe/assets/widget.css", "vae_teach/zz_namespace/mod.py"} <= want
    assert want - names == set(), f"missing from the wheel: {sorted(want - names)}"
    subpackages = {p.parent.relative_to(src).as_posix() for p in (src / "vae_teach").rglob("*.py")}
    assert {"vae_teach", "vae_teach/exercises"} <= subpackages
    assert all(any(n.startswith(sp + "/") for n in names) for sp in subpackages)
    assert not any(n.startswith(("tools/", "tests/", "notebooks/", "benchmarks/")) for n in names)
    assert not any("__pycache__" in n for n in names)
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    version = re.search(r"^Version: (.+)$", zipfile.ZipFile(wheel).read(metadata).decode(), re.M).group(1)
    assert version == vae_teach.__version__


def test_the_real_tree_lists_only_files_the_wheel_would_take():
    # every asset in the source tree has a suffix the package-data globs cover
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["vae_teach"]
    assets = {p.suffix for p in (ROOT / "vae_teach").rglob("*") if p.is_file()
              and "__pycache__" not in p.parts and p.suffix not in {".py", ".pyc"}}
    assert assets <= {"." + g.rsplit(".", 1)[-1] for g in globs}, (
        f"files under vae_teach/ that no package-data glob ships: {assets}")


def test_version_is_written_once():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in config["project"] and "version" in config["project"]["dynamic"]
    assert config["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "vae_teach.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", vae_teach.__version__)


def test_requirements_are_split_and_exactly_pinned():
    course = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    dev = (ROOT / "requirements-dev.txt").read_text(encoding="utf-8").splitlines()

    def pins(lines):
        return {ln.split("==")[0].lower(): ln for ln in lines if ln and not ln.startswith(("#", "-r"))}

    course_pins, dev_pins = pins(course), pins(dev)
    assert all("==" in ln for ln in [*course_pins.values(), *dev_pins.values()]), "every line is an exact pin"
    tools = {"pytest", "pytest-timeout", "nbval", "playwright", "ruff", "hypothesis"}
    assert tools <= set(dev_pins) and not tools & set(course_pins), "test and lint tools live in requirements-dev.txt"
    assert course_pins["torch"] == "torch==2.13.0"
    assert not set(course_pins) & set(dev_pins), "a package is pinned in one file only"
    assert "-r requirements.txt" in dev
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "-r requirements.txt -r requirements-dev.txt" in makefile
