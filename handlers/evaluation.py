"""Credit grades in chat: the grade block on the card, watch lists (`/watch`, `/watchlist`, the
card's 关注 button), a department's high-risk subjects (`/risklist`), the admins' grade
distribution chart and this month's grade changes (`/grades`), and the daily risk digest.

Rendering lives here so the card, the digest and the admin views use the same words. Who may see
what is decided in the use cases (db/evaluation_views.py), never here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from telegram import Bot, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from handlers.common import caller, heavy_job, reply, services
from nlp.message_names import safe_echo
from render.buttons import (
    GRADES_VIEW,
    PICK_SUBJECT,
    UNWATCH,
    WATCH,
    Buttons,
    family_pattern,
    keyboard,
    pressed,
)
from render.charts import distribution_caption, render_distribution
from render.evaluation import grade_lines
from rules.roles import Viewer
from services.evaluation_views import (
    GradeView,
    grade_changes,
    grade_distribution,
    high_risk_for_department,
    unwatch,
    watch,
    watchlist,
)
from services.findable import findable_briefs
from services.risk_digest import Digest
from services.runtime import SERVICES_KEY, Services
from services.subject_query import read_text

log = logging.getLogger(__name__)
MAX_DIGEST_LINES = 30
MAX_DIGEST_BUTTONS = 10




def card_extras(viewer: Viewer, subject_id: int, grade: GradeView | None, watching: bool) -> tuple[list[str], Buttons]:
    """Lines and buttons the card adds for the evaluation: the grade block (`grade` as the use case
    let this viewer see it, read with the card: services.chat_card), and 关注/取消关注 for officials."""
    lines = grade_lines(grade) if grade else []
    buttons: Buttons = []
    if viewer.role == "official":
        if watching:
            buttons.append([("取消关注", UNWATCH.pack(subject_id))])
        else:
            buttons.append([("关注该主体（有新记录或预警时提醒我）", WATCH.pack(subject_id))])
    return lines, buttons


async def _watch(update: Update, context: ContextTypes.DEFAULT_TYPE, viewer: Viewer, subject_id: int) -> None:
    name, new = await watch(services(context).db, viewer, subject_id)
    if new:
        await reply(update, f"已关注“{name}”。该主体有新记录或风险预警时，会在每日预警汇总中提醒您。发送 /watchlist 查看关注列表。")
    else:
        await reply(update, f"您已关注“{name}”。发送 /watchlist 查看关注列表。")


async def watch_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/watch 名称或统一社会信用代码"""

    svc = services(context)
    _account, viewer = await caller(update, context)
    if viewer.role != "official":
        await reply(update, "关注主体仅限办事人员使用。")
        return
    text = " ".join(context.args or []).strip()
    if not text:
        await reply(update, "请在 /watch 后写上要关注的主体名称或统一社会信用代码，例如：/watch 恒达建材")
        return
    asked = (await read_text(svc, viewer, text)).first
    if asked is not None and asked.status == "clear" and asked.subject_id is not None:
        await _watch(update, context, viewer, asked.subject_id)
    elif asked is not None and asked.candidates and asked.status != "refused":
        briefs = await findable_briefs(svc.db, viewer, list(asked.candidates))
        buttons: Buttons = [[(b.name[:60], WATCH.pack(sid))] for sid in asked.candidates if (b := briefs.get(sid))]
        await reply(update, asked.message.rstrip("：") + "。请选择要关注的一个：", buttons)
    else:
        await reply(update, asked.message if asked is not None else f"没有找到与“{safe_echo(text)}”相符的主体。")


async def watchlist_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _account, viewer = await caller(update, context)
    items = await watchlist(services(context).db, viewer)
    if not items:
        await reply(update, "您还没有关注任何主体。在主体信息卡上点“关注该主体”，或发送 /watch 名称。")
        return
    lines = [f"您关注的主体（{len(items)} 个）："]
    buttons: Buttons = []
    for i, w in enumerate(items, 1):
        grade = f"，信用评价 {w.grade}" if w.grade else ""
        lines.append(f"{i}. {w.name}（{w.code or '无代码'}{grade}，{w.since:%Y-%m-%d} 起关注）")
        buttons.append([(f"查看 {i}", PICK_SUBJECT.pack(w.subject_id, None, None)), (f"取消关注 {i}", UNWATCH.pack(w.subject_id))])
    await reply(update, "\n".join(lines), buttons[:20])


