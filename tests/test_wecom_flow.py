"""Whole conversations over WeCom: encrypted callbacks in, WeCom API calls out, handlers unchanged."""

from __future__ import annotations

from sqlalchemy import select

from db.models import Check
from tests.test_query_flow import HENGDA, HENGDA_HY, HUATAI, seed
from tests.wecom_harness import WeComHarness, wecom

__all__ = ["wecom"]


def texts(out) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(d.text for d in out)


async def test_query_card_check_and_feedback_loop(wecom: WeComHarness) -> None:
    ids = await seed(wecom.db)
    await wecom.refresh()
    official = await wecom.member("official", dept="SCJGJ")
    out = await wecom.say(official, "华泰商贸")
    card_text = texts(out)
    assert "安康市华泰商贸有限公司" in card_text and "严重失信主体名单" in card_text
    card = out[-1]
    assert card.msgtype == "template_card"
    labels = [label for label, _key in card.buttons]
    check_button = next(i for i, label in enumerate(labels, 1) if label.startswith("逢办必查"))
    assert labels[-1].startswith("关注")  # the official's watch button closes the card
    matters = await wecom.press(official, check_button)
    matter_labels = [label for c in matters if c.msgtype == "template_card" for label, _k in c.buttons]
    assert "政府采购" in matter_labels and len(matter_labels) > 6  # more than one card holds
    target = next(c for c in matters if any(label == "政府采购" for label, _ in c.buttons))
    n = [label for label, _ in target.buttons].index("政府采购") + 1
    answer = await wecom.press(official, n, card=target)
    said = texts(answer)
    assert "政府采购" in said and "依据" in said and "严重失信主体名单" in said
    feedback = answer[-1]
    assert [label for label, _ in feedback.buttons][2] == "其他"
    await wecom.press(official, 3, card=feedback)
    done = texts(await wecom.say(official, "已告知申请人暂缓受理"))
    assert "已记录反馈" in done
    async with wecom.db.transaction() as s:
        check = await s.scalar(select(Check).where(Check.subject_id == ids["huatai"]))
    assert check is not None and check.matter == "procurement"
    assert check.feedback == "other" and check.feedback_note == "已告知申请人暂缓受理"
    assert wecom.standin.dropped == []
    assert all(c.errcode == 0 for c in wecom.standin.calls)


async def test_entering_the_app_is_start_and_unknown_member_is_public(wecom: WeComHarness) -> None:
    out = await wecom.post(wecom.standin.enter_event("li.si"))
    assert out and "信用" in texts(out)
    who = texts(await wecom.say("li.si", "/whoami"))
    assert "公众" in who
    assert HENGDA and HUATAI


