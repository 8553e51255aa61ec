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
Languages: `LANGUAGES` maps a language to its notebook folder. The Chinese edition (notebooks/zh/, once it holds a
notebook) is a second Sphinx build into `<out>/zh/`: its notebooks sit at the same paths as their English twins
(zh/notebooks/03_elbo.html beside notebooks/03_elbo.html), its links into the package and to notebooks not yet
translated are rewritten to reach the right tree (zh_links), and README.zh-CN.md is its README. Every page of
either tree gets a switch link (`.vae-lang-switch`) to the same page in the other tree, or to the other
tree's index when the page has no twin yet.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import hashlib
import os
import re
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

LANGUAGES = {"en": "notebooks", "zh": "notebooks/zh"}  # language -> notebook folder (zh is built once it has one)
SWITCH_LABEL = {"en": "English", "zh": "中文"}  # the switch link on a page of the other language
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
INTRO_ZH = """
一门关于**变分自编码器**的交互式课程，写给读过 Kingma 与 Welling 的 *Auto-Encoding Variational Bayes*
（[arXiv:1312.6114](https://arxiv.org/abs/1312.6114)）却读糊涂了的人：糊涂在 $p_\\theta(z)$、$p_\\theta(x|z)$、
$p_\\theta(z|x)$ 和 $q_\\phi(z|x)$ 上，糊涂在证据下界从哪里来，糊涂在 KL 项为什么存在。

这些页面是构建网站时运行过的笔记本，带着全部图、检验和输出；代码与英文版相同，所以图中文字是英文。
{explorers} 想修改代码、自己运行，请克隆仓库并运行 `make lab`。
"""
EXPLORERS_ZH = {EXPLORERS_LIVE: "探索器直接在页面里运行，背后不需要 Python。",
                EXPLORERS_PARTLY: "标有 *needs a running Python kernel* 的探索器只能在 JupyterLab 中使用，"
                                  "其余的直接在页面里运行。",
                EXPLORERS_KERNEL: "交互式探索器需要运行中的 Python 内核：本网站的页面上对它们作了标注。"}
ZH_CONF = """
# ---- the Chinese edition (appended by build.py)
language = "zh_CN"
html_title = "vae-teach 中文版"
# Sphinx's Chinese search needs jieba for words and ships no ChineseStemmer for the page ("ChineseStemmer is not
# defined" on every zh page): index with the English splitter, which finds the course's terms and symbols
html_search_language = "en"
html_theme_options = {**html_theme_options, "search_bar_text": "搜索课程…"}
"""


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


# ----------------------------------------------------------------------------------------------- languages
def zh_links(markdown: str, up: str, readme: bool = False) -> str:
    """Links of a zh page as they must read in the zh tree (notebooks at notebooks/NN.ipynb): -> markdown.

    `up` leads from the page to the site root (the English tree): "../../" from zh/notebooks/, "../" from zh/.
    A link to an English notebook (no twin yet) becomes an HTML link to its English page.
    """
    english = r"\.\./" if not readme else r"notebooks/"
    markdown = re.sub(rf"\[([^\]]+)\]\({english}(\d\d_[\w-]+)\.ipynb(#[^)\s]*)?\)",
                      lambda m: f'<a href="{up}notebooks/{m[2]}.html{m[3] or ""}">{m[1]}</a>', markdown)
    if readme:
        markdown = re.sub(r"\[([^\]]+)\]\(notebooks/zh/TRANSLATING\.md\)", r"`\1`", markdown)  # not a page
        markdown = markdown.replace("](notebooks/zh/", "](notebooks/")
        return re.sub(r"\[([^\]]+)\]\(README\.md\)", lambda m: f'<a href="{up}README.html">{m[1]}</a>', markdown)
    markdown = markdown.replace("](../../vae_teach/", "](../vae_teach/")
    return markdown.replace("](../../README.zh-CN.md", "](../README.md")


def add_language_switch(root: Path, languages: list[str]) -> int:
    """Put a link to the same page in the other language (or its index) on every page of both trees: -> pages."""
    if "zh" not in languages:
        return 0
    trees = {"en": root, "zh": root / "zh"}
    done = 0
    for lang, other in (("en", "zh"), ("zh", "en")):
        tree, there = trees[lang], trees[other]
        for page in sorted(tree.rglob("*.html")):
            rel = page.relative_to(tree)
            if rel.parts[0] in ("_static", "_sources", "zh", "jupyter_execute"):
                continue
            twin = there / rel if (there / rel).exists() else there / "index.html"
            href = os.path.relpath(twin, page.parent).replace(os.sep, "/")
            link = (f'<div class="vae-lang-switch"><a href="{href}" hreflang="{other}" lang="{other}" '
                    f'data-twin="{"page" if twin != there / "index.html" or rel.name == "index.html" else "index"}">'
                    f"{SWITCH_LABEL[other]}</a></div>")
            html = page.read_text(encoding="utf-8")
            m = re.search(r"<article\b[^>]*>", html) or re.search(r"<body\b[^>]*>", html)
            if m is None:
                continue
            page.write_text(html[:m.end()] + link + html[m.end():], encoding="utf-8")
            done += 1
    return done