async def on_watch_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """WATCH subscribes, UNWATCH unsubscribes."""
    cq = update.callback_query
    assert cq is not None
    spec = WATCH if WATCH.unpack(cq.data) is not None else UNWATCH
    values = await pressed(update, spec)
    if values is None:
        return
    subject_id = values[0]
    _account, viewer = await caller(update, context)
    if spec is WATCH:
        await _watch(update, context, viewer, subject_id)
        return
    removed = await unwatch(services(context).db, viewer, int(subject_id))
    await reply(update, "已取消关注。" if removed else "您没有关注该主体。")


async def risklist_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/risklist: the department's high-risk subjects with the suggested inspection frequency."""
    _account, viewer = await caller(update, context)
    total, items = await high_risk_for_department(services(context).db, viewer)
    if not items:
        await reply(update, "本部门监管的主体中，目前没有较高风险或高风险主体。")
        return
    lines = [f"本部门监管的较高风险及高风险主体（共 {total} 个，按风险排序）："]
    buttons: Buttons = []
    for i, r in enumerate(items, 1):
        lines.append(f"{i}. {r.name}：{r.risk_label}，信用评价 {r.grade}（{r.score} 分）；建议：{r.inspection}")
        if i <= MAX_DIGEST_BUTTONS:
            buttons.append([(f"查看 {i}. {r.name}"[:60], PICK_SUBJECT.pack(r.subject_id, None, None))])
    if total > len(items):
        lines.append(f"……另有 {total - len(items)} 个未列出。")
    await reply(update, "\n".join(lines), buttons)


# -- admins ------------------------------------------------------------------------------------------


async def send_distribution(update: Update, context: ContextTypes.DEFAULT_TYPE, viewer: Viewer, by: str) -> None:
    svc = services(context)
    assert update.effective_chat is not None and svc.lexicon is not None
    async with heavy_job(update, context, "图表"):
        dist = await grade_distribution(svc.db, viewer, by, svc.lexicon.affixes())
        if not dist.rows:
            await reply(update, "还没有信用评价结果。评价在每日全量评价和记录变化时自动进行。")
            return
        png = await asyncio.to_thread(render_distribution, dist)
    buttons: Buttons = [[("按区县", GRADES_VIEW.pack("county")), ("按行业", GRADES_VIEW.pack("industry"))], [("本月等级变化", GRADES_VIEW.pack("changes"))]]
    await update.effective_chat.send_photo(photo=png, caption=distribution_caption(dist), filename=f"grades-{by}.png")
    await reply(update, "切换统计方式，或查看本月信用等级变化：", buttons)


async def send_changes(update: Update, context: ContextTypes.DEFAULT_TYPE, viewer: Viewer) -> None:
    svc = services(context)
    local = svc.now()
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    total, items = await grade_changes(svc.db, viewer, month_start.astimezone(dt.UTC))
    if not items:
        await reply(update, f"{local:%Y-%m} 还没有信用等级变化。")
        return
    lines = [f"{local:%Y-%m} 信用等级变化（共 {total} 起，最近的 {len(items)} 起）："]
    tz = svc.settings.tz
    for c in items:
        arrow = "↑" if c.new_score > c.old_score else "↓"
        lines.append(f"· {c.changed_at.astimezone(tz):%m-%d} {c.name}：{c.old_grade} → {c.new_grade} {arrow}（{c.old_score} → {c.new_score} 分）")
    await reply(update, "\n".join(lines))


