"""Whether a candidate can be the subject typed: the words the user typed are evidence, never noise.

The tiers of the resolver rank names that look alike; a card goes out only for the one subject that
is clearly meant, so a candidate whose own names contradict something typed is at most a suggestion:

* **industry**: every industry word of the typed body (nlp.name_parts.industry_words) must be in one
  of the subject's names, as written or as a homophone (电气/电器, 茶叶/茶业 are typed for each other
  on a pinyin keyboard). 鑫源林业 is not 鑫源矿业, 瀛湖牧业 is not 瀛湖林业.
* **branch**: a branch (…分公司, …支行, …营业部, 门市部 …) and its head office are separately
  registered subjects (《市场主体登记管理条例》第二十三条: a 分支机构 registers of its own). A
  typed branch word never matches a head office; a branch matches only a question that names its
  place (石泉恒达, 紫阳电信, 恒达建材石泉分公司) and does not type a head office's full form
  (石泉县恒达建材有限公司 is a company of its own). The local form of a national operator's or a
  utility's branch (汉阴供电公司, 安康电信公司) names the branch.
* **region**: a leading region typed must fit: a short form (汉阴恒达建材) needs the subject to be
  registered there (or to be a branch in that place); a whole registered name (汉阴县恒达建材有限公司,
  陕西恒达建材有限公司) needs the same region word in the subject's name: a city-, county- or
  province-level name is a different registration.

A subject is consistent when any of its names (current, former, short) is.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property

from nlp.lexicon import Lexicon
from nlp.name_parts import NameParts, bare_place, name_parts
from nlp.normalize import Affixes
from nlp.pinyin import PinyinTable
from nlp.wordlists import load_word_list

INDUSTRY, BRANCH, REGION = "industry", "branch", "region"
# What each reason means to the user, after "没有找到与…相符的主体".
REASON_TEXT = {
    INDUSTRY: "名称相近的主体行业不同",
    BRANCH: "分公司、分支机构与总公司是各自登记的不同主体",
    REGION: "名称相近的主体所在地区不同",
}


class Evidence:
    """Checks candidates against what was typed; one per name index (it shares its word lists)."""

    def __init__(self, lexicon: Lexicon, affixes: Affixes, pinyin: PinyinTable) -> None:
        self.lexicon = lexicon
        self.affixes = affixes
        self.pinyin = pinyin

    @cached_property
    def _operators(self) -> tuple[str, ...]:
        return tuple(row[0] for row in load_word_list("operators"))

    def parts(self, text: str, registered: bool = False) -> NameParts:
        return name_parts(text, self.affixes, registered)

    def conflict(
        self, typed: NameParts, names: Iterable[str], division: str | None, typed_division: str | None = None
    ) -> str | None:
        """The reason (INDUSTRY, BRANCH, REGION) the subject with these names (current name first)
        and registered in `division` cannot be the one typed, or None when one of its names fits.
        `typed_division` is a district the question named apart from the name (汉阴的恒达)."""
        first: str | None = None
        for name in names:
            reason = self._conflict_one(typed, self.parts(name, registered=True), division, typed_division)
            if reason is None:
                return None
            first = first or reason
        return first

    def _conflict_one(self, typed: NameParts, s: NameParts, division: str | None, typed_division: str | None) -> str | None:
        for word in typed.industries:
            if word not in s.key and not self._homophone_in(word, s.key):
                return INDUSTRY
        reason = self._branch_conflict(typed, s, typed_division)
        if reason is not None:
            return reason
        return self._region_conflict(typed, s, division)

    # -- branch / head office ------------------------------------------------------------------

    def _branch_conflict(self, typed: NameParts, s: NameParts, typed_division: str | None) -> str | None:
        if typed.is_branch and not s.is_branch:
            # A branch asked, this is the head office or another firm; unless the word is the
            # subject's own form (a shop called …经营部).
            return None if typed.branch_word and s.key.endswith(typed.branch_word) else BRANCH
        if not s.is_branch:
            return None
        named = self._names_place(typed, s.branch_place, typed_division)
        if typed.is_branch:
            if typed.branch_place and not named and not self._same_place(typed.branch_place, s.branch_place):
                return BRANCH  # another branch: 汉阴分公司 is not 石泉分公司
            return None
        if not named:
            return BRANCH  # the firm asked, only a branch of it here: 康泰大药房 vs …平利分店
        if typed.head_form and not self._operator_local_form(typed):
            return BRANCH  # 石泉县恒达建材有限公司 is a company of its own, not …石泉分公司
        return None

    def _names_place(self, typed: NameParts, place: str | None, typed_division: str | None) -> bool:
        if not place:
            return False
        if place in typed.key or any(self._same_place(p, place) for p in typed.places):
            return True
        if typed_division:
            name = self.lexicon.division_name(typed_division)
            return name is not None and self._same_place(bare_place(name), place)
        return False

    def _operator_local_form(self, typed: NameParts) -> bool:
        """汉阴供电公司, 安康电信公司: a national operator's or a utility's word then just 公司."""
        return typed.head_form == "公司" and any(typed.body.endswith(w) for w in self._operators)

    # -- region --------------------------------------------------------------------------------

    def _region_conflict(self, typed: NameParts, s: NameParts, division: str | None) -> str | None:
        place = typed.leading_place
        if place is None:
            return None
        if s.is_branch and self._same_place(place, s.branch_place):
            return None  # 石泉恒达: the place of the branch
        if typed.head_form and s.leading_place is not None:
            # A whole registered name: its region word is part of the name.
            return None if self._same_place(place, s.leading_place) else REGION
        code = self._code(place)
        if code is None:
            return None if place in s.places or place in s.key else REGION
        if division and division.startswith(self._prefixes(code)):
            return None
        for other in s.places:
            other_code = self._code(other)
            if other_code is not None and other_code.startswith(self._prefixes(code)):
                return None
        return REGION

    def _code(self, place: str) -> str | None:
        return self.lexicon.region_to_code.get(place)

    def _prefixes(self, code: str) -> tuple[str, ...]:
        from nlp.index_parts import division_prefix

        return tuple(division_prefix(c) for c in self.lexicon.division_family(code))

    def _same_place(self, a: str | None, b: str | None) -> bool:
        if not a or not b:
            return False
        if bare_place(a) == bare_place(b):
            return True
        ca, cb = self._code(bare_place(a)), self._code(bare_place(b))
        return ca is not None and cb is not None and cb in self.lexicon.division_family(ca)

    # -- homophones ----------------------------------------------------------------------------

    def _homophone_in(self, word: str, text: str) -> bool:
        """A same-length piece of `text` read like `word` (电气 in …电器…)."""
        want = self.pinyin.full(word)
        n = len(word)
        return any(self.pinyin.full(text[i : i + n]) == want for i in range(len(text) - n + 1))


__all__ = ["BRANCH", "INDUSTRY", "REASON_TEXT", "REGION", "Evidence"]
