"""Running on a read replica: start-up, look-up latency and connections per API worker.

    python -m bench.replica --subjects 3000 --lookups 300

Builds a real primary and streaming hot standby (tests/standby.py: initdb, pg_basebackup -R,
pg_ctl; both stopped by PID), loads the demo archive on the primary, and measures in one run:

* start-up with `database.url` on the standby: the migrate step start-up ran before
  (`prepare_database`) against the one it runs now (`open_database`, then the bot's start);
* a look-up end to end (a card through the console chat, the real handlers and use case, USCCs of
  the demo) in four set-ups: the baseline (everything on the primary, audit and chat context in the
  look-up's own transactions, as before), reads on the standby with writes at once, the outbox alone,
  and reads on the standby with the outbox; every audit row is checked to have reached the primary.
  Twice: with the primary on this host, and with the primary `--primary-ms` away (a TCP relay in its
  own process delays each packet by half of it each way: a primary in another zone, the standby
  local);
* connections one `creditbot api` worker holds at most under 400 look-ups, 64 at a time, with the
  overflow as it was hard-coded (10) and with the setting's default, counted in pg_stat_activity.

Prints ONE JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import select

import bot.app as bot_app
from bot.console import ConsoleChat
from bot.transport import InProcessBotAPI
from db.demo.load import build_demo
from db.models import Subject
from db.session import Database
from services.accounts import ensure_local_account
from services.apikeys import create_key
from services.database_setup import open_database, prepare_database
from services.settings import DatabaseSettings, LimitSettings, Settings
from tests.api_server import free_port
from tests.standby import Replication, primary_and_standby, start_standby

REGION = "610900"
OFFICIAL = 990_001
ID_KEY = "creditbot-demo-key"
REQUESTS = 400

# A TCP relay that delays every chunk by DELAY seconds in each direction, in its own process so its
# work does not land on the measured event loop. argv: listen port, upstream port, delay (s).
RELAY = """
import asyncio, sys
LISTEN, UPSTREAM, DELAY = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
async def pump(reader, writer):
    queue = asyncio.Queue()
    loop = asyncio.get_running_loop()
    async def send():
        while (item := await queue.get()) is not None:
            due, data = item
            await asyncio.sleep(max(0.0, due - loop.time()))
            writer.write(data)
            await writer.drain()
        writer.close()
    sender = asyncio.create_task(send())
    while data := await reader.read(65536):
        queue.put_nowait((loop.time() + DELAY, data))
    queue.put_nowait(None)
    await sender
async def handle(reader, writer):
    up_reader, up_writer = await asyncio.open_connection("127.0.0.1", UPSTREAM)
    await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer), return_exceptions=True)
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", LISTEN)
    print("ready", flush=True)
    await server.serve_forever()
