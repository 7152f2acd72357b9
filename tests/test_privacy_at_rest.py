"""Privacy at rest (review finding): ID and mobile numbers typed into free text are stored masked, in
the forms of DOMAIN.md (ID first 6 + last 4, phone 3 + 4): import free text (违法事实, 备注, the title),
objection and decision reasons and corrections, repair decisions, 逢办必查 feedback notes. The whole
database is scanned afterwards (tests/dbscan.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from db.importers import samples as S
from db.models import Check, CreditRecord, Objection, RepairRequest
from db.session import Database
from rules.codes import complete_ric
from rules.measures import MATTERS
from services.checks import raise_check, record_feedback
from services.imports import import_file
from services.objections import Attachment, decide_objection, file_objection
from services.repair import apply_for_repair, decide_repair
from tests.dbscan import clear_id_numbers, clear_mobile_numbers
from tests.test_lifecycle_db import CAL, TODAY, accounts, official, owner
from tests.test_lifecycle_support import add_record, add_subject, dept_id

# Hand-written, as a clerk types them (the ID's check character completed): plain, with +86 and dashes.
PERSON_ID = complete_ric("61090219850512003")
OLD_ID = "610902850512003"  # first-generation, 15 digits
MOBILE = "13912345678"


def test_scan_finds_clear_mobiles_and_not_masked_ones() -> None:
    from tests.dbscan import _MOBILE

    assert _MOBILE.findall(f"电话{MOBILE}，或 +86 139-1234-5678") == [MOBILE, "139-1234-5678"]
    assert _MOBILE.findall("电话139****5678，代码91610902MA70HD0010，哈希a13912345678b") == []


async def test_import_free_text_is_masked_at_rest(db: Database, tmp_path: Path) -> None:
    row = S.penalty_row(1, decision=dt.date(2026, 3, 2), person_every=0)
    row["违法事实"] = f"经查，当事人负责人（身份证号{PERSON_ID.lower()}，电话{MOBILE}）未按规定公示"
    row["备注"] = f"联系人手机 +86 139-1234-5678；旧证号{OLD_ID}"
    row["违法行为类型"] = f"举报人{MOBILE}反映的违法行为"
    path = S.write_csv(tmp_path / "p.csv", S.HEADERS[("penalty", "2021")], [row])
    assert (await import_file(db, path, id_key="k", today=TODAY)).written
    async with db.sessions() as s:
        record = await s.scalar(select(CreditRecord))
    assert record is not None
    tail = PERSON_ID[-4:].lower()
    assert record.fields["违法事实"] == f"经查，当事人负责人（身份证号610902********{tail}，电话139****5678）未按规定公示"
    assert record.fields["备注"] == "联系人手机 +86 139****5678；旧证号610902*****2003"
    assert record.title == "举报人139****5678反映的违法行为"
    assert await clear_id_numbers(db) == [] and await clear_mobile_numbers(db) == []
    again = await import_file(db, path, id_key="k", today=TODAY)  # masking is stable: nothing changes
    assert again.ok and (again.updating, again.unchanged) == (0, 1)


async def test_objection_repair_and_feedback_texts_are_masked_at_rest(db: Database) -> None:
    subject = await add_subject(db)
    dept = await dept_id(db)
    await accounts(db, (1, "enterprise", None), (2, "official", dept))
    objected = await add_record(
        db, subject, dept, "行政处罚", "安市监罚〔2026〕7号", dt.date(2026, 6, 1), publication_end=dt.date(2027, 6, 1)
    )
    filed = await file_objection(
        db, owner(subject), objected, f"处罚对象错误，我的身份证{PERSON_ID}，请致电{MOBILE}", [], TODAY, CAL
    )
    await decide_objection(
        db, official(dept, 2), filed.objection_id, "corrected", f"已与当事人（{MOBILE}）核实", TODAY,
        {"content": f"警告（当事人身份证{PERSON_ID}）"},
    )
    repaired = await add_record(db, subject, dept, "行政处罚", "old", dt.date(2026, 4, 10))
    request = await apply_for_repair(db, owner(subject), repaired, True, [Attachment("p1", "photo")], "我承诺", TODAY)
    await decide_repair(db, official(dept, 2), request.request_id, True, f"已缴清罚款，经办人电话{MOBILE}", TODAY)
    check = await raise_check(db, official(dept, 2), subject, next(iter(MATTERS)), TODAY)
    await record_feedback(db, official(dept, 2), check.check_id, "other", f"负责人{PERSON_ID}拒绝签字，电话{MOBILE}")

    masked_id = PERSON_ID[:6] + "********" + PERSON_ID[-4:]
    async with db.sessions() as s:
        objection = await s.scalar(select(Objection))
        repair = await s.scalar(select(RepairRequest))
        note = await s.scalar(select(Check.feedback_note))
        content = await s.scalar(select(CreditRecord.content).where(CreditRecord.id == objected))
    assert objection is not None and repair is not None
    assert objection.reason == f"处罚对象错误，我的身份证{masked_id}，请致电139****5678"
    assert objection.decision_reason == "已与当事人（139****5678）核实"
    assert objection.corrections == {"content": f"警告（当事人身份证{masked_id}）"} and content == objection.corrections["content"]
    assert repair.decision_reason == "已缴清罚款，经办人电话139****5678"
    assert note == f"负责人{masked_id}拒绝签字，电话139****5678"
    assert await clear_id_numbers(db) == [] and await clear_mobile_numbers(db) == []
