"""A name asked *through* another one: "X的总公司" asks for X's head office, "X总公司的Y分公司" for a
branch of X (issue 21). Pure, no I/O.

A 分公司 and its head office are separately registered subjects (《市场主体登记管理条例》第二十三条),
so a question about one must never get the other's card. Read word for word, "安康恒达建材石泉分公司的
总公司" names the branch (the relation word comes after a whole name), and the branch's card went out:
a confident wrong answer. Here the relation is read first and the question rewritten to the subject
it asks for:

* head office of X (X的总公司, X的总部, X的母公司, X的上级公司 …, also without 的 right after a branch
  word): the head office's name, which is the registered parent of the branch X finds (its name
  without the branch part: `branch_parent`), or, when X finds no branch, X with its branch part cut
  (`typed_head`). The answer is never a branch: a branch found for it is offered, not shown
  (`never_a_branch`).
* a branch of X (X总公司的Y分公司, X有限公司的Y分公司): X and the branch part joined, which the
  resolver reads as that branch (and nothing else: another place is another branch).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from nlp.index_parts import Resolution
from nlp.name_parts import BRANCH_WORDS

# Words that ask for the head office of the subject named before them.
HEAD_WORDS: tuple[str, ...] = ("上级公司", "上级单位", "总公司", "母公司", "总部", "总店", "总行")
_HEAD = "|".join(HEAD_WORDS)
_BRANCH = "|".join(BRANCH_WORDS)
# X的总公司 / X之总部 / X分公司总公司, then whatever the question adds (有没有处罚).
_HEAD_OF = re.compile(rf"^(?P<x>.+?)(?P<of>的|之)?(?:{_HEAD})(?P<after>.*)$", re.S)
# X总公司的Y分公司, X有限公司的Y分公司: the branch Y of X.
_BRANCH_OF = re.compile(rf"^(?P<x>.+?)(?:总公司|总部|(?P<form>公司|集团|合作社))的(?P<y>[^的]{{1,12}}?(?:{_BRANCH}))")


@dataclass(frozen=True)
class HeadAsked:
    """"X的总公司": `named` is X as typed (the subject the head office is asked of), `after` what the
    question says after the relation word (slots: 有没有处罚)."""

    named: str
    after: str


def head_office_asked(text: str) -> HeadAsked | None:
    """The head office a text asks for, or None when it asks for none."""
    m = _HEAD_OF.match(text.strip())
    if m is None or len(m.group("x").strip()) < 2:
        return None
    if not m.group("of") and not m.group("x").endswith(BRANCH_WORDS):
        return None  # 恒达建材总公司 is a name typed, not a relation
    return HeadAsked(m.group("x").strip(), m.group("after"))


def branch_of_written_out(text: str) -> str:
    """The text with "X总公司的Y分公司" written as the branch's own name (XY分公司); unchanged otherwise."""
    m = _BRANCH_OF.match(text.strip())
    if m is None:
        return text
    x = m.group("x") + (m.group("form") or "")
    return x + m.group("y") + text.strip()[m.end() :]


def never_a_branch(resolution: Resolution, is_branch: Callable[[str], bool]) -> Resolution:
    """The answer for a head office asked: a branch is at most offered (the head office was asked,
    and a branch is another registration), so a clear branch becomes a choice."""
    if resolution.status == "clear" and is_branch(resolution.candidates[0].name):
        return Resolution("ambiguous", resolution.candidates, resolution.conflict)
    return resolution


__all__ = ["HEAD_WORDS", "HeadAsked", "branch_of_written_out", "head_office_asked", "never_a_branch"]
