"""The hand-written labelled sets through every door (issue 21): one use case reads a typed subject for
the chat (console, WeCom), `/v1/lookup`, `/v1/checks` and `/v1/checks/batch` (JSON and XLSX), so every
door gives the same answer, on SQLite and on PostgreSQL.

Every question of both sets goes through the shared use case (services.subject_query) and through
the batch door (one request, JSON and XLSX); slices of them through the doors that cost a request or
a conversation each. The expected answers are the hand-written ones (bench.handwritten); each door's
answer is compared with the use case's; no reply of any door carries an ID number in clear.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from bench.handwritten import SETS, HandQuestion, Seen, load, score
from bot.api.app import create_app, load_index
from bot.wecom.transport import MORE_TITLE
from db.models import CreditRecord, Subject, SubjectAlias
from db.session import Database
from rules.masking import id_match_key
from rules.roles import Viewer
from services.apikeys import create_key
from services.subject_query import Reading, read_texts
from tests.conftest import BotHarness, settings_for
from tests.wecom_harness import WeComHarness, wecom

__all__ = ["wecom"]

ID_KEY = "creditbot-demo-key"  # the tests' settings keep the default key
ID_LIKE = re.compile(r"(?<![0-9A-Z])\d{15}(?![0-9A-Z])|(?<![0-9A-Z])\d{17}[\dX](?![0-9A-Z])")
CODE = re.compile(r"[0-9A-Z]{18}|\d{6}\*+\d{3}[\dX]")


async def seed(db: Database, path: Path) -> tuple[dict[str, int], dict[str, int]]:
    """The set's subjects as the archive keeps them; (key → subject id, name or code → subject id).
    Registration numbers live in an imported record's legacy code column."""
    subjects, _questions = load(path)
    made: dict[str, Subject] = {}
    async with db.transaction() as s:
        for hs in subjects:
            subject = Subject(kind=hs.kind, name=hs.name, division_code=hs.division, uscc=hs.uscc)
            if hs.id_number:
                subject.id_hash = id_match_key(hs.id_number, ID_KEY)
                subject.id_masked = hs.id_number[:6] + "********" + hs.id_number[-4:]
            subject.aliases.extend(SubjectAlias(alias=a, kind=k) for a, k in hs.aliases)
            s.add(subject)
            made[hs.key] = subject
            if hs.reg:
                s.add(CreditRecord(
                    subject=subject, category="行政许可", source_key="11610900MB0000001X",
                    source_name="安康市市场监督管理局", doc_number=f"安市监许〔2014〕{len(made)}号",
                    decision_date=dt.date(2014, 5, 6), status="active", fields={"工商注册号": hs.reg},
                ))
        await s.flush()
        ids = {k: v.id for k, v in made.items()}
        lookup = {v.name: v.id for v in made.values()}
        lookup |= {v.uscc: v.id for v in made.values() if v.uscc}
        lookup |= {v.id_masked: v.id for v in made.values() if v.id_masked}
    return ids, lookup


def shared(reading: Reading) -> list[Seen]:
    """The use case's answer as a door shows it: a card when clear, else the subjects offered."""
    if not reading.asked:
        return [Seen(None)]
    return [Seen(a.subject_id) if a.status == "clear" else Seen(None, a.candidates) for a in reading.asked]


def one_subject(seen: list[Seen]) -> list[Seen]:
    """The port checks one subject per request: a text naming two is a choice between them, each
    subject by its card or its first two candidates (services.api_checks._port_view)."""
    if len(seen) < 2:
        return seen
    return [Seen(None, tuple(dict.fromkeys(i for s in seen for i in ((s.card,) if s.card else s.offered[:2]))))]


def port_seen(status: str, subject: dict[str, Any] | None, candidates: list[dict[str, Any]], names: dict[str, int]) -> Seen:
    def sid(brief: dict[str, Any]) -> int:
        return names[brief.get("uscc") or brief.get("id_masked") or brief["name"]]

    if status == "clear" and subject is not None:
        return Seen(sid(subject))
    return Seen(None, tuple(sid(c) for c in candidates))


def chat_seen(out: list[Any], names: dict[str, int]) -> list[Seen]:
    """What a chat showed: 【name】 opens a card; a message with subject buttons offers them; a
    not-found answer shows nothing; the 逢办必查 answer after a card is no subject of its own."""
    seen = []
    for o in out:
        text = o.text or ""
        labels = [label for row in getattr(o, "buttons", []) for label in (row if isinstance(row, list) else [row])]
        labels = [label[0] if isinstance(label, tuple) else label for label in labels]
        if text.startswith("【"):
            seen.append(Seen(names[text[1 : text.index("】")]]))
        elif text.startswith("逢办必查"):
            continue
        else:
            offered = tuple(names[label.split(" · ")[0]] for label in labels if label.split(" · ")[0] in names)
            seen.append(Seen(None, offered))
    return seen or [Seen(None)]