asyncio.run(main())
"""


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000, 2)


async def _seed(url: str, subjects: int) -> tuple[list[str], str]:
    db = Database(url)
    try:
        await prepare_database(db, REGION)
        await build_demo(db, n_subjects=subjects, id_key=ID_KEY)
        await ensure_local_account(db, OFFICIAL, "official", "YJJ", None, "基准测试")
        key = (await create_key(db, "YJJ", "基准测试", "check,query")).key
        async with db.transaction() as s:
            codes = [c for c in await s.scalars(select(Subject.uscc).where(Subject.uscc.is_not(None)).limit(5000)) if c]
        # Statistics before the copy, as a standby made of a settled primary has them (the planner
        # on a copy of never-analysed tables would make the standby look slower than it is).
        conn = await asyncpg.connect(url, timeout=10)
        try:
            await conn.execute("VACUUM ANALYZE")
        finally:
            await conn.close()
        return codes, key
    finally:
        await db.dispose()


async def _fetchval(url: str, query: str) -> Any:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        return await conn.fetchval(query)
    finally:
        await conn.close()


async def startup(rep: Replication) -> dict[str, Any]:
    db = Database(rep.standby.url())
    out: dict[str, Any] = {}
    try:
        try:
            await prepare_database(db, REGION)
            out["before"] = "starts"
        except Exception as exc:  # what start-up met before this change
            cause = getattr(getattr(exc, "orig", None), "__cause__", None) or exc
            out["before"] = f"refused ({type(cause).__name__})"
        t0 = time.perf_counter()
        await open_database(db, REGION)
    finally:
        await db.dispose()
    settings = Settings(database=DatabaseSettings(url=rep.standby.url()), limits=LimitSettings(messages_per_minute=10**6))
    app = bot_app.build_application(settings, InProcessBotAPI())
    async with app:
        await bot_app.start_services(app)
        await bot_app.stop_services(app)
    out["after"] = "starts"
    out["after_seconds"] = round(time.perf_counter() - t0, 2)
    return out


async def lookups(label: str, settings: Settings, codes: list[str], primary: str) -> dict[str, Any]:
    before = await _fetchval(primary, "SELECT count(*) FROM audit_entries")
    transport = InProcessBotAPI()
    app = bot_app.build_application(settings, transport)
    times: list[float] = []
    async with app:
        await bot_app.start_services(app)
        chat = ConsoleChat(app, transport, OFFICIAL)
        for code in codes[:20]:  # warm-up: pools filled, statements prepared
            await chat.handle_line(code)
        for code in codes[20:]:
            t0 = time.perf_counter()
            out = await chat.handle_line(code)
            times.append(time.perf_counter() - t0)
            assert out and "统一社会信用代码" in (out[0].text or ""), out
        await bot_app.stop_services(app)
    written = await _fetchval(primary, "SELECT count(*) FROM audit_entries") - before
    return {"setup": label, "lookups": len(times), "p50_ms": _ms(times, 0.5), "p95_ms": _ms(times, 0.95),
            "mean_ms": round(sum(times) / len(times) * 1000, 2), "audit_rows_on_primary": written}


async def api_connections(rep: Replication, key: str, codes: list[str], max_overflow: int | None,
                          workdir: Path) -> dict[str, Any]:
    """One `creditbot api` worker (api.db_pool_size 16), 64 concurrent look-ups; the most
    connections it held to the primary and to the standby (sampled every 20 ms)."""
    port = free_port()
    overflow = "" if max_overflow is None else f"max_overflow = {max_overflow}\n"
    config = workdir / f"api-{max_overflow}.toml"
    config.write_text(f'[database]\nurl = "{rep.primary.url()}?application_name=port"\n'
                      f'read_url = "{rep.standby.url()}?application_name=port"\n{overflow}'
                      f'outbox_dir = "{workdir / "outbox"}"\n[api]\nrate_per_minute = 1000000\nburst = 100000\n',
                      encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITBOT_")}
    log = (workdir / "api.log").open("ab")
    server = subprocess.Popen([sys.executable, "-m", "bot.cli", "--config", str(config), "api", "--host", "127.0.0.1",
                               "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env, cwd=workdir)
    peak = {"primary": 0, "standby": 0}
    count = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'port'"
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": key},
                                     timeout=60, limits=httpx.Limits(max_connections=64)) as client:
            while True:
                if server.poll() is not None:
                    raise RuntimeError((workdir / "api.log").read_text(encoding="utf-8")[-2000:])
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
            done = asyncio.Event()

            async def sample() -> None:
                while not done.is_set():
                    for name, cluster in (("primary", rep.primary), ("standby", rep.standby)):
                        peak[name] = max(peak[name], await _fetchval(cluster.url("postgres"), count))
                    await asyncio.sleep(0.02)

            sampler = asyncio.create_task(sample())
            t0 = time.perf_counter()
            work = [client.get(f"/v1/subjects/{c}") for c in (codes * 4)[:REQUESTS]]
            answers = await asyncio.gather(*work, return_exceptions=True)  # a loaded machine drops a few
            seconds = time.perf_counter() - t0
            done.set()
            await sampler
            failed = sum(1 for a in answers if isinstance(a, BaseException) or a.status_code != 200)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    return {"max_overflow": max_overflow if max_overflow is not None else "default",
            "peak_connections_primary": peak["primary"], "peak_connections_standby": peak["standby"],
            "requests": REQUESTS, "failed": failed, "requests_per_second": round(REQUESTS / seconds, 1)}


async def lookup_setups(primary: str, standby: str, picks: list[str], workdir: Path, check: str) -> list[dict[str, Any]]:
    """The four set-ups on `primary` (maybe through the relay); `check` reaches the primary directly."""
    limits = LimitSettings(messages_per_minute=10**6)
    setups = [
        ("baseline: primary only, writes in the look-up", DatabaseSettings(url=primary)),
        ("read_url, writes at once", DatabaseSettings(url=primary, read_url=standby)),
        ("outbox, primary only", DatabaseSettings(url=primary, outbox_dir=str(workdir / "o1"))),
        ("read_url + outbox", DatabaseSettings(url=primary, read_url=standby, outbox_dir=str(workdir / "o2"))),
    ]
    rows = [await lookups(label, Settings(database=d, limits=limits), picks, check) for label, d in setups]
    for row in rows:
        row["p50_vs_baseline"] = round(row["p50_ms"] / rows[0]["p50_ms"], 2)
        row["mean_vs_baseline"] = round(row["mean_ms"] / rows[0]["mean_ms"], 2)
    return rows


async def measure(rep: Replication, codes: list[str], key: str, n: int, workdir: Path,
                  primary_ms: float) -> dict[str, Any]:
    primary, standby = rep.primary.url(), rep.standby.url()
    result: dict[str, Any] = {"startup_on_standby": await startup(rep)}
    picks = codes[: n + 20]
    result["lookup_primary_local"] = await lookup_setups(primary, standby, picks, workdir, primary)
    relay_port = free_port()
    relay = subprocess.Popen([sys.executable, "-c", RELAY, str(relay_port), str(rep.primary.port),
                              str(primary_ms / 2000)], stdout=subprocess.PIPE, text=True)
    try:
        assert relay.stdout is not None and relay.stdout.readline().strip() == "ready"
        remote = primary.replace(f":{rep.primary.port}/", f":{relay_port}/")
        result[f"lookup_primary_{primary_ms:g}ms_away"] = await lookup_setups(remote, standby, picks, workdir, primary)
    finally:
        relay.terminate()
        relay.wait(timeout=10)
    result["api_worker_connections"] = [
        await api_connections(rep, key, codes, 10, workdir),  # as it was: overflow hard-coded to 10
        await api_connections(rep, key, codes, None, workdir),  # the setting's default
    ]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=3000)
    parser.add_argument("--lookups", type=int, default=300)
    parser.add_argument("--primary-ms", type=float, default=2.0, help="round trip to the primary in the second round")
    args = parser.parse_args()
    with primary_and_standby() as rep, tempfile.TemporaryDirectory(prefix="creditbot-replica-") as tmp:
        codes, key = asyncio.run(_seed(rep.primary.url(), args.subjects))
        start_standby(rep)
        out = asyncio.run(measure(rep, codes, key, args.lookups, Path(tmp), args.primary_ms))
    print(json.dumps({"bench": "replica", "subjects": args.subjects, **out}, ensure_ascii=False))


if __name__ == "__main__":
    main()
