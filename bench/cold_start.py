"""Cold start: from process start to the first answer, with and without the index snapshot.

The parent writes the snapshot of an index it built and, as a stand-in for the database read,
the subjects' columns to a pickle file; then it starts a fresh Python process per variant and
times from `Popen` to the line the child prints once it has answered its first question:

* `snapshot`: import, lexicon and jieba, `index_snapshot.load`, answer;
* `rebuild`:  import, lexicon and jieba, read the subjects, build the index, answer.

Reading a million subjects from PostgreSQL adds seconds to `rebuild` (not to `snapshot`, which
reads only the changes after its position in the stream), so the gap measured here is a lower bound.

    python -m bench.cold_start --child snapshot|rebuild FILE QUESTION   (used by bench.resolve)
    python -m bench.cold_start --replicated N TIMES

`--replicated` times the snapshot cold start at N × TIMES subjects where building that many is out
of reach of the machine (at 6M: about a quarter of an hour of CPU for the demo data, and hours of
wall time on a shared machine): it builds N subjects and lays the index out TIMES over (subject ids
and rows shifted, key tables re-sorted), so the file, the mapping and the checksum pass have the
size of N × TIMES subjects. The names repeat TIMES over, so the first answer is a choice between
the copies; what is timed is the size-dependent load path, not the resolver on a real province.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def measure(index: Any, entries: Sequence[Any], question: str, rebuild: bool = True) -> dict[str, Any]:
    """Both cold starts for `index` (built from `entries`), in seconds, each in a new process;
    without `rebuild` only the snapshot's (at millions of subjects the rebuild takes many minutes)."""
    from nlp import index_snapshot

    with tempfile.TemporaryDirectory() as tmp:
        snap = Path(tmp) / "index.snapshot"
        t0 = time.perf_counter()
        index_snapshot.save(index, snap, None)
        write_s = time.perf_counter() - t0
        rows = Path(tmp) / "subjects.pickle"
        if rebuild:
            with open(rows, "wb") as fh:
                pickle.dump([(e.subject_id, e.name, e.kind, e.uscc, e.division_code, e.aliases) for e in entries], fh, protocol=5)
        with_snapshot = _child("snapshot", snap, question)
        without = _child("rebuild", rows, question) if rebuild else {"elapsed_s": None, "answer": "not measured"}
        size_mb = snap.stat().st_size / 1e6
    return {
        "question": question,
        "with_snapshot_s": with_snapshot["elapsed_s"],
        "with_snapshot_answer": with_snapshot["answer"],
        "without_snapshot_s": without["elapsed_s"],
        "without_snapshot_answer": without["answer"],
        "snapshot_mb": round(size_mb, 1),
        "snapshot_write_s": round(write_s, 2),
        "note": "process start to first answer; the rebuild reads subjects from a local file standing in for the database",
    }


