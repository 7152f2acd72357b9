"""Never block everyone: ordinary users' answer times while one attacker sends the costliest inputs.

    python -m bench.stall --subjects 20000 --users 8 --seconds 30

Builds the demo archive into a throw-away SQLite file (or uses `--db`), starts the real Application
on the in-process Bot API, and feeds updates through its update queue, exactly as polling or the
webhook does (so the Application's update processor decides what runs side by side). N ordinary
officials ask ordinary questions (names, codes, misses), one at a time each with a short pause. The
attacker — one person holding a collector's, an official's and an admin's account, flood limit off —
sends, without waiting for answers, a stream of the most expensive inputs found: large valid uploads
(and 确认导入 of them), /report PDFs of the subject with the most records, /due with the widest dates,
/stats, /grades and /ontime charts, /overdue, texts of 4,000 characters, queries matching thousands
of names; and the nightly full evaluation is started from the bot's own job now and then.

First the ordinary users alone (the baseline, same run), then with the attacker. Latency is from
the update entering the queue to the bot's first message to that chat. Prints ONE JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import json
import random
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from telegram import Update

import bot.app as bot_app
from bench.e2e import message_mix, percentile
from bot.console import ConsoleChat
from bot.transport import InProcessBotAPI, Outgoing
from db import migrate
from db.demo.load import build_demo
from db.importers import samples
from db.models import CreditRecord, Subject
from db.session import Database
from services.accounts import ensure_local_account
from services.evaluation import full_run
from services.settings import DatabaseSettings, LimitSettings, Settings

ANSWERS = ("sendMessage", "sendDocument", "sendPhoto")


class QueuedChat(ConsoleChat):
    """A chat whose updates enter the Application's update queue, as polling and the webhook put them."""

    async def _deliver(self, update: Update) -> None:
        # Round-trip through JSON, as ConsoleChat does: the Application sees what a webhook hands it.
        parsed = Update.de_json(json.loads(json.dumps(update.to_dict())), self.app.bot)
        await self.app.update_queue.put(parsed)


class Replies:
    """Wakes whoever waits for the next answer in a chat, and counts the attacker's answers by kind."""

    def __init__(self, transport: InProcessBotAPI, attacker_chats: set[int]) -> None:
        self.waiters: dict[int, asyncio.Event] = {}
        self.kinds: Counter[str] = Counter()
        self.attacker_chats = attacker_chats
        transport.listeners.append(self._on_sent)

    def _on_sent(self, out: Outgoing) -> None:
        if out.method not in ANSWERS:
            return
        if out.chat_id in self.attacker_chats:
            self.kinds[_kind(out)] += 1
        event = self.waiters.get(out.chat_id)
        if event is not None:
            event.set()

    async def ask(self, chat: QueuedChat, text: str, timeout: float = 60.0) -> float:
        event = self.waiters[chat.chat.id] = asyncio.Event()
        t0 = time.perf_counter()
        await chat.send_text(text)
        await asyncio.wait_for(event.wait(), timeout)
        return (time.perf_counter() - t0) * 1000


def _kind(out: Outgoing) -> str:
    text = out.text or ""
    if out.method == "sendDocument":
        return "document"
    if out.method == "sendPhoto":
        return "chart"
    if "确认导入" in str(out.buttons) or "检查完成" in text:
        return "upload_checked"
    if "已导入“" in text:
        return "upload_written"
    if "正在处理" in text or "还在处理" in text or "排队" in text:
        return "queued_or_busy"
    return "text"


def big_upload(path: Path, rows: int) -> Path:
    today = dt.date.today()
    return samples.write_csv(
        path, samples.HEADERS[("penalty", "2021")],
        (samples.penalty_row(i, decision=today, person_every=0) for i in range(1, rows + 1)),
    )


async def normal_user(replies: Replies, chat: QueuedChat, questions: list[str], until: float, rng: random.Random) -> list[float]:
    latencies = []
    for text in itertools.cycle(questions):
        if time.perf_counter() >= until:
            break
        latencies.append(await replies.ask(chat, text))
        await asyncio.sleep(rng.uniform(0.1, 0.4))
    return latencies


async def attacker(
    chats: dict[str, QueuedChat], inputs: list[tuple[str, str]], until: float, every: float, db: Database,
) -> tuple[int, int]:
    """Open loop: one costly input every `every` seconds, answered or not. Returns inputs sent and
    full evaluation runs started."""
    sent = evaluations = 0
    runs: list[asyncio.Task[Any]] = []
    for role, line in itertools.cycle(inputs):
        if time.perf_counter() >= until:
            break
        chat = chats[role]
        if line == "@evaluate":  # the nightly full run, as the bot's job starts it (one at a time)
            if not runs or runs[-1].done():
                runs.append(asyncio.create_task(full_run(db, dt.date.today())))
                evaluations += 1
        elif line.startswith("@"):
            await chat.send_file(Path(line[1:]))
        elif line.startswith("#"):
            try:
                await chat.press(int(line[1:]))
            except Exception:
                continue  # no button yet (the check has not finished): skip
        else:
            await chat.send_text(line)
        sent += 1
        await asyncio.sleep(every)
    finished = sum(1 for t in runs if t.done())
    for t in runs:
        t.cancel()
    return sent, finished


