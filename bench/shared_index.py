"""One index per host: the memory of three processes holding the name index, each its own copy
versus one mapped snapshot between them (issue 27).

    python -m bench.shared_index --subjects 1000000

The parent builds the index of N generated subjects (timed), writes its snapshot (timed, size),
then starts three fresh processes twice: the bot and two port workers as they start from a
snapshot (`nlp.index_snapshot.load`, then a first answer), first with `shared=False` (the file read
into each process's own memory: each its own copy, as before) and then mapped (the default). Each
answers once from an empty index first, so what a first answer imports lazily is in its baseline. While
all three of a round are alive it reads each one's proportional set size (PSS: a page shared by
three processes counts a third to each) from /proc/<pid>/smaps_rollup, and the same before the
load, so `index_pss_mb` is what holding the index costs the host. Last, the CPU the mapped index
spends taking in subjects the change feed brings (renamed: old rows dead, new rows private), per
100,000. Prints ONE JSON line.

    python -m bench.shared_index --child copy|shared FILE QUESTION   (the three processes)
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = ("bot", "port worker 1", "port worker 2")


def pss_mb(pid: int | str = "self") -> dict[str, float]:
    """Pss and Rss of a process in MB, from /proc/<pid>/smaps_rollup (Linux 4.14+)."""
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as fh:
        for line in fh:
            key, _, rest = line.partition(":")
            if key in ("Rss", "Pss"):
                out[key.lower() + "_mb"] = round(int(rest.split()[0]) / 1024, 1)
    return out


def run(n: int) -> dict[str, Any]:
    from bench.resolve import build_index, demo_entries, region_divisions
    from nlp import index_snapshot
    from nlp.lexicon import Lexicon

    lexicon = Lexicon.from_divisions(region_divisions())
    lexicon.warm_up()
    entries, _source = demo_entries(n)
    question = entries[len(entries) // 2].name
    t0, c0 = time.perf_counter(), time.process_time()
    index = build_index(entries, lexicon)
    build = {"build_s": round(time.perf_counter() - t0, 1), "build_cpu_s": round(time.process_time() - c0, 1)}
    stats = index.stats()
    # Subjects the feed brings changed (renamed): the index's share of a refresh, per process.
    changed = [replace(e, name=e.name.replace("有限", "(变更)有限", 1) + "变更") for e in entries[: max(1, min(20_000, n // 10))]]
    del entries
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "index.snapshot"
        t0 = time.perf_counter()
        index_snapshot.save(index, path, None)
        write_s = time.perf_counter() - t0
        del index
        gc.collect()
        rounds = {mode: _round(mode, path, question) for mode in ("copy", "shared")}
        size_mb = path.stat().st_size / 1e6
        loaded = index_snapshot.load(path, lexicon)
        assert loaded is not None
        c0 = time.process_time()
        loaded[0].add(changed)
        feed_cpu = time.process_time() - c0
    with open("/proc/loadavg") as fh:
        load = fh.read().split()[:3]
    copy, shared = rounds["copy"]["index_pss_mb"], rounds["shared"]["index_pss_mb"]
    return {
        "subjects": n,
        "loadavg": load,
        **build,
        "index_stats": stats,
        "snapshot_mb": round(size_mb, 1),
        "snapshot_write_s": round(write_s, 1),
        "feed_changed_subjects": len(changed),
        "feed_index_cpu_s_per_100k": round(feed_cpu * 100_000 / len(changed), 2),
        "copy": rounds["copy"],
        "shared": rounds["shared"],
        "index_pss_ratio_shared_to_copy": round(shared / max(copy, 1e-6), 3),
        "note": "three fresh processes load the snapshot and answer once, as the bot and two port workers start; "
        "PSS read from /proc/<pid>/smaps_rollup while all three are alive",
    }


def _round(mode: str, path: Path, question: str) -> dict[str, Any]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.shared_index", "--child", mode, str(path), question],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        for _ in PROCESSES
    ]
    seen = []
    try:
        for proc in procs:
            assert proc.stdout is not None
            seen.append(json.loads(proc.stdout.readline()))
        after = [pss_mb(proc.pid) for proc in procs]  # all three alive and holding the index
    finally:
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.close()  # the child exits when its standard input closes
            proc.wait(timeout=120)
    per = [
        {"process": name, "before_load_pss_mb": s["before"]["pss_mb"], "pss_mb": a["pss_mb"], "rss_mb": a["rss_mb"],
         "load_s": s["load_s"], "answer": s["answer"]}
        for name, s, a in zip(PROCESSES, seen, after, strict=True)
    ]  # fmt: skip
    total = sum(p["pss_mb"] for p in per)
    before = sum(p["before_load_pss_mb"] for p in per)
    return {"processes": per, "total_pss_mb": round(total, 1), "index_pss_mb": round(total - before, 1)}


def _child(mode: str, path: str, question: str) -> None:
    from bench.resolve import region_divisions
    from nlp import index_snapshot
    from nlp.lexicon import Lexicon
    from nlp.message_names import resolve_message
    from nlp.resolver import NameIndex

    lexicon = Lexicon.from_divisions(region_divisions())
    lexicon.warm_up()
    resolve_message(question, NameIndex(lexicon))  # what a first answer imports lazily, before measuring
    gc.collect()
    before = pss_mb()
    t0 = time.perf_counter()
    loaded = index_snapshot.load(Path(path), lexicon, shared=mode == "shared")
    assert loaded is not None, "snapshot did not load"
    load_s = time.perf_counter() - t0
    result = resolve_message(question, loaded[0]).resolution
    answer = {"status": result.status, "best": result.candidates[0].name if result.candidates else None}
    sys.stdout.write(json.dumps({"before": before, "load_s": round(load_s, 2), "answer": answer}, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    sys.stdin.read()  # hold the index until the parent has measured


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Memory of three processes holding the name index (one JSON line).")
    parser.add_argument("--subjects", type=int, default=100_000)
    args = parser.parse_args(argv)
    sys.stdout.write(json.dumps(run(args.subjects), ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        raise SystemExit(main())
