"""Adversarial variants of every subject of the demo archive: the questions that must never get the
card of the wrong subject (issue 21).

    python -m bench.adversarial --subjects 20000

For each subject (organisations; persons have no such name):

* `industry`: its industry word swapped for another one (鑫源矿业 → 鑫源林业), as the whole name and
  as 字号 + industry;
* `region_drop`: the name without its leading region (恒达建材有限公司);
* `region_swap`: the leading region swapped for another county, or for the province;
* `head_for_branch`: a branch's head office asked (陕西秦巴物流有限公司 for …安康分公司);
* `branch_for_head`: a head office's branch in another county asked (…有限公司汉阴分公司).

The expected answer comes from the archive itself, never from the resolver: a card is allowed only
for a subject one of whose names is exactly what was asked (or, for 字号 + industry and a name
without its region, the one subject whose names hold it); any other card is a confident wrong
answer. A variant that names an existing subject exactly must get its card. Prints one JSON line
with the figures per class.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from nlp.evidence import SAME_TRADE
from nlp.index_parts import IndexEntry
from nlp.lexicon import Lexicon
from nlp.message_names import resolve_message
from nlp.name_parts import bare_place, branch_parent, name_parts, region_words_in
from nlp.name_shapes import without_brackets
from nlp.normalize import name_key
from nlp.pinyin import PinyinTable
from nlp.resolver import NameIndex

_COOP_FORM = re.compile("(?:农民)?(?:专业|股份经济|经济)?合作社$")
CLASSES = ("industry", "region_drop", "region_swap", "head_for_branch", "branch_for_head")
# Industry words swapped for each other: the trades of a city's register, none a homophone of another.
SWAPS = ("矿业", "林业", "渔业", "牧业", "实业", "建材", "商贸", "物流", "茶业", "食品", "医药", "科技", "农业",
         "建筑工程", "餐饮管理", "房地产开发", "电器", "服饰", "旅游开发", "劳务")  # fmt: skip


@dataclass(frozen=True)
class Variant:
    text: str
    kind: str
    source: int  # the subject it was made from
    allowed: frozenset[int]  # subjects whose card is a right answer
    must: int | None = None  # the subject whose card is the only right answer (an exact name)


class Archive:
    """Every name of the archive, to decide what a variant may be answered with. Names compare as
    the registration rules do: a place with or without its suffix and under its old name (旬阳县 is
    旬阳市, 陕西省 is 陕西), written first or in brackets (正大汽车销售服务（镇坪）有限公司), and
    有限公司 / 有限责任公司 / 股份有限公司 alike, and the forms of a 合作社 alike (a name differing only
    in them is the same name: 《企业名称登记管理规定实施办法》)."""

    def __init__(self, entries: list[IndexEntry], lexicon: Lexicon, index: NameIndex | None = None) -> None:
        self.lexicon = lexicon
        self.affixes = lexicon.affixes()
        self.index = index
        self.by_key: dict[str, set[int]] = defaultdict(set)
        self.by_rest: dict[str, set[int]] = defaultdict(set)  # names without their leading region
        self.by_bare: dict[str, set[int]] = defaultdict(set)  # names without their company form
        self.by_tail: dict[str, set[int]] = defaultdict(set)  # by their last four characters
        self.keys: dict[int, list[str]] = {}
        self.names: dict[int, tuple[str, ...]] = {}
        self.branches: set[int] = set()
        for e in entries:
            names = (e.name, *(a for a, _k in e.aliases))
            keys = [name_key(n) for n in names]
            self.keys[e.subject_id] = keys
            self.names[e.subject_id] = names
            if branch_parent(keys[0]):
                self.branches.add(e.subject_id)
            for name, k in zip(names, keys, strict=True):
                written = [k]
                plain = without_brackets(name)
                if plain is not None:  # the bracketed region written first
                    inner = "".join(region_words_in(k, self.affixes)[-1:])
                    written.append(inner + name_key(plain))
                for one in written:
                    self.by_key[self.same(one)].add(e.subject_id)
                    if (same := self.same(one)).endswith("公司") and not same.endswith("分公司"):
                        self.by_bare[same[:-2]].add(e.subject_id)
                    self.by_rest[self.same(self.affixes.split_region(one)[1])].add(e.subject_id)
                self.by_tail[k[-4:]].add(e.subject_id)

    def without_region(self, rest: str) -> frozenset[int]:
        """Subjects one of whose names, its leading region cut off, is `rest`."""
        return frozenset(self.by_rest.get(self.same(name_key(rest)), ()))

    def same(self, key: str) -> str:
        """The key as the registration rules compare names."""
        region, rest = self.affixes.split_region(key)
        places = []
        for word in region_words_in(region, self.affixes):
            code = self.lexicon.region_to_code.get(bare_place(word))
            family = self.lexicon.division_family(code) if code else ()
            places.append(min(family) if family else bare_place(word))
        for form in ("股份有限公司", "有限责任公司", "有限公司"):
            if rest.endswith(form):
                rest = rest[: -len(form)] + "公司"
                break
        rest = _COOP_FORM.sub("合作社", rest)
        return "".join(places) + rest

    def exact(self, text: str) -> frozenset[int]:
        return frozenset(self.by_key.get(self.same(name_key(text)), ()))

    def without_form(self, text: str) -> frozenset[int]:
        """Subjects one of whose names is `text` with a company form after it (汉滨区利和林业 for
        汉滨区利和林业有限公司): asked without its form, that company is the one meant."""
        return frozenset(self.by_bare.get(self.same(name_key(text)), ()))

    def with_place_word(self, text: str) -> frozenset[int]:
        """Subjects whose name is `text` with a town or street word after its region (汉滨区河街段记
        烧烤店 for 汉滨区段记烧烤店): the hand-written sets take a shop asked without it as that shop."""
        key = name_key(text)
        region, rest = self.affixes.split_region(key)
        if not region or len(rest) < 3:
            return frozenset()
        return frozenset(
            s for s in self.by_tail.get(key[-4:], ())
            for k in self.keys[s][:1]
            if k.startswith(region) and k.endswith(rest) and 0 < len(k) - len(key) <= 4
        )

    def _pool(self, part: str) -> list[int]:
        """Subjects that may hold `part`: those of its rarest character pair in the name index, or all."""
        if self.index is None or len(part) < 2:
            return list(self.keys)
        t = self.index._t_bigram
        pair = min((part[i : i + 2] for i in range(len(part) - 1)), key=t.count)
        return list({self.index._row_sid[r] for r in t.get(pair)})

    def gapped(self, brand: str, industry: str) -> frozenset[int]:
        """Subjects one of whose names holds the 字号 and then, at most three characters on, the
        industry word (宏图农业 in 宏图生态农业: the hand-written sets take this as the same name)."""
        if len(brand) < 2:
            return frozenset()
        pattern = re.compile(re.escape(brand) + ".{1,3}" + re.escape(industry))
        return frozenset(s for s in self._pool(brand) if s in self.keys and any(pattern.search(k) for k in self.keys[s]))

    def holding(self, part: str) -> frozenset[int]:
        """Subjects one of whose names holds `part`, its industry word also as the word of the same
        trade people type for it (茶业 / 茶叶: nlp.evidence)."""
        key = name_key(part)
        forms = {key}
        for pair in SAME_TRADE:
            a, b = sorted(pair)
            forms |= {f.replace(a, b) for f in forms} | {f.replace(b, a) for f in forms}
        return frozenset(s for f in forms for s in self._pool(f) if s in self.keys and any(f in k for k in self.keys[s]))

    def is_core(self, sid: int, part: str) -> bool:
        """One of the subject's names is `part` with at most a region before and a form after."""
        key = self.affixes.split_region(name_key(part))[1]
        for name in self.names[sid]:
            _region, rest = self.affixes.split_region(name_key(without_brackets(name) or name))
            if rest == key or self.affixes.split_org_form(rest)[0] == key:
                return True
        return False

    def firms(self, ids: frozenset[int]) -> frozenset[int]:
        """Of these, the ones that are no branch: a firm asked by its 字号 is not its 分公司."""
        return frozenset(i for i in ids if i not in self.branches)


