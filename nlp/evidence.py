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
* **form**: a kind of registration typed (合作社, 个人独资企业, a shop) never names another kind, and a
  legal form typed (股份有限公司, 有限责任公司, 有限公司, 专业合作社 …) never names a subject
  registered with another one: 汉阴恒达建材有限责任公司 is not 汉阴县恒达建材有限公司. Since the
  registrar takes names differing only in that as the same name, the subject of the other legal
  form stays a rival: 恒达建材有限责任公司 beside 恒达建材有限公司 is asked about, not taken.
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
from nlp.normalize import Affixes, name_key
from nlp.pinyin import PinyinTable
from nlp.wordlists import load_word_list

_PARTS_CACHE = 20_000
INDUSTRY, BRANCH, REGION, FORM = "industry", "branch", "region", "form"
# Another legal form of the same kind (有限责任公司 / 有限公司): never the subject typed, and still a
# rival of the one with the typed form. A name differing only in it is the same name to the
# registrar (《企业名称登记管理规定实施办法》), so which of the two was meant is asked, not guessed.
LEGAL_FORM = "legal_form"
# What each reason means to the user, after "没有找到与…相符的主体".
REASON_TEXT = {
    INDUSTRY: "名称相近的主体行业不同",
    BRANCH: "分公司、分支机构与总公司是各自登记的不同主体",
    REGION: "名称相近的主体所在地区或登记层级不同",
    FORM: "名称相近的主体组织形式不同",
    LEGAL_FORM: "名称相近的主体组织形式不同",
}
# Industry words read alike that people type for each other; other pairs read alike are different
# trades (牧业 is not 木业). A homophone that is no industry word at all (鱼业, 矿叶) is a typo.
SAME_TRADE = (frozenset({"茶叶", "茶业"}), frozenset({"电器", "电气"}))


def _branch_family(word: str | None) -> str | None:
    """分店 and 门店 are said for each other, and 供电公司 is how a 供电分公司 is called; every other
    branch word names its own registration."""
    return {"门店": "分店", "供电公司": "分公司"}.get(word or "", word)


class Evidence:
    """Checks candidates against what was typed; one per name index (it shares its word lists)."""

    def __init__(self, lexicon: Lexicon, affixes: Affixes, pinyin: PinyinTable) -> None:
        self.lexicon = lexicon
        self.affixes = affixes
        self.pinyin = pinyin
        self._parts: dict[tuple[str, bool], NameParts] = {}

    @cached_property
    def _operators(self) -> tuple[str, ...]:
        return tuple(row[0] for row in load_word_list("operators"))

    def parts(self, text: str, registered: bool = False) -> NameParts:
        """`name_parts`, remembered for the most recent names (candidates come back look-up after
        look-up; a million names would not fit, a few thousand do)."""
        key = (text, registered)
        found = self._parts.get(key)
        if found is None:
            if len(self._parts) >= _PARTS_CACHE:
                self._parts.clear()
            found = self._parts[key] = name_parts(text, self.affixes, registered)
        return found

    def conflict(
        self,
        typed: NameParts,
        names: Iterable[tuple[str, str]],
        division: str | None,
        typed_division: str | None = None,
        kind: str | None = None,
    ) -> str | None:
        """The reason (INDUSTRY, BRANCH, FORM, REGION) the subject with these names ((name, kind):
        its current name "名称" first, then 曾用名 and 简称) registered in `division` cannot be the
        one typed, or None when it can. A name typed exactly is that subject. Otherwise only the full
        names closest to what was typed are weighed: a 简称 says nothing of region or branch.
        `typed_division` is a district the question named apart from the name (汉阴的恒达); `kind` the
        subject's kind (个体工商户 is an outlet whatever its name ends with)."""
        listed = list(names)
        if any(name_key(name) == typed.key for name, _kind in listed):
            return None
        first: str | None = None
        for s in self._closest(typed, [name for name, alias_kind in listed if alias_kind != "简称"]):
            reason = self._conflict_one(typed, s, division, typed_division, kind)
            if reason is None:
                return None
            first = first or reason
        return first

    def _closest(self, typed: NameParts, names: Iterable[str]) -> list[NameParts]:
        """The subject's names whose body is closest to the typed one: the name that was matched,
        not a former name of another 字号 that happens to fit the other words."""
        from rapidfuzz import fuzz

        parts = [self.parts(name, registered=True) for name in names]
        scores = [fuzz.ratio(typed.body, p.body) for p in parts]
        best = max(scores, default=0)
        return [p for p, score in zip(parts, scores, strict=True) if score >= best - 1e-9]

    def _conflict_one(
        self, typed: NameParts, s: NameParts, division: str | None, typed_division: str | None, kind: str | None
    ) -> str | None:
        for word in typed.industries:
            if word not in s.key and not self._homophone_trade(word, s):
                return INDUSTRY
        reason = self._branch_conflict(typed, s, typed_division)
        if reason is not None:
            return reason
        # A branch is weighed by its parent's form (…有限责任公司汉滨分公司 is no 专业合作社).
        their_kind = "outlet" if kind == "个体工商户" else s.form_kind
        if not typed.is_branch and typed.form_kind and their_kind and typed.form_kind != their_kind:
            return FORM
        if typed.legal_form and s.legal_form and typed.legal_form != s.legal_form and kind != "个体工商户":
            # 汉阴恒达建材有限责任公司 is not 汉阴县恒达建材有限公司 (a branch: by its parent's form).
            return LEGAL_FORM
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
            if _branch_family(typed.branch_word) != _branch_family(s.branch_word):
                return BRANCH  # …白河分公司 and …白河经营部 are two registrations
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
        if s.is_branch and not typed.head_form and self._same_place(place, s.branch_place):
            return None  # 石泉恒达: the place of the branch (a parent typed in full has its own region)
        if s.leading_place is not None and not self._same_place(place, s.leading_place):
            if typed.form:
                return REGION  # a whole registered name: its region word is part of the name
            if self._within(s.leading_place, place):
                return REGION  # 汉滨区物流协会 is not 安康市物流协会: a registration of another level
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

    def _within(self, outer: str, inner: str) -> bool:
        """`inner` is a place inside `outer` (汉滨 inside 安康)."""
        outer_code, inner_code = self._code(outer), self._code(inner)
        if outer_code is None or inner_code is None or outer_code == inner_code:
            return False
        return inner_code.startswith(self._prefixes(outer_code))

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

    def _homophone_trade(self, word: str, s: NameParts) -> bool:
        """A same-length piece of the name read like `word` (电气 for …电器…), unless both are
        industry words of different trades (牧业 is not 木业)."""
        want = self.pinyin.full(word)
        n = len(word)
        listed = self.affixes._industry_set
        for i in range(len(s.key) - n + 1):
            piece = s.key[i : i + n]
            if self.pinyin.full(piece) != want:
                continue
            if word in listed and piece in listed and frozenset({word, piece}) not in SAME_TRADE:
                continue
            return True
        return False


__all__ = ["BRANCH", "FORM", "INDUSTRY", "LEGAL_FORM", "REASON_TEXT", "REGION", "SAME_TRADE", "Evidence"]
