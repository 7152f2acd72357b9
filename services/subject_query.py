"""Which subject does a typed text mean? One use case for every door (issue 21).

The chat (Telegram, WeCom, the console: handlers/query.py), typed subjects in commands (/report,
/propose, /watch) and the HTTP port (`/v1/lookup`, `/v1/checks`, `/v1/checks/batch` in JSON and
XLSX: services/api_checks.py) all ask `read_text` / `read_texts`, so a name, a short name, a USCC,
an old 组织机构代码 or 工商注册号, a 15- or 18-digit ID number gets the same answer wherever it is
typed. What each door adds is its own: buttons or a card in the chat, a status code and candidates
on the port.

Each subject a text names becomes one `Asked`:

* `clear`: `subject_id` is the one meant (a card may be shown);
* `choose`: several fit equally, pick one of `candidates`;
* `suggest`: one or a few come close without fitting exactly ("您要查的是不是：…");
* `near`: something typed contradicts the nearest names (another industry word, a head office for
  its branch, another region: nlp.evidence), or a USCC is one character off the one offered: they
  are offered and never taken;
* `none`: nothing plausible (`candidates` may still hold far names);
* `refused`: an ID number from someone who may not search persons; `loading`: the name index is
  still being built (codes answer from the database meanwhile).

`message` is the Chinese sentence that goes with it; every text quoted back is masked
(`nlp.message_names.safe_echo`), so no ID number is ever echoed in clear. Nothing here is chat- or
HTTP-specific. Names and codes are read through the resolver port (services.resolver_port: the
local name index today, a sharded index or a search engine behind the same interface later), only
among the subjects the viewer may find by name (services.findable); what the archive decides (ID
numbers, old codes, a USCC pushed a moment ago) is asked of the database here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import select

from db.models import Subject
from nlp.evidence import REASON_TEXT
from nlp.index_parts import FORMER_PREFIX, Candidate, Resolution
from nlp.intent import Query
from nlp.legacy_codes import LegacyCode
from nlp.message_names import MessageAnswer, safe_echo
from rules.masking import id_match_key
from rules.roles import Viewer, may_find_by_name
from services.resolver_context import (
    ORGANISATION_CODE,
    REGISTRATION_NUMBER,
    subjects_by_legacy_code,
)
from services.resolver_port import ResolveContext, resolver_of
from services.runtime import Services

Status = Literal["clear", "choose", "suggest", "near", "none", "refused", "loading"]

INDEX_LOADING = "名称索引正在加载，请稍候再按名称查询；现在可以输入统一社会信用代码查询。"
ID_STAFF_ONLY = "按身份证号查询仅限办事人员使用。公众可输入企业名称或统一社会信用代码查询。"
# A fuzzy candidate this similar (0-85) is worth asking about; below it only the nearest names are shown.
PLAUSIBLE_FUZZY = 66.0


@dataclass(frozen=True)
class Asked:
    """One subject a text asks about (see the module docstring for `status`)."""

    status: Status
    subject_id: int | None = None
    candidates: tuple[int, ...] = ()
    typed: str = ""  # as typed, safe to quote back
    message: str = ""  # what to tell the asker (when clear: empty, or the 曾用名 that found it)
    reason: str | None = None  # nlp.evidence reason of a `near`


@dataclass
class Reading:
    """A text read: the subjects it asks about in order (`asked`, [] when it names none) and the
    slots of the question (`query`: category, matter, district, intent)."""

    asked: list[Asked]
    query: Query
    legacy: list[LegacyCode] = field(default_factory=list)

    @property
    def first(self) -> Asked | None:
        return self.asked[0] if self.asked else None


async def read_text(
    svc: Services, viewer: Viewer, text: str, *, id_numbers: bool | None = None
) -> Reading:
    """What `text` asks about, for `viewer`. `id_numbers`: whether ID numbers may be searched
    (default: the viewer is staff; the port passes its key's idquery scope). Raises nothing."""
    return (await read_texts(svc, viewer, [text], id_numbers=id_numbers))[0]


async def read_texts(
    svc: Services, viewer: Viewer, texts: list[str], *, id_numbers: bool | None = None
) -> list[Reading]:
    """`read_text` for many texts (a batch check): the names through the resolver port
    (services.resolver_port: the local index in slices of a few milliseconds), the ID numbers of
    all of them in one query, old codes one query each."""
    allowed = viewer.is_staff if id_numbers is None else id_numbers
    resolver = resolver_of(svc)
    if not resolver.ready():
        return [await _while_loading(svc, text) for text in texts]
    read = await resolver.resolve_many(texts, ResolveContext(viewer))
    id_subjects = await _id_numbers(svc, read, allowed)
    pushed = await _usccs_not_indexed(svc, read)
    return [await _reading(svc, viewer, answer, allowed, id_subjects, pushed) for answer in read]


async def _reading(
    svc: Services, viewer: Viewer, answer: MessageAnswer, allowed: bool, id_subjects: dict[str, int],
    pushed: dict[str, int],
) -> Reading:
    query = answer.query
    if answer.legacy:
        return Reading([await _legacy(svc, viewer, answer, allowed)], query, answer.legacy)
    for mention in query.uscc:
        if mention.valid and mention.value in pushed:
            return Reading([Asked("clear", pushed[mention.value], typed=mention.value)], query)
        return Reading([_uscc(answer, mention.value, mention.valid, mention.error)], query)
    for mention in query.id_numbers:
        if not allowed:
            return Reading([Asked("refused", message=ID_STAFF_ONLY)], query)
        if not mention.valid:
            return Reading([Asked("none", message=f"身份证号码有误：{mention.error}。")], query)
        sid = id_subjects.get(mention.value)
        if sid is None:
            return Reading([Asked("none", message="档案中没有该身份证号对应的自然人。")], query)
        return Reading([Asked("clear", sid)], query)
    return Reading([_named(m.typed, m.resolution) for m in answer.mentions], query)


def former_name_note(c: Candidate) -> str:
    """Said with a card found by a former name (曾用名): the card heads with another name than the
    one asked for, and the asker should see why it is the same subject. Only for a subject with a
    USCC: a person's former name is not echoed."""
    if not c.uscc or not c.matched.startswith(FORMER_PREFIX):
        return ""
    return f"“{safe_echo(c.matched.removeprefix(FORMER_PREFIX))}”是该主体的曾用名。"


def _named(typed: str, r: Resolution) -> Asked:
    """An answer for a name from the resolver's resolution."""
    shown = safe_echo(typed)
    ids = tuple(c.subject_id for c in r.candidates)
    if r.status == "clear":
        return Asked("clear", ids[0], typed=shown, message=former_name_note(r.candidates[0]))
    if r.conflict and (r.status == "none" or all(c.how == "fuzzy" for c in r.candidates[:1])):
        why = REASON_TEXT.get(r.conflict, "")
        return Asked("near", None, ids, shown, f"没有找到与“{shown}”相符的主体（{why}）。名称相近的有：", r.conflict)
    if r.status == "ambiguous":
        if len(ids) == 1 or r.candidates[0].how == "fuzzy":
            return Asked("suggest", None, ids, shown, f"没有找到与“{shown}”完全相符的主体。您要查的是不是：")
        return Asked("choose", None, ids, shown, f"找到多个与“{shown}”相近的主体，请选择：")
    if ids and r.candidates[0].score >= PLAUSIBLE_FUZZY:
        return Asked("suggest", None, ids, shown, f"没有找到与“{shown}”完全相符的主体。您要查的是不是：")
    if ids:
        return Asked("none", None, ids, shown, f"没有找到与“{shown}”相符的主体。以下是名称最接近的主体：")
    return Asked("none", None, (), shown, f"没有找到与“{shown}”相符的主体。请核对名称，或输入统一社会信用代码查询。")


def _uscc(answer: MessageAnswer, code: str, valid: bool, error: str | None) -> Asked:
    found = answer.resolution.candidates
    if valid:
        if found:
            return Asked("clear", found[0].subject_id, typed=code)
        return Asked("none", typed=code, message=f"档案中没有统一社会信用代码为 {code} 的主体。")
    if len(found) == 1:
        # Not this code, but the one subject whose code differs in one place: offered, never taken.
        return Asked("near", None, (found[0].subject_id,), code,
                     f"您输入的代码有误：{error}\n档案中只有一个主体的代码与它仅差一位，是否要查它？")
    return Asked("none", typed=code, message=f"统一社会信用代码有误：{error}。请核对后重新输入。")


async def _id_numbers(svc: Services, answers: list[MessageAnswer], allowed: bool) -> dict[str, int]:
    """18-digit ID number → subject id, for every valid ID number the texts carry, in one query."""
    if not allowed:
        return {}
    key = svc.settings.privacy.id_hash_key
    wanted = {m.value for a in answers if not a.legacy for m in a.query.id_numbers[:1] if m.valid}
    if not wanted:
        return {}
    by_hash = {id_match_key(v, key): v for v in wanted}
    async with svc.db.read_transaction() as s:
        rows = await s.execute(select(Subject.id, Subject.id_hash).where(Subject.id_hash.in_(sorted(by_hash))))
        return {by_hash[h]: sid for sid, h in rows}


async def _usccs_not_indexed(svc: Services, answers: list[MessageAnswer]) -> dict[str, int]:
    """Valid USCCs the name index does not hold yet (a record pushed a moment ago through another
    process), looked up in the database in one query: a code answers at once everywhere."""
    wanted = {m.value for a in answers if not a.legacy and not a.resolution.candidates
              for m in a.query.uscc[:1] if m.valid}
    if not wanted:
        return {}
    async with svc.db.read_transaction() as s:
        rows = await s.execute(select(Subject.uscc, Subject.id).where(Subject.uscc.in_(sorted(wanted))))
        return {code: sid for code, sid in rows if code}


async def _legacy(svc: Services, viewer: Viewer, answer: MessageAnswer, allowed: bool) -> Asked:
    """The first old code of a text: a 组织机构代码 (the index, then imported records' legacy
    column), a 工商注册号 (legacy column), an old 15-digit ID number (staff only, looked up as its
    18-digit form). Never printed in clear: `shown` is masked where it may be a person's number."""
    code = answer.legacy[0]
    found: list[int] = []
    if code.kind == "org":
        found = [c.subject_id for c in answer.resolution.candidates]
        if not found:
            found = await subjects_by_legacy_code(svc.db, ORGANISATION_CODE, [code.value, f"{code.value[:8]}-{code.value[8]}"])
        if not found:
            return Asked("none", typed=code.shown, message=f"档案中没有组织机构代码为 {code.shown} 的主体。")
    elif code.kind in ("reg", "ric15") and (code.kind == "reg" or code.also_reg):
        found = await subjects_by_legacy_code(svc.db, REGISTRATION_NUMBER, [code.raw_digits])
    if not found and code.kind == "ric15":
        if not allowed:
            return Asked("refused", typed=code.shown, message=ID_STAFF_ONLY)
        from services.subjects import find_by_id_number

        sid = await find_by_id_number(svc.db, code.value, svc.settings.privacy.id_hash_key)
        if sid is None:
            return Asked("none", typed=code.shown,
                         message=f"档案中没有身份证号 {code.shown}（15 位旧号码，已按 18 位查询）对应的自然人。")
        found = [sid]
    if not found:
        if code.kind == "reg":
            return Asked("none", typed=code.shown, message=f"档案中没有工商注册号为 {code.shown} 的主体。")
        if code.kind != "org":
            return Asked("none", typed=code.shown,
                         message=f"“{code.shown}”既不是有效的 15 位身份证号，也不是有效的工商注册号，请核对后重新输入。")
    found = await _findable(svc, viewer, found)
    if len(found) == 1:
        return Asked("clear", found[0], typed=code.shown)
    if not found:
        return Asked("none", typed=code.shown, message="没有找到相符的主体。请核对名称，或输入统一社会信用代码查询。")
    return Asked("choose", None, tuple(found), code.shown, "该代码对应多个主体，请选择：")


async def _findable(svc: Services, viewer: Viewer, ids: list[int]) -> list[int]:
    """The subjects among `ids` this viewer may be shown (no person for the public by any code)."""
    if not ids:
        return []
    async with svc.db.read_transaction() as s:
        kinds = dict((await s.execute(select(Subject.id, Subject.kind).where(Subject.id.in_(ids)))).all())
    return [i for i in ids if i in kinds and may_find_by_name(viewer, kinds[i], i)]


async def _while_loading(svc: Services, text: str) -> Reading:
    """While the name index is built in the background, valid USCCs are looked up in the database
    (one indexed query each), so codes answer from the first second after a restart."""
    from nlp.codes_in_text import find_codes
    from nlp.intent import parse

    usccs, _ids, _rest = find_codes(text)
    query = parse(text, svc.lexicon) if svc.lexicon is not None else Query("query")
    valid = [m.value for m in usccs if m.valid]
    if not valid:
        return Reading([Asked("loading", message=INDEX_LOADING)], query)
    async with svc.db.read_transaction() as s:
        sid = await s.scalar(select(Subject.id).where(Subject.uscc == valid[0]))
    if sid is None:
        return Reading([Asked("none", typed=valid[0], message=f"档案中没有统一社会信用代码为 {valid[0]} 的主体。")], query)
    return Reading([Asked("clear", sid, typed=valid[0])], query)


__all__ = ["INDEX_LOADING", "Asked", "Reading", "read_text", "read_texts"]
