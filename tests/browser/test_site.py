"""The static course site (`make site`) in a real Chromium, opened from file:// with every other request aborted.

The site is built once per session into a temp folder (about 70-100 s: it executes every notebook), or taken
from VAE_TEACH_SITE=/path/to/site when that is set (a site `make site` built from this checkout). Each page:
no console error, no request outside file://, every formula typeset by the local MathJax, no raw `$$`, no
progress bar stuck at 0/N, no widget shown as text; prev/next links walk the course in the map's order; every
explorer copy (`[data-explorer]`) answers a key press with new pixels or a new readout. Load times go to
tests/browser/artifacts/site_load_times.json (measured, not asserted: speed is not a unit test).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import time
from pathlib import Path

import pytest
from site_tools import load

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
BAD_TEXT = ("Error displaying widget", "Error rendering output", "Loading widget", "VBox(", "HBox(",
            "Traceback (most recent call last)")
TQDM_AT_ZERO = re.compile(r"(?<![\d.])0/\d+\s*\[|\b0%\|")  # "0/40 [00:00<?" or "  0%|" of an unfinished bar
LOAD_TIMES: dict[str, float] = {}




def _page_names() -> list[str]:
    """The site's pages in reading order (index first), as paths relative to the site root."""
    pages = load("course_map").discover(REPO)
    return ["index.html"] + [p.path.with_suffix(".html").as_posix() for p in pages]


PAGES = _page_names()
EXTRA_PAGES = ["vae_teach/bounds.html", "README.html"]  # a source page the notebooks link to, and the README
# the Chinese edition's pages (notebooks/zh/ at the English twins' paths under zh/), its README and a source page
ZH_PAGES = ["zh/index.html"] + [f"zh/notebooks/{p.stem}.html" for p in sorted((REPO / "notebooks" / "zh").glob(
    "[0-9][0-9]_*.ipynb"))] + ["zh/README.html", "zh/vae_teach/bounds.html"]


def need_site_tools() -> None:
    """Skip (or, with VAE_TEACH_REQUIRE_BROWSER=1 as in CI, fail) when the site's Python tools are missing."""
    missing = [m for m in ("sphinx", "myst_nb", "sphinx_book_theme") if importlib.util.find_spec(m) is None]
    if missing:
        why = f"the site tools are not installed ({', '.join(missing)}): pip install -r requirements-site.txt"
        if os.environ.get("VAE_TEACH_REQUIRE_BROWSER") == "1":
            pytest.fail(f"VAE_TEACH_REQUIRE_BROWSER=1 but {why}")
        pytest.skip(why)


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The built site: VAE_TEACH_SITE if set, else a fresh build of this checkout into a temp folder."""
    prebuilt = os.environ.get("VAE_TEACH_SITE")
    if prebuilt:
        path = Path(prebuilt).resolve()
        assert (path / "index.html").exists(), f"VAE_TEACH_SITE={prebuilt} holds no index.html"
        return path
    need_site_tools()
    out = tmp_path_factory.mktemp("site") / "site"
    stats = load("build").build(out)
    print(f"site built in {stats['total_s']:.0f} s, {stats['size_mb']:.1f} MB")
    # a budget against bloat, 25 MB per edition: with zh/00 alone the site measured 30.5 MB, with all ten zh
    # notebooks 43.6 MB (theme, MathJax and the explorers' scripts are shared by the two editions)
    budget = 25 * len(load("build").LANGUAGES)
    assert stats["size_mb"] <= budget, f"the site is {stats['size_mb']:.1f} MB, over the {budget} MB budget"
    return out


@pytest.fixture
def offline(browser):
    """A page that may load file:// URLs only: anything else is aborted and recorded; console errors too."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    pg.outside, pg.errors = [], []

    def route(r):
        if r.request.url.startswith(("file://", "data:", "blob:")):  # in-page data, not the network
            r.continue_()
        else:
            pg.outside.append(r.request.url)
            r.abort()

    pg.route("**/*", route)
    pg.on("console", lambda m: pg.errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.errors.append(f"page error: {e}"))
    pg.on("requestfailed", lambda r: pg.errors.append(f"missing file: {r.url} ({r.failure})")
          if r.url.startswith("file://") and "ERR_ABORTED" not in (r.failure or "") else None)
    yield pg
    context.close()