def _child(mode: str, path: Path, question: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.cold_start", "--child", mode, str(path), question],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - t0
    proc.wait(timeout=600)
    answer = json.loads(line) if line.strip() else {"status": "no answer"}
    return {"elapsed_s": round(elapsed, 2), "answer": answer}


def replicated(index: Any, times: int) -> Any:
    """`index` (bulk built, nothing pending) laid out `times` over as one index (see the module doc)."""
    import numpy as np

    from nlp.entry_columns import AliasColumn, Codes, EntryColumns
    from nlp.index_parts import RowStrings
    from nlp.packed import PackedText
    from nlp.resolver import NameIndex

    def tiled(values: Any, dtype: Any, step: int = 0) -> memoryview:
        base = np.frombuffer(values, dtype)
        return memoryview(np.concatenate([base + dtype(k * step) if step else base for k in range(times)]))

    def text(p: PackedText) -> PackedText:
        raw = bytes(p.text())
        offsets = np.frombuffer(p.offsets, np.uint64)
        parts = [offsets[:-1] + np.uint64(k * len(raw)) for k in range(times)] + [np.array([times * len(raw)], np.uint64)]
        return PackedText(raw * times, memoryview(np.concatenate(parts)))

    rows = len(index._row_sid)
    c = index._entries.columns()
    step = int(max(c["ids"])) + 1
    out = NameIndex(index.lexicon)
    out._entries = EntryColumns(
        tiled(c["ids"], np.int64, step), text(c["names"]), Codes(c["kinds"].values, tiled(c["kinds"].index, np.uint16)),
        text(c["usccs"]), Codes(c["divisions"].values, tiled(c["divisions"].index, np.uint16)),
        AliasColumn(tiled(c["aliases"].ids, np.int64, step), text(c["aliases"].text)),
    )  # fmt: skip
    out._row_sid = tiled(index._row_sid, np.int64, step)
    out._row_src = tiled(index._row_src, np.int8)
    out._alive = tiled(index._alive, np.uint8)
    out._row_core = RowStrings(text(index._row_core.packed()))
    for mine, theirs in zip(out._tables, index._tables, strict=True):
        hashes, table_rows = theirs.merged()
        h = np.tile(np.frombuffer(hashes, np.uint64), times)
        r = np.frombuffer(tiled(table_rows, np.uint32, rows), np.uint32)
        order = np.argsort(h, kind="stable")  # each copy's rows are higher than the last's: still sorted
        mine._hashes, mine._rows = memoryview(h[order]), memoryview(r[order])
    return out


def measure_replicated(n: int, times: int) -> dict[str, Any]:
    """The snapshot cold start at `n` × `times` subjects (see the module doc)."""
    from bench.resolve import build_index, demo_entries, region_divisions
    from nlp import index_snapshot
    from nlp.lexicon import Lexicon

    lexicon = Lexicon.from_divisions(region_divisions())
    entries, _source = demo_entries(n)
    question = entries[len(entries) // 2].name
    index = replicated(build_index(entries, lexicon), times)
    del entries
    stats = index.stats()
    with tempfile.TemporaryDirectory() as tmp:
        snap = Path(tmp) / "index.snapshot"
        t0 = time.perf_counter()
        index_snapshot.save(index, snap, None)
        write_s = time.perf_counter() - t0
        del index
        first = _child("snapshot", snap, question)
        second = _child("snapshot", snap, question)
        size_mb = snap.stat().st_size / 1e6
    with open("/proc/loadavg") as fh:
        load = fh.read().split()[:3]
    return {
        "subjects": n * times, "built_subjects": n, "times": times, "stats": stats, "loadavg": load,
        "snapshot_mb": round(size_mb, 1), "snapshot_write_s": round(write_s, 1),
        "cold_start_s": [first["elapsed_s"], second["elapsed_s"]], "answers": [first["answer"], second["answer"]],
        "note": "process start to first answer from the snapshot; the index is the built one laid out "
        f"{times} times over (names repeat, so the answer is a choice between copies)",
    }  # fmt: skip


def _run_child(mode: str, path: str, question: str) -> None:
    from bench.resolve import region_divisions
    from nlp.lexicon import Lexicon
    from nlp.message_names import resolve_message

    lexicon = Lexicon.from_divisions(region_divisions())
    lexicon.warm_up()
    started = time.perf_counter()
    if mode == "snapshot":
        from nlp import index_snapshot

        loaded = index_snapshot.load(Path(path), lexicon)  # mapped read-only, as every process does
        assert loaded is not None, "snapshot did not load"
        index = loaded[0]
    else:
        from nlp.index_parts import IndexEntry
        from nlp.resolver import NameIndex

        with open(path, "rb") as fh:
            rows = pickle.load(fh)  # our own file, written by `measure`
        index = NameIndex(lexicon)
        index.add([IndexEntry(*row) for row in rows])
    load_s = time.perf_counter() - started
    result = resolve_message(question, index).resolution
    best = result.candidates[0].name if result.candidates else None
    rss = 0.0
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
    # CPU seconds of the whole child: on a shared machine the wall time also holds the waits for a core.
    answer = {"status": result.status, "best": best, "index_s": round(load_s, 2),
              "process_cpu_s": round(time.process_time(), 2), "process_rss_mb": round(rss, 1)}
    sys.stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        _run_child(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) == 4 and sys.argv[1] == "--replicated":
        sys.stdout.write(json.dumps(measure_replicated(int(sys.argv[2]), int(sys.argv[3])), ensure_ascii=False) + "\n")
    else:
        raise SystemExit(__doc__)
