"""The shapes real registered names take, and the extra keys each shape is asked by.

The core of a name (region prefix and organisation form cut off) is not enough for names as the
field writes them (市场监管 registers, 民政 registers of 社会组织, 农业农村 registers of collectives):

* a bracketed region in the middle: 瑞祥商贸（安康）有限公司 is asked as 瑞祥商贸 or 瑞祥商贸有限公司;
  brackets come in any width, with spaces inside (name_key already folds those);
* a branch or outlet after the parent's full name: 安康市恒达建材有限公司石泉分公司 is asked as
  恒达建材石泉分公司, 石泉恒达 or 恒达石泉分公司 (also 营业部, 门市部, 经营部, 分店, 分社, 支行, 办事处);
  a national operator's or a utility's branch also by place and operator (汉阴供电, 安康移动);
* a town and a village before a collective's form: 汉滨区关庙镇双溪村股份经济合作社 is asked as
  双溪村合作社, 关庙双溪村 or 双溪村.

`shape_keys` returns, for one name, the extra whole-name keys and the extra core keys of these
shapes; the index adds them to the name's row, so each stays one subject with one row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from nlp.normalize import Affixes, name_key

# Bracketed segments, any width (NFKC folds full-width brackets before this runs).
_BRACKETED = re.compile(r"[(\[【〔「](\s*[^()\[\]【】〔〕「」]*?\s*)[)\]】〕」]")
# Words after a parent's full name that make the name a branch or an outlet.
BRANCH_WORDS: tuple[str, ...] = (
    "分公司", "营业部", "门市部", "经营部", "分店", "分社", "分行", "支行", "办事处", "分部", "分厂", "供电公司",
)  # fmt: skip
# The parent's organisation form that ends the parent part of a branch name.
_PARENT_FORMS = ("股份有限公司", "有限责任公司", "有限公司", "公司", "合作社", "厂", "店")
_BRANCH = re.compile(
    "^(?P<parent>.+?(?:" + "|".join(_PARENT_FORMS) + "))(?P<place>[^有限公司]{2,8}?)(?P<word>"
    + "|".join(BRANCH_WORDS) + ")$"
)
_PLACE_SUFFIXES = ("街道", "县", "区", "市", "镇", "乡")
# Town and village inside a collective's or a shop's core: 关庙镇双溪村, 城关镇解放路.
_TOWN_VILLAGE = re.compile(r"^(?P<town>.{2,4}?)(?P<tw>镇|乡|街道)(?P<village>.{2,4}?)(?P<vw>村|社区|居委会)(?P<rest>.*)$")


@dataclass(frozen=True)
class ShapeKeys:
    """Extra keys of one name beyond its plain full key and core."""

    full: tuple[str, ...] = ()  # other whole-name keys (the name without its bracketed region)
    core: str | None = None  # a better core than the plain one (the parent's core of a branch)
    cores: tuple[str, ...] = ()  # further core keys (恒达建材石泉, 石泉恒达, 关庙双溪村 …)


def without_brackets(name: str) -> str | None:
    """The name with its bracketed segments removed, or None when it has none."""
    text = basic_brackets(name)
    stripped = _BRACKETED.sub("", text)
    return stripped if stripped != text else None


def basic_brackets(name: str) -> str:
    """NFKC-fold a name but keep its brackets (basic() turns them into spaces)."""
    import unicodedata

    return unicodedata.normalize("NFKC", name or "").replace("〔", "[").replace("〕", "]")


@cache
def _operators() -> tuple[str, ...]:
    """Words of national operators and utilities (nlp/data/operators.txt)."""
    from nlp.wordlists import load_word_list

    return tuple(row[0] for row in load_word_list("operators"))


def _place_variants(place: str, affixes: Affixes) -> list[str]:
    """安康市汉滨区 → itself, 安康市汉滨, and every region word inside it (汉滨区, 汉滨, 安康 …)."""
    out = [place]
    for suffix in _PLACE_SUFFIXES:
        if place.endswith(suffix) and len(place) - len(suffix) >= 2:
            out.append(place[: -len(suffix)])
            break
    out += [w for w in affixes.region_words if w in place and w != place]
    return list(dict.fromkeys(out))


_OPENING = frozenset("([【〔「（［")


def shape_keys(name: str, affixes: Affixes, full_key: str | None = None) -> ShapeKeys:
    """Extra keys of `name` for the shapes described in the module docstring.

    `full_key` is `name_key(name)` when the caller has it already (name_key converts traditional
    characters, the costliest step of building the index).
    """
    full: list[str] = []
    cores: list[str] = []
    core: str | None = None
    own_key = full_key if full_key is not None else name_key(name)
    key = own_key
    if not _OPENING.isdisjoint(name):
        plain = without_brackets(name)
        if plain is not None:
            key = name_key(plain)
            if key:
                full.append(key)
                core = affixes.core(key)
    branch = _BRANCH.match(key)
    if branch:
        parent_core = affixes.core(branch["parent"])
        if len(parent_core) >= 2:
            core = parent_core
            word = branch["word"]
            brands = [parent_core, *affixes.brands(parent_core)]
            places = _place_variants(branch["place"], affixes)
            for place in places:
                for brand in brands:
                    cores += [brand + place, place + brand, brand + place + word]
            # A national operator's or a utility's branch by its local form: 汉阴供电, 安康移动.
            operators = [op for op in _operators() if op in key]
            for place in places:
                if place in affixes.region_words:
                    cores += [place + op for op in operators] + [op + place for op in operators]
    town_core = core or affixes.core(key)
    tv = _TOWN_VILLAGE.match(town_core)
    if tv:
        town, village, rest = tv["town"], tv["village"], tv["rest"]
        for v in (village + tv["vw"], village):
            cores += [town + v + rest, v + rest, town + v]
            if rest:
                cores.append(v)
    own = {own_key, core}
    return ShapeKeys(
        tuple(dict.fromkeys(k for k in full if k not in own)),
        core,
        tuple(dict.fromkeys(c for c in cores if len(c) >= 2 and c not in own)),
    )


def is_branch(name: str) -> bool:
    return bool(_BRANCH.match(name_key(name)))


__all__ = ["BRANCH_WORDS", "ShapeKeys", "is_branch", "shape_keys", "without_brackets"]
