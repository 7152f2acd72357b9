"""What a name says about the subject it names: where (region words, a branch's place), which trade
(industry words) and what kind of registration (a head office's organisation form, a branch word).

The resolver's tiers find names that *look* like what was typed; these parts say whether a
candidate can *be* it (nlp.evidence). The same parser reads a typed question and a registered name,
so "鑫源林业" and "安康市鑫源矿业有限公司" are compared word for word, not by similarity:

* region: the leading region words (安康市, 陕西省安康市, 汉阴县) and the place a branch names
  (…有限公司石泉分公司 → 石泉); a bracketed region in the middle (瑞祥商贸（安康）有限公司) is a
  place of the name as well;
* industry: every industry word of the body (nlp/data/industries.txt, and any two-character word
  ending in 业 at the end of the body: 林业, 渔业, 牧业 …);
* form: the organisation form at the end (有限公司, 合作社 …) and a branch word (分公司, 支行,
  营业部, 门市部 …), which makes the name a branch or an outlet: a separately registered subject.

Pure and cheap (a few tens of µs): computed for the typed text once per look-up and for the few
candidates a decision depends on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nlp.name_shapes import basic_brackets
from nlp.normalize import Affixes, name_key

# Words after a parent's name (or alone after a place) that make a name a branch or an outlet.
BRANCH_WORDS: tuple[str, ...] = tuple(sorted(
    {"分公司", "营业部", "门市部", "经营部", "分店", "门店", "分社", "分行", "支行", "办事处", "分部", "分厂",
     "分理处", "营业所", "营销部", "分中心", "供电公司"},
    key=len, reverse=True,
))
# Organisation forms of a head office: typed at the end, they name a registered head office.
_HEAD_FORMS = ("股份有限公司", "有限责任公司", "有限公司", "集团", "公司")
_FORM_KINDS = (
    ("group", ("集团有限公司", "集团股份有限公司", "集团有限责任公司", "集团")),
    ("company", ("公司",)),
    ("cooperative", ("合作社", "联合社")),
    ("partnership", ("合伙企业", "普通合伙", "有限合伙")),
    ("sole", ("个人独资企业",)),
    ("outlet", ("经营部", "门市部", "经销部", "服务部", "专卖店")),
)
# Legal forms within a kind that are distinct registrations when both are typed (《公司法》: a
# 股份有限公司 and a 有限责任公司 are two kinds of company; 有限公司 is the short form of the latter
# that a name keeps as registered, so 有限公司 and 有限责任公司 name two different subjects too), and
# the cooperatives of two laws (农民专业合作社法 vs the collective 股份经济合作社).
_LEGAL_FORMS = (
    ("股份有限公司", "股份有限公司"),
    ("有限责任公司", "有限责任公司"),
    ("有限公司", "有限公司"),
    ("专业合作社", "专业合作社"),
    ("经济合作社", "经济合作社"),
    ("联合社", "联合社"),
)
_OUTLET_ENDINGS = ("店", "经营部", "门市部", "经销部", "服务部", "场")
_ADMIN_SUFFIXES = ("自治县", "街道", "新区", "省", "市", "县", "区", "镇", "乡")
_BRACKETED = re.compile(r"[(\[【〔「]\s*([^()\[\]【】〔〕「」]*?)\s*[)\]】〕」]")
# A branch's own name: the parent's full name, then a place, then the branch word.
_PARENT_END = re.compile("(?:" + "|".join(("股份有限公司", "有限责任公司", "有限公司", "公司", "合作社", "集团")) + ")")


def bare_place(word: str) -> str:
    """A place without its administrative suffix: 汉阴县 → 汉阴, 安康市 → 安康 (two characters kept)."""
    for suffix in _ADMIN_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            return word[: -len(suffix)]
    return word


@dataclass(frozen=True)
class NameParts:
    """One name cut into what it says. `places` are bare place words (汉阴, 安康, 陕西), leading
    first, then bracketed ones; `branch_place` is the bare place of a branch (None for a head
    office); `head_form` is the head office's organisation form as typed ("" when none)."""

    key: str
    places: tuple[str, ...]
    body: str
    industries: tuple[str, ...]
    head_form: str
    branch_word: str | None
    branch_place: str | None
    branch_rest: str = ""  # what follows the place in a branch's place part (汉阴县供电 → 供电)
    form: str = ""  # the organisation form at the end, any kind (有限公司, 专业合作社, 经营部 …)

    @property
    def form_kind(self) -> str | None:
        """group / company / cooperative / partnership / sole / outlet (a shop, a farm, a 经营部 of its
        own): kinds of registration that never name each other (a 专业合作社 is not a 有限公司 of the
        same 字号, nor a …店, and a 集团 is not its 有限公司); None when the name says none."""
        for kind, endings in _FORM_KINDS:
            if self.form.endswith(endings):
                return kind
        if self.key.endswith(_OUTLET_ENDINGS):
            return "outlet"
        return None

    @property
    def legal_form(self) -> str | None:
        """The legal form as written at the end (股份有限公司, 有限责任公司, 有限公司, 专业合作社,
        经济合作社, 联合社), finer than `form_kind`: two names of one kind whose legal forms both
        say and differ are two registrations (恒达建材有限责任公司 is not 恒达建材有限公司). None when
        the name says none (…公司, …合作社 alone say too little to contradict)."""
        for ending, legal in _LEGAL_FORMS:
            if self.form.endswith(ending):
                return legal
        return None

    @property
    def is_branch(self) -> bool:
        return self.branch_word is not None

    @property
    def leading_place(self) -> str | None:
        """The deepest place of the leading region words (陕西省安康市汉阴县 → 汉阴)."""
        return self.places[0] if self.places else None


