"""Cold start: from process start to the first answer, with and without the index snapshot.

The parent writes the snapshot of an index it built and, as a stand-in for the database read,
the subjects' columns to a pickle file; then it starts a fresh Python process per variant and
times from `Popen` to the line the child prints once it has answered its first question:

* `snapshot`: import, lexicon and jieba, `index_snapshot.load`, answer;
* `rebuild`:  import, lexicon and jieba, read the subjects, build the index, answer.

Reading a million subjects from PostgreSQL adds seconds to `rebuild` (not to `snapshot`, which
reads only the rows changed since its watermark), so the gap measured here is a lower bound.

    python -m bench.cold_start --child snapshot|rebuild FILE QUESTION   (used by bench.resolve)
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
    else:
        raise SystemExit(__doc__)
