"""/report: a PDF credit report — for the caller's own bound subject, over a chosen span
(`/report 近3年`, up to five years, default five), or, for an official, any subject given by USCC
or name (`/report 91610900…` or `/report 恒达建材`).

`/report 专项 …`: the 专项信用报告 (services/special_report.py) — the subject's own (`/report 专项
近3年 市场监管`), a 授权码 for a department (`/report 专项 授权`), or, for an official holding one,
`/report 专项 <统一社会信用代码> <授权码> [近N年] [领域…]`."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from handlers.common import caller, doc_prefix, heavy_job, reply, services
from handlers.notify import send_pdf
from handlers.subject_input import find_subject
from render.buttons import REPORT_FOR, REPORT_SPAN, Buttons, pressed
from render.pdf import render_report
from render.special_report_pdf import render_special_report
from rules.codes import validate_uscc
from rules.report_sections import DEFAULT_SPAN_YEARS, MAX_SPAN_YEARS, SPAN_CHOICES, SpanError, parse_span
from rules.roles import Viewer
from rules.verification import normalize_code
from services.repair_documents import issuer_from
from services.report import issue_report
from services.special_report import issue_authorisation, issue_special_report, subject_id_for
from services.subjects import subject_briefs


async def send_report(
    update: Update, context: ContextTypes.DEFAULT_TYPE, viewer: Viewer, subject_id: int, span_years: int | None = None
) -> None:
    """Issue and send one report. A subject's own report covers `span_years` (default the maximum,
    rules.report_sections) and is followed by buttons for the other spans; officials' reports on
    others carry the full shared history."""
    svc = services(context)
    platform = svc.settings.region.platform_name
    own = viewer.owns(subject_id)
    if own and span_years is None:
        span_years = DEFAULT_SPAN_YEARS
    chat = update.effective_chat
    assert chat is not None
    async with heavy_job(update, context, "信用报告"):
        issued = await issue_report(
            svc.db, viewer, subject_id, svc.now(), lambda data: render_report(data, platform), prefix=doc_prefix(context),
            public_url=svc.settings.region.public_url, issuer=platform, span_years=span_years if own else None,
            public_grades=svc.settings.evaluation.public_grades,
        )
        span = f"，近 {span_years} 年" if own else ""
        await send_pdf(
            context, chat.id, issued.pdf, f"信用报告-{issued.number}.pdf", f"{issued.subject_name} 信用报告（{issued.number}{span}）"
        )
    if own:
        choices: Buttons = [[(f"近{y}年", REPORT_SPAN.pack(subject_id, y)) for y in SPAN_CHOICES if y != span_years]]
        await reply(update, f"以上报告含近 {span_years} 年的信息。需要其他时间范围（最长 {MAX_SPAN_YEARS} 年）请选择：", choices)


async def report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _account, viewer = await caller(update, context)
    if context.args and context.args[0] == SPECIAL_WORD:
        await special_report(update, context, viewer, context.args[1:])
        return
    query = " ".join(context.args or []).strip()
    span_years: int | None = None
    if query:
        try:
            span_years = parse_span(query)
        except SpanError as exc:
            await reply(update, str(exc))
            return
    if query and span_years is None:
        if not viewer.is_staff:
            await reply(
                update,
                "公众和企业只能获取本人（本单位）绑定主体的信用报告，请直接发送 /report；"
                f"可指定时间范围，例如 /report 近3年（最长 {MAX_SPAN_YEARS} 年）。",
            )
            return
        found = await find_subject(context, query, viewer)
        if found.subject_id is not None:
            await send_report(update, context, viewer, found.subject_id)
            return
        buttons: Buttons = [[(label, REPORT_FOR.pack(sid))] for sid, label in found.candidates]
        await reply(update, found.message or "请重新输入。", buttons)
        return
    if viewer.is_staff and not viewer.subject_ids:
        await reply(update, "请在命令后输入主体名称或统一社会信用代码，例如：/report 91610900MA70A1B2C3")
        return
    if not viewer.subject_ids:
        await reply(update, "获取信用报告须先绑定信用主体（发送 /bind 绑定码）；办事人员可发送 /report 主体名称。")
        return
    if len(viewer.subject_ids) == 1:
        await send_report(update, context, viewer, next(iter(viewer.subject_ids)), span_years)
        return
    briefs = await subject_briefs(services(context).db, sorted(viewer.subject_ids))
    pick = [
        [(b.name[:60], REPORT_SPAN.pack(sid, span_years) if span_years else REPORT_FOR.pack(sid))]
        for sid, b in briefs.items()
    ]
    await reply(update, "请选择要获取信用报告的主体：", pick)


async def on_pick(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    values = await pressed(update, REPORT_FOR)
    if values is None:
        return
    _account, viewer = await caller(update, context)
    await send_report(update, context, viewer, values[0])


async def on_span(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    values = await pressed(update, REPORT_SPAN)
    if values is None:
        return
    _account, viewer = await caller(update, context)
    await send_report(update, context, viewer, values[0], values[1])


def register(app: Application) -> None:
    app.add_handler(CommandHandler("report", report))
    app.add_handler(CallbackQueryHandler(on_pick, pattern=REPORT_FOR.pattern))
    app.add_handler(CallbackQueryHandler(on_span, pattern=REPORT_SPAN.pattern))


# -- 专项信用报告 -----------------------------------------------------------------------------------

SPECIAL_WORD = "专项"
SPECIAL_DEFAULT_YEARS = 3
SPECIAL_USAGE = (
    "专项信用报告用法：/report 专项 [近N年] [领域…]（本主体，默认近 3 年、全部领域）；"
    "/report 专项 授权（为办事部门出具一次性授权码）；"
    "办事人员：/report 专项 统一社会信用代码 授权码 [近N年] [领域…]。"
)


async def special_report(update: Update, context: ContextTypes.DEFAULT_TYPE, viewer: Viewer, args: list[str]) -> None:
    svc = services(context)
    years, code, uscc, words = SPECIAL_DEFAULT_YEARS, None, None, []
    for arg in args:
        try:
            span = parse_span(arg)
        except SpanError as exc:
            await reply(update, str(exc))
            return
        if span is not None:
            years = span
        elif normalize_code(arg) is not None and uscc is not None:
            code = arg
        elif validate_uscc(arg, repair=True).ok:
            uscc = validate_uscc(arg, repair=True).value
        else:
            words.append(arg)
    if words == ["授权"]:
        await _authorise(update, context, viewer, uscc)
        return
    if uscc is not None:
        subject_id = await subject_id_for(svc.db, uscc)
    elif len(viewer.subject_ids) == 1:
        subject_id = next(iter(viewer.subject_ids))
    else:
        await reply(update, SPECIAL_USAGE)
        return
    if subject_id is None:
        await reply(update, "档案中没有该统一社会信用代码的主体。")
        return
    chat = update.effective_chat
    assert chat is not None
    platform = svc.settings.region.platform_name
    async with heavy_job(update, context, "专项信用报告"):
        issued = await issue_special_report(
            svc.db, viewer, subject_id, years=years, now=svc.now(), render=lambda d: render_special_report(d, platform),
            issuer=issuer_from(svc.settings), division_code=svc.settings.region.division_code, fields=words,
            authorisation_code=code,
        )
        verdict = "有违法违规记录" if issued.has_records else "无违法违规记录"
        await send_pdf(
            context, chat.id, issued.pdf, f"专项信用报告-{issued.number}.pdf",
            f"{issued.subject_name} 专项信用报告（{issued.number}，近 {years} 年）：{verdict}",
        )


async def _authorise(update: Update, context: ContextTypes.DEFAULT_TYPE, viewer: Viewer, uscc: str | None) -> None:
    svc = services(context)
    subject_id = await subject_id_for(svc.db, uscc) if uscc else (next(iter(viewer.subject_ids)) if len(viewer.subject_ids) == 1 else None)
    if subject_id is None:
        await reply(update, "请写明要授权的本主体统一社会信用代码：/report 专项 授权 统一社会信用代码")
        return
    code, expires = await issue_authorisation(svc.db, viewer, subject_id, svc.settings.privacy.id_hash_key)
    await reply(
        update,
        f"专项信用报告授权码：{code}\n请交给需要查验的办事部门，有效至 {expires.astimezone(svc.settings.tz):%Y-%m-%d %H:%M}，"
        "仅可使用一次。办事人员发送：/report 专项 统一社会信用代码 授权码",
    )
