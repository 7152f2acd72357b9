"""A subject named in typed text (/propose, /report): a code, or a name the index resolves."""

from __future__ import annotations

from dataclasses import dataclass

from telegram.ext import ContextTypes

from handlers.common import services
from nlp.codes_in_text import find_codes
from rules.roles import Viewer
from services.findable import findable_briefs, resolve_for


@dataclass(frozen=True)
class Found:
    """Either `subject_id`, or a Chinese `message` to show with `candidates` (id, label) to pick from."""

    subject_id: int | None
    message: str | None = None
    candidates: tuple[tuple[int, str], ...] = ()


async def find_subject(context: ContextTypes.DEFAULT_TYPE, text: str, viewer: Viewer) -> Found:
    """A subject from a typed USCC or name: only a valid code or a clear name picks one by itself;
    names find only what `viewer` may find by name (services.findable: no person for the public)."""
    svc = services(context)
    assert svc.index is not None
    uscc, _ids, rest = find_codes(text)
    for mention in uscc:
        if not mention.valid:
            return Found(None, f"统一社会信用代码有误：{mention.error}。请核对后重新输入。")
        entry = svc.index.by_uscc(mention.value)
        if entry is None:
            return Found(None, f"档案中没有统一社会信用代码为 {mention.value} 的主体。")
        return Found(entry.subject_id)
    name = rest.strip()
    if not name:
        return Found(None, "请输入主体名称或统一社会信用代码。")
    result = resolve_for(svc.index, viewer, name)
    if result.status == "clear":
        return Found(result.candidates[0].subject_id)
    if not result.candidates:
        return Found(None, f"没有找到与“{name}”相符的主体，请核对名称或输入统一社会信用代码。")
    briefs = await findable_briefs(svc.db, viewer, [c.subject_id for c in result.candidates])
    options = tuple(
        (c.subject_id, " · ".join(p for p in (b.name, b.division, b.uscc) if p)[:60])
        for c in result.candidates
        if (b := briefs.get(c.subject_id)) is not None
    )
    return Found(None, f"找到多个与“{name}”相近的主体，请选择：", options)
