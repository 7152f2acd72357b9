"""Benchmark of the name resolver against brute-force rapidfuzz, on demo data.

    python -m bench.resolve --subjects 100000

Prints ONE JSON line: latency percentiles, recall@1, build time and memory of `NameIndex`, the same
for a brute-force baseline (`process.extractOne(q, names, scorer=fuzz.WRatio)`), and their ratio.
The baseline is timed on a sample of the queries when N is large (say so in the JSON), because at
a million names one baseline query costs ~0.3 s.

The query mix is derived deterministically from the generated subjects (`derive_queries`); the
labelled accuracy test uses the same function, so the benchmark and the test judge the same things.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from nlp.index_parts import IndexEntry, Resolution
from nlp.lexicon import Lexicon
from nlp.resolver import NameIndex
from rules.codes import USCC_ALPHABET, complete_uscc

SEED = 20261127


# ---------------------------------------------------------------------- data


def region_divisions() -> list[tuple[str, str, str]]:
    """(code, name, short_name) of the configured region, from its data file."""
    from db.regions import default_region_file, load_region_file

    region = load_region_file(default_region_file())
    rows = [(region.code, region.name, region.short_name)]
    for d in region.divisions:
        rows.append((d.code, d.name, d.short_name))
        rows.extend((f.code, f.name, d.short_name) for f in d.former)
    return rows


def demo_entries(n: int, seed: int = SEED) -> tuple[list[IndexEntry], str]:
    """Index entries from the demo generator (or a stand-in while it does not exist) and its name."""
    try:
        from db.demo.subjects import iter_subjects
    except ImportError:
        return list(_synthetic(n, seed)), "synthetic"
    entries: list[IndexEntry] = []
    for i, s in enumerate(iter_subjects(n, seed=seed), start=1):
        aliases = tuple((a, "曾用名") for a in s.former_names) + tuple((a, "简称") for a in s.short_names)
        entries.append(IndexEntry(i, s.name, s.kind, s.uscc, s.division_code, aliases))
    return entries, "db.demo.generate"


_BRAND_CHARS = "恒达宏远金穗华泰鑫源瑞丰盛兴隆昌荣发祥和顺安康泰富佳信诚德茂益通汇聚联创新天元博宇嘉禾鼎力永盛晨光星辉"
_INDUSTRIES = ("建材", "商贸", "科技", "农业", "茶业", "建筑工程", "餐饮管理", "物流", "生物科技", "食品", "矿业", "实业")
_FORMS = ("有限公司", "有限责任公司", "股份有限公司", "农民专业合作社")


def _synthetic(n: int, seed: int) -> Iterator[IndexEntry]:
    """A stand-in shaped like the demo data: 字号+行业 per county, near-twins, aliases, valid USCCs."""
    rng = random.Random(seed)
    divisions = [d for d in region_divisions() if not d[0].endswith("00")]
    for i in range(1, n + 1):
        code, dname, _ = rng.choice(divisions)
        brand = "".join(rng.sample(_BRAND_CHARS, 2 if rng.random() < 0.7 else 3))
        industry = rng.choice(_INDUSTRIES)
        form = rng.choice(_FORMS)
        name = f"{dname}{brand}{industry}{form}"
        aliases: list[tuple[str, str]] = []
        if rng.random() < 0.2:
            aliases.append((f"{dname}{brand}{rng.choice(_INDUSTRIES)}{form}", "曾用名"))
        if rng.random() < 0.3:
            aliases.append((f"{brand}{industry}", "简称"))
        body = "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
        yield IndexEntry(i, name, "法人", complete_uscc(f"91{code}{body}"), code, tuple(aliases))


# ---------------------------------------------------------------------- queries


@dataclass(frozen=True)
class LabelledQuery:
    text: str
    kind: str
    expect: str  # "clear" | "ambiguous" (intended must be among the candidates) | "none"
    subject_id: int | None
    division_code: str | None = None
    group: int = 1  # how many subjects the query legitimately fits (ground truth)


def _mutate_code(code: str, rng: random.Random) -> str:
    """Look-alikes, lower case and spaces: how people type a code they read off a certificate."""
    typed = code.replace("0", "O", 1).replace("1", "I", 1).lower()
    return " ".join(typed[i : i + 4] for i in range(0, 18, 4))


def derive_queries(entries: list[IndexEntry], index: NameIndex, count: int, seed: int = SEED) -> list[LabelledQuery]:
    """A fixed mix of labelled queries of every kind, with labels computed from the data itself.

    Labels do not trust the resolver: the ground truth for "who else could be meant" is computed here
    by grouping all subjects on the same key (core, pinyin, initials, 字号) the query reduces to.
    """
    rng = random.Random(seed)
    keys_of = {e.subject_id: index.keys_for(e.name) for e in entries}
    by_core: dict[str, set[int]] = defaultdict(set)
    by_py: dict[str, set[int]] = defaultdict(set)
    by_init: dict[str, set[int]] = defaultdict(set)
    by_full: dict[str, set[int]] = defaultdict(set)
    for e in entries:
        names = [e.name, *(a for a, _ in e.aliases)]
        for name in names:
            k = index.keys_for(name)
            by_core[k.core].add(e.subject_id)
            by_py[k.pinyin].add(e.subject_id)
            by_init[k.initials].add(e.subject_id)
            by_full[k.full].add(e.subject_id)
    cores = list(by_core)
    division = {e.subject_id: e.division_code for e in entries}
    region_short = {code: short for code, _name, short in index.lexicon.divisions}
    homophones = _homophone_table(index, by_core)

    family = {code: tuple(index._prefixes(code) or ()) for code in region_short}
    # A branch is a registration of its own (issue 21): its parent's core, reading or 字号 never
    # names it, so it is neither the subject of such a query nor one of those it fits.
    from nlp.name_parts import branch_parent
    from nlp.normalize import name_key

    branches = {e.subject_id for e in entries if branch_parent(name_key(e.name))}

    def group_label(group: set[int], sid: int, div: str | None = None) -> dict[str, Any]:
        group = {g for g in group if g not in branches or g == sid}
        if div is not None:
            group = {g for g in group if (division.get(g) or "").startswith(family.get(div, (div,)))}
        return {"expect": "clear" if group == {sid} else "ambiguous", "group": len(group)}

    orgs = [e for e in entries if e.kind != "自然人"]
    out: list[LabelledQuery] = []
    plan = [
        ("exact", 0.22), ("core", 0.10), ("short", 0.06), ("district", 0.08), ("pinyin", 0.05),
        ("initials", 0.03), ("homophone", 0.10), ("swap", 0.06), ("former", 0.06), ("traditional", 0.03),
        ("code", 0.07), ("code_typo", 0.04), ("miss", 0.10),
    ]  # fmt: skip
    for kind, share in plan:
        want = max(1, round(count * share))
        tries = 0
        made = 0
        while made < want and tries < want * 50:
            tries += 1
            e = rng.choice(orgs)
            if e.subject_id in branches and kind in _PARENT_KEYED:
                continue
            k = keys_of[e.subject_id]
            q = _one(kind, e, k, rng, by_core, by_py, by_init, homophones, region_short, group_label, index)
            if q is not None and q.expect != "none":
                q = _with_group(q, kind, by_full, by_core, cores, index)
            if q is not None:
                out.append(q)
                made += 1
    return out


_PARENT_KEYED = frozenset({"core", "short", "district", "pinyin", "initials", "homophone", "swap"})


def _one(kind: str, e: IndexEntry, k: Any, rng: random.Random, by_core: dict[str, set[int]],
         by_py: dict[str, set[int]], by_init: dict[str, set[int]], homophones: dict[str, list[str]],
         region_short: dict[str, str], group_label: Any, index: NameIndex) -> LabelledQuery | None:  # fmt: skip
    sid = e.subject_id
    if kind == "exact":
        return LabelledQuery(e.name, kind, "clear", sid)
    if kind == "core":
        return LabelledQuery(k.core, kind, subject_id=sid, **group_label(by_core[k.core], sid))
    if kind == "short":
        shorts = [a for a, t in e.aliases if t == "简称"]
        if not shorts:
            return None
        core = index.keys_for(shorts[0]).core
        return LabelledQuery(shorts[0], kind, subject_id=sid, **group_label(by_core[core], sid))
    if kind == "district":
        if not e.division_code or e.division_code not in region_short:
            return None
        short = region_short[e.division_code]
        text = f"{short}的{k.core}" if rng.random() < 0.5 else f"{short}{k.core}"
        return LabelledQuery(text, kind, subject_id=sid, division_code=e.division_code, **group_label(by_core[k.core], sid, e.division_code))
    if kind == "pinyin":
        return LabelledQuery(k.pinyin, kind, subject_id=sid, **group_label(by_py[k.pinyin], sid))
    if kind == "initials":
        if len(k.initials) < 4:
            return None
        return LabelledQuery(k.initials, kind, subject_id=sid, **group_label(by_init[k.initials], sid))
    if kind == "homophone":
        positions = [i for i, ch in enumerate(k.core) if homophones.get(ch)]
        if not positions:
            return None
        i = rng.choice(positions)
        typo = k.core[:i] + rng.choice(homophones[k.core[i]]) + k.core[i + 1 :]
        if typo in by_core:
            return None  # the "typo" is another real name: not a typo
        return LabelledQuery(typo, kind, subject_id=sid, **group_label(by_py[k.pinyin], sid))
    if kind == "swap":
        if len(k.core) < 4:
            return None
        i = rng.randrange(0, len(k.core) - 1)
        if k.core[i] == k.core[i + 1]:
            return None
        typo = k.core[:i] + k.core[i + 1] + k.core[i] + k.core[i + 2 :]
        if typo in by_core or index.pinyin.full(typo) in by_py:
            return None
        near = {s for s in _one_edit_group(typo, by_core)}
        return LabelledQuery(typo, kind, "clear" if near == {sid} else "ambiguous", sid)
    if kind == "former":
        former = [a for a, t in e.aliases if t == "曾用名"]
        if not former:
            return None
        fk = index.keys_for(former[0])
        if fk.full in {index.keys_for(x.name).full for x in ()}:
            return None
        return LabelledQuery(former[0], kind, "clear", sid)
    if kind == "traditional":
        from opencc import OpenCC

        trad = OpenCC("s2t").convert(e.name)
        if trad == e.name:
            return None
        return LabelledQuery(trad, kind, "clear", sid)
    if kind == "code":
        if not e.uscc:
            return None
        return LabelledQuery(_mutate_code(e.uscc, rng), kind, "clear", sid)
    if kind == "code_typo":
        if not e.uscc:
            return None
        pos = rng.randrange(2, 17)
        wrong = rng.choice([c for c in USCC_ALPHABET if c != e.uscc[pos]])
        # Offered ("您输入的代码有误 … 是否要查它？"), never taken: the chat always asked (issue 21).
        return LabelledQuery(e.uscc[:pos] + wrong + e.uscc[pos + 1 :], kind, "ambiguous", sid)
    if kind == "miss":
        brand = "".join(rng.sample("鲲鹏骐骥麒麟翡翠琥珀玳瑁璀璨潇湘", 2))
        text = f"{brand}{rng.choice(_INDUSTRIES)}"
        if text in by_core or index.pinyin.full(text) in by_py:
            return None
        return LabelledQuery(text, kind, "none", None)
    raise ValueError(kind)


def _with_group(q: LabelledQuery, kind: str, by_full: dict[str, set[int]], by_core: dict[str, set[int]],
                cores: list[str], index: NameIndex) -> LabelledQuery | None:  # fmt: skip
    """Recompute the label where the simple key groups are not the whole truth."""
    from dataclasses import replace

    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    if kind in ("exact", "former", "traditional"):
        group = by_full.get(index.keys_for(q.text).full, set())
        if q.subject_id not in group:
            return q
        return replace(q, expect="clear" if len(group) == 1 else "ambiguous", group=len(group))
    if kind == "swap":
        group: set[int] = set()
        for core, _d, _i in process.extract(q.text, cores, scorer=OSA.distance, score_cutoff=1, limit=None):
            group |= by_core[core]
        return replace(q, expect="clear" if group == {q.subject_id} else "ambiguous", group=len(group))
    return q


def _one_edit_group(typo: str, by_core: dict[str, set[int]]) -> set[int]:
    """Subjects whose core is one adjacent swap away from `typo` (ground truth for swap labels)."""
    out: set[int] = set()
    for i in range(len(typo) - 1):
        back = typo[:i] + typo[i + 1] + typo[i] + typo[i + 2 :]
        out |= by_core.get(back, set())
    return out


def _homophone_table(index: NameIndex, by_core: dict[str, set[int]]) -> dict[str, list[str]]:
    """Characters of the data grouped by toneless pinyin: 达 → [大, 答, …]."""
    chars = {ch for core in by_core for ch in core}
    from pypinyin import lazy_pinyin

    extra = "大答打塔他她踏拓远原园源院圆元缘援苑愿怨渊兴星新心欣鑫辛信馨芯"
    groups: dict[str, set[str]] = defaultdict(set)
    for ch in chars | set(extra):
        groups[lazy_pinyin(ch)[0]].add(ch)
    return {ch: sorted(groups[lazy_pinyin(ch)[0]] - {ch}) for ch in chars}


# ---------------------------------------------------------------------- judging


def answer(text: str, index: NameIndex, lexicon: Lexicon) -> Resolution:
    """What the bot would answer: the pure half of the one use case every door calls
    (services.subject_query → nlp.message_names.resolve_message): codes first (a code one character
    off is offered, not taken), then the names a message carries whole, then the resolver."""
    from nlp.message_names import resolve_message

    return resolve_message(text, index).resolution


def judge(q: LabelledQuery, r: Resolution) -> tuple[bool, bool]:
    """(correct, confidently wrong)."""
    top = r.candidates[0].subject_id if r.candidates else None
    if r.status == "clear" and (q.subject_id is None or top != q.subject_id):
        return False, True
    if q.expect == "clear":
        return r.status == "clear" and top == q.subject_id, False
    if q.expect == "ambiguous":
        ids = {c.subject_id for c in r.candidates}
        # When more subjects fit than buttons are shown, "ambiguous" is the right answer by itself.
        shown = q.subject_id in ids or q.group > len(r.candidates)
        return (r.status == "ambiguous" and shown) or (r.status == "clear" and top == q.subject_id), False
    return r.status != "clear", False


# ---------------------------------------------------------------------- measuring


def _rss_mb() -> tuple[float, float]:
    """(current RSS, peak RSS) in MB from /proc; the peak is the process high-water mark."""
    cur = peak = 0.0
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                cur = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    return cur, peak


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 3)


def build_index(entries: Iterable[IndexEntry], lexicon: Lexicon) -> NameIndex:
    index = NameIndex(lexicon)
    index.add(list(entries))
    return index


def run(
    n: int,
    queries: int,
    baseline_sample: int | None,
    seed: int = SEED,
    cold_start: bool = True,
    db_search: bool = True,
    cold_rebuild: bool = True,
) -> dict[str, Any]:
    lexicon = Lexicon.from_divisions(region_divisions())
    lexicon.warm_up()
    entries, source = demo_entries(n, seed)
    gc.collect()
    rss_before, _ = _rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    index = build_index(entries, lexicon)
    build_s, build_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    rss_after, peak = _rss_mb()
    labelled = derive_queries(entries, index, queries, seed)
    latencies: list[float] = []
    hits = correct = wrong = with_target = 0
    cpu: list[float] = []
    for q in labelled:
        t, c = time.perf_counter(), time.thread_time()
        r = answer(q.text, index, lexicon)
        latencies.append((time.perf_counter() - t) * 1000)
        cpu.append((time.thread_time() - c) * 1000)
        ok, bad = judge(q, r)
        correct += ok
        wrong += bad
        if q.subject_id is not None:
            with_target += 1
            hits += bool(r.candidates) and r.candidates[0].subject_id == q.subject_id
    # Baseline: brute force over all current names (aliases included, as the index has them).
    from rapidfuzz import fuzz, process

    names: list[str] = []
    owner: list[int] = []
    tb = time.perf_counter()
    for e in entries:
        names.append(e.name)
        owner.append(e.subject_id)
        for a, _ in e.aliases:
            names.append(a)
            owner.append(e.subject_id)
    base_build = time.perf_counter() - tb
    targeted = [q for q in labelled if q.subject_id is not None]
    sample = targeted
    if baseline_sample is not None and len(targeted) > baseline_sample:
        sample = random.Random(seed).sample(targeted, baseline_sample)
    base_lat: list[float] = []
    base_hits = 0
    for q in sample:
        t = time.perf_counter()
        best = process.extractOne(q.text, names, scorer=fuzz.WRatio)
        base_lat.append((time.perf_counter() - t) * 1000)
        base_hits += best is not None and owner[best[2]] == q.subject_id
    _, peak_total = _rss_mb()
    ours_p95 = _pct(latencies, 95)
    base_p95 = _pct(base_lat, 95)
    extra: dict[str, Any] = {"handwritten": _handwritten(lexicon), "adversarial": _adversarial(entries, index, lexicon)}
    if db_search:
        from bench import db_text_search

        # The same queries (the baseline's sample when N is large), and the resolver on exactly those.
        pairs = [(q.text, q.subject_id) for q in sample if q.subject_id is not None]
        ours = sum(
            bool(r.candidates) and r.candidates[0].subject_id == want
            for r, want in ((answer(text, index, lexicon), want) for text, want in pairs)
        )
        extra["db_text_search"] = {
            "queries": len(pairs),
            "resolver_recall_at_1_same_queries": round(ours / max(1, len(pairs)), 4),
            "sqlite_fts5_trigram": db_text_search.fts5_trigram(entries, pairs),
            "postgresql_pg_trgm": db_text_search.pg_trgm(entries, pairs),
            # Fairer anchors beside today's two: word similarity, KNN, the FTS5 trigram OR fallback,
            # and codes looked up as codes (bench.db_text_search says how each is set up).
            **db_text_search.fts5_anchors(entries, pairs),
            **db_text_search.pg_trgm_anchors(entries, pairs),
        }
    if cold_start:
        from bench import cold_start as cold

        first = next((q.text for q in labelled if q.subject_id is not None), "恒达建材")
        extra["cold_start"] = cold.measure(index, entries, first, rebuild=cold_rebuild)
    with open("/proc/loadavg") as fh:
        load = fh.read().split()[:3]
    return extra | {
        "loadavg": load,
        "subjects": n,
        "data": source,
        "queries": len(labelled),
        "resolver": {
            "p50_ms": _pct(latencies, 50),
            "p95_ms": ours_p95,
            "p99_ms": _pct(latencies, 99),
            "mean_ms": round(statistics.fmean(latencies), 3),
            # CPU time of the answering thread: what the look-up costs without the waits for a core
            # that other processes on a shared machine cause.
            "cpu_p50_ms": _pct(cpu, 50),
            "cpu_p95_ms": _pct(cpu, 95),
            "cpu_p99_ms": _pct(cpu, 99),
            "recall_at_1": round(hits / max(1, with_target), 4),
            "labelled_accuracy": round(correct / len(labelled), 4),
            "confident_wrong": wrong,
            "build_s": round(build_s, 2),
            "build_cpu_s": round(build_cpu_s, 2),  # the machine is shared: CPU time says more than wall time
            "index_rss_mb": round(rss_after - rss_before, 1),
            "peak_rss_mb": round(peak, 1),
            "stats": index.stats(),
        },
        "baseline": {
            "method": "rapidfuzz process.extractOne(scorer=fuzz.WRatio) over all names and aliases",
            "queries_timed": len(sample),
            "sampled": len(sample) < len(targeted),
            "p50_ms": _pct(base_lat, 50),
            "p95_ms": base_p95,
            "p99_ms": _pct(base_lat, 99),
            "recall_at_1": round(base_hits / max(1, len(sample)), 4),
            "build_s": round(base_build, 2),
            "peak_rss_mb_process": round(peak_total, 1),
        },
        "speedup_p50": round(_pct(base_lat, 50) / max(1e-6, _pct(latencies, 50)), 1),
        "speedup_p95": round(base_p95 / max(1e-6, ours_p95), 1),
    }


def _handwritten(lexicon: Lexicon) -> dict[str, Any]:
    """Accuracy on the hand-written labelled sets (tests/data/handwritten_names*.toml), per class."""
    from bench.handwritten import SETS, evaluate

    out = {}
    for name, path in SETS.items():
        result = evaluate(lexicon, path)
        out[name] = {k: result[k] for k in ("questions", "accuracy", "confident_wrong", "per_class")}
    return out


def _adversarial(entries: list[IndexEntry], index: NameIndex, lexicon: Lexicon, sample: int = 4000) -> dict[str, Any]:
    """Adversarial variants (bench.adversarial) of an even sample of the archive's subjects, answered
    by the whole index: industry word swapped, region dropped or swapped, head office for a branch
    and back."""
    from bench.adversarial import evaluate, variants

    found = variants(entries, lexicon, every=max(1, len(entries) // sample), index=index)
    result = evaluate(index, found)
    return {k: result[k] for k in ("questions", "accuracy", "confident_wrong", "per_class", "wrong_examples")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Name resolver benchmark (one JSON line).")
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--baseline-sample", type=int, default=None, help="time the baseline on this many queries")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--no-cold-start", action="store_true", help="skip the two cold-start processes")
    parser.add_argument("--no-db-search", action="store_true", help="skip pg_trgm and SQLite FTS5")
    parser.add_argument("--no-cold-rebuild", action="store_true", help="time only the cold start from the snapshot")
    args = parser.parse_args(argv)
    sample = args.baseline_sample
    if sample is None and args.subjects > 200_000:
        sample = 200
    result = run(args.subjects, args.queries, sample, args.seed, not args.no_cold_start, not args.no_db_search,
                 not args.no_cold_rebuild)
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
