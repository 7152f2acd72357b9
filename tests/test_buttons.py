"""Button data specs: round trips, Telegram's 64-byte limit, forged data, and one route per press."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from telegram import CallbackQuery, Message, Update

from render import buttons as b
from rules.declarations import CATEGORIES as DECLARATION_CATEGORIES
from rules.measures import MATTERS
from tests.conftest import BotHarness
from tests.test_lifecycle_support import texts

HANDLERS = Path(__file__).resolve().parent.parent / "handlers"
BIG = 2**63 - 1  # the largest id a BIGINT column holds
LONGEST_CATEGORY = "严重失信主体名单"  # the longest category name sent on a button

# Hand-written examples of what the bot sends (the data the chats of today's users hold).
EXAMPLES = {
    b.PICK_SUBJECT: [("s:12:-:-", (12, None, None)), ("s:7:行政处罚:procurement", (7, "行政处罚", "procurement"))],
    b.MORE_RECORDS: [("p:12:1:-", (12, 1, None)), ("p:3:2:行政许可", (3, 2, "行政许可"))],
    b.CHOOSE_MATTER: [("c:42", (42,))],
    b.MATTER: [("mt:42:procurement", (42, "procurement"))],
    b.CHECK_FEEDBACK: [("fb:9:other", (9, "other"))],
    b.REPORT_FOR: [("rpt:5", (5,))],
    b.REPORT_SPAN: [("rps:5:3", (5, 3))],
    b.WATCH: [("w:5", (5,))],
    b.UNWATCH: [("uw:5", (5,))],
    b.GRADES_VIEW: [("gr:county", ("county",)), ("gr:changes", ("changes",))],
    b.PROPOSE_SUBJECT: [("lp:s:5", (5,))],
    b.PROPOSE_LIST_TYPE: [("lp:t:wage_arrears", ("wage_arrears",))],
    b.PROPOSE_DEFAULT_PERIOD: [("lp:d", ())],
    b.PROPOSE_CONFIRM: [("lp:c:ok", ("ok",)), ("lp:c:no", ("no",))],
    b.OBJECTION_RECORD: [("ob:r:31", (31,))],
    b.OBJECTION_SUBMIT: [("ob:go", ())],
    b.OBJECTION_OPEN: [("od:4", (4,))],
    b.OBJECTION_FILES: [("oda:4", (4,))],
    b.OBJECTION_DECIDE: [("odd:4:corrected", (4, "corrected"))],
    b.REPAIR_RECORD: [("rp:r:8", (8,))],
    b.REPAIR_OBLIGATION: [("rp:ob:no", ("no",))],
    b.REPAIR_COMMIT: [("rp:commit", ())],
    b.REPAIR_DECIDE: [("rd:2:approve", (2, "approve")), ("rd:3:refuse", (3, "refuse"))],
    b.DOCUMENT_GET: [("doc:安信修告〔2026〕0001号", ("安信修告〔2026〕0001号",))],
    b.VERIFY_OPEN: [("dv:o:6", (6,))],
    b.VERIFY_FILES: [("dv:a:6", (6,))],
    b.VERIFY_DECIDE: [("dv:d:6:revoke", (6, "revoke"))],
    b.DECLARE_BACK: [("dc:back", ())],
    b.DECLARE_SUBJECT: [("dc:s:3", (3,))],
    b.DECLARE_CATEGORY: [("dc:c:honour", ("honour",))],
    b.DECLARE_SKIP: [("dc:skip", ())],
    b.DECLARE_NO_CODE: [("dc:nocode", ())],
    b.DECLARE_FILES_DONE: [("dc:done", ())],
    b.DECLARE_CONFIRM: [("dc:ok", ())],
    b.DECLARE_COMMIT: [("dc:commit:yes", ("yes",))],
    b.DECLARE_AUTHORISE: [("dc:auth:no", ("no",))],
    b.UPLOAD: [("up:ok:" + "0123456789abcdef" * 2, ("ok", "0123456789abcdef" * 2))],
    b.ZERO: [("zero:行政处罚", ("行政处罚",))],
    b.DUTY: [("duty:rm:SCJGJ:行政许可", ("rm", "SCJGJ", "行政许可"))],
    b.REMINDER: [("rem:mute", ("mute",))],
    b.ADMIN_OVERDUE: [("adm:overdue", ())],
    b.ADMIN_CHART: [("adm:chart:2026-10", ("2026-10",))],
    b.UNBIND: [("ub:ok", ("ok",)), ("ub:no", ("no",))],
}


def test_every_spec_has_examples() -> None:
    assert set(EXAMPLES) == set(b.ALL)


@pytest.mark.parametrize("spec", b.ALL, ids=lambda s: s.prefix)
def test_examples_unpack_and_pack_back(spec: b.ButtonSpec) -> None:
    for data, values in EXAMPLES[spec]:
        assert spec.unpack(data) == values
        assert spec.pack(*values) == data
        assert re.match(spec.pattern, data)


def test_each_press_reaches_exactly_one_family() -> None:
    """No prefix is another's followed by ":", so PTB routes every example to one handler only."""
    for spec, examples in EXAMPLES.items():
        for data, _values in examples:
            routed = [other.prefix for other in b.ALL if re.match(other.pattern, data)]
            assert routed == [spec.prefix], data
    assert len({s.prefix for s in b.ALL}) == len(b.ALL)


