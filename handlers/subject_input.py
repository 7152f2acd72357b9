"""A subject named in typed text (/propose, /report): read like any question (services.subject_query)."""

from __future__ import annotations

from dataclasses import dataclass

from telegram.ext import ContextTypes

from handlers.common import services
from rules.roles import Viewer
from services.findable import findable_briefs
from services.subject_query import read_text


@dataclass(frozen=True)
class Found:
    """Either `subject_id`, or a Chinese `message` to show with `candidates` (id, label) to pick from."""

    subject_id: int | None
    message: str | None = None
    candidates: tuple[tuple[int, str], ...] = ()


async def find_subject(context: ContextTypes.DEFAULT_TYPE, text: str, viewer: Viewer) -> Found:
    """A subject from a typed USCC, old code or name, read as every door reads it
    (services.subject_query): only a clear answer picks one by itself; names find only what `viewer`
    may find by name (services.findable: no person for the public)."""
    svc = services(context)
    if not text.strip():
        return Found(None, "请输入主体名称或统一社会信用代码。")
    asked = (await read_text(svc, viewer, text)).first
    if asked is None:
        return Found(None, "请输入主体名称或统一社会信用代码。")
    if asked.status == "clear" and asked.subject_id is not None:
        return Found(asked.subject_id)
    if not asked.candidates or asked.status == "refused":
        return Found(None, asked.message)
    briefs = await findable_briefs(svc.db, viewer, list(asked.candidates))
    options = tuple(
        (sid, " · ".join(p for p in (b.name, b.division, b.uscc) if p)[:60])
        for sid in asked.candidates
        if (b := briefs.get(sid)) is not None
    )
    return Found(None, asked.message, options)
