"""Self-declaration conversations over the real Application: the whole path with two attachments,
verification and the card before and after, rejection, revocation, refusals, cancel at every step,
invalid dates and files, going back, and the public user's proof of link with its cool-down."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from db.models import CreditRecord, LinkAttempts, SubjectEvaluation
from tests.conftest import BotHarness
from tests.test_declare_support import (
    HENGDA,
    HUATAI,
    JPEG,
    PDF,
    PERSON_ID,
    company,
    declarations,
    deliver,
    issue_code,
    last_buttons,
    no_errors,
    person,
    photo_update,
    sha,
    texts,
    write,
)

PNG = b"\x89PNG\r\n\x1a\n"
LICENCE = ["建筑业企业资质证书", "安康市住房和城乡建设局", "D261000001", "2024-3-1", "2029年3月1日"]


async def score_of(harness: BotHarness, subject_id: int | None, today: dt.date) -> float:
    from services.evaluation import evaluate_subject

    assert subject_id is not None
    await evaluate_subject(harness.db, subject_id, today)
    async with harness.db.transaction() as s:
        evaluation = await s.get(SubjectEvaluation, subject_id)
    assert evaluation is not None
    return evaluation.score


async def fill_licence(harness: BotHarness, chat: object, tmp_path: Path) -> None:
    """/declare → 资质证照 → five fields → one PDF and one photo → summary."""
    await harness.say(chat, "/declare")  # type: ignore[arg-type]
    await harness.say(chat, "#1")  # type: ignore[arg-type]
    for value in LICENCE:
        await harness.say(chat, value)  # type: ignore[arg-type]
    assert "已收到第 1 个附件" in texts(await harness.say(chat, f"@{write(tmp_path, '资质证书.pdf', PDF)}"))  # type: ignore[arg-type]
    assert "已收到第 2 个附件" in texts(await deliver(chat, photo_update(chat, JPEG)))  # type: ignore[arg-type]


async def test_complete_declaration_verified_and_shown_on_the_card(harness: BotHarness, tmp_path: Path) -> None:
    await company(harness.db)
    await harness.refresh()
    owner = await harness.chat("enterprise", subject=HENGDA)
    official = await harness.chat("official", dept="ZJJ")
    other_official = await harness.chat("official", dept="SCJGJ")
    public = await harness.chat("public")

    await fill_licence(harness, owner, tmp_path)
    summary = texts(await harness.say(owner, "#1"))  # 材料已发送完毕
    assert "请核对申报内容" in summary and "发证日期：2024-03-01" in summary and "有效期至：2029-03-01" in summary
    assert "证明材料：2 个" in summary
    assert "信用承诺书" in texts(await harness.say(owner, "#1"))  # 确认无误
    assert "授权书" in texts(await harness.say(owner, "我承诺"))  # typed, not pressed
    done = await harness.say(owner, "#1")  # 同意授权
    year = harness.app.bot_data["services"].today().year  # type: ignore[attr-defined]
    receipt = f"安申〔{year}〕000001号"
    assert f"受理编号：{receipt}" in texts(done) and "核验部门：安康市住房和城乡建设局" in texts(done)
    told = [o.text or "" for o in done if o.chat_id == official.chat.id]
    assert len(told) == 1 and "【自主申报待核验】" in told[0]
    assert not [o for o in done if o.chat_id == other_official.chat.id]

    [d] = await declarations(harness.db)
    assert d.status == "pending" and d.receipt_no == receipt and d.open_key is None
    assert d.data["values"]["expires"] == "2029-03-01" and d.commitment_version == "DC-2026.1"
    assert d.commitment_text and "信用承诺书" in d.commitment_text and d.authorisation_text and d.authorised_at
    items = d.attachments["items"]
    assert [i["kind"] for i in items] == ["document", "photo"]
    assert [i["sha256"] for i in items] == [sha(PDF), sha(JPEG)] and [i["size"] for i in items] == [len(PDF), len(JPEG)]
    assert "待核验" in texts(await harness.say(owner, "/mydeclarations"))

    # Before verification nothing the declarant wrote is public, not even the commitment record;
    # officials see both, marked 待核验, and the declarant its declaration.
    seen_by_public = texts(await harness.say(public, HENGDA))
    assert "自主申报信用承诺" not in seen_by_public and "信用承诺" not in seen_by_public
    assert "自主申报 ——" not in seen_by_public and "建筑业企业资质证书" not in seen_by_public
    today = harness.app.bot_data["services"].today()  # type: ignore[attr-defined]
    pending_score = await score_of(harness, d.subject_id, today)
    seen_by_official = texts(await harness.say(other_official, HENGDA))
    assert "建筑业企业资质证书 · " + receipt + "（待核验）" in seen_by_official
    assert "自主申报信用承诺（资质证照）" in seen_by_official
    assert "（待核验）" in texts(await harness.say(owner, HENGDA))

    assert "仅限负责部门" in texts(await harness.say(public, "/verify"))
    assert "暂无待核验" in texts(await harness.say(other_official, "/verify"))
    queue = await harness.say(official, "/verify")
    assert "待核验自主申报 1 件" in texts(queue) and "材料 2 个" in texts(queue)
    detail = texts(await harness.say(official, "#1"))
    assert "证照编号：D261000001" in detail and "承诺书版本 DC-2026.1" in detail and sha(PDF)[:16] in detail
    files = await harness.say(official, "#1")  # 查看证明材料: re-sent by file id
    assert [(o.method, o.params.get("document") or o.params.get("photo")) for o in files] == [
        ("sendDocument", items[0]["file_id"]), ("sendPhoto", items[1]["file_id"])
    ]
    assert "请输入核验意见" in texts(await harness.say(official, "#2"))
    decided = await harness.say(official, "证书原件核对无误")
    assert "核验通过" in texts(decided)
    result = [o.text or "" for o in decided if o.chat_id == owner.chat.id]
    assert len(result) == 1 and "【自主申报结果】" in result[0] and "证书原件核对无误" in result[0]

    for viewer in (public, other_official, owner):
        card = texts(await harness.say(viewer, HENGDA))
        assert "—— 自主申报 ——" in card and f"建筑业企业资质证书 · {receipt}（已核验）" in card
    # Verified: the commitment is now on the public file, and scored: a kept commitment (+10) and a
    # verified declaration (+10), neither of which counted while it waited.
    assert "自主申报信用承诺（资质证照）" in texts(await harness.say(public, HENGDA))
    assert await score_of(harness, d.subject_id, today) == pending_score + 20
    assert "已核验；意见：证书原件核对无误" in texts(await harness.say(owner, "/mydeclarations"))
    no_errors(harness.transport)


async def test_rejection_and_revocation_tell_the_declarant(harness: BotHarness, tmp_path: Path) -> None:
    await company(harness.db)
    await harness.refresh()
    owner = await harness.chat("enterprise", subject=HENGDA)
    official = await harness.chat("official", dept="ZJJ")
    public = await harness.chat("public")
    for _ in range(2):
        await fill_licence(harness, owner, tmp_path)
        for press in ("#1", "#1", "#1", "#1"):
            await harness.say(owner, press)
    first, second = await declarations(harness.db)

    await harness.say(official, "/verify")
    await harness.say(official, "#1")  # the oldest first
    assert "请输入驳回理由" in texts(await harness.say(official, "#3"))
    rejected = await harness.say(official, "证书编号与发证机关记录不符")
    told = [o.text or "" for o in rejected if o.chat_id == owner.chat.id]
    assert len(told) == 1 and "未通过核验" in told[0]
    assert "未通过核验；意见：证书编号与发证机关记录不符" in texts(await harness.say(owner, "/mydeclarations"))

    await harness.say(official, "/verify")
    await harness.say(official, "#1")
    await harness.say(official, "#2")
    await harness.say(official, "核对无误")
    assert "（已核验）" in texts(await harness.say(public, HENGDA))

    # Later found false: revoked by receipt number, a broken commitment is recorded.
    assert second.receipt_no is not None
    opened = await harness.say(official, f"/verify {second.receipt_no}")
    assert last_buttons(opened) == ["查看证明材料", "撤销（申报不实）"]
    await harness.say(official, "#2")
    revoked = await harness.say(official, "经向发证机关核实，该证书系伪造")
    assert any("违背信用承诺的情况已记入" in (o.text or "") for o in revoked if o.chat_id == owner.chat.id)
    card = texts(await harness.say(public, HENGDA))
    assert "（已核验）" not in card and "违背信用承诺：自主申报内容不实" in card and "严重程度：一般" in card
    staff = texts(await harness.say(official, HENGDA))
    assert "（已撤销（申报不实））" in staff and "（未通过核验）" in staff
    async with harness.db.transaction() as s:
        records = {r.doc_number: r for r in (await s.scalars(select(CreditRecord))).all()}
    assert first.receipt_no and records[first.receipt_no].status == "revoked"
    assert records[second.receipt_no].status == "revoked"
    broken = records[f"{second.receipt_no}（违诺）"]
    assert broken.category == "信用承诺" and broken.severity == "一般" and broken.publication_end is not None
    no_errors(harness.transport)


async def test_refusing_the_commitment_or_the_authorisation_submits_nothing(harness: BotHarness, tmp_path: Path) -> None:
    await company(harness.db)
    await harness.refresh()
    owner = await harness.chat("enterprise", subject=HENGDA)
    await fill_licence(harness, owner, tmp_path)
    await harness.say(owner, "#1")
    await harness.say(owner, "#1")
    assert "须作出信用承诺" in texts(await harness.say(owner, "好的"))
    assert "申报已终止，未提交任何内容" in texts(await harness.say(owner, "#2"))  # 不承诺
    await fill_licence(harness, owner, tmp_path)
    for press in ("#1", "#1", "#1"):
        await harness.say(owner, press)
    assert "申报已终止，未提交任何内容" in texts(await harness.say(owner, "不同意"))
    assert [d.status for d in await declarations(harness.db)] == ["cancelled", "cancelled"]
    assert all(d.receipt_no is None for d in await declarations(harness.db))
    async with harness.db.transaction() as s:
        assert (await s.scalars(select(CreditRecord))).all() == []
    assert "还没有提交过" in texts(await harness.say(owner, "/mydeclarations"))
    no_errors(harness.transport)


async def test_cancel_works_at_every_step(harness: BotHarness, tmp_path: Path) -> None:
    await company(harness.db)
    await company(harness.db, HUATAI, "安康市华泰商贸有限公司")
    await harness.refresh()
    owner = await harness.chat("enterprise", subject=HENGDA)
    await harness.chat("enterprise", subject=HUATAI, user_id=owner.user.id)  # a second bound subject
    pdf = write(tmp_path, "证书.pdf", PDF)
    path = ["#1", "#1", *LICENCE, f"@{pdf}", "#1", "#1", "#1"]
    expected_steps = ["请选择申报主体", "请选择申报类别", "证照名称", "发证机关", "证照编号", "发证日期", "有效期至",
                      "请发送证明材料", "已收到第 1 个附件", "请核对申报内容", "信用承诺书", "授权书"]
    for depth in range(len(path) + 1):
        first = await harness.say(owner, "/declare")
        assert expected_steps[0] in texts(first)
        out = first
        for line in path[:depth]:
            out = await harness.say(owner, line)
        assert expected_steps[depth] in texts(out), (depth, texts(out))
        assert "已取消申报，未提交任何内容" in texts(await harness.say(owner, "/cancel"))
    drafts = await declarations(harness.db)
    assert len(drafts) == len(path) + 1 and {d.status for d in drafts} == {"cancelled"}
    assert all(d.open_key is None and d.receipt_no is None for d in drafts)
    # After /cancel, text goes back to the ordinary query handler.
    assert "安康市恒达建材有限公司" in texts(await harness.say(owner, HENGDA))
    no_errors(harness.transport)


async def test_invalid_dates_and_files_are_refused_and_back_goes_one_step(harness: BotHarness, tmp_path: Path) -> None:
    await company(harness.db)
    await harness.refresh()
    owner = await harness.chat("enterprise", subject=HENGDA)
    await harness.say(owner, "我要申报")  # the free-text intent starts the same conversation
    await harness.say(owner, "#1")
    assert "为必填项，不能跳过" in texts(await harness.say(owner, "跳过"))
    for value in LICENCE[:3]:
        await harness.say(owner, value)
    assert "不是有效日期" in texts(await harness.say(owner, "2025-13-01"))
    assert "不是可识别的日期" in texts(await harness.say(owner, "去年春天"))
    assert "不能晚于今天" in texts(await harness.say(owner, "2099-01-01"))
    assert "有效期至" in texts(await harness.say(owner, "20240301"))
    assert "不能早于发证日期（2024-03-01）" in texts(await harness.say(owner, "2023-12-31"))
    back = texts(await harness.say(owner, "返回"))
    assert "请输入发证日期" in back and "已填：2024-03-01" in back
    await harness.say(owner, "2024年3月1日")
    assert "请发送证明材料" in texts(await harness.say(owner, "#1"))  # 跳过 the optional expiry

    assert "至少一份证明材料" in texts(await harness.say(owner, "#1"))  # nothing sent yet
    assert "仅接受 PDF、JPG、PNG" in texts(await harness.say(owner, f"@{write(tmp_path, 'setup.exe', b'MZ' + bytes(50))}"))
    assert "内容与其格式不符" in texts(await harness.say(owner, f"@{write(tmp_path, '假证书.pdf', b'MZ not a pdf')}"))
    big = write(tmp_path, "扫描件.pdf", b"%PDF" + bytes(10 * 1024 * 1024))
    assert "文件过大" in texts(await harness.say(owner, f"@{big}"))
    assert "无法识别" not in texts(await harness.say(owner, "你好"))  # text at the file step: asked for files
    pdf = write(tmp_path, "证书.pdf", PDF)
    assert "已收到第 1 个附件" in texts(await harness.say(owner, f"@{pdf}"))
    assert "已收到过" in texts(await harness.say(owner, f"@{write(tmp_path, '证书副本.pdf', PDF)}"))
    for n in range(2, 6):
        png = write(tmp_path, f"材料{n}.png", PNG + bytes([n]))
        out = await harness.say(owner, f"@{png}")
        assert f"已收到第 {n} 个附件" in texts(out)
    assert "最多上传 5 个附件" in texts(await harness.say(owner, f"@{write(tmp_path, '材料6.jpg', JPEG)}"))
    summary = texts(await harness.say(owner, "#1"))
    assert "证明材料：5 个" in summary and "有效期至：（未填写）" in summary
    assert "请发送证明材料" in texts(await harness.say(owner, "#2"))  # 返回修改
    [d] = await declarations(harness.db)
    assert len(d.attachments["items"]) == 5 and d.status == "draft"
    no_errors(harness.transport)


async def test_public_user_proves_the_link_or_cools_down(harness: BotHarness, tmp_path: Path) -> None:
    await company(harness.db)
    key = harness.app.bot_data["services"].settings.privacy.id_hash_key  # type: ignore[attr-defined]
    await person(harness.db, key)
    await harness.refresh()
    stranger = await harness.chat("public")
    first = texts(await harness.say(stranger, "/declare"))
    assert "尚未绑定信用主体" in first and "还可尝试 3 次" in first
    assert "统一社会信用代码有误" in texts(await harness.say(stranger, HENGDA[:-1] + "0"))  # a typo costs no try
    for n, name in enumerate(("李四", "王五"), start=1):
        await harness.say(stranger, HENGDA)
        await harness.say(stranger, name)
        assert "请输入授权码" in texts(await harness.say(stranger, "2015-03-01"))
        out = texts(await harness.say(stranger, "ABCDE-FGHJK"))
        assert "与档案不符" in out and f"还可尝试 {3 - n} 次" in out
    await harness.say(stranger, HENGDA)
    await harness.say(stranger, "张伟")
    await harness.say(stranger, "2015-03-01")
    locked = texts(await harness.say(stranger, "ABCDE-FGHJK"))  # all public facts right, no code: third failure
    assert "请于" in locked and "/bind" in locked
    assert "请于" in texts(await harness.say(stranger, "/declare"))  # still cooling down
    async with harness.db.transaction() as s:
        row = await s.scalar(select(LinkAttempts))
    assert row is not None and row.locked_until is not None

    # Another user proves the company link: USCC + legal representative + date of establishment + 授权码.
    code = await issue_code(harness, HENGDA)
    owner = await harness.chat("public")
    await harness.say(owner, "/declare")
    await harness.say(owner, HENGDA)
    await harness.say(owner, " 张 伟 ")
    await harness.say(owner, "2015年3月1日")
    assert "请选择申报类别" in texts(await harness.say(owner, code.lower()))
    await harness.say(owner, "/cancel")

    # A person: the full ID number (only its keyed hash is looked up), the name on file, the code.
    me = await harness.chat("public")
    await harness.say(me, "/declare")
    assert "请输入法定代表人" in texts(await harness.say(me, PERSON_ID))
    assert "请输入授权码" in texts(await harness.say(me, "李娜"))
    assert "请选择申报类别" in texts(await harness.say(me, await issue_code(harness, PERSON_ID)))
    await harness.say(me, "#5")  # 社会公益
    for value in ("捐资助学", "汉滨区第一小学", "2万元", "2025-09-01"):
        await harness.say(me, value)
    await harness.say(me, f"@{write(tmp_path, '捐赠票据.jpg', JPEG)}")
    for press in ("#1", "#1", "#1"):
        await harness.say(me, press)
    done = texts(await harness.say(me, "同意"))
    assert "受理编号" in done and "安康市民政局" in done
    drafts = await declarations(harness.db)
    assert drafts[-1].link == "proved" and drafts[-1].data["values"]["amount"] == "2"
    assert all(PERSON_ID not in str(d.data) for d in drafts)  # the clear ID number is never stored
    official = await harness.chat("official", dept="MZJ")
    assert "公众核验身份后申报" in texts(await harness.say(official, f"/verify {drafts[-1].receipt_no}"))
    no_errors(harness.transport)


async def test_a_stale_draft_expires_instead_of_resuming(harness: BotHarness) -> None:
    await company(harness.db)
    await harness.refresh()
    owner = await harness.chat("enterprise", subject=HENGDA)
    await harness.say(owner, "/declare")
    await harness.say(owner, "#1")
    async with harness.db.transaction() as s:
        from db.models import Declaration

        d = await s.scalar(select(Declaration))
        assert d is not None
        d.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    assert "超时作废" in texts(await harness.say(owner, "建筑业企业资质证书"))
    assert [d.status for d in await declarations(harness.db)] == ["expired"]
    no_errors(harness.transport)
