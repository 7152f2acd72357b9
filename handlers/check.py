"""逢办必查 for officials: pick the matter, see the measures that apply, report what was done.

"其他" asks for a short note: the flow `feedback_note` (handlers/flow.py) waits for it."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes

from handlers import flow
from handlers.common import reply, services, viewer_of
from render.buttons import CHECK_FEEDBACK, CHOOSE_MATTER, MATTER, Buttons, pressed
from rules.measures import MATTERS, MeasureAnswer
from rules.roles import Viewer
from services.checks import FEEDBACK, CheckAnswer, raise_check, record_feedback
from services.conversations import Convo


def matter_buttons(subject_id: int) -> Buttons:
    items = list(MATTERS.items())
    return [
        [(label, MATTER.pack(subject_id, key)) for key, label in items[i : i + 2]]
        for i in range(0, len(items), 2)
    ]


async def on_choose_matter(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    values = await pressed(update, CHOOSE_MATTER)
    if values is None:
        return
    viewer = await viewer_of(update, context)
    if not viewer.is_staff:
        await reply(update, "逢办必查仅限办事人员使用。")
        return
    await reply(update, "请选择您正在办理的事项：", matter_buttons(values[0]))


def check_answer(answer: CheckAnswer) -> tuple[str, Buttons]:
    """The measures the law gives for the matter (each with its basis and who carries it out), the
    lists that restrict nothing here and why, the notes, and the feedback buttons."""
    text = measures_text(answer.subject_name, answer.matter, answer.answer) + "\n\n办理后请反馈结果："
    return text, [
        [(label, CHECK_FEEDBACK.pack(answer.check_id, key)) for key, label in FEEDBACK.items()]
    ]


def measures_text(subject_name: str, matter: str, result: MeasureAnswer) -> str:
    lines = [f"逢办必查：{subject_name} · 办理事项：{MATTERS[matter]}"]
    if result.measures:
        lines.append("应依法采取的失信惩戒措施：")
        for i, m in enumerate(result.measures, 1):
            mark = "" if m.confirmed else "（依据待核实）"
            lines.append(f"{i}. {m.text}{mark}")
            if m.reaches != ("subject",):
                lines.append(f"   对象：{m.reaches_label}")
            lines.append(f"   法律依据：{m.basis_text}")
            lines.append(f"   实施主体：{m.implementer}")
            lines.append(f"   名单：{m.reason}")
    for n in result.not_restricted:
        lines.append(f"不受限制的理由：{n.department}于 {n.since:%Y-%m-%d} 列入的{n.list_name}——{n.why}。")
    lines += [f"注意：{note}" for note in result.notes]
    if not result.measures and not result.not_restricted and not result.notes:
        lines.append("该主体不在任何失信名单中，本事项无需采取失信惩戒措施，可按正常程序办理。")
    elif not result.measures:
        lines.append("本事项没有应采取的失信惩戒措施。")
    return "\n".join(lines)


async def answer_matter(
    update: Update, context: ContextTypes.DEFAULT_TYPE, viewer: Viewer, subject_id: int, matter: str
) -> None:
    svc = services(context)
    answer = await raise_check(svc.db, viewer, subject_id, matter, svc.today())
    await reply(update, *check_answer(answer))


async def on_matter(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    values = await pressed(update, MATTER)
    if values is None:
        return
    subject_id, matter = values
    viewer = await viewer_of(update, context)
    await answer_matter(update, context, viewer, subject_id, matter)


async def on_feedback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    values = await pressed(update, CHECK_FEEDBACK)
    if values is None:
        return
    check_id, kind = values
    if kind == "other":
        await flow.begin(update, context, FEEDBACK_NOTE, "note", {"check_id": check_id})
        await reply(update, "请简要说明办理情况（发送 /cancel 取消）：")
        return
    await flow.drop(update, context, FEEDBACK_NOTE)  # a note asked for earlier is no longer awaited
    await _save(update, context, check_id, kind, None)


async def on_note(update: Update, context: ContextTypes.DEFAULT_TYPE, convo: Convo) -> None:
    assert update.effective_message is not None
    note = (update.effective_message.text or "").strip()[:500]
    if not note:
        await reply(update, "请简要说明办理情况（发送 /cancel 取消）：")
        return
    await flow.finish(update, context, convo)
    await _save(update, context, convo.data["check_id"], "other", note)


async def _save(
    update: Update, context: ContextTypes.DEFAULT_TYPE, check_id: int, kind: str, note: str | None
) -> None:
    viewer = await viewer_of(update, context)
    await record_feedback(services(context).db, viewer, check_id, kind, note)
    await reply(update, f"已记录反馈：{FEEDBACK[kind]}{'（' + note + '）' if note else ''}。谢谢！")


FEEDBACK_NOTE = flow.define(
    flow.Flow(
        name="feedback_note",
        label="逢办必查反馈说明",
        command="help",
        timeout=flow.minutes("feedback_minutes"),
        on_text=on_note,
        cancelled="已取消反馈说明。这次核查仍可稍后反馈。",
        expired="反馈说明等待超时，已取消。这次核查仍可稍后反馈。",
    )
)


def register(app: Application) -> None:
    app.add_handler(CallbackQueryHandler(on_choose_matter, pattern=CHOOSE_MATTER.pattern))
    app.add_handler(CallbackQueryHandler(on_matter, pattern=MATTER.pattern))
    app.add_handler(CallbackQueryHandler(on_feedback, pattern=CHECK_FEEDBACK.pattern))
