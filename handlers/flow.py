"""One mechanism for every multi-step chat flow: state in the database, one dispatcher, one timeout job.

A flow (an objection, a repair application, a proposed listing, a decision's reason, a 逢办必查
feedback note, a document check, a self-declaration) is a `Flow` in the registry: its Chinese
label, its timeout, and its step functions. Where the user is lives in `services.conversations`
(one row per chat and user), never in PTB's memory, so a restarted bot or another replica behind
the same webhook continues the flow from the next message.

`dispatch` runs for every update ahead of the ordinary handlers (after the guards and the
declaration's duplicate filter) and applies the same rules to every flow:

- An update that applied a step already (its key is in `applied_updates`, kept a day, also after the
  flow ended) is dropped quietly: Telegram redelivers after a webhook retry or a crashed poller.
- `/cancel` (or “取消”, “算了”, with any punctuation or spaces) always answers: it ends the open flow,
  naming it, or a parked declaration draft, or says nothing is open.
- A user with an open flow who sends text, a file or anything else reaches that flow's step function
  for its current step (kinds a flow `lets_through` go to the ordinary handlers; others get a hint).
- Any other command ends the open flow and says so before the command runs; so does a new flow's
  entry button (`begin`). A flow may keep its own commands (`/declare` resumes the declaration), and
  one whose work lives elsewhere may park it instead (the declaration's draft waits for `/declare`).
- A flow past its time is ended and the user told: by the repeating `sweep` job, or at the user's
  next update, whichever comes first (the claim in the database lets exactly one of them tell).
- Buttons are routed by their families as before; a flow's button re-reads the state (`load`), so a
  press on an old message after the flow ended gets an answer instead of acting on stale state, and
  one of an earlier step of the open flow says what the flow waits for. A press that arrives after
  its flow timed out gets the timeout message only.

Each step is applied only to the version of the state it read: a second replica racing on the same
state gets the refusal `services.conversations.LOST_RACE`, answered by the error handler.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes, TypeHandler, filters

from handlers.common import keep_arrived_caller, reply, services
from render.buttons import answer_press
from services import conversations
from services.conversations import Convo
from services.runtime import SERVICES_KEY, Services
from services.settings import Settings

log = logging.getLogger(__name__)

Step = Callable[[Update, ContextTypes.DEFAULT_TYPE, Convo], Awaitable[None]]
# Called when a flow ends without its final step ("cancelled", "expired", "replaced"): a flow that
# keeps more state elsewhere (the declaration's draft) closes it there.
OnEnd = Callable[[Services, Convo, str], Awaitable[None]]

FLOW_GROUP = -1  # after the guards (-20, -10) and the declaration's duplicate filter (-2)
NOTHING_TO_CANCEL = "当前没有进行中的操作，无需取消。"
CANCEL_WORDS = frozenset({"取消", "取消操作", "算了", "不办了", "退出"})
_NOT_A_WORD = re.compile(r"[\W_]+")  # punctuation and spaces, after NFKC (full-width folded)
TEXT, FILE, OTHER = "text", "file", "other"


@dataclass(frozen=True)
class Flow:
    """One multi-step flow. `label` names it to the user (「提出异议」); `command` starts it again;
    `timeout(settings)` is its wait for an answer in seconds; `on_text`, `on_file` (documents and
    photos) and `on_other` handle the user's next message at any step (they read `convo.step`)."""

    name: str
    label: str
    command: str
    timeout: Callable[[Settings], int]
    on_text: Step | None = None
    on_file: Step | None = None
    on_other: Step | None = None
    lets_through: frozenset[str] = frozenset()  # kinds of message that go to the ordinary handlers
    own_commands: frozenset[str] = frozenset()  # commands that belong to the flow and do not end it
    cancelled: str | None = None
    expired: str | None = None
    replaced: str | None = None  # a flow that parks its work (the declaration's draft) says so here
    on_end: OnEnd | None = None
    waiting: Mapping[str, str] = field(default_factory=dict)  # step → what it waits for (「异议理由」)
    # Discards the work a command parked (the declaration's draft; no conversation row is left), for
    # /cancel: returns whether there was any. Raises nothing.
    discard_parked: Callable[[Services, int, int], Awaitable[bool]] | None = None

    def cancelled_text(self) -> str:
        return self.cancelled or f"已取消「{self.label}」，未提交任何内容。"

    def expired_text(self) -> str:
        return self.expired or f"「{self.label}」等待回复超时，已结束，未提交任何内容。如需办理，请重新发送 /{self.command}。"

    def ended_text(self) -> str:
        return self.replaced or f"已结束进行中的「{self.label}」，其中未提交的内容不会保存。"

    def discarded_text(self) -> str:
        return f"已放弃暂停中的「{self.label}」草稿，未提交任何内容。"

    def gone_text(self) -> str:
        return f"「{self.label}」已结束或已超时，该按钮已失效。如需办理，请重新发送 /{self.command}。"

    def used_text(self, step: str) -> str:
        """For a button of an earlier step while the flow is still open."""
        what = f"（正在等待：{self.waiting[step]}）" if step in self.waiting else ""
        return f"该按钮已使用过，「{self.label}」仍在办理中，请按最新的提示继续{what}，或发送 /cancel 取消。"