def no_id_numbers(text: str, where: str, codes: dict[str, int] | None = None) -> None:
    """No 15- or 18-digit ID number in clear (a USCC of digits only is no ID number)."""
    for code in codes or {}:
        if len(code) == 18:
            text = text.replace(code, "")
    found = ID_LIKE.search(text)
    assert not found, f"an ID number in clear in {where}: {found.group(0)}"


async def port_app(db: Database) -> Any:
    """The port's application in this process, its index loaded, no rate limit in the way."""
    settings = settings_for(db)
    settings = replace(settings, api=replace(settings.api, rate_per_minute=100_000, burst=10_000))
    app = create_app(settings, db)
    await load_index(app.state.api.services)
    app.state.api.ready = True
    return app


OFFICIAL = Viewer(account_id=None, role="official", department_id=None)


@pytest.mark.parametrize("which", sorted(SETS))
async def test_every_door_gives_the_same_answer(which: str, harness: BotHarness, wecom: WeComHarness) -> None:
    db = harness.db
    path = SETS[which]
    ids, names = await seed(db, path)
    await harness.refresh()
    await wecom.refresh()
    _subjects, questions = load(path)
    texts = [q.text for q in questions]

    # The shared use case, every question: the hand-written answers (≥ 97 %, nothing confidently wrong).
    svc = harness.app.bot_data["services"]  # type: ignore[attr-defined]
    readings = await read_texts(svc, OFFICIAL, texts, id_numbers=True)
    expected = [shared(r) for r in readings]
    result = score(questions, expected, ids)
    assert result["confident_wrong"] == 0, result["misses"]
    assert result["accuracy"] >= 0.97, result["misses"]
    for r in readings:
        for a in r.asked:
            no_id_numbers(a.message + a.typed, "a reading")

    # The port, in process.
    app = await port_app(db)
    key = (await create_key(db, "SCJGJ", "核查系统", "check,query,idquery")).key
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://port", headers={"X-API-Key": key}) as port:
        body = {"matter": "procurement", "case_number": "CG-1", "operator": "李四"}
        # Batch, JSON and XLSX: every question in one request.
        batch = (await port.post("/v1/checks/batch", json={**body, "subjects": texts})).json()
        no_id_numbers(str(batch), "a batch", names)
        xlsx = await port.post("/v1/checks/batch", params={"format": "xlsx"}, json={**body, "subjects": texts})
        rows = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(min_row=2, values_only=True))
        for q, want, line, row in zip(questions, expected, batch["lines"], rows, strict=True):
            got = port_seen("clear" if line["resolved"] else line["status"],
                            line["check"]["subject"] if line["check"] else None, line["candidates"], names)
            assert [got] == one_subject(want), (q.text, "batch", got, want)
            offered = tuple(names[c] for c in CODE.findall(row[10] or "") if c in names)
            cell = Seen(names[row[4]]) if row[2] == "是" else Seen(None, offered)
            assert cell == got, (q.text, "xlsx", row)
            no_id_numbers(" ".join(str(c) for c in row if c is not None), "an XLSX row", names)
        # Look-ups: every third question (an ID number never goes into a query string: 422 by design).
        for q, want in list(zip(questions, expected, strict=True))[::3]:
            r = await port.get("/v1/lookup", params={"q": q.text})
            if r.status_code == 422:
                assert _has_full_id(q), q.text
                continue
            assert r.status_code == 200, (q.text, r.text)
            got = r.json()
            no_id_numbers(r.text, "a look-up", names)
            assert [port_seen(got["status"], got["subject"], got["candidates"], names)] == one_subject(want), (q.text, got)
        # Checks: every seventh question.
        for q, want in list(zip(questions, expected, strict=True))[::7]:
            r = await port.post("/v1/checks", json={**body, "subject": q.text})
            got = r.json()
            no_id_numbers(r.text, "a check", names)
            if r.status_code == 200:
                assert [Seen(port_seen("clear", got["subject"], [], names).card)] == one_subject(want), q.text
            else:
                assert r.status_code in (404, 409), r.text
                cands = got.get("candidates", [])
                assert [port_seen("none", None, cands, names)] == one_subject(want), (q.text, got)

        # A person by an old 15-digit ID number, as the schema allows (the hand-written persons).
        subjects, _ = load(path)
        for person in (s for s in subjects if s.id_number):
            old = person.id_number[:6] + person.id_number[8:17]
            r = await port.post("/v1/subjects/by-id-number", json={"id_number": old, "operator": "李四"})
            assert r.status_code == 200, r.text
            assert r.json()["subject"]["name"] == person.name and "*" in r.json()["subject"]["code"]
            no_id_numbers(r.text, "a credit file", names)

    # The chat: every question with a digit in it (codes, ID numbers: the database look-ups) and
    # every fifth of the others; WeCom every fifteenth.
    chat = await harness.chat("official", dept="SCJGJ")
    for i, (q, want) in enumerate(zip(questions, expected, strict=True)):
        if i % 5 and not any(c.isdigit() for c in q.text):
            continue
        assert chat_seen(await harness.say(chat, q.text), names) == want, q.text
    for q, want in list(zip(questions, expected, strict=True))[::15]:
        # A new member each time: WeCom holds messages to one member back past 30 a minute.
        member = await wecom.member("official", dept="SCJGJ")
        out = await wecom.say(member, q.text)
        assert _wecom_seen(out, names) == want, (q.text, [d.text for d in out])
    everything = "\n".join((o.text or "") + " ".join(str(b) for b in o.buttons) for o in harness.transport.sent)
    no_id_numbers(everything, "the chat", names)
    no_id_numbers("\n".join(d.text + str(d.buttons) for d in wecom.standin.delivered), "WeCom", names)