def write_sources(src: Path, repo: Path, pages: list[course_map.Page], executed: dict[Path, dict],
                  language: str = "en", untranslated: int = 0) -> None:
    """The Sphinx source tree: conf.py, static files, index.md, the static notebooks and the source pages."""
    import nbformat

    shutil.copy2(HERE / "conf.py", src / "conf.py")
    if language == "zh":
        with open(src / "conf.py", "a", encoding="utf-8") as f:
            f.write(ZH_CONF)
    shutil.copy2(HERE / "mathjax-config.js", src / "mathjax-config.js")
    shutil.copytree(HERE / "static", src / "_static")
    shutil.copytree(HERE / "templates", src / "_templates")
    copy_mathjax(src / "_static" / "mathjax")
    live = needs_kernel = 0
    for page in pages:
        nb = static_outputs.make_static(copy.deepcopy(executed[repo / page.path]))
        found = static_outputs.count_static(nb)
        live, needs_kernel = live + found["explorers"], needs_kernel + found["needs_kernel"]
        out = src / site_path(page, language)
        if language == "zh":
            for cell in nb["cells"]:
                if cell.get("cell_type") == "markdown":
                    text = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
                    cell["source"] = zh_links(text, "../../")
        out.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nbformat.from_dict(nb), out)
    say = EXPLORERS_PARTLY if live and needs_kernel else EXPLORERS_KERNEL if needs_kernel else EXPLORERS_LIVE
    print(f"  {live} explorer copies run in the page; {needs_kernel} widgets need a kernel", flush=True)
    placed = [dataclasses.replace(p, path=site_path(p, language)) for p in pages]
    intro = INTRO.format(explorers=say) if language == "en" else INTRO_ZH.format(explorers=EXPLORERS_ZH[say])
    (src / "index.md").write_text(course_map.index_markdown(placed, intro, language, untranslated), encoding="utf-8")
    for py in sorted((repo / "vae_teach").rglob("*.py")):
        rel = py.relative_to(repo)
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(py, src / rel)
        (src / rel).with_suffix(".md").write_text(source_page(py, repo), encoding="utf-8")
    readme = repo / ("README.md" if language == "en" else "README.zh-CN.md")
    if readme.exists():  # the notebooks link to it for set-up and troubleshooting
        text = readme.read_text(encoding="utf-8")
        if language == "zh":
            text = zh_links(text, "../", readme=True)
        elif untranslated >= 0 and "zh" in LANGUAGES:
            text = re.sub(r"\[([^\]]+)\]\(README\.zh-CN\.md\)", r'<a href="zh/README.html">\1</a>', text)
        (src / "README.md").write_text("---\norphan: true\n---\n\n" + text, encoding="utf-8")


def site_path(page: course_map.Page, language: str) -> Path:
    """Where a page sits in its language's tree: a zh notebook at the path of its English twin."""
    return page.path if language == "en" else Path("notebooks") / page.path.name


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
    editions: dict[str, list[course_map.Page]] = {}
    for lang, folder in LANGUAGES.items():
        if lang != "en" and not any((repo / folder).glob("[0-9][0-9]_*.ipynb")):
            continue  # no notebook of this edition yet
        found = course_map.discover(repo, folder, ("apps" if apps else None) if lang == "en" else None)
        editions[lang] = [p for p in found if not only or any(o in p.path.name for o in only)]
    pages = [p for ps in editions.values() for p in ps]
    jobs = jobs or min(len(pages), os.cpu_count() or 1)
    print(f"executing {len(pages)} notebooks ({', '.join(editions)}), {jobs} at a time", flush=True)
    executed = execute_all([repo / p.path for p in pages], jobs, repo, cache)
    t_exec = time.perf_counter() - t0

    with tempfile.TemporaryDirectory(prefix="vae-teach-site-src-") as tmp:
        en_numbers = {p.number for p in editions["en"] if p.number}
        for lang, ps in editions.items():
            (Path(tmp) / lang).mkdir()
            missing = len(en_numbers - {p.number for p in ps}) if lang != "en" else 0
            write_sources(Path(tmp) / lang, repo, ps, executed, lang, missing)
        # myst-nb writes its "jupyter_execute" scratch folder beside Sphinx's output folder: keep both in a
        # temp folder next to `out`, so nothing lands in the user's tree and the final move is a rename
        work = Path(tempfile.mkdtemp(prefix=f".{out.name}-new-", dir=out.parent))
        try:
            new = work / "html"
            render(Path(tmp) / "en", new)
            for lang in editions:
                if lang != "en":  # rendered beside `new` (myst-nb's scratch folder too), then moved into it
                    render(Path(tmp) / lang, work / f"html-{lang}")
                    (work / f"html-{lang}").rename(new / lang)
            add_language_switch(new, list(editions))
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