def open_page(pg, site: Path, name: str) -> float:
    """Go to a page from file://, wait for its load event and for MathJax; -> ms from navigation to load."""
    url = (site / name).as_uri()
    pg.goto(url, wait_until="load")
    ms = pg.evaluate("() => performance.getEntriesByType('navigation')[0].loadEventStart")
    pg.wait_for_function("() => !window.MathJax || (MathJax.startup && MathJax.startup.promise)", timeout=10_000)
    pg.evaluate("async () => { if (window.MathJax) await MathJax.startup.promise; }")
    return float(ms)


ARTICLE_TEXT_JS = """() => {
  const art = document.querySelector('article') || document.body;
  const c = art.cloneNode(true);
  c.querySelectorAll('pre, code, script, style, mjx-container, .highlight').forEach(e => e.remove());
  return c.innerText;
}"""

MATH_JS = """() => {
  const nodes = [...document.querySelectorAll('article .math')];
  return {total: nodes.length,
          typeset: nodes.filter(n => n.querySelector('mjx-container')).length,
          errors: [...document.querySelectorAll('mjx-merror, [data-mjx-error]')].map(e =>
                    e.getAttribute('data-mjx-error') || e.textContent).slice(0, 5)};
}"""


@pytest.mark.parametrize("name", PAGES + EXTRA_PAGES + ZH_PAGES)
def test_page_works_offline(site, offline, name):
    """Loads with no console error and no request off file://; maths typeset; no raw TeX; no output shows a 0/N
    bar, a widget as text or an error."""
    assert (site / name).exists(), f"{name} was not built"
    LOAD_TIMES[name] = open_page(offline, site, name)
    offline.wait_for_timeout(200)  # late errors (module scripts, fonts)
    assert not offline.outside, f"{name} asked the network for {offline.outside[:5]}"
    assert not offline.errors, f"{name}: " + "\n".join(offline.errors[:10])
    math = offline.evaluate(MATH_JS)
    assert math["typeset"] == math["total"], f"{name}: {math['total'] - math['typeset']} formulas not typeset"
    assert not math["errors"], f"{name}: MathJax errors {math['errors']}"
    if name in PAGES and name != "index.html" and "apps/" not in name:
        assert math["total"] > 0, f"{name} shows no typeset maths at all"
    text = offline.evaluate(ARTICLE_TEXT_JS)
    for raw in ("$$", "\\begin{", "\\frac", "\\mathbb"):
        assert raw not in text, f"{name} shows raw TeX {raw!r}: …{text[max(0, text.find(raw) - 80):][:200]}…"
    body = offline.evaluate("() => [...document.querySelectorAll('.cell_output')].map(e => e.innerText).join('\\n')")
    for bad in BAD_TEXT:
        assert bad not in body, f"{name} shows {bad!r}: …{body[max(0, body.find(bad) - 100):][:300]}…"
    stuck = TQDM_AT_ZERO.search(body)
    assert not stuck, f"{name} shows an unfinished progress bar: …{body[max(0, stuck.start() - 60):][:160]}…"
    for bar in offline.locator(".vae-progress").all():
        n, total = re.search(r"(\d+)/(\d+)", bar.inner_text()).groups()
        assert n == total or "danger" in (bar.get_attribute("class") or ""), f"{name}: bar at {n}/{total}"
    shots = ("index.html", "notebooks/03_elbo.html", "notebooks/06_training.html", "zh/notebooks/00_start_here.html")
    if name in shots:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        offline.screenshot(path=str(ARTIFACTS / f"site-{name.replace('/', '_')}.png"))