async def test_collector_uploads_a_csv_and_confirms_it(wecom: WeComHarness, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from tests.test_collect_upload import count_records, penalty_file

    collector = await wecom.member("collector", dept="SCJGJ")
    path = penalty_file(tmp_path / "处罚.csv", 12, dt.date.today() - dt.timedelta(days=30))
    out = await wecom.post(wecom.standin.media_event(collector, "file", path.read_bytes(), "处罚.csv"))
    summary = next(d for d in out if d.msgtype == "template_card" or "确认导入" in d.text)
    assert "共读取 12 行：新增 12 条记录" in texts(out)
    card = wecom.standin.latest_card(collector)
    assert [label for label, _ in card.buttons] == ["确认导入", "取消"] and summary
    assert await count_records(wecom.db) == 0
    done = texts(await wecom.press(collector, 1))
    assert "已导入“处罚.csv”" in done
    assert await count_records(wecom.db) == 12
    # The pressed card was greyed out once (its response code), never twice.
    assert [u["button"]["replace_name"] for u in wecom.standin.updates if "button" in u] == ["已选择"]
    assert all(c.errcode == 0 for c in wecom.standin.calls)


async def test_self_declaration_with_a_photo(wecom: WeComHarness, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.test_declare_flow import LICENCE
    from tests.test_declare_support import HENGDA as DECL_HENGDA
    from tests.test_declare_support import JPEG, PDF, company, declarations, sha

    await company(wecom.db)
    await wecom.refresh()
    owner = await wecom.member("enterprise", subject=DECL_HENGDA)
    await wecom.say(owner, "/declare")
    await wecom.press(owner, 1)
    for value in LICENCE:
        await wecom.say(owner, value)
    got = await wecom.post(wecom.standin.media_event(owner, "file", PDF, "资质证书.pdf"))
    assert "已收到第 1 个附件" in texts(got)
    got = await wecom.post(wecom.standin.media_event(owner, "image", JPEG, "photo.jpg"))
    assert "已收到第 2 个附件" in texts(got)
    summary = texts(await wecom.press(owner, 1))
    assert "证明材料：2 个" in summary
    [d] = await declarations(wecom.db)
    items = d.attachments["items"]
    assert [i["kind"] for i in items] == ["document", "photo"]
    assert [i["sha256"] for i in items] == [sha(PDF), sha(JPEG)]
    assert all(i["file_id"].startswith("wecom-") for i in items)


async def test_a_binding_code_gives_a_wecom_member_the_official_role(wecom: WeComHarness) -> None:
    import datetime as dt

    from services.accounts import create_invitation

    await seed(wecom.db)
    await wecom.refresh()
    member = "wu.shiyi"
    card = texts(await wecom.say(member, "华泰商贸"))
    assert "逢办必查" not in card  # a public account on first contact
    invitation = await create_invitation(wecom.db, "official", "SCJGJ", valid_for=dt.timedelta(hours=1))
    bound = texts(await wecom.say(member, f"/bind {invitation.code}"))
    assert "办事人员" in bound
    out = await wecom.say(member, "华泰商贸")
    assert any(label.startswith("逢办必查") for d in out for label, _ in d.buttons)


async def test_a_repeated_card_click_is_handled_once(wecom: WeComHarness) -> None:
    await seed(wecom.db)
    await wecom.refresh()
    official = await wecom.member("official", dept="SCJGJ")
    card = (await wecom.say(official, "华泰商贸"))[-1]
    check_button = next(i for i, (label, _k) in enumerate(card.buttons, 1) if label.startswith("逢办必查"))
    click = wecom.standin.click_event(official, card, check_button)
    first = await wecom.post(click)
    again = await wecom.post(click)  # the same event, retried by the platform
    assert "请选择您正在办理的事项" in texts(first) and again == []


async def test_ambiguous_names_offer_buttons_and_masking_applies(wecom: WeComHarness) -> None:
    from tests.test_query_flow import FULL_ID, FULL_PHONE

    await seed(wecom.db)
    await wecom.refresh()
    public = await wecom.member("public")
    out = await wecom.say(public, "恒达建材")
    assert "多个" in texts(out)
    labels = [label for d in out for label, _ in d.buttons]
    assert len(labels) == 2 and any("汉阴" in label for label in labels)
    chosen = texts(await wecom.press(public, next(i for i, label in enumerate(labels, 1) if "汉阴" in label)))
    assert chosen.startswith("【汉阴县恒达建材有限公司】")
    # A natural person is not found by name by the public, on this channel as on every other.
    person = texts(await wecom.say(public, "陈建国"))
    assert person == "没有找到与“陈建国”相符的主体。请核对名称，或输入统一社会信用代码查询。"
    everything = "\n".join(d.text for d in wecom.standin.delivered)
    assert not FULL_PHONE.search(everything)
    assert not FULL_ID.search(everything.replace(HENGDA, "").replace(HUATAI, "").replace(HENGDA_HY, ""))


async def test_a_voice_message_gets_a_clear_answer(wecom: WeComHarness) -> None:
    event = wecom.standin.media_event("feng.shier", "voice", b"#!AMR\n voice bytes", "voice.amr")
    out = await wecom.post(event)
    assert [d.text for d in out] == ["暂不支持语音、视频、位置和链接消息。请发送文字，或以文件、图片发送材料；发送 /help 查看用法。"]
