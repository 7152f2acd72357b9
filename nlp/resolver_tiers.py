"""Answering a typed name from the index: the tiers from exact name to fuzzy, and when one subject
is clearly meant. A mixin of `NameIndex` (nlp/resolver.py), which builds and stores the keys these
look-ups read."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from nlp.abbreviations import expansions
from nlp.evidence import LEGAL_FORM
from nlp.index_parts import (
    _BIGRAM_DF_CAP,
    _CONTAINS_CLEAR_LEN,
    _CONTAINS_POSTING_CAP,
    _FOLD,
    _FUZZY_RERANK,
    _RANK_CAP,
    _TYPO_RERANK,
    ALIAS_NAME,
    ALIAS_SHORT,
    Candidate,
    IndexEntry,
    Resolution,
)
from nlp.name_parts import NameParts
from nlp.normalize import name_key

# Candidates of one tier checked against what was typed (nlp.evidence); a tier with more stays a choice.
_EVIDENCE_CAP = 30
# Tiers that find the text as a piece of a longer name (a 字号 with part of its industry words, too).
_PARTIAL_TIERS = frozenset({"contains", "contains_typo", "gapped", "brand"})
# Tiers that look a reading up (a typed homophone, pinyin): confirmed against the readings.
_READ_TIERS = frozenset({"pinyin", "initials"})
# Tiers whose rows come from tables of hashed keys without a string comparison.
_HASHED_TIERS = frozenset({"exact", "core", "pinyin", "brand", "initials"})
# A town, township or street office at the head of a core (城关镇隆盛文具店): part of the address,
# not of the 字号, whose length decides whether a changed character is a slip or another firm.
_TOWN = re.compile(r"^\w{1,4}?(?:镇|乡|街道|街办)")
# Without a known industry word, the 字号 is taken to be at least this long (after any town).
_MIN_BRAND = 2


def _town_length(core: str) -> int:
    """How many characters of `core` a leading town name takes (0 without one)."""
    m = _TOWN.match(core)
    return m.end() if m and m.end() < len(core) else 0


class TierLookups:
    """The look-up half of `NameIndex`."""

    def _admitted(self, rows: list[int], admit: Callable[[IndexEntry], bool]) -> list[int]:
        """The rows whose subject `admit` accepts (order kept)."""
        out = []
        for r in rows:
            entry = self._entries.get(self._row_sid[r])
            if entry is not None and admit(entry):
                out.append(r)
        return out

    def resolve(
        self,
        name: str,
        division_code: str | None = None,
        limit: int = 5,
        exact_only: bool = False,
        admit: Callable[[IndexEntry], bool] | None = None,
    ) -> Resolution:
        """Rank the subjects `name` may mean and say whether one is clearly meant.

        `exact_only`: only the tiers that take the text as it is (exact, core, 字号, contained), no
        pinyin, typo or fuzzy guessing: for trying a whole message as a name before cutting it.
        `admit`: only subjects it accepts are candidates, decided before ranking, so a subject left
        out neither hides a later tier's match nor makes another one look ambiguous (who may find
        whom is the caller's rule: services.findable).

        Abbreviations (疾控, 邮储, 建行: nlp.abbreviations) are written out unless the text as typed
        is a registered name; the written-out form counts only where it matches literally, and a
        literal match of the text as typed (a firm whose 字号 is 建行) makes both a choice.
        """
        typed = self._resolve_typed(name, division_code, limit, exact_only, admit)
        if typed.status == "clear" and typed.candidates[0].how == "exact":
            return typed  # a registered name or alias as typed is that subject
        nearest: Resolution | None = None
        for form in expansions(name_key(name)):
            written = self._resolve_typed(form, division_code, limit, True, admit)
            if written.status != "none":
                return _with_written_out(typed, written, limit)
            nearest = nearest or (written if written.candidates else None)
        if nearest is not None:
            # 建行 with only 中国建设银行股份有限公司安康分行 here: not it, but the nearest name; beside
            # a firm holding 建行 literally, both are a choice.
            seen = {c.subject_id for c in typed.candidates}
            merged = typed.candidates + [c for c in nearest.candidates if c.subject_id not in seen]
            if typed.status == "none":
                seen = {c.subject_id for c in nearest.candidates}
                merged = nearest.candidates + [c for c in typed.candidates if c.subject_id not in seen]
                return Resolution("none", merged[:limit], nearest.conflict)
            return Resolution("ambiguous", merged[:limit], typed.conflict)
        return typed

    def _resolve_typed(
        self,
        name: str,
        division_code: str | None,
        limit: int,
        exact_only: bool,
        admit: Callable[[IndexEntry], bool] | None,
    ) -> Resolution:
        """`resolve` for the text exactly as given (no abbreviation written out)."""
        full = self._form_typo_fixed(name_key(name))
        if not full:
            return Resolution("none")
        region, _rest = self.affixes.split_region(full)
        implied = self._implied_division(region) if region else None
        prefix = self._prefixes(division_code)
        soft_prefix = self._prefixes(implied) if prefix is None else None
        qcore = self.affixes.core(full)
        if qcore in self.affixes.industries or len(qcore) < 2:
            qcore, _ = self.affixes.split_org_form(full)

        typed = self.evidence.parts(name)
        fallback: list[Candidate] = []
        near: list[Candidate] = []  # candidates that what was typed contradicts (nlp.evidence)
        conflict: str | None = None
        for tier_name, fetch, strong in self._tiers(full, qcore):
            if exact_only and tier_name not in EXACT_TIERS:
                continue
            live = list(dict.fromkeys(self._live_rows(fetch())))
            if admit is not None:
                live = self._admitted(live, admit)
            if not live:
                continue
            used_prefix = prefix or soft_prefix
            filtered = [r for r in live if self._in_division(r, used_prefix)] if used_prefix else live
            if not filtered and soft_prefix and not prefix:
                filtered, used_prefix = live, None
            if not filtered:
                # The user named a district and nothing there matches: show the others, never "clear".
                have = {c.subject_id for c in fallback}
                fallback.extend(c for c in self._rank(full, qcore, live, tier_name) if c.subject_id not in have)
                continue
            ranked = self._rank(full, qcore, filtered, tier_name)
            fitting, against = self._weigh(typed, ranked, division_code)
            if against:
                conflict = conflict or against[0][1]
                have = {c.subject_id for c in near}
                near.extend(c for c, _why in against if c.subject_id not in have)
            # A whole registered name typed (with its organisation form) found only as part of a
            # longer one (宏发农业有限公司 in 宏发农业科技…) is another registration: asked, not taken.
            # So is one found only through a 简称 (宏发农业有限公司 by the 简称 宏发农业 of …科技…).
            whole = bool(typed.form or typed.branch_word)
            partial = whole and (tier_name in _PARTIAL_TIERS or (bool(fitting) and fitting[0].matched.startswith("简称")))
            # A subject of another legal form is no match and still a rival (nlp.evidence.LEGAL_FORM).
            rivals = any(why == LEGAL_FORM for _c, why in against)
            if len(fitting) == 1 and not partial and not rivals and strong(fitting[0], qcore):
                if self._confirmed(fitting[0], tier_name, full, qcore):
                    return Resolution("clear", fitting[:1])
                fitting = []  # a hash collision: this tier holds nothing with the key typed
            if not fitting:
                continue
            shown = {c.subject_id for c in fitting}
            extra = [c for c in fallback + near if c.subject_id not in shown]
            return Resolution("ambiguous", (fitting + extra)[:limit] if len(fitting) < limit else fitting[:limit])
        if exact_only:
            if near and not fallback:
                return Resolution("none", near[:limit], conflict)
            return Resolution("ambiguous" if fallback else "none", (fallback + near)[:limit])
        fuzzy = self._fuzzy(full, qcore, prefix, admit)
        seen = {c.subject_id for c in fallback + near}
        fuzzy = [c for c in fuzzy if c.subject_id not in seen]
        if fallback:
            return Resolution("ambiguous", sorted(fallback + fuzzy, key=lambda c: -c.score)[:limit])
        if near:
            return Resolution("none", (near + fuzzy)[:limit], conflict)
        pool = fuzzy[:limit]
        if fuzzy and max(c.score for c in fuzzy) >= 80:
            return Resolution("ambiguous", pool)
        return Resolution("none", pool)

    def _form_typo_fixed(self, full: str) -> str:
        """The key with an organisation form typed as a homophone written right (有限工司 → 有限公司,
        合做社 → 合作社): the commonest slip of a pinyin keyboard at the end of a whole name."""
        for form in self.affixes.org_forms:
            n = len(form)
            if len(full) <= n + 1 or full.endswith(form) or len(form) < 2:
                continue
            tail = full[-n:]
            if (tail[0] == form[0] or tail[-1] == form[-1]) and self.pinyin.full(tail) == self.pinyin.full(form):
                return full[:-n] + form
        return full

    def _weigh(
        self, typed: NameParts, ranked: list[Candidate], division_code: str | None
    ) -> tuple[list[Candidate], list[tuple[Candidate, str]]]:
        """(candidates what was typed allows, those it contradicts with the reason), in rank order.
        Only the first `_EVIDENCE_CAP` are checked; the rest are kept as allowed, so a long list
        stays a choice and is never narrowed to one by elimination."""
        fitting: list[Candidate] = []
        against: list[tuple[Candidate, str]] = []
        for i, cand in enumerate(ranked):
            entry = self._entries.get(cand.subject_id) if i < _EVIDENCE_CAP else None
            if entry is None:
                fitting.append(cand)
                continue
            names = [(entry.name, "名称"), *entry.aliases]
            why = self.evidence.conflict(typed, names, entry.division_code, division_code, entry.kind)
            if why is None:
                fitting.append(cand)
            else:
                against.append((cand, why))
        return fitting, against

    def _confirmed(self, cand: Candidate, tier: str, full: str, qcore: str) -> bool:
        """A clear answer from a table of hashed keys only after the subject's own names give one of
        the keys the tier looked up (a 40-bit hash hit is a candidate, not the name: issue 21).
        Tiers that compare strings themselves (containment, one edit, typo, gapped) need nothing."""
        if tier not in _HASHED_TIERS:
            return True
        stored = self._stored_keys(cand.subject_id, readings=tier in _READ_TIERS or full.isascii())
        if tier == "brand" and any(qcore in key for key in stored):
            return True
        probes = {full, qcore, self.affixes.split_org_form(full)[0]}
        probes.add("".join(ch for ch in qcore if ch.isascii() and ch.isalpha()))
        parts = self.evidence.parts(full)
        if parts.is_branch and parts.branch_place:
            probes.add(parts.body + parts.branch_place)
        if full.isascii():
            letters = "".join(ch for ch in full if ch.isalpha())
            probes.add(letters)
            probes.update(self._strip_ascii(letters, self._region_pinyin, self._industry_pinyin + self._org_pinyin))
            probes.update(self._strip_ascii(letters, self._region_initials, ()))
        else:
            probes.add(self.pinyin.full(qcore))
        return not probes.isdisjoint(stored)

    def _tiers(self, full: str, qcore: str) -> list[tuple[str, Callable[[], list[int]], _Strong]]:
        """(how, row fetcher, is-one-candidate-enough) per tier, most trusted first; fetched lazily."""
        tiers: list[tuple[str, Callable[[], list[int]], _Strong]] = [
            ("exact", lambda: self._exact_rows(full, qcore), _always),
            ("core", lambda: self._core_rows(full, qcore), _always),
        ]
        if full.isascii():
            letters = "".join(ch for ch in full if ch.isalpha())
            if len(letters) >= 2:
                tiers.append(("pinyin", lambda: self._pinyin_rows(letters), _always))
                tiers.append(("brand", lambda: self._brand_pinyin_rows(letters), _always))
                if len(letters) >= 3:
                    # Three initials match half the region; four or more may stand for one firm.
                    tiers.append(("initials", lambda: self._initials_rows(letters), _min_len(4, letters)))
            return tiers
        if sum(ch.isascii() and ch.isalpha() for ch in qcore) >= 2:
            # hengda建材: the letters are pinyin, the Chinese is taken as written.
            tiers.append(("pinyin", lambda: self._mixed_rows(qcore), _always))
            return tiers
        tiers.append(("pinyin", lambda: self._t_pinyin.get(self.pinyin.full(qcore) or "-"), self._homophone_strong))
        tiers.append(("brand", lambda: self._brand_rows(qcore), _always))
        tiers.append(("contains", lambda: self._containing_rows(qcore), self._contains_strong))
        tiers.append(("edit", lambda: self._edit_rows(qcore), self._edit_strong))
        tiers.append(("contains_typo", lambda: self._containing_typo_rows(full, qcore), self._typo_strong))
        tiers.append(("gapped", lambda: self._gapped_rows(qcore), _min_core(4)))
        return tiers

    def _mixed_rows(self, qcore: str) -> list[int]:
        """Pinyin letters and Chinese in one core (hengda建材, 安康hengda建材 from English): rows whose
        core reads like the whole, or whose 字号 reads like the letters, and whose core or name holds
        every Chinese piece as written."""
        pieces = [p for p in re.split(r"[a-z0-9]+", qcore) if p]
        letters = "".join(ch for ch in qcore if ch.isascii() and ch.isalpha())
        spelled = self.pinyin.full(qcore)
        rows = self._t_pinyin.get(spelled) + self._t_pinyin_other.get(spelled)
        if not rows:
            rows = self._t_brand_pinyin.get(letters, cap=20000) + self._t_pinyin.get(letters) + self._t_pinyin_other.get(letters)
        if not pieces:
            return rows
        out = []
        for row in rows[:_RANK_CAP * 4]:
            core = self._row_core[row]
            if all(p in core for p in pieces):
                out.append(row)
                continue
            entry = self._entries.get(self._row_sid[row])
            if entry is not None and all(p in name_key(entry.name) for p in pieces):
                out.append(row)
        return out

    def _brand_rows(self, qcore: str) -> list[int]:
        """The 字号 typed alone. The industry list cannot know every trade, so a name whose core
        merely starts with the query (恒信 + 招标代理) competes with the known 字号 (恒信 + 建材)."""
        rows = self._t_brand.get(qcore, cap=20000)
        if rows:
            cores = self._row_core
            rows = rows + [r for r in self._containing_rows(qcore) if cores[r].startswith(qcore)]
        return rows

    def _containing_typo_rows(self, full: str, qcore: str) -> list[int]:
        """Rows holding the query with one character typed as a homophone (张记蒸面管, 有限工司):
        the commonest slip of a pinyin keyboard. Checked against the core and the whole name."""
        if len(qcore) < 4:
            return []
        out = []
        # One substituted character spoils at most two of the query's bigrams.
        need = max(2, len(qcore) - 3)
        for row in self._gather(qcore, need)[:_TYPO_RERANK]:
            if self._holds_with_homophone(self._row_core[row], qcore):
                out.append(row)
                continue
            entry = self._entries.get(self._row_sid[row]) if full != qcore else None
            if entry is not None and self._holds_with_homophone(entry.name.translate(_FOLD), full):
                out.append(row)
        return out

    def _typo_strong(self, cand: Candidate, qcore: str) -> bool:
        """A homophone in the trade words or the form is a slip (张记蒸面管, 有限工司); one in the
        字号 (中丰 for 众丰) may be another firm: a suggestion."""
        entry = self._entries.get(cand.subject_id)
        if entry is None or len(qcore) < 4:
            return False
        for name, _src in self._names_of(entry):
            core = self.keys_for(name).core
            brands = self.affixes.brands(core)
            # Where the 字号 ends: the shortest one known, else at least two characters past a town.
            brand_end = len(min(brands, key=len)) if brands else _town_length(core) + _MIN_BRAND
            for start in range(len(core) - len(qcore) + 1):
                window = core[start : start + len(qcore)]
                diff = [i for i in range(len(qcore)) if window[i] != qcore[i]]
                if len(diff) == 1 and start + diff[0] >= brand_end:
                    return True
        # Not within a core: in the whole name (有限工司), outside any 字号.
        return full_typo(qcore, [name_key(n) for n, _s in self._names_of(entry)])

    def _holds_with_homophone(self, text: str, q: str) -> bool:
        n = len(q)
        for start in range(len(text) - n + 1):
            window = text[start : start + n]
            diff = [i for i in range(n) if window[i] != q[i]]
            if len(diff) == 1 and self._homophones(window[diff[0]], q[diff[0]]):
                return True
        return False

    def _homophones(self, a: str, b: str) -> bool:
        return bool(set(self.pinyin.all_readings(a)) & set(self.pinyin.all_readings(b)))

    def _gapped_rows(self, qcore: str) -> list[int]:
        """Rows whose core holds the query's first two and last two characters in order with at most
        three characters left out between them (餐饮协会 → 餐饮行业协会, 刘记茶庄 → 刘记富硒茶庄)."""
        if len(qcore) < 4:
            return []
        head, tail = qcore[:2], qcore[-2:]
        middle = qcore[2:-2]
        rarer = min((head, tail), key=self._t_bigram.count)
        if self._t_bigram.count(rarer) > _CONTAINS_POSTING_CAP:
            return []
        out = []
        for row in self._t_bigram.get(rarer):
            core = self._row_core[row]
            i = core.find(head)
            j = core.rfind(tail)
            if i < 0 or j < i + 2:
                continue
            between = core[i + 2 : j]
            if 0 < len(between) - len(middle) <= 3 and _is_subsequence(middle, between):
                out.append(row)
        return out

    def _top_shared(self, qcore: str) -> list[tuple[int, int]]:
        """(row, how many of the query's informative bigrams it shares), most shared first, at most
        `_FUZZY_RERANK`. The typo tier and the fuzzy pass of one look-up ask for the same list: the
        last one is kept (one entry, same thread), so it is counted and ranked once."""
        last = self._last_counts
        if last is not None and last[0] == qcore:
            return last[1]
        counts: Counter[int] = Counter()
        for bg in {qcore[i : i + 2] for i in range(len(qcore) - 1)}:
            if self._t_bigram.count(bg) > _BIGRAM_DF_CAP:
                continue
            counts.update(self._t_bigram.get(bg))
        top = counts.most_common(_FUZZY_RERANK)
        self._last_counts = (qcore, top)
        return top

    def _gather(self, qcore: str, need: int = 1) -> list[int]:
        """Live rows sharing at least `need` of the query's informative bigrams, most shared first."""
        return [r for r, n in self._top_shared(qcore) if n >= need and self._alive[r]]

    def _brand_pinyin_rows(self, letters: str) -> list[int]:
        """The 字号 in pinyin, also followed by an industry's (chaoyangjianzhu → chaoyang)."""
        rows = self._t_brand_pinyin.get(letters, cap=20000)
        if rows:
            return rows
        for variant in self._strip_ascii(letters, self._region_pinyin, self._industry_pinyin + self._org_pinyin):
            rows = self._t_brand_pinyin.get(variant, cap=20000)
            if rows:
                return rows
        return []

    def _core_rows(self, full: str, qcore: str) -> list[int]:
        """The query's core, then its body with the region kept: 石泉恒达 is a branch's core key."""
        rows = self._t_core.get(qcore)
        if rows:
            return rows
        body, _ = self.affixes.split_org_form(full)
        rows = self._t_core.get(body) if body != qcore else []
        if rows:
            return rows
        # A branch typed with its parent's name cut short: 恒达建材有限公司石泉分公司 → 恒达建材石泉.
        parts = self.evidence.parts(full)
        if parts.is_branch and parts.body:
            # The branch's own key, else its parent's: offered as the nearest, never taken
            # (nlp.evidence: a branch asked is not its head office).
            rows = self._t_core.get(parts.body + parts.branch_place) if parts.branch_place else []
            return rows or self._t_core.get(parts.body)
        return []

    def _containing_rows(self, qcore: str) -> list[int]:
        """Rows whose core contains the query as one contiguous piece (瀛湖渔业 in 瀛湖渔业发展).

        Every such row carries each bigram of the query, so the rows of the rarest one are a
        superset; they are checked with a plain substring test.
        """
        if len(qcore) < 2:
            return []
        bigrams = {qcore[i : i + 2] for i in range(len(qcore) - 1)}
        rarest = min(bigrams, key=self._t_bigram.count)
        if self._t_bigram.count(rarest) > _CONTAINS_POSTING_CAP:
            return []
        return self._row_core.holding(self._t_bigram.get(rarest), qcore)

    def _contains_strong(self, cand: Candidate, qcore: str) -> bool:
        """Contained in one name is that name (瀛湖渔业 in 瀛湖渔业发展), unless it starts inside the
        字号: 泰业电器 is no name in 秦泰业电器, only a suggestion."""
        if len(qcore) < _CONTAINS_CLEAR_LEN:
            return False
        entry = self._entries.get(cand.subject_id)
        if entry is None:
            return False
        cores = [self.keys_for(name).core for name, _src in self._names_of(entry)]
        return any(qcore in core and not self._inside_brand(core, qcore) for core in cores)

    def _inside_brand(self, core: str, part: str) -> bool:
        """`part` starts inside the last word of the 字号 of `core` (泰业 of 秦泰业, 记蒸面馆 of
        李记蒸面馆); a longer 字号 is words of its own (都市丽人, 老街张记), and its last word may begin
        what was typed (丽人服饰, 张记蒸面馆)."""
        at = core.find(part)
        brands = self.affixes.brands(core)
        if at <= 0 or not brands:
            return False
        brand = min(brands, key=len)
        word_start = len(brand) - 2 if len(brand) >= 4 else 0
        return word_start < at < len(brand)

    def _exact_rows(self, full: str, qcore: str) -> list[int]:
        """Exact name or alias. A 简称, or a name that is only a core, identifies nothing alone:
        every subject sharing that core competes with it (恒达建材 in two counties)."""
        rows = self._t_full.get(full)
        if rows and (full == qcore or any(self._row_src[r] == ALIAS_SHORT or self._derived(r, full) for r in rows)):
            rows = rows + self._t_core.get(qcore)
        return rows

    def _derived(self, row: int, full: str) -> bool:
        """The row matched through a key its name only implies (瑞祥商贸有限公司 for
        瑞祥商贸（安康）有限公司): the same core elsewhere is as good a match."""
        entry = self._entries.get(self._row_sid[row])
        return entry is not None and all(name_key(n) != full for n, _src in self._names_of(entry))

    def _pinyin_rows(self, letters: str) -> list[int]:
        """Typed pinyin: every indexed reading, also without a region or organisation form."""
        for variant in [letters, *self._strip_ascii(letters, self._region_pinyin, self._org_pinyin)]:
            rows = self._t_pinyin.get(variant) + self._t_pinyin_other.get(variant)
            if rows:
                return rows
        return []

    def _initials_rows(self, letters: str) -> list[int]:
        rows = self._t_initials.get(letters)
        if rows:
            return rows
        for variant in self._strip_ascii(letters, self._region_initials, ()):
            rows = self._t_initials.get(variant)
            if rows:
                return rows
        return []

    @staticmethod
    def _strip_ascii(letters: str, prefixes: list[str], suffixes: list[str]) -> list[str]:
        out = []
        for p in prefixes:
            if p and letters.startswith(p) and len(letters) - len(p) >= 2:
                out.append(letters[len(p) :])
                break
        for s in suffixes:
            for base in [letters, *out]:
                if s and base.endswith(s) and len(base) - len(s) >= 2:
                    out.append(base[: -len(s)])
        return out

    def _edit_rows(self, qcore: str) -> list[int]:
        """Rows whose core is one edit (or one adjacent swap) away from the query core."""
        if len(qcore) < 3:
            return []
        variants = {qcore} | {qcore[:i] + qcore[i + 1 :] for i in range(len(qcore))}
        rows: list[int] = []
        for v in variants:
            rows.extend(self._t_delete.get(v, cap=2000))
        # Also the deletions of the query itself found as whole cores ("恒达建材s" → "恒达建材").
        for i in range(len(qcore)):
            rows.extend(self._t_core.get(qcore[:i] + qcore[i + 1 :], cap=2000))
        return [r for r in dict.fromkeys(rows) if OSA.distance(qcore, self._row_core[r], score_cutoff=1) <= 1]

    def _homophone_strong(self, cand: Candidate, qcore: str) -> bool:
        """A typed homophone is a typo when it changes one character (宏圆商贸 → 宏远商贸); a whole
        字号 spelled alike (隆干电器 for 龙乾电器) is as likely another firm: a suggestion."""
        entry = self._entries.get(cand.subject_id)
        if entry is None or self._brand_registered(qcore, cand.subject_id):
            return False
        for name, _src in self._names_of(entry):
            core = self.keys_for(name).core
            if len(core) != len(qcore):
                continue
            diff = [i for i, (a, b) in enumerate(zip(core, qcore, strict=True)) if a != b]
            if len(diff) > 1:
                continue
            brands = self.affixes.brands(core)
            in_trade = bool(diff) and bool(brands) and diff[0] >= len(min(brands, key=len))
            # A homophone in the industry words is weighed by nlp.evidence (茶叶 for 茶业).
            if not diff or in_trade or not self._piece_registered(qcore, diff[0], cand.subject_id):
                return True
        return False

    def _piece_registered(self, qcore: str, at: int, other_than: int) -> bool:
        """The typed characters around a homophone (鑫泓 of 鑫泓印务 for 新泓印务, 县河 for 仙河) are
        written so in another subject's name: a real word there, not a slip of the keyboard."""
        for piece in {qcore[max(0, at - 1) : at + 1], qcore[at : at + 2]}:
            if len(piece) < 2:
                continue
            rows = self._t_bigram.get(piece, cap=400)
            if any(self._row_sid[r] != other_than and self._alive[r] and piece in self._row_core[r] for r in rows):
                return True
        return False

    def _brand_registered(self, qcore: str, other_than: int) -> bool:
        """The 字号 typed is itself the 字号 of another subject: then a name read alike (玉亨商贸 for
        玉恒商贸) is as likely that firm in a new trade as a typo."""
        brands = self.affixes.brands(qcore)
        if not brands:
            return False
        brand = min(brands, key=len)
        for row in self._live_rows(self._t_brand.get(brand, cap=200)):
            if self._row_sid[row] != other_than and self._row_core[row].startswith(brand):
                return True
        return False

    def _edit_strong(self, cand: Candidate, qcore: str) -> bool:
        """One edit is trusted only where it cannot turn one real name into another.

        A swap keeps every character; a missing or extra character in a name of 4+ keeps enough;
        a substituted character in a short name (恒远建材 vs 恒达建材) may be a different firm.
        """
        core = self._core_of_candidate(cand, qcore)
        if len(core) != len(qcore):
            # A character missing or extra in the 字号 makes another firm (飞达 vs 飞远达); in the
            # industry words it is a slip (恒达建材s, 瀛湖渔业发).
            longer, shorter = (core, qcore) if len(core) > len(qcore) else (qcore, core)
            at = next((i for i, (a, b) in enumerate(zip(longer, shorter, strict=False)) if a != b), len(shorter))
            brands = self.affixes.brands(core)
            if brands and at <= len(min(brands, key=len)):
                return False
            # Without a known 字号, only a slip at the end (茶产业盛协会 is another association).
            if not brands and at < len(shorter) - 1:
                return False
            return min(len(core), len(qcore)) >= 4
        diff = [i for i, (a, b) in enumerate(zip(core, qcore, strict=True)) if a != b]
        if len(diff) == 2 and diff[1] == diff[0] + 1:
            # 祥瑞 for 瑞祥 is a slip, unless 祥瑞 is another firm's 字号.
            return len(core) >= 3 and not self._brand_registered(qcore, cand.subject_id)
        if len(diff) != 1:
            return False
        # A different character inside the 字号 makes a different firm (潇麟 vs 协麟); one in the
        # industry words is a typo (恒达建村 → 恒达建材). Without a known industry word only a
        # homophone in a long name is a typo (瀛湖鱼业发展): 老街王记 is not 老街张记.
        brands = self.affixes.brands(core)
        town = _town_length(core)
        if brands:
            brand = min(brands, key=len)
            if diff[0] >= len(brand):
                return True
            return (len(brand) - town >= 4 and self._homophones(core[diff[0]], qcore[diff[0]])
                    and not self._brand_registered(qcore, cand.subject_id))
        return (len(core) - town >= 6 and diff[0] >= town + _MIN_BRAND
                and self._homophones(core[diff[0]], qcore[diff[0]]))

    def _core_of_candidate(self, cand: Candidate, qcore: str) -> str:
        best = ""
        for name, _ in self._names_of(self._entries[cand.subject_id]):
            core = self.keys_for(name).core
            if OSA.distance(qcore, core, score_cutoff=1) <= 1:
                return core
            best = best or core
        return best

    def _rank(self, full: str, qcore: str, rows: list[int], how: str) -> list[Candidate]:
        base = _TIER_SCORE[how]
        best: dict[int, Candidate] = {}
        for row in rows[:_RANK_CAP]:
            sid = self._row_sid[row]
            entry = self._entries.get(sid)
            if entry is None:
                continue
            # Within a tier, prefer the name closest to what was typed (有限公司 vs 有限责任公司).
            closeness = fuzz.ratio(full, entry.name) / 100.0
            score = base + 4.0 * closeness + (0.5 if self._row_src[row] == ALIAS_NAME else 0.0)
            cand = best.get(sid)
            if cand is None or score > cand.score:
                made = self._candidate(row, round(score, 2), how)
                if made is not None:
                    best[sid] = made
        return sorted(best.values(), key=lambda c: (-c.score, c.subject_id))

    def _fuzzy(
        self, full: str, qcore: str, prefix: tuple[str, ...] | None, admit: Callable[[IndexEntry], bool] | None = None
    ) -> list[Candidate]:
        """Last resort: rare shared bigrams gather candidates, rapidfuzz (in C) scores them."""
        top = self._top_shared(qcore)
        if not top:
            return []
        rows = [r for r, _n in top if self._alive[r] and self._in_division(r, prefix)]
        if admit is not None:
            rows = self._admitted(rows, admit)
        cores = [self._row_core[r] for r in rows]
        brands = self.affixes.brands(qcore)
        brand = min(brands, key=len) if brands else ""
        # The typed 字号 weighs more than the industry word: 华泰商贸 is nearer to 华泰建材 than
        # 恒达建材 is, though both share half the characters (issue 21). Rows holding the 字号 are
        # scored as a group of their own, so many names of the same trade cannot crowd them out.
        groups = [list(range(len(rows)))]
        if len(brand) >= 2:
            holding = [i for i, core in enumerate(cores) if brand in core]
            groups = [holding, [i for i in range(len(rows)) if brand not in cores[i]]]
        scored: dict[int, Candidate] = {}
        has_brand: set[int] = set()
        for g, group in enumerate(groups):
            found = process.extract(qcore, [cores[i] for i in group], scorer=fuzz.ratio, limit=20)
            for _core, score, j in found:
                row = rows[group[j]]
                sid = self._row_sid[row]
                if sid not in scored:
                    made = self._candidate(row, round(score * 0.85, 2), "fuzzy")
                    if made is not None:
                        scored[sid] = made
                        if g == 0 and len(groups) > 1:
                            has_brand.add(sid)
        bonus = _BRAND_BONUS
        return sorted(scored.values(), key=lambda c: (-(c.score + (bonus if c.subject_id in has_brand else 0)), c.subject_id))[:10]


def _with_written_out(typed: Resolution, written: Resolution, limit: int) -> Resolution:
    """The answer when an abbreviation written out matched. Its clear answer stands unless the
    text as typed also matched a name literally (安康建行装饰 holds 建行 itself): then both are
    offered as a choice, the literal match first."""
    best = typed.best
    if best is None or best.how not in EXACT_TIERS:
        if written.status == "clear":
            return written
        first, second = written, typed
    else:
        if typed.status == "clear" and {c.subject_id for c in written.candidates} <= {best.subject_id}:
            return typed
        first, second = typed, written
    seen = {c.subject_id for c in first.candidates}
    merged = first.candidates + [c for c in second.candidates if c.subject_id not in seen]
    return Resolution("ambiguous", merged[:limit])


_Strong = Callable[[Candidate, str], bool]
# Points (of 85) a fuzzy candidate holding the typed 字号 is ranked up by; its own score is kept.
_BRAND_BONUS = 15.0
# Tiers that match the text as typed (no reading, typo or similarity guess).
EXACT_TIERS = frozenset({"exact", "core", "brand", "contains"})


def full_typo(qcore: str, keys: list[str]) -> bool:
    """`qcore` differs from a piece of a whole name key in one character past its first four: the
    slip is in the form or the trade words of a longer text (时光记录摄影有限工司)."""
    for key in keys:
        for start in range(len(key) - len(qcore) + 1):
            window = key[start : start + len(qcore)]
            diff = [i for i in range(len(qcore)) if window[i] != qcore[i]]
            if len(diff) == 1 and diff[0] >= 4:
                return True
    return False


def _always(cand: Candidate, qcore: str) -> bool:
    return True


def _is_subsequence(small: str, big: str) -> bool:
    it = iter(big)
    return all(ch in it for ch in small)


def _min_core(n: int) -> _Strong:
    def check(cand: Candidate, qcore: str) -> bool:
        return len(qcore) >= n

    return check


def _min_len(n: int, letters: str) -> _Strong:
    def check(cand: Candidate, qcore: str) -> bool:
        return len(letters) >= n

    return check


_TIER_SCORE = {
    "exact": 95.0,
    "core": 90.0,
    "pinyin": 85.0,
    "brand": 80.0,
    "initials": 75.0,
    "contains": 72.0,
    "edit": 70.0,
    "contains_typo": 68.0,
    "gapped": 66.0,
    "fuzzy": 0.0,
}
