"""The port under load, on PostgreSQL: checks per second and p95 with 1 and 2 workers (also with an
`Idempotency-Key` on every check, beside the same checks without one), a batch check of 1,000
subjects, and a record push in batches of 5,000 beside the CLI importer.

    python -m bench.api --subjects 100000

Builds the demo archive into a throw-away PostgreSQL database (`--pg` names the server, default
the test server), creates a key, and starts the real `creditbot api` server (uvicorn) twice, with
1 and with 2 workers on 127.0.0.1; both stay up and take turns (`--rounds`), so jobs that come and
go on a shared machine weigh on both alike. A load generator in this process keeps `--concurrency`
requests in flight over keep-alive connections, each request's bytes prepared before the clock
starts: each a full check (key, resolve by USCC, card with visibility rules, measures, check row,
audit rows). It shares the machine's cores with the server (httpx as the generator cost about
2 ms of CPU a request: it, not the server, was the ceiling the /healthz baseline used to show).
Each figure carries the CPU one request cost the server and the bench database's PostgreSQL
backends (from /proc), and the load average: the throughput alone says little on a busy machine.

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
from sqlalchemy import func, select, update

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
                          f"max_body_mb = 32\n[index]\nsnapshot = \"{workdir / 'name_index.snapshot'}\"\n",
                          encoding="utf-8")  # the snapshot stays in the throw-away directory
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


class _Conn:
    """One keep-alive HTTP/1.1 connection speaking just enough of the protocol for the bench: a
    request with a Content-Length body, an answer with a Content-Length body. httpx spends about
    2 ms of CPU per request, which on 2 shared cores was the ceiling the /healthz baseline showed."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> _Conn:
        return cls(*await asyncio.open_connection(host, port))

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


def _raw_request(method: str, path: str, key: str, body: dict[str, Any] | None, idem_key: str | None = None) -> bytes:
    """The bytes of one request, built before the clock starts (as a department system would hold
    its request ready; the server's work per check is the same)."""
    payload = json.dumps(body, ensure_ascii=False).encode() if body is not None else b""
    idem = f"Idempotency-Key: {idem_key}\r\n" if idem_key else ""
    head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {key}\r\n{idem}"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n")
    return head.encode() + payload


class CpuMeter:
    """CPU seconds (user + system) spent by the server's processes and by the PostgreSQL backends of
    the bench database, from /proc (Linux, PostgreSQL on this machine): what a request costs, which
    the throughput alone does not show while other jobs share the cores."""

    def __init__(self, server_pid: int, dbname: str) -> None:
        self.server_pid, self.dbname = server_pid, dbname
        self.tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def sample(self) -> tuple[float, dict[int, float], float]:
        """Server CPU, CPU per PostgreSQL backend (by pid: backends come and go), this process's CPU."""
        server, postgres = 0.0, {}
        for pid in os.listdir("/proc") if os.path.isdir("/proc") else []:
            if not pid.isdigit():
                continue
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
                fields = stat[stat.rindex(")") + 2:].split()
                used = (int(fields[11]) + int(fields[12])) / self.tick
                if int(pid) == self.server_pid or int(fields[1]) == self.server_pid:
                    server += used
                elif f" {self.dbname} " in Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(
                        errors="replace"):
                    postgres[int(pid)] = used
            except (OSError, ValueError, IndexError):
                continue  # a process that ended meanwhile
        return server, postgres, time.process_time()

    @staticmethod
    def per_request(before: tuple[float, dict[int, float], float], after: tuple[float, dict[int, float], float],
                    n: int) -> dict[str, Any]:
        # A backend that ended during the run is missed (the pool keeps its connections: few end).
        postgres = sum(used - before[1].get(pid, 0.0) for pid, used in after[1].items())
        spent = {"server": after[0] - before[0], "postgres": postgres, "load_generator": after[2] - before[2]}
        out: dict[str, Any] = {name: round(seconds * 1000 / n, 2) for name, seconds in spent.items()}
        out["total"] = round(sum(spent.values()) * 1000 / n, 2)
        # What the machine's cores would serve if nothing else ran on them (derived, not measured).
        out["cores_ceiling_per_s"] = round((os.cpu_count() or 1) * 1000 / out["total"]) if out["total"] else None
        return out