def test_prev_next_links_walk_the_course_in_map_order(site, offline):
    """Clicking "next" from the index visits every page in the map's order; "previous" walks back."""
    open_page(offline, site, PAGES[0])
    seen = [PAGES[0]]
    for expected in PAGES[1:]:
        nxt = offline.locator("a.right-next")
        assert nxt.count() == 1, f"{seen[-1]} has no next link"
        nxt.click()
        offline.wait_for_load_state("load")
        seen.append(Path(offline.url.removeprefix(site.as_uri() + "/")).as_posix())
        assert seen[-1] == expected, f"next from {seen[-2]} went to {seen[-1]}, expected {expected}"
    assert offline.locator("a.right-next").count() == 0, f"the last page {seen[-1]} still has a next link"
    for expected in reversed(PAGES[:-1]):
        offline.locator("a.left-prev").click()
        offline.wait_for_load_state("load")
        here = Path(offline.url.removeprefix(site.as_uri() + "/")).as_posix()
        assert here == expected, f"previous went to {here}, expected {expected}"
    assert not offline.outside and not offline.errors, offline.outside + offline.errors


def test_index_map_links_every_notebook_with_its_minutes(site, offline):
    """The index's table has one row per notebook: its number, its question (linked) and its minutes."""
    open_page(offline, site, "index.html")
    rows = offline.locator("article table tbody tr").all()
    course = [p for p in load("course_map").discover(REPO) if p.number]
    assert len(rows) == len(course)
    for row, p in zip(rows, course, strict=True):
        cells = [c.inner_text().strip() for c in row.locator("td").all()]
        minutes = cells[2].replace("\xa0", " ")
        assert cells[0] == p.number and cells[1] == p.title and minutes.startswith(f"{p.minutes} min"), cells
        href = row.locator("a").get_attribute("href")
        assert (site / href).resolve() == (site / p.path.with_suffix(".html")).resolve(), href


def test_search_works_offline(site, offline):
    """The search page finds the notebook that teaches a term, from file://, with no console error."""
    offline.goto((site / "search.html").as_uri() + "?q=reparameterisation", wait_until="load")
    offline.wait_for_function("() => /found \\d+ page/.test(document.body.innerText)", timeout=20_000)
    hits = offline.locator("#search-results a").all_inner_texts()
    assert any(h.startswith("05 · ") for h in hits), hits
    assert not offline.outside and not offline.errors, offline.outside + offline.errors


SNAPSHOT_JS = """(el) => {
  const canv = [...el.querySelectorAll('canvas')].map(c => { try { return c.toDataURL(); } catch (e) { return ''; } });
  const imgs = [...el.querySelectorAll('img')].map(i => i.src);
  return JSON.stringify([canv, imgs, el.innerText]);
}"""


def explorer_copies(pg, site: Path, names: list[str], selector: str):
    """Open each page and yield (page name, label, locator) for every element matching selector on it."""
    for name in names:
        open_page(pg, site, name)
        boxes = pg.locator(selector)
        for i in range(boxes.count()):
            box = boxes.nth(i)
            yield name, f"{name} #{i} {box.get_attribute('data-explorer')}", box


def poke_explorers(pg, site: Path, names: list[str]) -> tuple[list[str], list[str]]:
    """Press ArrowRight on the first slider of every [data-explorer] element; -> (answered, silent) labels."""
    answered, silent = [], []
    for name, label, box in explorer_copies(pg, site, names, "[data-explorer]"):
            box.scroll_into_view_if_needed()
            pg.wait_for_timeout(100)  # first draw
            fit = box.evaluate("e => [e.scrollWidth, (e.closest('.output') || e.parentElement).clientWidth]")
            assert fit[0] <= fit[1] + 1, f"{label} is cut off: {fit[0]} px wide in a {fit[1]} px output at 1280 px"
            before = box.evaluate(SNAPSHOT_JS)
            target = box.locator("input[type=range], [role=slider], [tabindex]").first
            (target if target.count() else box).focus()
            pg.keyboard.press("ArrowRight")
            t0 = time.monotonic()
            while box.evaluate(SNAPSHOT_JS) == before and time.monotonic() - t0 < 3:
                pg.wait_for_timeout(50)
            (answered if box.evaluate(SNAPSHOT_JS) != before else silent).append(label)
            assert not pg.errors, f"{name}: " + "\n".join(pg.errors[:10])
    return answered, silent