def name_parts(text: str, affixes: Affixes, registered: bool = False) -> NameParts:
    """Cut a typed or registered name into `NameParts` (see the module docstring).

    A `registered` name is a branch only in the registered shape (the parent's full name with its
    organisation form, a place, the branch word); a shop whose own name ends in 经营部 or 门市部 is
    no branch. A typed one is a branch whenever it ends in a branch word (恒达建材石泉分公司)."""
    plain = basic_brackets(text)
    bracketed = [name_key(m) for m in _BRACKETED.findall(plain)]
    key = name_key(_BRACKETED.sub("", plain)) or name_key(text)
    branch_word: str | None = None
    branch_place: str | None = None
    branch_rest = ""
    head = key
    for word in BRANCH_WORDS:
        if key.endswith(word) and len(key) > len(word) + 1:
            before = key[: -len(word)]
            if registered and not _PARENT_END.search(before[:-1]):
                break
            branch_word = word
            head, branch_place, branch_rest = _branch_split(before, affixes)
            break
    region, rest = affixes.split_region(head)
    body, form = affixes.split_org_form(rest)
    if body in affixes.industries or len(body) < 2:
        body, form = affixes.split_org_form(head)
        region = ""
    places = list(_places_of(region, affixes))
    for inner in bracketed:
        places += [bare_place(w) for w in region_words_in(inner, affixes)]
    head_form = form if form.endswith(_HEAD_FORMS) else ""
    return NameParts(
        key=key,
        places=tuple(dict.fromkeys(places)),
        body=body,
        industries=industry_words(body, affixes),
        head_form=head_form,
        branch_word=branch_word,
        branch_place=branch_place,
        branch_rest=branch_rest,
        form=form,
    )


def branch_parent(key: str) -> str | None:
    """The parent's full name of a registered branch name key (…有限公司石泉分公司 → …有限公司)."""
    for word in BRANCH_WORDS:
        if key.endswith(word):
            ends = [m.end() for m in _PARENT_END.finditer(key[: -len(word)])]
            if ends and ends[-1] < len(key) - len(word):
                return key[: ends[-1]]
            return None
    return None