def test_the_longest_data_of_each_family_fits_in_64_bytes() -> None:
    """The largest ids and longest words each field takes, packed: Telegram refuses more than 64 bytes."""
    longest_matter = max(MATTERS, key=len)
    widest = {
        b.PICK_SUBJECT: (BIG, LONGEST_CATEGORY, longest_matter),
        b.MORE_RECORDS: (BIG, 999, LONGEST_CATEGORY),
        b.MATTER: (BIG, longest_matter),
        b.CHECK_FEEDBACK: (BIG, "proceeded"),
        b.OBJECTION_DECIDE: (BIG, "corrected"),
        b.REPAIR_DECIDE: (BIG, "approve"),
        b.DOCUMENT_GET: ("安信专报〔2026〕999999号",),
        b.VERIFY_DECIDE: (BIG, "approve"),
        b.DECLARE_CATEGORY: (max(DECLARATION_CATEGORIES, key=len),),
        b.UPLOAD: ("ok", "f" * 32),
        b.ZERO: (LONGEST_CATEGORY,),
        b.DUTY: ("add", "SCJGJ-610902", LONGEST_CATEGORY),
    }
    for spec in b.ALL:
        values = widest.get(spec) or tuple(BIG if f.regex == r"\d+" else EXAMPLES[spec][0][1][i] for i, f in enumerate(spec.fields))
        assert len(spec.pack(*values).encode()) <= b.CALLBACK_DATA_LIMIT, spec.prefix


def test_pack_refuses_what_would_not_come_back() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        b.ZERO.pack("类" * 30)
    with pytest.raises(ValueError, match="does not fit"):
        b.DUTY.pack("add", "SCJGJ", "行政:处罚")  # a ":" would shift the fields
    with pytest.raises(ValueError, match="does not fit"):
        b.OBJECTION_DECIDE.pack(4, "approve")  # not an objection decision
    with pytest.raises(ValueError, match="values expected"):
        b.MATTER.pack(4)


@pytest.mark.parametrize(
    "spec,data",
    [
        (b.OBJECTION_OPEN, "od:abc"),
        (b.OBJECTION_OPEN, "od:"),
        (b.OBJECTION_OPEN, "od"),
        (b.OBJECTION_DECIDE, "odd:4:approve"),
        (b.OBJECTION_DECIDE, "odd:4:corrected:extra"),
        (b.PICK_SUBJECT, "s:1:-"),
        (b.PICK_SUBJECT, "s:1:-:unknown_matter"),
        (b.MORE_RECORDS, "p:1:x:-"),
        (b.UPLOAD, "up:ok:../../etc"),
        (b.DECLARE_CATEGORY, "dc:c:nonsense"),
        (b.ADMIN_CHART, "adm:chart:2026-1"),
        (b.REPORT_FOR, None),
        (b.REPORT_FOR, "rpt:-1"),
    ],
)
def test_malformed_data_unpacks_to_none_without_raising(spec: b.ButtonSpec, data: str | None) -> None:
    assert spec.unpack(data) is None


def test_no_handler_writes_a_callback_regex_by_hand() -> None:
    """Patterns come from the specs; a literal `pattern=r"^…"` in handlers/ would bypass them."""
    offenders = [
        f"{path.name}: {line.strip()}"
        for path in HANDLERS.glob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
        if "CallbackQueryHandler(" in line and re.search(r"pattern=r?[\"']", line)
    ]
    assert offenders == []


async def _press(harness: BotHarness, chat: object, data: str, update_id: int) -> str:
    """Deliver a button press carrying `data`, as a forged or stale button would arrive."""
    user = chat.user  # type: ignore[attr-defined]
    bot_message = Message.de_json(
        {"message_id": 1, "date": 0, "chat": {"id": user.id, "type": "private"}, "text": "x"}, harness.app.bot  # type: ignore[attr-defined]
    )
    query = CallbackQuery(str(update_id), user, "ci", data=data, message=bot_message)
    before = len(harness.transport.sent)
    await chat._deliver(Update(update_id, callback_query=query))  # type: ignore[attr-defined]
    return texts(harness.transport.sent[before:])


async def test_a_forged_button_gets_a_chinese_answer(harness: BotHarness) -> None:
    official = await harness.chat("official", dept="SCJGJ")
    forged = ["od:abc", "odd:1:approve", "rd:x:approve", "dv:o:", "rpt:a", "dc:zzz", "s:1:-", "mt:1:nothing", "duty:rm"]
    for n, data in enumerate(forged, start=90_000):
        said = await _press(harness, official, data, n)
        assert b.UNKNOWN_BUTTON in said and "抱歉" not in said, data
