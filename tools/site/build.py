"""Build the static course site, offline: `python tools/site/build.py [--out site]` (what `make site` runs).

1. Execute every notebook of the course (notebooks/NN_*.ipynb, then apps/*.ipynb) with nbclient, in parallel
   (one kernel per core), each in its own folder, with the widget state stored at the end of the run.
2. Make the outputs static (static_outputs.py):
   - **Explorers.** Each explorer's display bundle carries a self-contained `text/html` copy (its ESM, its
     state as JSON and a small stand-in for the widget model) whose root has `data-explorer="Name"`. The copy
     wins: the widget view is dropped from such bundles, and conf.py also ranks `text/html` first
     (myst-nb's `nb_mime_priority_overrides`), so the page runs the copy with no widget manager and no kernel.
   - **Progress bars.** `train.fit` shows a tqdm bar, an ipywidgets HBox whose `text/plain` was captured when
     the bar was created ("0/40"). nbclient keeps the widgets' *final* state (`store_widget_state=True`); the
     bar is redrawn from it as static HTML (final description, filled track, "40/40 [00:03<00:00, …]") and
     the same text line replaces `text/plain`. Chosen over the standard widget manager served locally (3.6 MB
     of embed-amd.js from npm, a slower first draw, and a fresh clone would need npm) and over an environment
     variable (tqdm has none that keeps the widget and fixes its text), and it needs no change in
     vae_teach/train.py.
   - Any other widget with no static copy shows a note that it needs a live kernel.
3. Write a Sphinx source tree in a temp folder: the executed notebooks, an index whose notebook map is read
   from the notebooks' title cells (course_map.py), a page per package module the notebooks link to, and
   MathJax 3 (SVG output, no web fonts) copied from the pip package `sphinx-mathjax-offline`.
4. Render it with Sphinx + myst-nb + sphinx-book-theme (`nb_execution_mode="off"`: already executed), into a
   temp folder next to --out, and rename it into place. Previous/next links come from the index's toctree.

No page requests the network: the theme's assets, MathJax and the explorers' code are all in the site. Pages
fire their load event before the heavy work: MathJax typesets just after it (mathjax-config.js; raw TeX stays
hidden until then) and the theme's 1.5 MB icon script loads after it (templates/static/webpack-macros.html).
Search works from file:// too (html_show_search_summary is off: summaries would fetch each hit's page).
Languages: `LANGUAGES` maps a language to its notebook folder; only English is built today. A second edition
(notebooks/zh/) becomes a second Sphinx build into `<out>/zh/` with the same pages, and a switch link in the
header pointing at the same page in the other tree.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import os
import shutil
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))  # the builder's own modules, when run as a script

import course_map  # noqa: E402
import static_outputs  # noqa: E402

LANGUAGES = {"en": "notebooks"}  # language -> notebook folder; "zh": "notebooks/zh" once the edition exists
MARKER = ".vae-teach-site"  # written into every built site: only a folder holding it is ever replaced
CELL_TIMEOUT = 300  # seconds per cell; the course's notebooks each run in about a minute in all
INTRO = """
An interactive course on **Variational Autoencoders** for people who read Kingma & Welling, *Auto-Encoding
Variational Bayes* ([arXiv:1312.6114](https://arxiv.org/abs/1312.6114)), and got lost: in $p_\\theta(z)$,
$p_\\theta(x|z)$, $p_\\theta(z|x)$ and $q_\\phi(z|x)$; in where the ELBO comes from; in why the KL term is there.

These pages are the notebooks as they ran when the site was built, with every figure, check and output.
{explorers} To change the code and run it yourself, clone the repository and run `make lab`.
"""
EXPLORERS_LIVE = "The explorers work right in the page, with no Python behind them."
EXPLORERS_PARTLY = ("Explorers marked *needs a running Python kernel* work only in JupyterLab; the others work right "
                    "in the page.")
EXPLORERS_KERNEL = "The interactive explorers need a running Python kernel: on these pages they are marked as such."
MATHJAX_FILES = ("tex-svg.js", "input/tex/extensions", "ui", "a11y/assistive-mml.js")


# ----------------------------------------------------------------------------------------------- execute
def execute(path: str, timeout: int = CELL_TIMEOUT) -> tuple[dict, float]:
    """Run one notebook top to bottom in its own folder, keeping the final widget state; -> (notebook, seconds)."""
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    t0 = time.perf_counter()
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="vae-teach-kernel-") as sock:
        # local sockets instead of TCP ports: nothing listens on the network, and no "unencrypted TCP" warning
        km = KernelManager(kernel_name="python3", transport="ipc", ip=str(Path(sock) / "k"))
        client = NotebookClient(nb, km=km, timeout=timeout, store_widget_state=True,
                                resources={"metadata": {"path": str(Path(path).parent)}})
        try:
            client.execute()
        except Exception as e:  # CellExecutionError and friends: a plain message survives the process pool
            raise RuntimeError(f"{path} did not run to the end:\n{e}") from None
        finally:  # a kernel manager passed in is ours to stop
            if km.has_kernel:
                km.shutdown_kernel(now=True)
    return nb, time.perf_counter() - t0


def cache_key(path: Path, repo: Path) -> str:
    """A hash of the notebook, the package's code and the pins: the same key means the same outputs."""
    h = hashlib.sha256(path.read_bytes())
    for f in sorted((repo / "vae_teach").rglob("*")):
        if f.suffix in {".py", ".js", ".css", ".json"} and "__pycache__" not in f.parts:
            h.update(f.relative_to(repo).as_posix().encode() + f.read_bytes())
    for req in sorted(repo.glob("requirements*.txt")):
        h.update(req.read_bytes())
    return h.hexdigest()[:20]


def execute_all(paths: list[Path], jobs: int, repo: Path, cache: Path | None = None) -> dict[Path, dict]:
    """Execute the notebooks, `jobs` at a time, in reading order; with `cache`, reuse a run whose key matches."""
    import nbformat

    env_before = dict(os.environ)
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # no debugger warning in every output
    done, todo = {}, []
    for p in paths:
        hit = cache / f"{p.stem}-{cache_key(p, repo)}.ipynb" if cache else None
        if hit is not None and hit.exists():
            done[p] = nbformat.read(hit, as_version=4)
            print(f"  reused {hit.name}", flush=True)
        else:
            todo.append(p)
    try:
        with ProcessPoolExecutor(max_workers=max(1, min(jobs, len(todo) or 1))) as pool:
            futures = {p: pool.submit(execute, str(p)) for p in todo}
            for p, fut in futures.items():
                try:
                    nb, secs = fut.result()
                except RuntimeError as e:
                    for other in futures.values():
                        other.cancel()
                    raise SystemExit(f"site not built: {e}") from None
                print(f"  executed {p.relative_to(repo)} in {secs:.1f} s", flush=True)
                done[p] = nb
                if cache is not None:
                    cache.mkdir(parents=True, exist_ok=True)
                    tmp = cache / f".{p.stem}.tmp"
                    nbformat.write(nb, tmp)
                    tmp.replace(cache / f"{p.stem}-{cache_key(p, repo)}.ipynb")
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    return done


# ----------------------------------------------------------------------------------------------- sources
def source_page(py: Path, repo: Path) -> str:
    """A page that shows one package module with line numbers (the notebooks link here)."""
    rel = py.relative_to(repo).as_posix()
    return (f"---\norphan: true\n---\n\n# `{rel}`\n\n"
            f"The source of `{rel}`, as the notebooks on this site ran it.\n\n"
            f"```{{literalinclude}} {py.name}\n:language: python\n:linenos:\n```\n")


def copy_mathjax(dest: Path) -> None:
    """Copy the parts of MathJax 3 the pages use (SVG output: no web fonts) from sphinx-mathjax-offline."""
    import importlib.util

    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("MathJax not found: pip install -r requirements-site.txt (sphinx-mathjax-offline)")
    root = Path(list(spec.submodule_search_locations)[0]) / "static" / "mathjax"
    for rel in MATHJAX_FILES:
        src, dst = root / rel, dest / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copy2(src, dst)


def write_sources(src: Path, repo: Path, pages: list[course_map.Page], executed: dict[Path, dict]) -> None:
    """The Sphinx source tree: conf.py, static files, index.md, the static notebooks and the source pages."""
    import nbformat

    shutil.copy2(HERE / "conf.py", src / "conf.py")
    shutil.copy2(HERE / "mathjax-config.js", src / "mathjax-config.js")
    shutil.copytree(HERE / "static", src / "_static")
    shutil.copytree(HERE / "templates", src / "_templates")
    copy_mathjax(src / "_static" / "mathjax")
    live = needs_kernel = 0
    for page in pages:
        nb = static_outputs.make_static(copy.deepcopy(executed[repo / page.path]))
        found = static_outputs.count_static(nb)
        live, needs_kernel = live + found["explorers"], needs_kernel + found["needs_kernel"]
        out = src / page.path
        out.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nbformat.from_dict(nb), out)
    say = EXPLORERS_PARTLY if live and needs_kernel else EXPLORERS_KERNEL if needs_kernel else EXPLORERS_LIVE
    print(f"  {live} explorer copies run in the page; {needs_kernel} widgets need a kernel", flush=True)
    (src / "index.md").write_text(course_map.index_markdown(pages, INTRO.format(explorers=say)), encoding="utf-8")
    for py in sorted((repo / "vae_teach").rglob("*.py")):
        rel = py.relative_to(repo)
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(py, src / rel)
        (src / rel).with_suffix(".md").write_text(source_page(py, repo), encoding="utf-8")
    readme = repo / "README.md"
    if readme.exists():  # the notebooks link to it for set-up and troubleshooting
        (src / "README.md").write_text("---\norphan: true\n---\n\n" + readme.read_text(encoding="utf-8"),
                                       encoding="utf-8")


# ----------------------------------------------------------------------------------------------- render
def render(src: Path, out: Path, quiet: bool = True) -> None:
    """Sphinx HTML build of `src` into `out`; raise SystemExit on failure."""
    from sphinx.cmd.build import build_main

    args = ["-b", "html", "-j", "1", "-d", str(src / ".doctrees"), str(src), str(out)]
    if quiet:
        args.insert(0, "-q")
    with warnings.catch_warnings():  # the theme's and myst's use of Sphinx APIs that Sphinx 11 will remove
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        status = build_main(args)
    if status != 0:
        raise SystemExit("sphinx-build failed (messages above)")
    shutil.rmtree(out / ".doctrees", ignore_errors=True)
    (out / ".buildinfo").unlink(missing_ok=True)
    for source_map in out.glob("_static/**/*.map"):  # the theme's debugging maps: 3.4 MB no page loads
        source_map.unlink()


def check_out(out: Path) -> None:
    """Refuse an output folder that exists and was not made by this builder (checked before any work)."""
    if out.exists() and not (out / MARKER).exists():
        raise SystemExit(f"{out} exists and was not built by this tool (no {MARKER} in it); remove it or use --out")


def replace_dir(new: Path, out: Path) -> None:
    """Move the freshly built site into place; the previous build moves into new's parent (a temp folder)."""
    check_out(out)
    if out.exists():
        out.rename(new.parent / "previous")
    new.rename(out)


def folder_mb(path: Path) -> float:
    """Total size of the files under path, in MB."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def build(out: Path, repo: Path = REPO, jobs: int | None = None, apps: bool = True,
          only: list[str] | None = None, cache: Path | None = None) -> dict:
    """Execute, make static, render and move into `out`; -> timings and size."""
    t0 = time.perf_counter()
    out = out.resolve()
    check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    pages = course_map.discover(repo, LANGUAGES["en"], "apps" if apps else None)
    if only:
        pages = [p for p in pages if any(o in p.path.name for o in only)]
    jobs = jobs or min(len(pages), os.cpu_count() or 1)
    print(f"executing {len(pages)} notebooks, {jobs} at a time", flush=True)
    executed = execute_all([repo / p.path for p in pages], jobs, repo, cache)
    t_exec = time.perf_counter() - t0

    with tempfile.TemporaryDirectory(prefix="vae-teach-site-src-") as tmp:
        src = Path(tmp)
        write_sources(src, repo, pages, executed)
        # myst-nb writes its "jupyter_execute" scratch folder beside Sphinx's output folder: keep both in a
        # temp folder next to `out`, so nothing lands in the user's tree and the final move is a rename
        work = Path(tempfile.mkdtemp(prefix=f".{out.name}-new-", dir=out.parent))
        try:
            new = work / "html"
            render(src, new)
            (new / MARKER).write_text("built by tools/site/build.py; `make site` replaces this folder\n")
            replace_dir(new, out)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    stats = {"pages": len(pages), "execute_s": t_exec, "total_s": time.perf_counter() - t0,
             "size_mb": folder_mb(out)}
    print(f"site built in {stats['total_s']:.0f} s (executing {t_exec:.0f} s): {out}, {stats['size_mb']:.1f} MB; "
          f"open {out / 'index.html'}", flush=True)
    return stats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO / "site", help="output folder (default: site/)")
    ap.add_argument("--jobs", type=int, default=None, help="notebooks executed at once (default: one per core)")
    ap.add_argument("--no-apps", action="store_true", help="leave out apps/*.ipynb")
    ap.add_argument("--only", nargs="*", help="build only notebooks whose file name contains one of these")
    ap.add_argument("--cache", type=Path, default=None,
                    help="keep executed notebooks here and reuse those whose notebook, package code and pins "
                         "are unchanged (default: execute everything)")
    a = ap.parse_args(argv)
    build(a.out, jobs=a.jobs, apps=not a.no_apps, only=a.only, cache=a.cache)
    return 0


if __name__ == "__main__":
    sys.exit(main())