def typed_head(text: str, affixes: Affixes) -> str | None:
    """The head office's part of a typed branch name (安康恒达建材石泉分公司 → 安康恒达建材,
    陕西秦巴物流有限公司汉阴分公司 → 陕西秦巴物流有限公司), or None when the text names no branch."""
    key = name_key(_BRACKETED.sub("", basic_brackets(text))) or name_key(text)
    for word in BRANCH_WORDS:
        if key.endswith(word) and len(key) > len(word) + 1:
            head, _place, _rest = _branch_split(key[: -len(word)], affixes)
            return head if len(head) >= 2 else None
    return None


def _branch_split(before: str, affixes: Affixes) -> tuple[str, str | None, str]:
    """(the parent part, the branch's bare place or None, what follows the place) of the text before a
    branch word: 安康市恒达建材有限公司石泉 → (安康市恒达建材有限公司, 石泉, ""),
    国网陕西省电力有限公司汉阴县供电 → (国网陕西省电力有限公司, 汉阴, 供电),
    恒达建材石泉 → (恒达建材, 石泉, ""), 汉阴供电 → (供电, 汉阴, "")."""
    ends = [m.end() for m in _PARENT_END.finditer(before)]
    if ends and ends[-1] < len(before):
        parent, place_part = before[: ends[-1]], before[ends[-1] :]
        words = region_words_in(place_part, affixes)
        if words:
            last = words[-1]
            return parent, bare_place(last), place_part[place_part.rfind(last) + len(last) :]
        return parent, bare_place(place_part), ""
    # No parent form typed: the place is a region word at the end (恒达建材石泉) or at the start
    # (汉阴供电, 石泉恒达).
    for size in range(min(len(before) - 1, 8), 1, -1):
        tail = before[-size:]
        if tail in affixes._region_set:
            return before[:-size], bare_place(tail), ""
    region, rest = affixes.split_region(before)
    if region and len(rest) >= 2:
        # The place leads (汉阴供电, 旬阳市…建材): it is the region of the name as well.
        return before, _places_of(region, affixes)[0], ""
    return before, None, ""


def _words_in(text: str, words: frozenset[str], longest: int, start: int = 0, end: int | None = None) -> list[str]:
    """Words of `words` found in `text[start:end]` left to right, longest at each position, not
    overlapping."""
    out: list[str] = []
    pos, stop = start, len(text) if end is None else end
    while pos < stop:
        for size in range(min(longest, len(text) - pos), 1, -1):
            if text[pos : pos + size] in words:
                out.append(text[pos : pos + size])
                pos += size
                break
        else:
            pos += 1
    return out


def region_words_in(text: str, affixes: Affixes) -> list[str]:
    """Region words found in `text` left to right (陕西省安康市 → [陕西省, 安康市])."""
    return _words_in(text, affixes._region_set, affixes._region_max)


def _places_of(region: str, affixes: Affixes) -> list[str]:
    """Bare places of leading region words, deepest first: 陕西省安康市汉阴县 → [汉阴, 安康, 陕西]."""
    return [bare_place(w) for w in reversed(region_words_in(region, affixes))]


def industry_words(body: str, affixes: Affixes) -> tuple[str, ...]:
    """Industry words in a name's body, longest first at each position (恒达建材 → 建材; 金穗农业科技 →
    农业科技), and a two-character word ending in 业 that ends the body (瀛湖牧业 → 牧业), which is
    an industry whether or not the list knows it. Only after the first two characters: a 字号 is at
    least two characters, and a word inside it (建设 of 建设银行 is the bank's) is not its trade."""
    out = _words_in(body, affixes._industry_set, affixes._industry_max, 2 if len(body) > 3 else 0, len(body) - 1)
    tail = body[-2:]
    if len(body) >= 4 and tail.endswith("业") and not any(tail in w for w in out):
        out.append(tail)
    return tuple(out)


__all__ = [
    "BRANCH_WORDS", "NameParts", "bare_place", "branch_parent", "industry_words", "name_parts", "region_words_in",
    "typed_head",
]