def test_every_explorer_copy_answers_a_key_press(site, offline):
    """For every [data-explorer] element on the site: it fits its output area on a 1280-px screen, and a key press
    on its first slider changes its pixels or its text."""
    answered, silent = poke_explorers(offline, site, PAGES)
    if not answered and not silent:
        pytest.skip("no page carries an explorer's static text/html copy ([data-explorer]) in this build")
    assert not silent, f"explorers that did not answer ArrowRight: {silent}"


def test_explorer_copies_give_the_values_python_recorded_at_build_time(site, offline):
    """Every explorer copy that carries Python's expected values (data-expected: control, key, values, atol) shows
    exactly those values after that key press: the page's maths agrees with the kernel's, with no kernel."""
    checked = []
    for _, label, box in explorer_copies(offline, site, PAGES, "[data-explorer][data-expected]"):
            expected = json.loads(box.get_attribute("data-expected"))
            root = box.locator(".vae-explorer")
            box.scroll_into_view_if_needed()
            offline.wait_for_function("(el) => el.getAttribute('data-values')", arg=root.element_handle(),
                                      timeout=10_000)
            before = root.get_attribute("data-values")
            control = root.locator(expected["control"]).first
            control.focus()
            control.press(expected["key"])
            offline.wait_for_function("([el, b]) => el.getAttribute('data-values') !== b",
                                      arg=[root.element_handle(), before], timeout=10_000)
            got = json.loads(root.get_attribute("data-values"))
            for key, want in expected["values"].items():
                assert got[key] == pytest.approx(want, abs=expected["atol"][key]), (label, key, got[key], want)
            checked.append(label)
    if not checked:
        pytest.skip("no page carries an explorer copy with Python's expected values in this build")
    kinds = {c.rsplit(" ", 1)[1] for c in checked}
    assert kinds == {"LatentExplorer", "PosteriorExplorer", "GradientExplorer", "TradeoffExplorer"}, kinds


# ---- the same pipeline on a two-notebook stand-in course, whose explorers and widgets are known --------------
FAKE_COPY = """<div data-explorer="{name}" style="display:flex;gap:8px;align-items:center">
<input type="range" min="0" max="20" value="5" aria-label="z"><canvas width="40" height="10"></canvas>
<span class="readout">z = 5</span></div>"""
FAKE_ESM = """<script type="module">
// like an explorer copy: the widget's ESM arrives as a string and is imported from a blob: URL
const esm = `export function render({el}) {
  const input = el.querySelector('input'), cv = el.querySelector('canvas'), out = el.querySelector('.readout');
  const draw = () => { const g = cv.getContext('2d'); g.clearRect(0, 0, 40, 10); g.fillRect(0, 0, 2 * input.value, 10);
                       out.textContent = 'z = ' + input.value; };
  input.addEventListener('input', draw); draw();
}`;
const mod = await import(URL.createObjectURL(new Blob([esm], {type: 'text/javascript'})));
mod.render({el: [...document.querySelectorAll('[data-explorer="FakeExplorer"]')].pop()});
</script>"""
FAKE_CELLS = [
    ("markdown", "# 00 · Does the site pipeline work?\n\n**Short answer.** Yes: $a^2 + b^2$ and\n\n"
                 "$$\\int_0^1 x\\,dx = \\tfrac12.$$\n\n**Before this:** nothing. **Time:** about 2 minutes."),
    ("code", "from tqdm.auto import tqdm\nbar = tqdm(total=7, desc='training', unit='epoch')\n"
             "for _ in range(7):\n    bar.update(1)\nbar.close()"),
    ("code", "import ipywidgets\nfrom IPython.display import display\n"
             "def explorer(name, html):\n    w = ipywidgets.IntSlider()\n"
             "    display({'application/vnd.jupyter.widget-view+json': {'model_id': w.model_id, 'version_major': 2,"
             " 'version_minor': 0}, 'text/plain': name, 'text/html': html}, raw=True)\n"
             f"explorer('FakeExplorer', {(FAKE_COPY.format(name='FakeExplorer') + FAKE_ESM)!r})\n"
             f"explorer('DeadExplorer', {FAKE_COPY.format(name='DeadExplorer')!r})"),
    ("code", "ipywidgets.IntSlider(description='no copy')"),
    ("markdown", "[Next: 01 · Is there a second page?](01_next.ipynb)"),
]