async def _load(base: str, key: str, requests: list[tuple[Any, ...]],
                concurrency: int, meter: CpuMeter | None = None) -> dict[str, Any]:
    """Each request is (method, path, body) or (method, path, body, Idempotency-Key)."""
    latencies: list[float] = []
    errors = 0
    raw = [_raw_request(request[0], request[1], key, request[2], *request[3:]) for request in reversed(requests)]
    host, port = base.removeprefix("http://").split(":")
    conns = [await _Conn.open(host, int(port)) for _ in range(concurrency)]

    async def worker(conn: _Conn) -> None:
        nonlocal errors
        while raw:
            request = raw.pop()
            t0 = time.perf_counter()
            status, _body = await conn.request(request)
            latencies.append((time.perf_counter() - t0) * 1000)
            if status != 200:
                errors += 1

    try:
        cpu_before = meter.sample() if meter else None
        started = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in conns))
        seconds = time.perf_counter() - started
    finally:
        for c in conns:
            c.close()
    out: dict[str, Any] = {
        "requests": len(latencies), "per_s": round(len(latencies) / seconds, 1),
        "p50_ms": round(statistics.median(latencies), 1), "p95_ms": round(percentile(latencies, 0.95), 1),
        "errors": errors,
    }
    if meter and cpu_before:
        out["cpu_ms_per_request"] = meter.per_request(cpu_before, meter.sample(), len(latencies))
    return out


async def _quiet(meter: CpuMeter, limit_s: float = 300.0) -> None:
    """Until the server's processes use under a tenth of a core for a second."""
    started = time.perf_counter()
    before = meter.sample()[0]
    while time.perf_counter() - started < limit_s:
        await asyncio.sleep(1.0)
        now = meter.sample()[0]
        if now - before < 0.1:
            return
        before = now