def variants(
    entries: list[IndexEntry], lexicon: Lexicon, every: int = 1, branches: bool = False, index: NameIndex | None = None
) -> list[Variant]:
    """The variants of every `every`-th organisation (and of every branch and head office too, with
    `branches`), judged against the whole archive; deterministic (the subject id picks). `index`
    only narrows the search for names holding a piece (a superset; every hit is checked here)."""
    affixes = lexicon.affixes()
    pinyin = PinyinTable()
    archive = Archive(entries, lexicon, index)
    counties = [(code, short) for code, _name, short in lexicon.divisions if not code.endswith("00") and short]
    out: list[Variant] = []
    for n, e in enumerate(entries):
        if e.kind == "自然人":
            continue
        picked = n % every == 0
        if not picked and not (branches and "公司" in e.name):
            continue
        parts = name_parts(e.name, affixes, registered=True)
        sid, key = e.subject_id, name_key(e.name)
        region, _rest = affixes.split_region(key)
        # industry word swapped
        if picked and parts.industries and not parts.is_branch:
            word = parts.industries[-1]
            spelled = [pinyin.full(k) for k in archive.keys[sid]]
            # Never a word the subject's names hold, as written or read alike (茶业 for its 茶叶).
            other = next(w for w in SWAPS[sid % len(SWAPS):] + SWAPS
                         if w not in word and word not in w and not any(pinyin.full(w) in p for p in spelled))
            swapped = key.replace(word, other, 1)
            named = archive.exact(swapped) or archive.without_form(swapped)
            out.append(Variant(swapped, "industry", sid, named, _one(named)))
            brand_part = parts.body.replace(word, other, 1)
            # A branch never by its parent's 字号, only by a 简称 of its own typed exactly.
            held = archive.firms(archive.holding(brand_part) | archive.gapped(brand_part[: -len(other)], other))
            held |= archive.exact(brand_part)
            # A name that is exactly this 字号 and industry (its core or its 简称) is the one meant.
            exact = frozenset(h for h in held if archive.is_core(h, brand_part))
            held = exact or held
            out.append(Variant(brand_part, "industry", sid, held if len(held) == 1 else frozenset()))
        # region dropped
        if picked and region and len(key) - len(region) >= 4:
            rest = key[len(region):]
            same = archive.exact(rest) | archive.without_region(rest)
            out.append(Variant(rest, "region_drop", sid, same if len(same) == 1 else frozenset(), _one(same)))
            # region swapped: another county, or the province
            code, short = counties[sid % len(counties)]
            if (e.division_code and e.division_code.startswith(code[:6])) or region.startswith(short):
                code, short = counties[(sid + 1) % len(counties)]
            for place in (lexicon.division_name(code) or short, "陕西省"):
                if bare_place(place) in {bare_place(w) for w in region_words_in(region, affixes)}:
                    continue
                text = place + rest
                out.append(Variant(text, "region_swap", sid, archive.exact(text) | archive.with_place_word(text),
                                   _one(archive.exact(text))))
        # head office for a branch, and a branch for a head office
        if parts.is_branch:
            parent = branch_parent(key)
            if parent:
                out.append(Variant(parent, "head_for_branch", sid, archive.exact(parent), _one(archive.exact(parent))))
        elif parts.head_form and e.kind != "个体工商户":
            _code, short = counties[(sid + 3) % len(counties)]
            text = f"{key}{short}分公司"
            out.append(Variant(text, "branch_for_head", sid, archive.exact(text), _one(archive.exact(text))))
    return out


