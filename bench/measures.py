"""What the lawful 逢办必查 answer costs: a check (card, list types, measures per matter, persons
behind the subject, check row, audit rows) against the card alone, on the same subjects.

    python -m bench.measures --subjects 20000 --checks 600

Builds the demo archive into a throw-away SQLite file (or uses `--db`), gives the listed subjects'
organisations a legal representative each (so the persons' work is measured too), then times, as
an official, `services.checks.view_and_check` for every matter in turn against
`services.lookup.view_subject` (the card with its audit row, no check) on the same subjects —
the baseline measured in the same run. Also the pure rule (`rules.measures.answer`) per call.
Prints ONE JSON line, with the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from db import migrate
from db.catalogue import current_catalogue
from db.demo.load import build_demo
from db.models import Account, CreditRecord, Subject, SubjectPerson
from db.session import Database
from rules.categories import BLACKLIST
from rules.masking import id_match_key
from rules.matters import MATTERS
from rules.measures import ListingFact, answer
from rules.roles import Viewer
from services.checks import view_and_check
from services.lookup import view_subject

SEED = 20261205
TODAY = dt.date(2026, 11, 30)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(ms: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(ms), 2), "p95_ms": round(percentile(ms, 0.95), 2),
            "per_s": round(len(ms) / (sum(ms) / 1000), 1)}


async def pick_subjects(db: Database, n: int) -> list[int]:
    """Every listed subject (the answers with measures) plus a random sample of the rest."""
    rng = random.Random(SEED)
    async with db.sessions() as s:
        listed = sorted(set((await s.scalars(select(CreditRecord.subject_id).where(CreditRecord.category == BLACKLIST))).all()))
        rest = (await s.scalars(select(Subject.id).where(Subject.id.not_in(listed)))).all()
    return (listed + rng.sample(list(rest), max(0, n - len(listed))))[:n]


async def link_persons(db: Database, subject_ids: list[int]) -> int:
    """A legal representative (a person subject) for each organisation among `subject_ids`."""
    async with db.transaction() as s:
        orgs = (await s.scalars(select(Subject.id).where(Subject.id.in_(subject_ids), Subject.kind != "自然人"))).all()
        now = dt.datetime.now(dt.UTC)
        people = [{"kind": "自然人", "name": f"法定代表人{i}", "id_hash": id_match_key(f"61090219800101{i:04d}", "bench"),
                   "id_masked": "610902********0000", "status": "存续", "created_at": now, "updated_at": now}
                  for i in range(len(orgs))]
        if not people:
            return 0
        await s.execute(insert(Subject.__table__), people)
        ids = (await s.scalars(select(Subject.id).where(Subject.name.like("法定代表人%")).order_by(Subject.id))).all()
        await s.execute(insert(SubjectPerson.__table__), [
            {"organisation_id": org, "person_id": person, "role": "legal_rep", "source": "bench", "created_at": now,
             "updated_at": now} for org, person in zip(orgs, ids, strict=False)
        ])  # fmt: skip
    return len(orgs)


async def main(subjects: int, checks: int, url: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"
        db = Database(url)
        await migrate.upgrade(db)
        await build_demo(db, n_subjects=subjects, rebuild=True)
        ids = await pick_subjects(db, checks)
        linked = await link_persons(db, ids)
        async with db.transaction() as s:
            account = Account(role="official", display_name="bench")
            s.add(account)
            await s.flush()
            viewer = Viewer(account_id=account.id, role="official")
        matters = list(MATTERS)
        for sid in ids[:20]:  # warm caches and connections
            await view_subject(db, sid, viewer, TODAY)
        card_ms, check_ms, with_measures = [], [], 0
        for i, sid in enumerate(ids):
            t0 = time.perf_counter()
            await view_subject(db, sid, viewer, TODAY)
            card_ms.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            done = await view_and_check(db, viewer, sid, matters[i % len(matters)], TODAY)
            check_ms.append((time.perf_counter() - t0) * 1000)
            with_measures += bool(done.check.measures)
        await db.dispose()
    catalogue = current_catalogue()
    facts = [ListingFact(BLACKLIST, "某部门", TODAY, None, key) for key in ("wage_arrears", "safety_serious")]
    rounds = 20000
    t0 = time.perf_counter()
    for i in range(rounds):
        answer(catalogue, "法人", facts, matters[i % len(matters)])
    rule_us = (time.perf_counter() - t0) / rounds * 1e6
    ours, base = summary(check_ms), summary(card_ms)
    return {
        "benchmark": "measures_check", "subjects": subjects, "checks": len(ids), "with_measures": with_measures,
        "organisations_with_a_legal_rep": linked, "database": url.split(":", 1)[0],
        "check": ours, "baseline_card_only": base,
        "cost_per_check_ms": round(ours["p50_ms"] - base["p50_ms"], 2),
        "rule_answer_us": round(rule_us, 1), "load_average": [round(x, 2) for x in os.getloadavg()],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, default=20_000)
    parser.add_argument("--checks", type=int, default=600)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.subjects, args.checks, args.db)), ensure_ascii=False))
