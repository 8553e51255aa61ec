"""Terminology of the Chinese edition: one glossary (in zh/00), one rendering per term, no variant renderings.

The glossary is the table under "## 3 · 术语表" in notebooks/zh/00_start_here.ipynb (columns English | 中文 |
说明). VARIANTS lists, for each rendering the course chose, the other renderings a reader meets elsewhere; none
may appear in the zh markdown, in the checkers' Chinese messages or in README.zh-CN.md.
"""

import json
import re
from pathlib import Path

import pytest

from vae_teach.exercises import _messages

ROOT = Path(__file__).resolve().parents[1]
ZH = ROOT / "notebooks" / "zh"
ZH_NOTEBOOKS = sorted(ZH.glob("[0-9][0-9]_*.ipynb"))
README_ZH = ROOT / "README.zh-CN.md"

# the terms and the rest of the course's, each with the one rendering the glossary must give
REQUIRED = {
    "prior": "先验", "likelihood": "似然", "posterior": "后验", "evidence": "证据",
    "evidence lower bound (ELBO)": "证据下界", "KL divergence": "KL 散度", "encoder": "编码器", "decoder": "解码器",
    "reparameterisation": "重参数化", "latent variable": "隐变量", "posterior collapse": "后验坍塌",
    "amortised inference": "摊销推断", "importance weighting": "重要性加权", "rate": "码率", "distortion": "失真",
    "active units": "活跃单元", "amortisation gap": "摊销差距", "score function": "得分函数",
    "Monte Carlo": "蒙特卡洛", "latent space": "隐空间",
}
# rendering chosen -> variants that must not appear anywhere in the Chinese edition
VARIANTS = {
    "隐变量": ["潜变量", "潜在变量", "隐含变量", "隐藏变量"],
    "隐空间": ["潜空间", "潜在空间", "隐含空间"],
    "重参数化": ["重参数技巧", "重参数化技巧", "再参数化", "重新参数化", "重参数方法"],
    "后验坍塌": ["后验崩塌", "后验塌缩", "后验坍缩", "后验崩溃", "后验塌陷"],
    "摊销推断": ["分摊", "摊还", "平摊", "摊销推理"],
    "摊销差距": ["摊销间隙", "摊销鸿沟", "摊销缺口"],
    "证据下界": ["证据下限", "证据的下界"],
    "KL 散度": ["KL散度", "KL-散度"],
    "蒙特卡洛": ["蒙特卡罗", "蒙地卡罗", "蒙特·卡洛"],
    "得分函数": ["评分函数", "分数函数", "打分函数"],
    "活跃单元": ["激活单元", "有效单元", "活跃单位", "活动单元"],
    "码率": ["速率"],
    "失真": ["畸变"],
    "重构": ["重建"],
    "变分自编码器": ["变分自动编码器", "变分自编码机"],
    "变分推断": ["变分推理"],
    "边缘似然": ["边际似然"],
    "重要性加权": ["重要度加权", "重要性采样加权"],
}
# English names in a markdown cell -> the seed vocabulary its Chinese twin must use (issue 16, quality bar)
SEEDS = {r"\bpriors?\b": "先验", r"\blikelihoods?\b": "似然", r"\bposteriors?\b": "后验", r"\bevidence\b": "证据",
         r"\bELBOs?\b": "证据下界"}


def _markdown(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    return ["".join(c["source"]) if c["cell_type"] == "markdown" else None for c in nb["cells"]]


def glossary() -> list[tuple[str, str]]:
    """(English, 中文) rows of the glossary table in zh/00."""
    cell = next(m for m in _markdown(ZH / "00_start_here.ipynb") if m and "## 3 · 术语表" in m)
    table = cell.split("## 3 · 术语表", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in table.splitlines():
        cols = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if len(cols) >= 3 and cols[0] not in ("English", "") and not set(cols[0]) <= set("-: "):
            rows.append((cols[0], cols[1]))
    return rows


def _texts():
    """Every Chinese text the learner reads: (where, text)."""
    out = [(f"{p.name} cell {i}", m) for p in ZH_NOTEBOOKS for i, m in enumerate(_markdown(p)) if m]
    out += [(f"_messages.ZH[{k!r}]", v) for k, v in _messages.ZH.items()]
    if README_ZH.exists():
        out.append(("README.zh-CN.md", README_ZH.read_text(encoding="utf-8")))
    return out


def test_glossary_gives_each_term_exactly_one_rendering():
    rows = glossary()
    assert len(rows) >= len(REQUIRED), rows
    english = [e for e, _ in rows]
    dup = sorted({e for e in english if english.count(e) > 1})
    assert not dup, f"glossary lists these terms twice: {dup}"
    table = dict(rows)
    for term, zh in REQUIRED.items():
        assert table.get(term) == zh, f"glossary: {term!r} must be rendered {zh!r}, got {table.get(term)!r}"
    for term, zh in rows:
        assert zh and " · " not in zh and "/" not in zh and "，" not in zh, f"{term!r}: one rendering, got {zh!r}"
    renderings = [zh for _, zh in rows]
    assert len(set(renderings)) == len(renderings), f"two terms share a rendering: {renderings}"


def test_every_banned_variant_belongs_to_a_glossary_rendering():
    chosen = {zh for _, zh in glossary()}
    assert set(VARIANTS) <= chosen, f"VARIANTS names renderings the glossary lacks: {set(VARIANTS) - chosen}"
    for bad in VARIANTS.values():
        assert not any(b in zh for b in bad for zh in chosen), f"a glossary rendering is itself a variant: {bad}"


@pytest.mark.parametrize("where, text", _texts(), ids=lambda x: x if isinstance(x, str) and len(x) < 60 else "")
def test_no_variant_rendering_appears(where, text):
    found = [(b, r) for r, bad in VARIANTS.items() for b in bad if b in text]
    assert not found, f"{where}: " + "; ".join(f"{b!r} should be {r!r}" for b, r in found)


@pytest.mark.parametrize("zh", ZH_NOTEBOOKS, ids=lambda p: p.name)
def test_seed_vocabulary_appears_where_the_english_names_the_idea(zh):
    en_cells, zh_cells = _markdown(ROOT / "notebooks" / zh.name), _markdown(zh)
    assert len(en_cells) == len(zh_cells), f"{zh.name}: cell count differs from English (make zh-sync)"
    for i, (en, tr) in enumerate(zip(en_cells, zh_cells, strict=True)):
        if en is None:
            continue
        for pattern, word in SEEDS.items():
            if re.search(pattern, en):
                assert word in tr, f"{zh.name} cell {i}: the English says {pattern.strip(chr(92) + 'b')!r}, " \
                                   f"the Chinese should say {word!r}"


def test_the_glossary_terms_are_used_in_the_checkers_chinese():
    """The checkers' Chinese follows the glossary: a sample of terms they must use as the notebooks do."""
    zh = " ".join(_messages.ZH.values())
    for word in ("先验", "似然", "后验", "证据下界", "重参数化", "隐变量", "活跃单元", "码率", "失真", "得分函数"):
        assert word in zh, word
