"""Outside WeChat's 48-hour 客服消息 window a decision or a reminder goes out as a subscription notice
(订阅通知, message/subscribe/bizsend) or a template message with a link, through the strict stand-in:
what the stand-in refuses as WeChat does (43101 the user did not accept the notice, 47003 a field
the template does not have) is refused, and the outbox records the truth for the official."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select

from bot.wechat import store
from db.models import Notice
from handlers.notify import delivery_line, send_claimed
from services import notices
from tests.wechat_harness import open_harness
from tests.wechat_standin import APP_ID, TEMPLATE_ID

REMINDER = "【信用修复提醒】您的信用修复申请尚缺履行证明，请于5个工作日内补充。联系电话 13912345678"


async def _statuses(h, chats: list[int]) -> list[tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    async with h.db.transaction() as s:
        rows = (await s.scalars(select(Notice).where(Notice.chat_id.in_(chats)).order_by(Notice.id))).all()
    return [(r.status, r.last_error) for r in rows]


async def test_outside_the_window_a_subscription_notice_carries_the_link_and_refusals_are_recorded(db) -> None:  # type: ignore[no-untyped-def]
    async for h in open_harness(db, kind="subscribe"):
        accepted, declined = await h.user("enterprise"), await h.user("enterprise")
        h.standin.followers[accepted].accepted.add(TEMPLATE_ID)  # "允许" in the subscription dialog
        chats = [await store.ptb_id_for(h.db, APP_ID, u) for u in (accepted, declined)]
        for user in (accepted, declined):
            await h.say(user, "/whoami")
        h.standin.advance(49 * 3600)  # two days later the reminder is due

        claimed = await notices.post(h.db, chats, REMINDER, "repair_reminder", "k1")
        done = await send_claimed(h.app.bot, h.db, claimed)
        assert (done.delivered, done.refused, done.retrying) == (1, 1, 0)
        assert "未能送达" in delivery_line("该主体", done)
        assert [c.errcode for c in h.standin.calls_to("message/custom/send")][-2:] == [45015, 45015]
        assert sorted(c.errcode for c in h.standin.calls_to("message/subscribe/bizsend")) == [0, 43101]
        assert not h.standin.calls_to("message/template/send")
        [notice] = [d for d in h.standin.inbox(accepted) if d.kind == "subscribe"]
        assert not [d for d in h.standin.inbox(declined) if d.kind == "subscribe"]
        assert notice.body["template_id"] == TEMPLATE_ID and notice.body["data"]["thing1"]["value"] == "信用修复提醒"
        assert "13912345678" not in str(notice.body)  # the lock screen shows the title and time only
        assert notice.links[0].startswith(h.web + "/dl/")
        page = await h.fetch(notice.links[0], as_user=accepted)
        assert page.status_code == 200 and "尚缺履行证明" in page.text and "13912345678" in page.text
        assert await _statuses(h, chats) == [("delivered", None), ("refused", "Forbidden")]

        # A template field the chosen template does not have (a misconfigured key): 47003, refused
        # for good, not retried, and said so.
        h.replica.transport.links = dataclasses.replace(h.replica.transport.links, notice_title_key="thing9")
        claimed = await notices.post(h.db, chats[:1], "【异议处理结果】您的异议已处理：更正。", "objection_decided", "k2")
        done = await send_claimed(h.app.bot, h.db, claimed)
        assert (done.delivered, done.refused) == (0, 1) and "未能送达" in delivery_line("该主体", done)
        assert h.standin.calls_to("message/subscribe/bizsend")[-1].errcode == 47003
        assert (await _statuses(h, chats[:1]))[-1] == ("refused", "BadRequest")
        assert len([d for d in h.standin.inbox(accepted) if d.kind == "subscribe"]) == 1
