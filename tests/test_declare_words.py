"""The chat completes a use case's hint with its own words: /cancel at the first step, the way to an
enterprise account when the file cannot prove the link."""

from __future__ import annotations

from tests.conftest import BotHarness
from tests.test_declare_support import HENGDA, company, no_errors, texts
from tests.test_lifecycle_support import add_subject

UNREGISTERED = "91610902MA70NR0015"


async def test_back_at_the_first_step_points_to_cancel(harness: BotHarness) -> None:
    await company(harness.db)
    await harness.refresh()
    owner = await harness.chat("enterprise", subject=HENGDA)
    assert "请选择申报类别" in texts(await harness.say(owner, "/declare"))
    assert "已是第一步。如需放弃申报，请发送 /cancel。" in texts(await harness.say(owner, "返回"))
    no_errors(harness.transport)


async def test_a_subject_without_registration_data_points_to_an_enterprise_account(harness: BotHarness) -> None:
    from rules.codes import complete_uscc

    uscc = complete_uscc(UNREGISTERED[:17])
    await add_subject(harness.db, name="安康市无登记信息有限公司", uscc=uscc)  # no date of establishment on file
    await harness.refresh()
    stranger = await harness.chat("public")
    await harness.say(stranger, "/declare")
    await harness.say(stranger, uscc)
    await harness.say(stranger, "张伟")
    await harness.say(stranger, "2015-03-01")
    said = texts(await harness.say(stranger, "ABCDE-FGHJK"))  # the 授权码
    assert "档案中缺少该主体在线核验所需的登记信息，无法通过机器人核验与主体的关系。\n如需以企业身份申报" in said
    assert "发送 /bind 绑定码" in said
    no_errors(harness.transport)