def _has_full_id(q: HandQuestion) -> bool:
    glued = re.sub(r"[\s-]", "", q.text)
    return bool(re.search(r"\d{17}[\dXx]", glued))


def _wecom_seen(out: list[Any], names: dict[str, int]) -> list[Seen]:
    """WeCom shows a reply with buttons as a card (its text the title): the same reading as a chat."""

    class _Msg:
        def __init__(self, text: str, buttons: list[str]) -> None:
            self.text, self.buttons = text, [buttons]

    merged: list[_Msg] = []
    for d in out:
        labels = [label for label, _key in d.buttons]
        # A text too long for a card's title goes first, its keyboard follows in cards titled
        # 请选择： (six buttons each): one reply.
        if merged and labels and d.text.strip() in ("", MORE_TITLE):
            merged[-1].buttons[0].extend(labels)
            continue
        merged.append(_Msg(d.text, labels))
    return chat_seen(merged, names)


async def test_a_batch_of_fuzzy_names_leaves_the_loop_to_other_keys(db: Database) -> None:
    """1,000 names that match nothing exactly (the costliest look-ups: the fuzzy pass for each) in
    one batch, and meanwhile another key's look-ups: they are answered while the batch still runs
    (the batch resolves in slices of a few milliseconds: services.subject_query)."""
    import asyncio

    from db.demo.load import build_demo

    await build_demo(db, n_subjects=300)
    app = await port_app(db)
    batch_key = (await create_key(db, "YJJ", "招投标系统", "check")).key
    other_key = (await create_key(db, "SCJGJ", "审批系统", "query")).key
    marks = "鲲鹏翡翠琥珀玳瑁璀璨潇湘麒麟骐骥"
    fuzzy = [f"{marks[i % 14]}{marks[(i // 14) % 14]}{i}号商贸建材物流科技" for i in range(1000)]  # all different
    transport = httpx.ASGITransport(app=app)
    # The use case itself: a task that only yields counts how often the loop came back to it.
    svc = app.state.api.services
    ticks = 0
    running = True

    async def ticker() -> None:
        nonlocal ticks
        while running:
            await asyncio.sleep(0)
            ticks += 1

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    before = ticks
    readings = await read_texts(svc, OFFICIAL, fuzzy)
    running = False
    await task
    assert len(readings) == 1000 and all(r.asked[0].status != "clear" for r in readings)
    assert ticks - before >= 10, ticks - before  # in slices of 5 ms: the loop came back again and again

    async with (
        httpx.AsyncClient(transport=transport, base_url="http://port", headers={"X-API-Key": batch_key}) as a,
        httpx.AsyncClient(transport=transport, base_url="http://port", headers={"X-API-Key": other_key}) as b,
    ):
        batch = asyncio.create_task(a.post("/v1/checks/batch", json={
            "subjects": fuzzy, "matter": "tender", "case_number": "ZB-9", "operator": "李四"}, timeout=600))
        answered_meanwhile = 0
        while not batch.done():
            r = await b.get("/v1/lookup", params={"q": "恒达建材"})
            assert r.status_code == 200
            answered_meanwhile += not batch.done()
        done = await batch
    assert done.status_code == 200 and done.json()["total"] == 1000
    assert answered_meanwhile >= 1, answered_meanwhile
