"""`creditbot duties …` (reporting duties) and `creditbot remind` (one reminder scan, as of a time).

`remind --dry-run` claims and sends nothing and prints each message as a JSON line with its
recipient, so an operator can see exactly what the 09:00 run will say before it says it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from services.settings import Settings

COMMANDS = ("duties", "remind")


def add_parser(subparsers: Any) -> None:
    duties = subparsers.add_parser("duties", help="部门报送职责（查看、添加、移除）")
    dsub = duties.add_subparsers(dest="duties_command", required=True)
    for name, text in (("list", "列出报送职责"), ("add", "添加报送职责"), ("remove", "移除报送职责")):
        p = dsub.add_parser(name, help=text)
        p.add_argument("--db", metavar="URL", help="数据库地址，覆盖配置文件中的 database.url")
        p.add_argument("--dept", required=name != "list", help="部门代码，例如 SCJGJ")
        if name != "list":
            p.add_argument("--category", required=True, help="信息类别，例如 行政处罚")
        if name == "add":
            p.add_argument("--collector", type=int, help="指定负责的信息采集员（Telegram 用户 ID）")

    remind = subparsers.add_parser("remind", help="按指定时间运行一次报送提醒扫描")
    remind.add_argument("--db", metavar="URL", help="数据库地址，覆盖配置文件中的 database.url")
    remind.add_argument("--at", required=True, help="扫描时间（ISO 格式，例如 2026-10-27T09:00；不带时区按配置时区）")
    remind.add_argument("--dry-run", action="store_true", help="只输出将要发送的提醒（JSON 行），不发送、不登记")


async def run(args: argparse.Namespace, settings: Settings, transport: Any = None) -> int:
    """`transport`: an in-process Bot API (tests); otherwise sending needs the configured token."""
    from db.session import Database
    from services.database_setup import prepare_database

    db = Database(settings.database.url)
    try:
        await prepare_database(db, settings.region.division_code)
        if args.command == "duties":
            return await _duties(db, settings, args)
        return await _remind(db, settings, args, transport)
    finally:
        await db.dispose()


async def _duties(db: Any, settings: Settings, args: argparse.Namespace) -> int:
    from services.collection.duties import list_duties, set_duty

    if args.duties_command == "list":
        rows = await list_duties(db, args.dept)
        for d in rows:
            who = f"  负责人：{d.collector}" if d.collector else ""
            print(f"{d.department_code}\t{d.department_name}\t{d.category}{who}")
        if not rows:
            print("（没有报送职责）")
        return 0
    active = args.duties_command == "add"
    duty, changed = await set_duty(db, args.dept, args.category, active, getattr(args, "collector", None))
    verb = "已添加" if active else "已移除"
    print(f"{duty.department_name}（{duty.department_code}）“{duty.category}”报送职责{verb if changed else '无需变更'}。")
    return 0


def _parse_at(text: str, settings: Settings) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=settings.tz)


async def _remind(db: Any, settings: Settings, args: argparse.Namespace, transport: Any) -> int:
    from bot.calendar_settings import calendar_from_settings
    from bot.jobs import sender
    from render.reminders import render_reminder
    from services.collection.reminders import run_scan

    try:
        at = _parse_at(args.at, settings)
    except ValueError:
        print(f"无法识别的时间：{args.at}（应为 ISO 格式，例如 2026-10-27T09:00）", file=sys.stderr)
        return 2
    if not args.dry_run and transport is None and not settings.telegram.token:
        print("未配置 Telegram token（config.toml 的 telegram.token 或环境变量 CREDITBOT_TELEGRAM_TOKEN），无法发送提醒；可加 --dry-run 预览。")
        return 2
    from bot.jobs import policy_of
    from services.runtime import Services

    services = Services(settings=settings, db=db)
    policy = policy_of(services)
    calendar = calendar_from_settings(settings)
    if args.dry_run:
        result = await run_scan(db, at, policy, calendar, settings.tz, None, dry_run=True)
        for r in result.planned:
            text, buttons = render_reminder(r, policy.escalate_after_working_days)
            print(json.dumps(
                {"chat_id": r.telegram_user_id, "key": r.key, "day": r.day.isoformat(), "text": text,
                 "buttons": [[label for label, _ in row] for row in buttons]},
                ensure_ascii=False,
            ))
        if not result.planned:
            print(json.dumps({"at": at.isoformat(), "reminders": 0}, ensure_ascii=False), file=sys.stderr)
        return 0

    from bot.app import LOCAL_TOKEN
    from bot.limited_bot import LimitedBot

    bot = LimitedBot(settings.telegram.token or LOCAL_TOKEN, request=transport) if transport else LimitedBot(settings.telegram.token)
    async with bot:
        result = await run_scan(db, at, policy, calendar, settings.tz, sender(bot, policy.escalate_after_working_days))
    print(f"提醒扫描（{at:%Y-%m-%d %H:%M}）：发送 {len(result.sent)} 条，已发送过 {result.skipped} 条，失败 {result.failed} 条。")
    return 0 if not result.failed else 1
