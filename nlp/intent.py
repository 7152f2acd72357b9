"""A message → what the user wants (intent) and the slots: names, codes, category, district, matter.

Codes are cut out first (they must never become part of a name), then the normalised text is
segmented by jieba with the domain words loaded (`Lexicon.warm_up`). Tokens that are categories,
matters, intent words or connectives are slots or separators; the maximal runs of the remaining
tokens are the names. A run that is only a region word ("汉阴的恒达") becomes the district filter;
a run that starts with one keeps it: the resolver weighs a region typed inside a name itself
(nlp.evidence), since a branch is often registered in another county than the one its name starts
with.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jieba

from nlp.codes_in_text import CodeMention, find_codes
from nlp.lexicon import Lexicon
from nlp.matters import matter_from_text
from nlp.normalize import basic, normalize
from rules.categories import normalize_category

__all__ = ["CodeMention", "Query", "parse"]


# Connectives that separate names and never belong to one.
# 和/与/及 are not separators: 和 is in countless names (和平, 康晨和), a two-name message is rare.
_SEPARATORS = frozenset({"的", "还有", "以及", "或者"})
# Single-character tokens that are verbs or particles when jieba leaves them alone at a run's edge.
_LEAD_CHARS = frozenset("我请帮查看想要问")
_TRAIL_CHARS = frozenset("有吗呢吧啊呀了么没是在")
# Words that ask about a subject's credit without naming a category.
_QUERY_WORDS = ("查", "查询", "信用", "怎么样", "有没有", "情况", "记录")


@dataclass
class Query:
    intent: str
    names: list[str] = field(default_factory=list)
    uscc: list[CodeMention] = field(default_factory=list)
    id_numbers: list[CodeMention] = field(default_factory=list)
    category: str | None = None
    division_code: str | None = None
    matter: str | None = None
    raw: str = ""
    text: str = ""


def parse(text: str, lexicon: Lexicon) -> Query:
    """Understand one message. Pure apart from jieba's (pre-loaded) dictionary."""
    raw = text or ""
    uscc, ids, rest = find_codes(raw)
    norm_all = normalize(raw)
    base = basic(rest)
    tokens = _tokens(base)
    category_words = set(lexicon.category_words)
    matter_words = set(lexicon.matter_words)
    stop_words = set(lexicon.stop_words) | _SEPARATORS

    category: str | None = None
    matter: str | None = None
    intent_hits: list[str] = []
    division_code: str | None = None
    runs: list[list[str]] = [[]]
    for tok in tokens:
        if not tok.strip():
            runs.append([])
            continue
        if tok in lexicon.intent_words:
            intent_hits.append(lexicon.intent_words[tok])
            runs.append([])
            continue
        if tok in category_words:
            category = category or normalize_category(tok) or normalize_category(_category_alias(tok))
            runs.append([])
            continue
        if tok in matter_words:
            matter = matter or matter_from_text(tok)
            runs.append([])
            continue
        if tok in _SEPARATORS or (tok in stop_words and len(tok) > 1):
            runs.append([])
            continue
        runs[-1].append(tok)

    names: list[str] = []
    for run in runs:
        name = _trim(run)
        if not name:
            continue
        region_code = lexicon.region_to_code.get(name)
        if region_code is not None:
            division_code = division_code or region_code
            continue
        if len(name) >= 2:
            names.append(name)

    intent = _intent(intent_hits, names, uscc, ids, category, matter, norm_all)
    return Query(intent, names, uscc, ids, category, division_code, matter, raw, norm_all)


def _tokens(text: str) -> list[str]:
    """jieba tokens of the text after filler removal; spaces become separators."""
    from nlp.normalize import strip_filler

    out: list[str] = []
    for part in strip_filler(text).split(" "):
        if not part:
            continue
        if out:
            out.append(" ")
        if part.isascii():
            out.append(part)
        else:
            out.extend(jieba.lcut(part, HMM=False))
    return out


def _trim(run: list[str]) -> str:
    """Drop single-character verbs and particles that jieba left standing at the edges of a run
    ("恒达建材有" → "恒达建材"), never a character jieba kept inside a word ("有为建材")."""
    run = list(run)
    while len(run) > 1 and run[0] in _LEAD_CHARS:
        run.pop(0)
    while len(run) > 1 and run[-1] in _TRAIL_CHARS:
        run.pop()
    return "".join(run)


def _category_alias(word: str) -> str:
    """User words that rules.categories may not list under the same spelling."""
    return {"黑名单": "严重失信主体名单", "失信": "严重失信主体名单", "处罚": "行政处罚", "许可": "行政许可"}.get(
        word, word
    )


def _intent(
    hits: list[str],
    names: list[str],
    uscc: list[CodeMention],
    ids: list[CodeMention],
    category: str | None,
    matter: str | None,
    text: str,
) -> str:
    """Conversations (申报, 修复, 异议, 期限, 提醒) win over a plain query; greeting/help only alone."""
    for wanted in ("repair", "objection", "declare", "remind", "due"):
        if wanted in hits:
            return wanted
    if names or uscc or ids:
        return "query"
    if "help" in hits:
        return "help"
    if "greeting" in hits:
        return "greeting"
    if category or matter or any(w in text for w in _QUERY_WORDS):
        return "query"
    return "unknown"