FLOWS: dict[str, Flow] = {}


def define(flow: Flow) -> Flow:
    """Put `flow` in the registry (again, for a second Application in the same process)."""
    FLOWS[flow.name] = flow
    return flow


def minutes(attribute: str) -> Callable[[Settings], int]:
    """A timeout read from `[conversations] <attribute>` (minutes), in seconds."""
    return lambda settings: getattr(settings.conversations, attribute) * 60


# -- what the flows call -------------------------------------------------------------------------------


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def is_cancel_word(text: str) -> bool:
    """“取消”, “取消。”, “ 算了！”, full-width or not: the words that mean “stop this”, never an answer."""
    return _NOT_A_WORD.sub("", unicodedata.normalize("NFKC", text)) in CANCEL_WORDS


def update_key(update: Update) -> str | None:
    """Telegram redelivers an update unchanged: a message keeps its id in its chat, a button press
    its callback id. Those keys, not the update id, survive a second delivery through another path."""
    if update.callback_query is not None:
        return f"c{update.callback_query.id}"
    message = update.effective_message
    if message is not None and message.chat is not None:
        return f"m{message.chat.id}:{message.message_id}"
    return None


def _who(update: Update) -> tuple[int, int]:
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    return chat.id, user.id


def _timeout(svc: Services, flow: Flow) -> dt.timedelta:
    return dt.timedelta(seconds=flow.timeout(svc.settings))


async def begin(update: Update, context: ContextTypes.DEFAULT_TYPE, flow: Flow, step: str, data: dict[str, Any]) -> Convo:
    """Open `flow` at `step`; a flow that was still open is ended and the user told so first."""
    svc = services(context)
    chat_id, user_id = _who(update)
    started = await conversations.start(
        svc.db, chat_id, user_id, flow.name, step, data, now(), _timeout(svc, flow), update_key(update)
    )
    if started.ended is not None:
        await _ended(update, svc, started.ended, "replaced")
    return started.convo


async def load(update: Update, context: ContextTypes.DEFAULT_TYPE, flow: Flow, *steps: str) -> Convo | None:
    """For a button of `flow`: the open conversation when it is this flow's, in time, and at one of
    `steps` (any step when none are given); otherwise the user hears the button is stale (or, while
    the flow is open at a later step, what it waits for), and None."""
    chat_id, user_id = _who(update)
    convo = await conversations.current(services(context).db, chat_id, user_id)
    if convo is None or convo.flow != flow.name or convo.expired(now()):
        await reply(update, flow.gone_text())
        return None
    if steps and convo.step not in steps:
        await reply(update, flow.used_text(convo.step))
        return None
    return convo


async def advance(update: Update, context: ContextTypes.DEFAULT_TYPE, convo: Convo, step: str, data: dict[str, Any]) -> Convo:
    """Move to `step` with `data` (the whole of it), if no other process moved first."""
    svc = services(context)
    flow = FLOWS[convo.flow]
    return await conversations.advance(svc.db, convo, step, data, now(), _timeout(svc, flow), update_key(update))


async def drop(update: Update, context: ContextTypes.DEFAULT_TYPE, flow: Flow) -> bool:
    """End `flow` quietly if it is the open one (its purpose was served another way); returns
    whether it was open."""
    chat_id, user_id = _who(update)
    return await conversations.cancel(services(context).db, chat_id, user_id, flow.name, update_key(update), now()) is not None


async def finish(update: Update, context: ContextTypes.DEFAULT_TYPE, convo: Convo) -> None:
    """End the flow before its final action: of two racing processes only one gets past this. The
    update is remembered, so its redelivery after the end is dropped."""
    await conversations.finish(services(context).db, convo, now(), update_key(update))


# -- the dispatcher --------------------------------------------------------------------------------------


async def _ended(update: Update, svc: Services, convo: Convo, why: str) -> None:
    """Tell the user a flow ended without its final step (`why`: cancelled, expired, replaced)."""
    flow = FLOWS.get(convo.flow)
    if flow is None:
        return
    if flow.on_end is not None:
        await flow.on_end(svc, convo, why)
    if why == "expired" or convo.expired(now()):
        text = flow.expired_text()
    else:
        text = flow.cancelled_text() if why == "cancelled" else flow.ended_text()
    await reply(update, text)


