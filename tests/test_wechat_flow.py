"""Whole conversations over the 服务号: a business binds, searches, self-declares, objects, applies
for repair and receives its report as a link; restarts mid-flow lose nothing. Encrypted callbacks in,
客服消息 out (the stand-in refuses what WeChat refuses), documents through the web pages."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import select

from bot.wechat import store
from db.models import AuditEntry, Declaration, IssuedDocument, Objection, RepairRequest
from services.accounts import create_invitation
from tests.test_declare_flow import LICENCE
from tests.test_declare_support import JPEG
from tests.test_lifecycle_support import HENGDA, add_record, add_subject, dept_id
from tests.wechat_harness import WeChatHarness, texts, wechat
from tests.wechat_standin import APP_ID

__all__ = ["wechat"]
SORRY = "抱歉，系统处理您的请求时出现问题"


async def test_a_business_declares_objects_repairs_and_gets_its_report(wechat: WeChatHarness) -> None:
    h = wechat
    services = h.app.bot_data["services"]
    today = services.today()
    subject = await add_subject(h.db)
    dept = await dept_id(h.db)
    await add_record(h.db, subject, dept, "行政处罚", "安市监罚〔2025〕21号", today - dt.timedelta(days=200))
    await h.refresh()
    official = await h.user("official", dept="SCJGJ")
    verifier = await h.user("official", dept="ZJJ")  # 住房和城乡建设局 verifies a 建筑业 licence

    def told(openid: str, title: str) -> bool:
        """Officials who never wrote to the account get a template message titled `title` with a link."""
        return any(title in d.text for d in h.standin.inbox(openid))

    # A business follows the account and binds with the code the platform issued for its licence.
    boss = "oBoss000000000000000000000001"
    h.standin.follow(boss)
    assert "信用通" in texts(await h.post(h.standin.event(boss, "subscribe")))
    code = (await create_invitation(h.db, "enterprise", subject_uscc=HENGDA, valid_for=dt.timedelta(hours=1))).code
    assert "企业" in texts(await h.say(boss, f"/bind {code}"))

    # Search: its own card.
    card = texts(await h.say(boss, "恒达建材"))
    assert "【安康市恒达建材有限公司】" in card and "安市监罚〔2025〕21号" in card

    # Self-declaration from the menu, with a restart of the bot in the middle of the fields.
    assert "请选择" in texts(await h.post(h.standin.event(boss, "CLICK", "B_DECLARE")))
    await h.say(boss, "1")  # the first kind: 资质证照
    for value in LICENCE[:3]:
        await h.say(boss, value)
    await h.restart()
    for value in LICENCE[3:]:
        await h.say(boss, value)
    assert "已收到第 1 个附件" in texts(await h.post(h.standin.image_event(boss, JPEG)))
    assert "请核对申报内容" in texts(await h.choose(boss, "材料已发送完毕"))
    assert "信用承诺书" in texts(await h.choose(boss, "确认无误"))
    assert "授权书" in texts(await h.say(boss, "我承诺"))
    receipt = texts(await h.choose(boss, "同意授权"))
    assert "受理编号：" in receipt
    async with h.db.transaction() as s:
        [declaration] = (await s.scalars(select(Declaration))).all()
    assert declaration.status == "pending" and declaration.attachments["items"][0]["kind"] == "photo"
    assert told(verifier, "自主申报待核验")

    # An objection to its record, restarted between the reason and the submission.
    await h.post(h.standin.event(boss, "CLICK", "B_OBJECTION"))
    assert "异议理由" in texts(await h.say(boss, "1"))
    assert "提交异议" in texts(await h.say(boss, "该处罚已于上月撤销，请更正"))
    await h.restart()
    filed = texts(await h.choose(boss, "提交异议"))
    assert "异议已提交" in filed
    assert told(official, "异议待处理")

    # A repair application for the same record.
    await h.post(h.standin.event(boss, "CLICK", "B_REPAIR"))
    assert "是否已履行" in texts(await h.say(boss, "1"))
    assert "证明材料" in texts(await h.say(boss, "1"))
    assert "我承诺" in texts(await h.post(h.standin.image_event(boss, JPEG)))
    assert "信用修复申请已提交" in texts(await h.say(boss, "我承诺"))
    assert told(official, "信用修复待审核")

    # The report: WeChat cannot carry a PDF, so it arrives as a link to the web page.
    out = await h.post(h.standin.event(boss, "CLICK", "Q_REPORT"))
    [link] = [url for d in out for url in d.links]
    assert link.startswith(h.web + "/dl/")
    landing = await h.fetch(link, as_user=boss)
    assert landing.status_code == 200 and "下载文件" in landing.text and "信用报告" in landing.text
    pdf = await h.fetch(link + "/file", as_user=boss)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and pdf.headers["content-type"] == "application/pdf"
    async with h.db.transaction() as s:
        issued = await s.scalar(select(IssuedDocument).where(IssuedDocument.sha256 == hashlib.sha256(pdf.content).hexdigest()))
        objections = (await s.scalars(select(Objection))).all()
        repairs = (await s.scalars(select(RepairRequest))).all()
        downloads = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "document_download"))).all()
    assert issued is not None and issued.subject_id == subject and issued.number in landing.text
    assert len(objections) == 1 and len(repairs) == 1
    assert [d.subject_id for d in downloads] == [subject] and downloads[0].reason == issued.number
    # Nobody heard an apology. WeChat refused only 客服消息 to the officials, who had not written
    # within 48 hours: each of those went out as a template message instead.
    assert not [d for d in h.standin.delivered if SORRY in d.text]
    refused = [c for c in h.standin.calls if c.errcode]
    assert {c.errcode for c in refused} == {45015} and {c.body["touser"] for c in refused} <= {official, verifier}
    assert len([d for d in h.standin.delivered if d.kind == "template"]) == len(refused)


async def test_download_links_expire_run_out_and_refuse_forgeries(wechat: WeChatHarness) -> None:
    from services import download_links

    h = wechat
    user = await h.user("public")
    chat = await store.ptb_id_for(h.db, APP_ID, user)
    secret = h.replica.settings.privacy.id_hash_key
    link = await download_links.issue(h.db, secret, h.web, chat, b"%PDF-1.4 x", "a.pdf", "application/pdf",
                                      dt.timedelta(minutes=30), 2)
    assert (await h.fetch(link.url + "/file", as_user=user)).status_code == 200
    assert (await h.fetch(link.url + "/file", as_user=user)).status_code == 200
    used_up = await h.fetch(link.url + "/file", as_user=user)
    assert used_up.status_code == 410 and "下载次数已用完" in used_up.text
    link_id, expires, sig = link.token.split(".")
    forged = [f"{link_id}.{int(expires) + 3600}.{sig}", f"{int(link_id) + 1}.{expires}.{sig}", "1.2.x", "../../etc/passwd"]
    for token in forged:
        assert (await h.fetch(f"{h.web}/dl/{token}")).status_code == 404, token
    short = await download_links.issue(h.db, secret, h.web, chat, b"%PDF-1.4 y", "b.pdf", "application/pdf",
                                       dt.timedelta(seconds=1), 3)
    import asyncio

    await asyncio.sleep(1.2)
    expired = await h.fetch(short.url)
    assert expired.status_code == 410 and "已过期" in expired.text
    async with h.db.transaction() as s:
        why = [e.detail.get("why") for e in (await s.scalars(select(AuditEntry).where(AuditEntry.action == "download_refused"))).all()]
    assert sorted(why) == ["expired", "used_up"]