@pytest.fixture(scope="session")
def mini_site(tmp_path_factory) -> Path:
    """A site built from a stand-in course: a tqdm bar, a live and a dead explorer copy, a plain widget."""
    need_site_tools()
    import nbformat

    repo = tmp_path_factory.mktemp("mini-course")
    second = [("markdown", "# 01 · Is there a second page?\n\n**Time:** 1 min. $x$"), ("code", "print(0/1)")]
    for name, cells in (("00_pipeline", FAKE_CELLS), ("01_next", second)):
        nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                               "language": "python"}})
        nb.cells = [nbformat.v4.new_markdown_cell(s) if k == "markdown" else nbformat.v4.new_code_cell(s)
                    for k, s in cells]
        (repo / "notebooks").mkdir(exist_ok=True)
        nbformat.write(nb, repo / "notebooks" / f"{name}.ipynb")
    out = repo / "site"
    load("build").build(out, repo=repo)
    return out


def test_stand_in_course_pipeline(mini_site, offline):
    """Known inputs, known page: the bar ends 7/7, the live explorer answers and the dead one is caught, the
    widget without a copy shows the kernel note, maths is typeset, and the two pages link to each other."""
    names = ["index.html", "notebooks/00_pipeline.html", "notebooks/01_next.html"]
    for name in names:
        open_page(offline, mini_site, name)
        math = offline.evaluate(MATH_JS)
        assert math["total"] > 0 and math["typeset"] == math["total"], (name, math)
    open_page(offline, mini_site, names[1])
    bar = offline.locator(".vae-progress")
    assert bar.count() == 1 and re.search(r"\b7/7\b", bar.inner_text()), bar.all_inner_texts()
    assert "vae-progress-success" in bar.get_attribute("class")
    assert offline.locator(".vae-needs-kernel").count() == 1
    assert offline.locator("a.right-next").get_attribute("href") == "01_next.html"
    answered, silent = poke_explorers(offline, mini_site, names)
    assert answered == ["notebooks/00_pipeline.html #0 FakeExplorer"], answered
    assert silent == ["notebooks/00_pipeline.html #1 DeadExplorer"], silent
    assert not offline.outside, offline.outside


def _switch(pg) -> tuple[str, str]:
    """The page's language switch: (its label, its href); exactly one per page."""
    link = pg.locator(".vae-lang-switch a")
    assert link.count() == 1, f"{pg.url}: {link.count()} language switch links"
    assert link.is_visible(), f"{pg.url}: the language switch is hidden"
    return link.inner_text().strip(), link.get_attribute("href")


@pytest.mark.parametrize("name", PAGES[:2] + EXTRA_PAGES + ZH_PAGES)
def test_language_switch_leads_to_the_same_page_in_the_other_edition(site, offline, name):
    """English pages switch to their zh twin (or the zh index), zh pages to their English twin; click and arrive."""
    open_page(offline, site, name)
    label, _ = _switch(offline)
    zh = name.startswith("zh/")
    twin = name.removeprefix("zh/") if zh else f"zh/{name}"
    want = twin if (site / twin).exists() else ("index.html" if zh else "zh/index.html")
    assert label == ("English" if zh else "中文"), (name, label)
    offline.locator(".vae-lang-switch a").click()
    offline.wait_for_load_state("load")
    assert offline.url == (site / want).as_uri(), f"{name}: the switch went to {offline.url}, expected {want}"
    assert offline.evaluate("document.documentElement.lang").startswith("en" if zh else "zh")
    assert not offline.outside and not offline.errors, offline.outside + offline.errors