async def grades_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/grades [区县|行业|变化]"""
    _account, viewer = await caller(update, context)
    arg = (context.args or [""])[0]
    if arg in ("变化", "changes"):
        await send_changes(update, context, viewer)
        return
    by = "industry" if arg in ("行业", "industry") else "county"
    if arg and arg not in ("行业", "industry", "区县", "county"):
        await reply(update, "用法：/grades（按区县）、/grades 行业、/grades 变化")
        return
    await send_distribution(update, context, viewer, by)


async def on_grades_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    values = await pressed(update, GRADES_VIEW)
    if values is None:
        return
    _account, viewer = await caller(update, context)
    what = values[0]
    if what == "changes":
        await send_changes(update, context, viewer)
    else:
        await send_distribution(update, context, viewer, what)


# -- the daily digest ---------------------------------------------------------------------------------

RISK_MARKS = {"severe": "🔴", "high": "🟠", "general": "🟡", "low": "🔵"}


def digest_text(d: Digest) -> str:
    lines = [f"【信用通·风险预警】{d.day:%Y-%m-%d}", f"您监管或关注的主体有 {len(d.items)} 条新的预警："]
    for i, item in enumerate(d.items[:MAX_DIGEST_LINES], 1):
        mark = RISK_MARKS.get(item.risk, "")
        watched = "（关注）" if item.watched else ""
        lines.append(f"{i}. {mark}{item.subject_name}{watched}：{item.label}")
    if len(d.items) > MAX_DIGEST_LINES:
        lines.append(f"……另有 {len(d.items) - MAX_DIGEST_LINES} 条，请查看相关主体的信息卡。")
    return "\n".join(lines)[:4096]


def digest_buttons(d: Digest) -> Buttons:
    seen: dict[int, str] = {}
    for item in d.items:
        seen.setdefault(item.subject_id, item.subject_name)
    return [[(f"查看 {name}"[:60], PICK_SUBJECT.pack(sid, None, None))] for sid, name in list(seen.items())[:MAX_DIGEST_BUTTONS]]


def digest_sender(bot: Bot) -> Callable[[Digest], Awaitable[None]]:
    async def send(d: Digest) -> None:
        await bot.send_message(d.telegram_user_id, digest_text(d), reply_markup=keyboard(digest_buttons(d)))

    return send


def register(app: Application) -> None:
    app.add_handler(CommandHandler("watch", watch_command))
    app.add_handler(CommandHandler("watchlist", watchlist_command))
    app.add_handler(CommandHandler("risklist", risklist_command))
    app.add_handler(CommandHandler("grades", grades_command))
    app.add_handler(CallbackQueryHandler(on_watch_button, pattern=family_pattern(WATCH, UNWATCH)))
    app.add_handler(CallbackQueryHandler(on_grades_button, pattern=GRADES_VIEW.pattern))


# -- scheduled work -----------------------------------------------------------------------------------


EVALUATION_JOB = "evaluation"
DIGEST_JOB = "risk digest"
SCAN_SECONDS = 600  # how soon a run missed (process down, a failed run, a replica's death) is caught up


async def evaluation_scan(svc: Services, bot: Bot, now: dt.datetime | None = None) -> None:
    """The nightly full evaluation, then the morning risk digest, each once per day across restarts
    and replicas (services/scheduled_runs.py): a run whose time passed while the process was down
    happens at start-up or at the next scan, so grades and digests are never a day old. The digest
    waits until the evaluation it should report on has finished (here or on a replica).
    `now` (local, aware): the clock, for tests that move it."""
    from services.evaluation import full_run
    from services.risk_digest import run_digest
    from services.scheduled_runs import due_slot, finished, run_once

    now = now or svc.now()
    ev = svc.settings.evaluation
    slot = due_slot(now, dt.time.fromisoformat(ev.full_run_time))

    async def evaluate() -> None:
        async with svc.heavy.slot():
            stats = await full_run(svc.db, now.date(), now)
        log.info("evaluation full run for %s: %d subjects, %d evaluated, %d grade changes, %d new warnings",
                 slot, stats.subjects, stats.evaluated, stats.grade_changes, stats.warnings)

    async def digest() -> None:
        result = await run_digest(svc.db, now.date(), digest_sender(bot))
        log.info("risk digest: sent %d, already claimed %d, failed %d", len(result.sent), result.skipped, result.failed)

    await run_once(svc.db, EVALUATION_JOB, slot, evaluate, now)
    if now.time() < dt.time.fromisoformat(ev.digest_time) or not await finished(svc.db, EVALUATION_JOB, slot):
        return  # before today's digest time, or the evaluation has not ended (here or elsewhere): a later scan sends it
    await run_once(svc.db, DIGEST_JOB, now.date(), digest, now)


async def evaluation_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await evaluation_scan(services(context), context.bot)


def services_of(app: Application) -> Services:
    return app.bot_data[SERVICES_KEY]  # type: ignore[no-any-return]


def schedule(app: Application) -> None:
    """At the configured times, and a scan shortly after start-up and every SCAN_SECONDS that runs
    what is due and has not run (APScheduler alone would skip a time missed while down)."""
    assert app.job_queue is not None
    svc = services_of(app)
    tz = svc.settings.tz
    ev = svc.settings.evaluation
    app.job_queue.run_daily(evaluation_job, time=dt.time.fromisoformat(ev.full_run_time).replace(tzinfo=tz),
                            name="evaluation full run", job_kwargs={"misfire_grace_time": 3600})
    app.job_queue.run_daily(evaluation_job, time=dt.time.fromisoformat(ev.digest_time).replace(tzinfo=tz),
                            name="risk digest", job_kwargs={"misfire_grace_time": 3600})
    app.job_queue.run_repeating(evaluation_job, interval=SCAN_SECONDS, first=5, name="evaluation catch-up")
