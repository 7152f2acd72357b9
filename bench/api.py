"""The port under load, on PostgreSQL: checks per second and p95 with 1 and 2 workers, a batch
check of 1,000 subjects, and a record push in batches of 5,000 beside the CLI importer.

    python -m bench.api --subjects 100000

Builds the demo archive into a throw-away PostgreSQL database (`--pg` names the server, default
the test server), creates a key, and starts the real `creditbot api` server (uvicorn) with 1 and
then 2 workers on 127.0.0.1. A load generator in this process keeps `--concurrency` requests in
flight: each a full check (key, resolve by USCC, card with visibility rules, measures, check row,
audit rows). The load generator shares the machine's cores with the server.

Baselines measured in the same run and the same way:
- `/healthz` on the same server and load generator: what HTTP, uvicorn and FastAPI cost alone;
- the CLI importer (`services.imports.import_file`) on the same 行政处罚 rows as one CSV file, into
  a fresh database of its own, beside the push of the same rows in batches of 5,000.
Prints ONE JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select, update

from bench.pgdb import create_database, drop_database
from db import migrate
from db.demo.load import build_demo
from db.models import Subject
from db.session import Database
from services.apikeys import create_key

SEED = 20261130
MATTERS = ["procurement", "tender", "award", "subsidy", "license", "other"]
TARGET_CHECKS_PER_S = 300
TARGET_BATCH_S = 2.0


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, url: str, workers: int, workdir: Path) -> None:
        self.port = _free_port()
        config = workdir / "config.toml"
        config.write_text("log_level = \"WARNING\"\n[api]\nrate_per_minute = 10000000\nburst = 1000000\n"
                          "max_body_mb = 32\n", encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITBOT_")}
        self.log = (workdir / f"server-{workers}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "--config", str(config), "api", "--db", url, "--port", str(self.port),
             "--workers", str(workers)], stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=workdir,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        self.workers = workers

    def wait_ready(self) -> float:
        started = time.perf_counter()
        ready = 0
        while time.perf_counter() - started < 300:
            if self.process.poll() is not None:
                raise SystemExit("API server exited")
            try:
                # Every worker must have its index: ask until as many 200s as workers in a row.
                ready = ready + 1 if httpx.get(f"{self.base}/readyz", timeout=5).status_code == 200 else 0
                if ready >= self.workers * 4:
                    return time.perf_counter() - started
            except httpx.HTTPError:
                ready = 0
            time.sleep(0.2)
        raise SystemExit("API server not ready")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


async def _load(base: str, key: str, requests: list[tuple[str, str, dict[str, Any] | None]],
                concurrency: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    queue = list(reversed(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": key}, timeout=60, limits=limits) as c:

        async def worker() -> None:
            nonlocal errors
            while queue:
                method, path, body = queue.pop()
                t0 = time.perf_counter()
                r = await c.request(method, path, json=body)
                latencies.append((time.perf_counter() - t0) * 1000)
                if r.status_code != 200:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    return {
        "requests": len(latencies), "per_s": round(len(latencies) / seconds, 1),
        "p50_ms": round(statistics.median(latencies), 1), "p95_ms": round(percentile(latencies, 0.95), 1),
        "errors": errors,
    }


def _penalty_rows(n: int) -> list[dict[str, str]]:
    from db.importers import samples

    base = dt.date(2025, 1, 2)
    return [samples.penalty_row(i, "2021", decision=base + dt.timedelta(days=i % 150)) for i in range(1, n + 1)]


async def _cli_importer(admin_dsn: str, rows: list[dict[str, str]], workdir: Path) -> dict[str, Any]:
    from db.importers import samples
    from services.imports import import_file

    name, url = await create_database(admin_dsn)
    db = Database(url)
    try:
        await migrate.upgrade(db)
        path = samples.write_csv(workdir / "penalty.csv", list(rows[0]), rows, encoding="utf-8-sig")
        started = time.perf_counter()
        report = await import_file(db, path, id_key="bench-key", dept_code=None)
        seconds = time.perf_counter() - started
        if not report.written:
            raise SystemExit(f"CLI import failed: {report.fatal or report.errors[:3]}")
        return {"rows": report.rows_read, "seconds": round(seconds, 1), "rows_per_s": round(report.rows_read / seconds)}
    finally:
        await db.dispose()
        await drop_database(admin_dsn, name)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(SEED)
    name, url = await create_database(args.pg)
    db = Database(url)
    result: dict[str, Any] = {"subjects": args.subjects, "checks": args.checks, "concurrency": args.concurrency}
    try:
        await migrate.upgrade(db)
        t0 = time.perf_counter()
        await build_demo(db, n_subjects=args.subjects)
        result["build_s"] = round(time.perf_counter() - t0, 1)
        # A steady archive, not one loaded a minute ago: the change feed looks back 15 minutes
        # (bot.startup.REFRESH_OVERLAP), so without this every worker would re-read all subjects
        # at every refresh during the run.
        async with db.transaction() as s:
            await s.execute(update(Subject).values(updated_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)))
        progress(f"archive built: {args.subjects} subjects in {result['build_s']} s")
        key = (await create_key(db, "SCJGJ", "基准测试", "check,query,push")).key
        async with db.sessions() as s:
            codes = [c for c in (await s.scalars(select(Subject.uscc).where(Subject.uscc.is_not(None)))).all() if c]
            names = (await s.scalars(select(Subject.name).where(Subject.kind != "自然人").limit(50000))).all()
        checks = [("POST", "/v1/checks", {"subject": rng.choice(codes), "matter": rng.choice(MATTERS),
                                          "case_number": f"B-{i}", "operator": "基准"}) for i in range(args.checks)]
        health = [("GET", "/healthz", None)] * args.checks
        batch_subjects = [rng.choice(codes) if i % 2 else rng.choice(names) for i in range(args.batch)]
        with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
            workdir = Path(tmp)
            for workers in (1, 2):
                server = Server(url, workers, workdir)
                try:
                    ready_s = server.wait_ready()
                    await _load(server.base, key, checks[:50], args.concurrency)  # warm-up
                    result[f"workers_{workers}"] = {
                        "ready_s": round(ready_s, 1),
                        "checks": await _load(server.base, key, checks, args.concurrency),
                        "baseline_healthz": await _load(server.base, key, health, args.concurrency),
                    }
                    progress(f"{workers} worker(s): {result[f'workers_{workers}']}")
                    if workers == 2:
                        times = []
                        async with httpx.AsyncClient(base_url=server.base, headers={"X-API-Key": key},
                                                     timeout=120) as c:
                            for _ in range(3):
                                t = time.perf_counter()
                                r = await c.post("/v1/checks/batch", json={"matter": "procurement",
                                                                           "subjects": batch_subjects,
                                                                           "case_number": "B-batch", "operator": "基准"})
                                times.append(time.perf_counter() - t)
                                if r.status_code != 200:
                                    raise SystemExit(f"batch failed: {r.status_code}")
                            resolved = r.json()["resolved"]
                        result["batch_check"] = {"subjects": args.batch, "resolved": resolved,
                                                 "median_s": round(statistics.median(times), 2)}
                        progress(f"batch: {result['batch_check']}")
                        rows = _penalty_rows(args.push_rows)
                        t = time.perf_counter()
                        async with httpx.AsyncClient(base_url=server.base, headers={"X-API-Key": key},
                                                     timeout=600) as c:
                            for start in range(0, len(rows), 5000):
                                r = await c.post("/v1/records/penalty", json={"rows": rows[start:start + 5000]})
                                if r.status_code != 200:
                                    raise SystemExit(f"push failed: {r.status_code} {r.text[:300]}")
                        push_s = time.perf_counter() - t
                        result["push"] = {"rows": len(rows), "batch": 5000, "seconds": round(push_s, 1),
                                          "rows_per_s": round(len(rows) / push_s)}
                finally:
                    server.stop()
            result["baseline_cli_importer"] = await _cli_importer(args.pg, _penalty_rows(args.push_rows), workdir)
    finally:
        await db.dispose()
        await drop_database(args.pg, name)
    one, two = result["workers_1"]["checks"], result["workers_2"]["checks"]
    result["target"] = {"checks_per_s_2_workers": TARGET_CHECKS_PER_S, "batch_s": TARGET_BATCH_S}
    result["meets_target"] = (two["per_s"] >= TARGET_CHECKS_PER_S and two["per_s"] > one["per_s"]
                              and result["batch_check"]["median_s"] <= TARGET_BATCH_S)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="联合奖惩应用端口基准测试（PostgreSQL）")
    p.add_argument("--subjects", type=int, default=100_000)
    p.add_argument("--checks", type=int, default=3000)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--push-rows", type=int, default=100_000)
    p.add_argument("--pg", default=os.environ.get("CREDITBOT_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test"),
                   help="PostgreSQL server (a throw-away database is created on it)")
    args = p.parse_args(argv)
    print(json.dumps(asyncio.run(run(args)), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