BILINGUAL_EN = {
    "00_first": [("markdown", "# 00 · Is this the first page?\n\n**Before this:** nothing. **Time:** about 2 minutes. "
                              "$a^2$\n\n[Next: 01 · Is there a second page?](01_second.ipynb)"), ("code", "print(1)")],
    "01_second": [("markdown", "# 01 · Is there a second page?\n\n**Time:** about 1 minutes. $b$"),
                  ("code", "print(2)")],
}
BILINGUAL_ZH = {"00_first": [("markdown", "# 00 · 这是第一页吗？\n\n**预备：** 无。**时长：** 约 2 分钟。$a^2$\n\n"
                                          "[下一篇：01 · 还有第二页吗？](../01_second.ipynb)"), ("code", "print(1)")]}


@pytest.fixture(scope="session")
def bilingual_site(tmp_path_factory) -> Path:
    """A site from a stand-in course of two English notebooks, one of them translated, and both READMEs."""
    need_site_tools()
    import nbformat

    repo = tmp_path_factory.mktemp("bilingual-course")
    for folder, notebooks in (("notebooks", BILINGUAL_EN), ("notebooks/zh", BILINGUAL_ZH)):
        (repo / folder).mkdir(parents=True, exist_ok=True)
        for name, cells in notebooks.items():
            nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                   "language": "python"}})
            nb.cells = [nbformat.v4.new_markdown_cell(t) if k == "markdown" else nbformat.v4.new_code_cell(t)
                        for k, t in cells]
            nbformat.write(nb, repo / folder / f"{name}.ipynb")
    (repo / "README.md").write_text("# stand-in\n\n**English** · [中文](README.zh-CN.md)\n", encoding="utf-8")
    (repo / "README.zh-CN.md").write_text("# 替身\n\n[English](README.md) · **中文**\n\n"
                                          "[00](notebooks/zh/00_first.ipynb) [01](notebooks/01_second.ipynb)\n",
                                          encoding="utf-8")
    out = repo / "site"
    load("build").build(out, repo=repo)
    return out


def test_stand_in_course_switches_language_both_ways(bilingual_site, offline):
    """Known pages, known targets: each page's switch, clicked, lands on its twin or on the other index; the zh
    page's link to an untranslated notebook opens the English page; the zh index says what is missing."""
    site = bilingual_site
    walks = [("index.html", "zh/index.html"), ("notebooks/00_first.html", "zh/notebooks/00_first.html"),
             ("notebooks/01_second.html", "zh/index.html"), ("README.html", "zh/README.html"),
             ("zh/index.html", "index.html"), ("zh/notebooks/00_first.html", "notebooks/00_first.html"),
             ("zh/README.html", "README.html")]
    for start, target in walks:
        open_page(offline, site, start)
        label, _ = _switch(offline)
        assert label == ("English" if start.startswith("zh/") else "中文"), (start, label)
        offline.locator(".vae-lang-switch a").click()
        offline.wait_for_load_state("load")
        assert offline.url == (site / target).as_uri(), f"from {start}: {offline.url}, expected {target}"
    open_page(offline, site, "zh/notebooks/00_first.html")
    assert offline.evaluate("document.documentElement.lang") == "zh-CN"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    offline.screenshot(path=str(ARTIFACTS / "site-bilingual-zh_00.png"))
    offline.locator("article a", has_text="下一篇").click()
    offline.wait_for_load_state("load")
    assert offline.url == (site / "notebooks/01_second.html").as_uri(), offline.url
    open_page(offline, site, "zh/index.html")
    assert "尚未译成中文" in offline.evaluate(ARTICLE_TEXT_JS)
    open_page(offline, site, "zh/README.html")
    offline.locator("article a", has_text="01").click()
    offline.wait_for_load_state("load")
    assert offline.url == (site / "notebooks/01_second.html").as_uri(), offline.url
    assert not offline.outside and not offline.errors, offline.outside + offline.errors


def test_zz_record_load_times():
    """Write the load times the page tests measured (ms from navigation to the load event, from file://)."""
    if not LOAD_TIMES:
        pytest.skip("no page test ran")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "site_load_times.json").write_text(json.dumps(LOAD_TIMES, indent=1))
    print("load event, ms:", ", ".join(f"{k} {v:.0f}" for k, v in LOAD_TIMES.items()))
