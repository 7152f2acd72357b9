"""`creditbot listing ...`: propose a list entry of a list type with its prior notice from the command
line, and run the daily lifecycle work by hand (activate listings whose objection period ended and
issue their 列入决定书, end listings past their period, mark expired records) — the same use cases the
chat and the scheduled jobs call. `creditbot listing types --dept CODE` lists what a department may
propose.

Exit status: 0 done; 2 the input or the database could not be used (one Chinese line, no traceback).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from pathlib import Path
from typing import Any

from services.settings import ConfigError, Settings, with_database

EXIT_OK, EXIT_UNUSABLE = 0, 2
NOTICE_DIR = Path("var/notices")
log = logging.getLogger(__name__)


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("listing", help="严重失信主体名单：事前告知、到期列入、过期标记")
    sub = p.add_subparsers(dest="listing_command", required=True)

    prop = sub.add_parser("propose", help="拟列入严重失信主体名单并出具事前告知书")
    prop.add_argument("--subject", required=True, metavar="USCC", help="主体统一社会信用代码")
    prop.add_argument("--dept", required=True, metavar="CODE", help="列入部门代码")
    prop.add_argument("--type", required=True, dest="list_type", metavar="KEY",
                      help="名单类型代码（creditbot listing types --dept CODE 列出本部门可认定的名单）")
    prop.add_argument("--reason", required=True, help="列入事由")
    prop.add_argument("--months", type=int, help="列入期限（月）：仅期限由决定确定的名单需要")
    prop.add_argument("--days", type=int, default=5, help="异议期（工作日，默认 5）")
    prop.add_argument("--out", type=Path, help=f"告知书 PDF 另存路径（默认 {NOTICE_DIR}/编号.pdf）")
    prop.add_argument("--today", help="告知日期（默认今天，YYYY-MM-DD）")

    types = sub.add_parser("types", help="列出部门可在本平台发起列入的名单类型")
    types.add_argument("--dept", required=True, metavar="CODE", help="部门代码")
    for name, text in (
        ("activate", "使异议期届满且无异议的拟列入事项生效，并出具列入决定书"),
        ("expire", "结束期限届满的名单，并将超过公示期的记录标记为已过公示期"),
    ):
        q = sub.add_parser(name, help=text)
        q.add_argument("--today", help="按此日期执行（默认今天，YYYY-MM-DD）")
    for q in sub.choices.values():
        q.add_argument("--db", metavar="URL", help="数据库地址（默认取配置中的 database.url）")


def _today(settings: Settings, text: str | None) -> dt.date:
    if not text:
        return dt.datetime.now(settings.tz).date()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"日期格式应为 YYYY-MM-DD：{text}") from None


async def _deliver(settings: Settings, chats: tuple[int, ...], pdf: bytes, file_name: str, caption: str) -> int:
    """With a bot token configured, send the notice to the bound accounts; otherwise nothing."""
    if not settings.telegram.token or not chats:
        return 0
    import io

    from telegram import InputFile
    from telegram.error import TelegramError

    from bot.limited_bot import LimitedBot

    sent = 0
    async with LimitedBot(settings.telegram.token) as bot:
        for chat_id in chats:
            try:
                await bot.send_document(chat_id, InputFile(io.BytesIO(pdf), filename=file_name), caption=caption)
                sent += 1
            except TelegramError as exc:
                log.warning("notice not delivered: %s", type(exc).__name__)
    return sent


async def run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.calendar_settings import calendar_from_settings
    from db.session import Database
    from render.pdf import render_decision, render_notice
    from services.database_setup import prepare_database
    from services.expiry import mark_expired
    from services.listings import (
        DecisionIssuer,
        activate_due_listings,
        department_types,
        expire_listings,
        issue_pending_decisions,
        propose_listing,
        subject_id_by_uscc,
    )
    from services.numbering import region_abbr

    try:
        settings = with_database(settings, getattr(args, "db", None))
        today = _today(settings, getattr(args, "today", None))
    except (ConfigError, ValueError) as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_UNUSABLE
    db = Database(settings.database.url)
    try:
        await prepare_database(db, settings.region.division_code)
        platform = settings.region.platform_name
        prefix = region_abbr(settings.region.division_code)
        if args.listing_command == "types":
            for t in await department_types(db, args.dept):
                print(f"{t.key}\t{t.name}\t依据：{t.basis_text}\t期限：{t.period}")
            return EXIT_OK
        if args.listing_command == "activate":
            issuer = DecisionIssuer(lambda d: render_decision(d, platform), prefix, settings.region.public_url,
                                    settings.privacy.id_hash_key)
            done = await activate_due_listings(db, today, issuer) + await issue_pending_decisions(db, today, issuer)
            for item in done:
                number = ""
                if item.decision is not None:  # kept in the database; a copy for the department's file
                    saved = NOTICE_DIR / f"{item.decision.decision.number}.pdf"
                    saved.parent.mkdir(parents=True, exist_ok=True)
                    saved.write_bytes(item.decision.pdf)
                    number = f"，列入决定书 {item.decision.decision.number}，另存为 {saved}"
                print(f"已列入：{item.subject_name}（{item.notice_number}{number}），自 {item.effective_on:%Y-%m-%d} 起生效")
            print(f"共 {len(done)} 项列入事项生效或补发列入决定书。")
            return EXIT_OK
        if args.listing_command == "expire":
            print(f"已结束 {await expire_listings(db, today)} 项期限届满的名单。")
            print(f"已将 {await mark_expired(db, today)} 条超过公示期的记录标记为已过公示期。")
            return EXIT_OK
        proposed = await propose_listing(
            db,
            subject_id=await subject_id_by_uscc(db, args.subject),
            list_type=args.list_type,
            reasons=args.reason,
            period_months=args.months,
            objection_days=args.days,
            today=today,
            calendar=calendar_from_settings(settings),
            render=lambda notice: render_notice(notice, platform),
            dept_code=args.dept,
            prefix=prefix,
            public_url=settings.region.public_url,
        )
    finally:
        await db.dispose()
    notice = proposed.notice
    out: Path = args.out or NOTICE_DIR / f"{notice.number}.pdf"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(proposed.pdf)
    list_name = notice.terms.list_name if notice.terms else "严重失信主体名单"
    caption = f"【事前告知】{notice.department}拟将{notice.subject_name}列入{list_name}（{notice.number}）。"
    sent = await _deliver(settings, proposed.chats, proposed.pdf, out.name, caption)
    print(f"已出具事前告知书 {notice.number}（SHA-256 {proposed.sha256[:16]}…），已存档并另存为 {out}。")
    print(f"异议期 {notice.objection_days} 个工作日，截至 {notice.deadline:%Y-%m-%d}。")
    if sent:
        print(f"已通过机器人送达该主体绑定的 {sent} 个账号。")
    elif proposed.chats:
        print(f"该主体有 {len(proposed.chats)} 个绑定账号，但未配置机器人 token，请在机器人运行时补送或书面送达。")
    else:
        print("该主体尚无绑定账号，请书面送达告知书。")
    return EXIT_OK
