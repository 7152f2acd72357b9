"""The persons behind subjects: the 主体名录's legal representatives become person subjects (ID
numbers as keyed hash and masked form only), and an official's card says where a list's measures
reach them — masked, audited, never shown to the public."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import func, select

from db.importers.samples import write_csv
from db.models import AuditEntry, Subject, SubjectPerson
from rules.codes import complete_uscc
from rules.roles import Viewer
from services.checks import raise_check
from services.imports import import_file
from tests.conftest import BotHarness
from tests.dbscan import clear_id_numbers
from tests.test_lifecycle_support import add_record, dept_id, texts, today

KEY = "creditbot-demo-key"  # the harness's privacy.id_hash_key


def resident_id(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights, strict=True)) % 11]


WANG = resident_id("61090219750312123")  # legal representative of two companies
LI = resident_id("61092119800101456")  # a legal representative on a list in his own name
ZHAO = resident_id("61090219880808789")  # nobody's list
HANJIANG, LAOWU, QINBA, QINGFENG = (complete_uscc(c) for c in
                                    ("91610902MA70HJ001", "91610921MA70HJ002", "91610902MA70QB003", "91610902MA70QF004"))
HEADERS = ["主体名称", "主体类别", "统一社会信用代码", "法定代表人", "法定代表人证件号码", "主要负责人", "主要负责人证件号码"]


async def seed(harness: BotHarness, tmp_path: Path) -> dict[str, int]:
    rows = [
        {"主体名称": "安康市汉江建设有限公司", "主体类别": "法人", "统一社会信用代码": HANJIANG, "法定代表人": "王建华", "法定代表人证件号码": WANG},
        {"主体名称": "汉阴县汉江劳务有限公司", "主体类别": "法人", "统一社会信用代码": LAOWU, "法定代表人": "王建华", "法定代表人证件号码": WANG},
        {"主体名称": "安康市秦巴商贸有限公司", "主体类别": "法人", "统一社会信用代码": QINBA, "法定代表人": "李明", "法定代表人证件号码": LI},
        {"主体名称": "安康市清风物业有限公司", "主体类别": "法人", "统一社会信用代码": QINGFENG, "法定代表人": "赵强",
         "法定代表人证件号码": ZHAO, "主要负责人": "王建华", "主要负责人证件号码": WANG},
    ]
    report = await import_file(harness.db, write_csv(tmp_path / "主体名录.csv", HEADERS, rows), kind="subjects", id_key=KEY,
                               today=today(harness))
    assert report.written and not report.errors, report.errors
    async with harness.db.transaction() as s:
        ids = {name: sid for sid, name in (await s.execute(select(Subject.id, Subject.name))).all()}
    t = today(harness)
    labour = await dept_id(harness.db, "RSJ")
    await add_record(harness.db, ids["安康市汉江建设有限公司"], labour, "严重失信主体名单", "安人社列〔2026〕1号",
                     t - dt.timedelta(days=30), severity="严重", list_type="wage_arrears")
    await add_record(harness.db, ids["李明"], await dept_id(harness.db, "ZY"), "严重失信主体名单", "（2026）陕0902执12号",
                     t - dt.timedelta(days=60), severity="严重", title="失信被执行人")
    await harness.refresh()
    return ids


async def test_legal_representatives_become_masked_person_subjects(harness: BotHarness, tmp_path: Path) -> None:
    ids = await seed(harness, tmp_path)
    async with harness.db.transaction() as s:
        persons = (await s.execute(select(Subject.name, Subject.kind, Subject.id_masked).where(Subject.kind == "自然人"))).all()
        links = (await s.execute(select(SubjectPerson.organisation_id, SubjectPerson.person_id, SubjectPerson.role))).all()
    assert sorted(persons) == sorted([("王建华", "自然人", WANG[:6] + "********" + WANG[-4:]),
                                      ("李明", "自然人", LI[:6] + "********" + LI[-4:]),
                                      ("赵强", "自然人", ZHAO[:6] + "********" + ZHAO[-4:])])  # one row per person
    assert sorted(links) == sorted([
        (ids["安康市汉江建设有限公司"], ids["王建华"], "legal_rep"), (ids["汉阴县汉江劳务有限公司"], ids["王建华"], "legal_rep"),
        (ids["安康市秦巴商贸有限公司"], ids["李明"], "legal_rep"), (ids["安康市清风物业有限公司"], ids["赵强"], "legal_rep"),
        (ids["安康市清风物业有限公司"], ids["王建华"], "principal"),
    ])
    assert await clear_id_numbers(harness.db) == []


async def test_an_organisations_card_names_the_persons_its_measures_reach(harness: BotHarness, tmp_path: Path) -> None:
    ids = await seed(harness, tmp_path)
    official = await harness.chat("official", dept="RSJ")
    card = texts(await harness.say(official, HANJIANG))
    assert "关联人员与关联主体" in card
    # Its list (拖欠农民工工资, 条例第四十八条) binds its legal representative, who also heads two others.
    assert f"王建华（{WANG[:6]}********{WANG[-4:]}）：法定代表人（本主体名单的措施及于此人）" in card
    assert "汉阴县汉江劳务有限公司" in card and "法定代表人王建华同时担任该主体的法定代表人" in card
    assert "安康市清风物业有限公司" in card and "同时担任该主体的主要负责人" in card
    assert WANG not in card
    # A company whose legal representative is on a list in his own name: the post measures.
    qinba = texts(await harness.say(official, QINBA))
    assert "法定代表人本人在名单中" in qinba and "失信被执行人名单" in qinba and "不得担任公司的董事、监事、高级管理人员" in qinba
    # Linked, but no measure reaches anyone: nothing is shown.
    qingfeng = texts(await harness.say(official, QINGFENG))
    assert "关联人员" not in qingfeng
    # Never to the public.
    public = texts(await harness.say(await harness.chat("public"), HANJIANG))
    assert "关联人员" not in public and "汉阴县汉江劳务有限公司" not in public
    # Every related subject shown is a look-up of its own in the audit trail.
    async with harness.db.transaction() as s:
        related = (await s.execute(select(AuditEntry.subject_id, AuditEntry.detail).where(AuditEntry.action == "view_related"))).all()
    shown = {(sid, d["via"]) for sid, d in related}
    assert {(ids["王建华"], ids["安康市汉江建设有限公司"]), (ids["汉阴县汉江劳务有限公司"], ids["安康市汉江建设有限公司"]),
            (ids["李明"], ids["安康市秦巴商贸有限公司"])} <= shown
    assert all(via != ids["安康市清风物业有限公司"] for _sid, via in shown)


async def test_a_persons_card_and_check_answer_may_this_person_hold_this_post(harness: BotHarness, tmp_path: Path) -> None:
    ids = await seed(harness, tmp_path)
    official = await harness.chat("official", dept="SCJGJ")
    card = texts(await harness.say(official, WANG))
    assert "安康市汉江建设有限公司" in card and "担任该主体的法定代表人" in card and "在市场准入方面依法依规予以限制" in card
    assert "汉阴县汉江劳务有限公司" not in card  # not listed: no measure reaches him through it
    async with harness.db.transaction() as s:
        account = await s.scalar(select(func.min(AuditEntry.account_id)).where(AuditEntry.action == "view_related"))
    viewer = Viewer(account_id=account, role="official")
    check = await raise_check(harness.db, viewer, ids["王建华"], "registration", today(harness))
    assert [m.key for m in check.measures] == ["wage_arrears.market_access"]
    assert check.measures[0].reason.startswith("该人员担任安康市汉江建设有限公司的法定代表人；")
    li = await raise_check(harness.db, viewer, ids["李明"], "hiring", today(harness))
    assert [m.key for m in li.measures] == ["judgment_defaulter.officer"]
    nobody = await raise_check(harness.db, viewer, ids["赵强"], "registration", today(harness))
    assert nobody.measures == () and nobody.answer.not_restricted == ()


async def test_the_port_shows_the_same_links_to_department_systems_only(harness: BotHarness, tmp_path: Path) -> None:
    from bot.api.routes_subjects import card_out
    from services.lookup import view_subject

    ids = await seed(harness, tmp_path)
    org = ids["安康市汉江建设有限公司"]
    official = card_out(await view_subject(harness.db, org, Viewer(account_id=None, role="official"), today(harness), channel="api"))  # type: ignore[arg-type]
    assert (official.related[0].name, official.related[0].relation) == ("王建华", "法定代表人（本主体名单的措施及于此人）")
    assert official.related[0].code == WANG[:6] + "********" + WANG[-4:] and "在政府采购方面依法依规予以限制" in official.related[0].measures
    assert {r.name for r in official.related} >= {"汉阴县汉江劳务有限公司", "安康市清风物业有限公司"}
    public = await view_subject(harness.db, org, Viewer(account_id=None, role="public"), today(harness))
    assert public is not None and public.related == ()


async def test_every_door_gives_the_same_answer(harness: BotHarness, tmp_path: Path) -> None:
    """The chat's check, the port's check and the chat's rendering agree, list type by list type and
    matter by matter, persons' measures included."""
    from handlers.check import check_answer
    from rules.measures import MATTERS
    from services.api_checks import raise_api_check, viewer_for
    from services.apikeys import authenticate, create_key

    ids = await seed(harness, tmp_path)
    t = today(harness)
    for key, dept in (("safety_serious", "YJJ"), ("procurement_record", "CZJ"), ("market_serious", "SCJGJ")):
        await add_record(harness.db, ids["安康市秦巴商贸有限公司"], await dept_id(harness.db, dept), "严重失信主体名单",
                         f"{dept}列〔2026〕1号", t - dt.timedelta(days=10), severity="严重", list_type=key)
    principal = await authenticate(harness.db, (await create_key(harness.db, "RSJ", "劳动监察系统", "check")).key)
    assert principal is not None
    port_viewer = viewer_for(principal)
    async with harness.db.transaction() as s:
        account = await s.scalar(select(func.min(AuditEntry.account_id)))
    chat_viewer = Viewer(account_id=account or principal.account_id, role="official")
    for name in ("安康市汉江建设有限公司", "安康市秦巴商贸有限公司", "王建华", "李明", "安康市清风物业有限公司"):
        for matter in MATTERS:
            chat = await raise_check(harness.db, chat_viewer, ids[name], matter, t)
            port = await raise_api_check(harness.db, principal, port_viewer, ids[name], matter, t, "A-1", "李四")
            assert chat.answer == port.answer, (name, matter)
            text, _buttons = check_answer(chat)
            assert all(m.text in text and m.implementer in text for m in chat.measures), (name, matter)
            assert all(n.why in text for n in chat.answer.not_restricted), (name, matter)