def _one(ids: frozenset[int]) -> int | None:
    return next(iter(ids)) if len(ids) == 1 else None


def judge(v: Variant, card: int | None) -> tuple[bool, bool]:
    """(right, confidently wrong): a card only of an allowed subject; the card of an exact name."""
    if card is not None and card not in v.allowed:
        return False, True
    if v.must is not None:
        return card == v.must, False
    return True, False


def card_of(text: str, index: NameIndex) -> int | None:
    """The card the chat would show first for this text (the pure half of services.subject_query)."""
    r = resolve_message(text, index).resolution
    return r.candidates[0].subject_id if r.status == "clear" and r.candidates else None


def evaluate(index: NameIndex, found: list[Variant]) -> dict[str, Any]:
    per: dict[str, Counter[str]] = {k: Counter() for k in CLASSES}
    wrong_examples: list[str] = []
    latencies: list[float] = []
    for v in found:
        t = time.perf_counter()
        card = card_of(v.text, index)
        latencies.append(time.perf_counter() - t)
        ok, bad = judge(v, card)
        tally = per[v.kind]
        tally["questions"] += 1
        tally["right"] += ok
        tally["confident_wrong"] += bad
        if bad and len(wrong_examples) < 20:
            got = index.get(card).name if card is not None and index.get(card) else card
            wrong_examples.append(f"{v.kind} {v.text!r} → {got}")
    total = sum(t["questions"] for t in per.values())
    return {
        "questions": total,
        "accuracy": round(sum(t["right"] for t in per.values()) / max(1, total), 4),
        "confident_wrong": sum(t["confident_wrong"] for t in per.values()),
        "per_class": {k: {"questions": t["questions"], "accuracy": round(t["right"] / max(1, t["questions"]), 4),
                          "confident_wrong": t["confident_wrong"]} for k, t in per.items()},
        "mean_ms": round(1000 * sum(latencies) / max(1, len(latencies)), 3),
        "wrong_examples": wrong_examples,
    }


def main(argv: list[str] | None = None) -> int:
    from bench.resolve import build_index, demo_entries, region_divisions

    parser = argparse.ArgumentParser(description="Adversarial variants of the demo archive (one JSON line).")
    parser.add_argument("--subjects", type=int, default=20_000)
    args = parser.parse_args(argv)
    lexicon = Lexicon.from_divisions(region_divisions())
    lexicon.warm_up()
    entries, _source = demo_entries(args.subjects)
    index = build_index(entries, lexicon)
    result = {"subjects": args.subjects, **evaluate(index, variants(entries, lexicon, index=index))}
    with open("/proc/loadavg") as fh:
        result["loadavg"] = fh.read().split()[:3]
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
