"""/help names /listings for officials, and /listings shows the department's listings in notice."""

from __future__ import annotations

from render.pdf import render_notice
from services.listings import propose_listing
from tests.conftest import BotHarness
from tests.test_lifecycle_support import add_subject, texts, today


async def test_officials_find_listings_in_help_and_see_their_notices(harness: BotHarness) -> None:
    subject = await add_subject(harness.db)
    await harness.refresh()
    official = await harness.chat("official", dept="RSJ")
    public = await harness.chat("public")
    assert "/listings" in texts(await harness.say(official, "/help"))
    assert "/listings" not in texts(await harness.say(public, "/help"))
    assert "暂无处于事前告知期" in texts(await harness.say(official, "/listings"))

    services = harness.app.bot_data["services"]  # type: ignore[attr-defined]
    proposed = await propose_listing(
        harness.db, subject_id=subject, list_type="wage_arrears", reasons="拖欠农民工工资逾期未支付",
        today=today(harness), calendar=services.calendar, render=lambda n: render_notice(n, "安康市公共信用信息平台"),
        dept_code="RSJ", prefix="安",
    )
    shown = texts(await harness.say(official, "/listings"))
    assert "安康市恒达建材有限公司" in shown and proposed.notice.number in shown
    assert f"异议期至 {proposed.notice.deadline:%Y-%m-%d}" in shown
    assert "仅限部门办事人员" in texts(await harness.say(public, "/listings"))


async def test_help_offers_each_role_only_what_it_may_do_and_unknown_commands_are_answered(harness) -> None:  # type: ignore[no-untyped-def]
    from handlers.flow import NOTHING_TO_CANCEL
    from handlers.start import UNKNOWN

    admin = await harness.chat("admin", dept="FGW")
    text = (await harness.say(admin, "/help"))[-1].text or ""
    assert "/stats" in text and "/watch" not in text and "/propose" not in text and "/objections" not in text
    collector = await harness.chat("collector", dept="SCJGJ")
    text = (await harness.say(collector, "/help"))[-1].text or ""
    assert "/mytasks" in text and "/repairs" not in text and "逢办必查" not in text
    official = await harness.chat("official", dept="SCJGJ")
    assert "/propose" in ((await harness.say(official, "/help"))[-1].text or "")
    assert [o.text for o in await harness.say(official, "/foo")] == [UNKNOWN]
    assert [o.text for o in await harness.say(official, "/cancel")] == [NOTHING_TO_CANCEL]
