"""暂时屏蔽 in chat (services/temporary_masking.py), for admins and officials of the credit department:

- `/mask 统一社会信用代码 重整计划|和解协议 人民法院 裁定书文号 裁定日期 [屏蔽截止日期]` records the
  court's ruling and masks the subject's adverse records;
- `/masks` lists the active ones;
- `/unmask 登记号 期满|执行完毕|撤销|终止 原因` ends or revokes one.
The subject's bound accounts are told each time; a masking whose term ended ends by the daily job.
"""

from __future__ import annotations

import datetime as dt
import logging

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from handlers.common import caller, reply, services
from handlers.notify import delivery_line, tell
from nlp.dates import DateError, parse_date
from rules.codes import validate_uscc
from services.errors import Refusal
from services.runtime import SERVICES_KEY, Services
from services.special_report import subject_id_for
from services.temporary_masking import (
    BASES,
    ENDINGS,
    active_maskings,
    end_due_maskings,
    end_masking,
    record_masking,
)

log = logging.getLogger(__name__)
MASK_USAGE = "用法：/mask 统一社会信用代码 重整计划或和解协议 人民法院 裁定书文号 裁定日期 [屏蔽截止日期]"
UNMASK_USAGE = "用法：/unmask 登记号 期满（或执行完毕、撤销、终止） 原因"
ENDING_WORDS = {"期满": "ended", "执行完毕": "ended", "撤销": "revoked", "终止": "revoked"}


def _day(text: str, today: dt.date) -> dt.date:
    try:
        return parse_date(text, today)
    except DateError as exc:
        raise Refusal(str(exc)) from None


async def mask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    args = context.args or []
    if len(args) not in (5, 6) or args[1] not in BASES:
        await reply(update, MASK_USAGE)
        return
    code = validate_uscc(args[0], repair=True)
    if not code.ok:
        await reply(update, f"统一社会信用代码有误：{code.error}")
        return
    svc = services(context)
    _account, viewer = await caller(update, context)
    subject_id = await subject_id_for(svc.db, code.value)
    if subject_id is None:
        await reply(update, "档案中没有该统一社会信用代码的主体。")
        return
    done = await record_masking(
        svc.db, viewer, subject_id, basis=args[1], court=args[2], ruling_number=args[3], ruling_date=_day(args[4], svc.today()),
        ends_on=_day(args[5], svc.today()) if len(args) == 6 else None, today=svc.today(), division_code=svc.settings.region.division_code,
    )
    until = f"至 {done.ends_on:%Y-%m-%d}" if done.ends_on else "至裁定执行完毕或撤销"
    delivery = await tell(
        context, done.subject_chats,
        f"【暂时屏蔽】依据人民法院批准{done.basis}的裁定（{done.ruling_number}），{done.subject_name}的 {done.records} 条失信信息"
        f"已暂时屏蔽、相应惩戒措施暂时解除，{until}。",
        kind="masking", by_account_id=viewer.account_id,
    )
    await reply(update, f"已登记暂时屏蔽（登记号 {done.masking_id}）：屏蔽 {done.records} 条失信信息，{until}。" + delivery_line("该主体", delivery))


async def masks(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _account, viewer = await caller(update, context)
    if not viewer.is_staff:
        await reply(update, "该功能仅限工作人员使用。")
        return
    items = await active_maskings(services(context).db)
    if not items:
        await reply(update, "当前没有生效的暂时屏蔽。")
        return
    lines = [f"生效的暂时屏蔽 {len(items)} 项："]
    for m in items:
        until = f"至 {m.ends_on:%Y-%m-%d}" if m.ends_on else "至执行完毕或撤销"
        lines.append(f"{m.masking_id}. {m.subject_name} · {m.basis} · {m.court} {m.ruling_number} · 自 {m.starts_on:%Y-%m-%d} {until} · {m.records} 条")
    await reply(update, "\n".join(lines))


async def unmask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    args = context.args or []
    if len(args) < 3 or not args[0].isdigit() or args[1] not in ENDING_WORDS:
        await reply(update, UNMASK_USAGE)
        return
    svc = services(context)
    _account, viewer = await caller(update, context)
    ended = await end_masking(
        svc.db, viewer, int(args[0]), ENDING_WORDS[args[1]], " ".join(args[2:]), svc.today(), svc.settings.region.division_code,
    )
    await _told(context, ended.subject_chats, ended.subject_name, ended.status, viewer.account_id)
    await reply(update, f"暂时屏蔽 {ended.masking_id} 已结束（{ENDINGS[ended.status]}），{ended.restored} 条信息恢复原状态。")


async def _told(context: ContextTypes.DEFAULT_TYPE, chats: tuple[int, ...], name: str, status: str, by: int | None) -> None:
    await tell(context, chats, f"【暂时屏蔽结束】{name}的暂时屏蔽已结束（{ENDINGS[status]}），相关信息恢复原状态。",
               kind="masking_ended", by_account_id=by)


async def daily(context: ContextTypes.DEFAULT_TYPE) -> None:
    svc: Services = context.application.bot_data[SERVICES_KEY]
    for ended in await end_due_maskings(svc.db, svc.today()):
        await _told(context, ended.subject_chats, ended.subject_name, ended.status, None)


def schedule(app: Application) -> None:
    assert app.job_queue is not None
    tz = app.bot_data[SERVICES_KEY].settings.tz
    app.job_queue.run_daily(daily, time=dt.time(0, 40, tzinfo=tz), name="masking_daily")
    app.job_queue.run_once(daily, when=75, name="masking_catch_up")


def register(app: Application) -> None:
    app.add_handler(CommandHandler("mask", mask))
    app.add_handler(CommandHandler("masks", masks))
    app.add_handler(CommandHandler("unmask", unmask))
