"""The course map the site's index shows, read from each notebook's title cell so it never drifts.

A numbered notebook opens with `# NN · Question?`; its title cell states the reading time ("about 25 minutes",
"25 min") and its "## Going deeper (optional, about M min)" heading the optional part's. Apps (apps/*.ipynb) open
with a plain `# Title`. Nothing here executes or renders anything: it reads notebook JSON and writes Markdown.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

PLAIN_TITLE = re.compile(r"^#\s+(.+?)\s*$")
MINUTES = re.compile(r"(\d+)\s*(?:–|-|to)?\s*(?:\d+\s*)?(?:min(?:ute)?s?\b|分钟)")  # "25 min", "约 25 分钟"
TIME_LINE = re.compile(r"\*\*(?:Time|Before this|Read first|时长|预备)[^*]*\*\*", re.IGNORECASE)
DEEPER = re.compile(r"^##\s+(?:Going deeper\b|深入一步).*?(\d+)\s*(?:min|分钟)", re.IGNORECASE | re.MULTILINE)
TITLE = re.compile(r"^#\s+(\d{2})\s*·\s*(.+?)\s*$")  # also "# 03 · 证据下界从哪里来？"

# the index page's words, per language (the zh index lists the notebooks translated so far)
WORDS = {
    "en": {"heading": "# Variational Autoencoders, one question at a time", "notebooks": "## The notebooks",
           "read": "Read them in order; each builds on the one before. The main path takes about {total} minutes "
                   "in all; each notebook's *Going deeper* part is optional.",
           "columns": "| notebook | the question it answers | time |", "minutes": "{m}\u00a0min",
           "optional": " (+\u00a0{m} optional)", "apps": "## Apps", "missing": ""},
    "zh": {"heading": "# 变分自编码器，一次一个问题", "notebooks": "## 笔记本",
           "read": "请按顺序阅读，每一篇都建立在前一篇的基础上。"
                   "下表各篇主线合计约 {total} 分钟；每篇的*深入一步*为选读。",
           "columns": "| 笔记本 | 回答的问题 | 时长 |", "minutes": "{m}\u00a0分钟",
           "optional": "（另有 {m}\u00a0分钟选读）",
           "apps": "## 应用", "missing": "其余笔记本尚未译成中文：请阅读<a href=\"../index.html\">英文版</a>。"},
}


@dataclass(frozen=True)
class Page:
    """One page of the site: where its notebook lives and what its title cell says."""

    path: Path  # the notebook, relative to the repository root, e.g. notebooks/03_elbo.ipynb
    number: str | None  # "03", or None for an app
    title: str  # the question ("Where does the ELBO come from, and what is the gap?") or the app's title
    minutes: int | None  # reading time of the main path, from the title cell
    deeper_minutes: int | None  # the optional "Going deeper" part, from its heading

    @property
    def heading(self) -> str:
        """The title as the notebook writes it: "03 · Where does …?" (or the app's title)."""
        return f"{self.number} · {self.title}" if self.number else self.title


def _cells(nb: dict) -> list[tuple[str, str]]:
    return [(c.get("cell_type", ""), "".join(c.get("source", ""))) for c in nb.get("cells", [])]


def read_page(nb: dict, path: Path) -> Page:
    """Parse a notebook's title cell (and its Going deeper heading) into a Page; ValueError names what is missing."""
    cells = _cells(nb)
    if not cells or cells[0][0] != "markdown":
        got = cells[0][0] if cells else "no cells"
        raise ValueError(f"{path}: the first cell must be a markdown title cell, got {got}")
    first = cells[0][1].strip()
    head = first.splitlines()[0] if first else ""
    m = TITLE.match(head)
    if m:
        number, title = m.groups()
    else:
        m = PLAIN_TITLE.match(head)
        if not m:
            raise ValueError(f"{path}: the title cell must start with '# NN · Question?' or '# Title', got {head!r}")
        number, title = None, m.group(1)
    minutes = _minutes(first)
    if number is not None and minutes is None:
        raise ValueError(f"{path}: the title cell gives no reading time (expected e.g. 'about 25 minutes')")
    deeper = None
    for kind, src in cells[1:]:
        d = DEEPER.search(src) if kind == "markdown" else None
        if d:
            deeper = int(d.group(1))
            break
    return Page(path=path, number=number, title=title, minutes=minutes, deeper_minutes=deeper)


def _minutes(text: str) -> int | None:
    """The reading time a title cell states: the first "N min(utes)" on its Time / Before-this line, else anywhere."""
    for line in text.splitlines():
        if TIME_LINE.search(line):
            m = MINUTES.search(line[TIME_LINE.search(line).start():])
            if m:
                return int(m.group(1))
    m = MINUTES.search(text)
    return int(m.group(1)) if m else None


def discover(repo: Path, notebooks: str = "notebooks", apps: str | None = "apps") -> list[Page]:
    """The site's pages in reading order: notebooks/NN_*.ipynb by number, then apps/*.ipynb by name."""
    paths = sorted((repo / notebooks).glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        raise ValueError(f"no notebooks named NN_topic.ipynb in {repo / notebooks}")
    if apps is not None and (repo / apps).is_dir():
        paths += sorted((repo / apps).glob("*.ipynb"))
    pages = []
    for p in paths:
        with open(p, encoding="utf-8") as f:
            pages.append(read_page(json.load(f), p.relative_to(repo)))
    numbers = [pg.number for pg in pages if pg.number]
    if len(set(numbers)) != len(numbers):
        raise ValueError(f"two notebooks share a number: {numbers}")
    return pages


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", r"\|")


def index_markdown(pages: list[Page], intro: str, language: str = "en", untranslated: int = 0) -> str:
    """The index page in MyST Markdown: the intro, the map (question, minutes) and the toctree fixing page order."""
    w = WORDS[language]
    course = [p for p in pages if p.number]
    apps = [p for p in pages if not p.number]
    total = sum(p.minutes or 0 for p in course)
    lines = [w["heading"], "", intro.strip(), "", w["notebooks"], "", w["read"].format(total=total), "",
             w["columns"], "|---|---|---|"]
    for p in course:
        extra = w["optional"].format(m=p.deeper_minutes) if p.deeper_minutes else ""
        time = w["minutes"].format(m=p.minutes) + extra
        lines.append(f"| {p.number} | [{_cell(p.title)}]({p.path.as_posix()}) | {time} |")
    if untranslated and w["missing"]:
        lines += ["", w["missing"]]
    if apps:
        lines += ["", w["apps"], ""]
        lines += [f"- [{_cell(p.title)}]({p.path.as_posix()})" for p in apps]
    lines += ["", "```{toctree}", ":hidden:", ":maxdepth: 1", ""]
    lines += [f"{p.path.with_suffix('').as_posix()}" for p in pages]
    lines += ["```", ""]
    return "\n".join(lines)