def _command(update: Update) -> str | None:
    """The command of a message (without "/" and "@bot"), or None when it is not one."""
    if update.callback_query is not None or not filters.COMMAND.check_update(update):
        return None
    message = update.effective_message
    assert message is not None and message.text is not None
    return message.text.split(maxsplit=1)[0][1:].split("@")[0].lower()


def _kind(update: Update) -> str:
    message = update.effective_message
    assert message is not None
    if message.text is not None:
        return TEXT
    return FILE if message.document is not None or message.photo else OTHER


async def _cancel(update: Update, svc: Services) -> None:
    chat_id, user_id = _who(update)
    ended = await conversations.cancel(svc.db, chat_id, user_id, key=update_key(update), now=now())
    if ended is not None and ended.flow in FLOWS:
        await _ended(update, svc, ended, "cancelled")
        return
    for flow in FLOWS.values():  # work a command parked (the declaration's draft) is what is open
        if flow.discard_parked is not None and await flow.discard_parked(svc, chat_id, user_id):
            await reply(update, flow.discarded_text())
            return
    await reply(update, NOTHING_TO_CANCEL)


async def dispatch(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every update, before the ordinary handlers: the rules in the module docstring."""
    if not isinstance(update, Update) or update.effective_user is None or update.effective_chat is None:
        return
    message = update.effective_message if update.callback_query is None else None
    if update.callback_query is None and message is None:
        return
    svc = services(context)
    chat_id, user_id = _who(update)
    # One statement for the flow, the redelivery check and the caller's account (kept for the handlers).
    arrival = await conversations.arrive(svc.db, chat_id, user_id, update_key(update))
    keep_arrived_caller(context, arrival.caller)
    convo, seen = arrival.convo, arrival.seen
    if seen:  # a redelivery of an update that applied a step already (maybe after the flow ended)
        await answer_press(update)
        raise ApplicationHandlerStop
    command = _command(update)
    text = message.text or "" if message is not None else ""
    if command == "cancel" or (command is None and is_cancel_word(text)):
        await _cancel(update, svc)
        raise ApplicationHandlerStop
    if convo is None:
        return
    flow = FLOWS.get(convo.flow)
    if flow is None:  # written by a newer release this process does not know: leave it alone
        return
    if convo.expired(now()):
        if await conversations.claim(svc.db, convo):
            await _ended(update, svc, convo, "expired")
        if command is None:  # an answer or a press for a flow that is over: not a new question
            await answer_press(update)
            raise ApplicationHandlerStop
        return
    if update.callback_query is not None:
        return  # routed by its family; a flow's own button re-reads the state (`load`)
    if command is not None:
        if command not in flow.own_commands and await conversations.claim(svc.db, convo):
            await _ended(update, svc, convo, "replaced")
        return
    kind = _kind(update)
    if kind in flow.lets_through:
        return
    step = {TEXT: flow.on_text, FILE: flow.on_file, OTHER: flow.on_other}[kind]
    try:
        if step is None:
            await reply(update, f"您正在办理「{flow.label}」，请按上面的提示回复，或发送 /cancel 取消。")
        else:
            await step(update, context, convo)
    except ApplicationHandlerStop:
        raise
    except Exception as exc:  # the one error handler answers (a refusal's reason, or an apology)
        await context.application.process_error(update, exc)
    raise ApplicationHandlerStop


# -- the timeout job -------------------------------------------------------------------------------------


async def sweep(context: ContextTypes.DEFAULT_TYPE) -> None:
    """End every flow past its time and tell its user; claimed in the database, so with several
    replicas each user is told once."""
    svc: Services = context.application.bot_data[SERVICES_KEY]
    for convo in await conversations.expired(svc.db, now()):
        flow = FLOWS.get(convo.flow)
        if flow is None:
            continue
        try:
            if flow.on_end is not None:
                await flow.on_end(svc, convo, "expired")
            await context.bot.send_message(convo.chat_id, flow.expired_text())
        except TelegramError as exc:
            log.warning("could not tell a user their flow timed out: %s", type(exc).__name__)


def sweep_interval(settings: Settings) -> int:
    """Seconds between sweeps: the configured ceiling, or half the shortest timeout when shorter."""
    shortest = min((f.timeout(settings) for f in FLOWS.values()), default=settings.conversations.sweep_seconds)
    return max(1, min(settings.conversations.sweep_seconds, shortest // 2))


def register(app: Application) -> None:
    """The dispatcher, ahead of every conversation's own handlers."""
    app.add_handler(TypeHandler(Update, dispatch), group=FLOW_GROUP)


def schedule(app: Application) -> None:
    """The timeout sweep, also once right after start-up (flows that timed out while the bot was down)."""
    assert app.job_queue is not None
    settings = app.bot_data[SERVICES_KEY].settings
    every = sweep_interval(settings)
    app.job_queue.run_repeating(sweep, interval=every, first=min(every, 5), name="conversation timeouts")