async def _rounds(servers: dict[int, Server], meters: dict[int, CpuMeter], key: str,
                  requests: list[tuple[str, str, dict[str, Any] | None]], concurrency: int,
                  rounds: int) -> dict[int, dict[str, Any]]:
    """The same requests against each server in turn, `rounds` times (1 worker, 2 workers, 1, 2, ...),
    both servers up all along: other jobs on the machine come and go, and taking turns gives both
    the same share of them. Per server: the median round, every round, and the machine's load."""
    runs: dict[int, list[dict[str, Any]]] = {workers: [] for workers in servers}
    for _ in range(rounds):
        for workers, server in servers.items():
            load = round(os.getloadavg()[0], 1)
            runs[workers].append({**await _load(server.base, key, requests, concurrency, meters[workers]),
                                  "load_average": load})
    out = {}
    for workers, done in runs.items():
        median = sorted(done, key=lambda r: r["per_s"])[len(done) // 2]
        out[workers] = {**median, "rounds_per_s": [r["per_s"] for r in done],
                        "rounds_load_average": [r["load_average"] for r in done]}
    return out


def _penalty_rows(n: int) -> list[dict[str, str]]:
    """Rows about organisations only when more than 12,000: the samples' ID numbers repeat every
    12,000 rows (`db.importers.samples.ric`) under other names, which a longer push would rightly
    refuse as a name that does not match its code."""
    from db.importers import samples

    base = dt.date(2025, 1, 2)
    persons = 5 if n <= 12_000 else 0
    return [samples.penalty_row(i, "2021", decision=base + dt.timedelta(days=i % 150), person_every=persons)
            for i in range(1, n + 1)]


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


async def steady_archive(db: Database) -> None:
    now = dt.datetime.now(dt.UTC)
    async with db.transaction() as s:
        await s.execute(update(Subject).values(updated_at=now - dt.timedelta(days=2)))
        last = await s.scalar(select(func.max(Subject.id)))
        await s.execute(update(Subject).where(Subject.id == last).values(updated_at=now - dt.timedelta(hours=1)))


async def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(SEED)
    name, url = await create_database(args.pg)
    db = Database(url)
    result: dict[str, Any] = {"subjects": args.subjects, "checks": args.checks, "concurrency": args.concurrency,
                              "rounds": args.rounds}
    try:
        await migrate.upgrade(db)
        t0 = time.perf_counter()
        await build_demo(db, n_subjects=args.subjects)
        result["build_s"] = round(time.perf_counter() - t0, 1)
        # A steady archive, not one loaded a minute ago (loaded two days ago, one subject changed an
        # hour ago). Since the subject change stream a worker reads each change once whatever its
        # age; kept so that runs compare with the figures measured before it.
        await steady_archive(db)
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
            servers = {workers: Server(url, workers, workdir) for workers in (1, 2)}
            try:
                meters = {}
                for workers, server in servers.items():
                    result[f"workers_{workers}"] = {"ready_s": round(server.wait_ready(), 1)}
                    meters[workers] = CpuMeter(server.process.pid, name)
                for workers, server in servers.items():
                    # /readyz answers from whichever worker accepts: one still loading its name index
                    # accepts nothing but takes CPU. Start once the whole server is quiet.
                    await _quiet(meters[workers])
                    await _load(server.base, key, checks[:50], args.concurrency)  # warm-up
                for label, requests in (("checks", checks), ("baseline_healthz", health)):
                    rounds = await _rounds(servers, meters, key, requests, args.concurrency, args.rounds)
                    for workers in servers:
                        result[f"workers_{workers}"][label] = rounds[workers]
                for workers, server in servers.items():
                    # Idempotency-Key (services/api_idempotency.py): the claim before each check and its
                    # answer stored in the check's transaction, against the same checks without a key,
                    # back to back on the same server; fresh keys and case numbers for both.
                    plain = [(m, p, {**b, "case_number": f"P{workers}-{i}"}) for i, (m, p, b) in enumerate(checks)]
                    keyed = [(m, p, {**b, "case_number": f"K{workers}-{i}"}, f"bench-{workers}-{i}")
                             for i, (m, p, b) in enumerate(checks)]
                    result[f"workers_{workers}"]["idempotency_key"] = {
                        "without_key": await _load(server.base, key, plain, args.concurrency, meters[workers]),
                        "with_key": await _load(server.base, key, keyed, args.concurrency, meters[workers]),
                    }
                for workers in servers:
                    progress(f"{workers} worker(s): {result[f'workers_{workers}']}")
                server = servers[2]
                times = []
                async with httpx.AsyncClient(base_url=server.base, headers={"X-API-Key": key}, timeout=120) as c:
                    for _ in range(3):
                        t = time.perf_counter()
                        r = await c.post("/v1/checks/batch", json={"matter": "procurement", "subjects": batch_subjects,
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
                async with httpx.AsyncClient(base_url=server.base, headers={"X-API-Key": key}, timeout=600) as c:
                    for start in range(0, len(rows), 5000):
                        r = await c.post("/v1/records/penalty", json={"rows": rows[start:start + 5000]})
                        if r.status_code != 200:
                            raise SystemExit(f"push failed: {r.status_code} {r.text[:300]}")
                push_s = time.perf_counter() - t
                result["push"] = {"rows": len(rows), "batch": 5000, "seconds": round(push_s, 1),
                                  "rows_per_s": round(len(rows) / push_s)}
            finally:
                for server in servers.values():
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
    p.add_argument("--rounds", type=int, default=3, help="turns of each server (1 and 2 workers) in the check runs")
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--push-rows", type=int, default=100_000)
    p.add_argument("--pg", default=os.environ.get("CREDITBOT_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test"),
                   help="PostgreSQL server (a throw-away database is created on it)")
    args = p.parse_args(argv)
    print(json.dumps(asyncio.run(run(args)), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