def stats_of(latencies: list[float]) -> dict[str, Any]:
    return {
        "answers": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "max_ms": round(max(latencies), 1),
    }


async def phase(replies: Replies, users: list[QueuedChat], questions: list[str], seconds: float) -> list[float]:
    until = time.perf_counter() + seconds
    results = await asyncio.gather(
        *(normal_user(replies, u, questions[i::len(users)], until, random.Random(i)) for i, u in enumerate(users))
    )
    return [x for r in results for x in r]


async def main(
    subjects: int, n_users: int, seconds: float, upload_rows: int, every: float, url: str | None,
    heavy_jobs: int = LimitSettings.heavy_jobs,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = url or f"sqlite+aiosqlite:///{Path(tmp) / 'stall.sqlite3'}"
        db = Database(url)
        await migrate.upgrade(db)
        await build_demo(db, n_subjects=subjects, rebuild=True)
        questions = await message_mix(db, 400)
        async with db.transaction() as s:
            busiest = (
                await s.execute(
                    select(Subject.name).join(CreditRecord, CreditRecord.subject_id == Subject.id)
                    .where(Subject.kind != "自然人").group_by(Subject.id, Subject.name)
                    .order_by(func.count().desc()).limit(1)
                )
            ).scalar_one()
        upload = big_upload(Path(tmp) / "处罚大文件.csv", upload_rows)
        long_text = ("安康市恒达建材有限公司汉阴的恒达" * 300)[:4000]
        inputs: list[tuple[str, str]] = [
            ("collector", f"@{upload}"),
            ("official", f"/report {busiest}"),
            ("official", "/due 0001-01-01 行政许可"),
            ("admin", "/stats"),
            ("official", long_text),
            ("admin", "/grades"),
            ("collector", "#1"),  # 确认导入 of the latest checked upload
            ("official", "有限公司"),
            ("admin", "/ontime"),
            ("official", "/due 1949-01-01 行政处罚"),
            ("admin", "/grades 行业"),
            ("official", "安康"),
            ("admin", "/overdue"),
            ("official", "@evaluate"),
        ]

        transport = InProcessBotAPI()
        settings = Settings(database=DatabaseSettings(url=url), limits=LimitSettings(messages_per_minute=1_000_000, heavy_jobs=heavy_jobs))
        app = bot_app.build_application(settings, transport, db=db)
        async with app:
            await bot_app.start_services(app)
            await app.start()
            replies = Replies(transport, {920_001, 920_002, 920_003})
            users = []
            for i in range(n_users):
                await ensure_local_account(db, 910_000 + i, "official")
                users.append(QueuedChat(app, transport, 910_000 + i))
            chats = {}
            for uid, role, dept in ((920_001, "collector", "SCJGJ"), (920_002, "official", None), (920_003, "admin", None)):
                await ensure_local_account(db, uid, role, dept)
                chats[role] = QueuedChat(app, transport, uid)
            await phase(replies, users, questions[:40], 3)  # warm caches and connections
            base = await phase(replies, users, questions, seconds)
            replies.kinds.clear()
            attack = asyncio.create_task(
                attacker(chats, inputs, time.perf_counter() + seconds, every, db)
            )
            await asyncio.sleep(2)  # let the attack build up
            under = await phase(replies, users, questions, seconds - 2)
            sent, evaluations = await attack
            attacker_kinds = dict(replies.kinds)
            await app.stop()
        await db.dispose()
        return {
            "benchmark": "stall",
            "subjects": subjects,
            "normal_users": n_users,
            "seconds_per_phase": seconds,
            "database": url.split(":", 1)[0],
            "upload_rows": upload_rows,
            "heavy_jobs": heavy_jobs,
            "normal_without_attacker": stats_of(base),
            "normal_with_attacker": stats_of(under),
            "attacker": {
                "inputs_sent": sent,
                "inputs_per_s": round(sent / seconds, 2),
                "full_evaluations_finished": evaluations,
                "answers": attacker_kinds,
            },
        }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--upload-rows", type=int, default=20_000)
    parser.add_argument("--every", type=float, default=0.25, help="seconds between the attacker's inputs")
    parser.add_argument("--heavy-jobs", type=int, default=LimitSettings.heavy_jobs, help="limits.heavy_jobs")
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    result = asyncio.run(
        main(args.subjects, args.users, args.seconds, args.upload_rows, args.every, args.db, args.heavy_jobs)
    )
    print(json.dumps(result, ensure_ascii=False))
