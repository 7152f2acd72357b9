"""Verifiable documents: every report and notice carries a number, a verification code and a QR
code; anyone can check it in chat; an unknown number, a wrong code and an altered file are told
apart; a check reveals no more than the document showed, and is audited."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import zxingcpp
from pypdf import PdfReader
from sqlalchemy import select

from db.models import AuditEntry, IssuedDocument
from render.pdf import render_notice
from services.issued_documents import check_document
from services.listings import propose_listing
from tests.conftest import BotHarness
from tests.pdf_inspect import fonts, render
from tests.test_lifecycle_support import HENGDA, add_subject, bind, pdf_text, texts, today
from tests.test_report_pdf import ID_MASKED, ID_NUMBER, documents, seed_company

PLATFORM = "安康市公共信用信息平台"
CODE_ON_PAGE = re.compile(r"核验码：([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})")


def seal_of(pdf: bytes) -> tuple[str, str, str]:
    """(number, code, QR text) read off the document the way a holder would: the printed code and
    the QR code decoded from the rendered page."""
    text = pdf_text(pdf)
    codes = CODE_ON_PAGE.findall(text)
    assert len(codes) == 1, text
    number = re.search(r"(安信[报告]〔\d{4}〕\d+号)", text)
    assert number is not None
    qr = [
        b.text
        for page in range(len(PdfReader(io.BytesIO(pdf)).pages))
        for b in zxingcpp.read_barcodes(render(pdf, page))
        if b.format == zxingcpp.BarcodeFormat.QRCode
    ]
    assert len(qr) == 1, "one QR code in the document"
    return number.group(1), codes[0], qr[0]


async def test_a_report_is_checked_in_chat_and_an_altered_copy_is_caught(harness: BotHarness, tmp_path: Path) -> None:
    await seed_company(harness)
    official = await harness.chat("official", dept="SCJGJ")
    docs = documents(await harness.say(official, f"/report {HENGDA}"), official.chat.id)
    assert len(docs) == 1 and docs[0].content is not None
    pdf = docs[0].content
    number, code, qr = seal_of(pdf)
    year = today(harness).year
    assert number == f"安信报〔{year}〕000001号"
    assert qr == f"/checkreport {number} {code}"  # no public_url configured: the chat command
    assert all(f.embedded == "FontFile2" for f in fonts(pdf))  # the QR block brings no stray font

    stranger = await harness.chat("public")
    answer = texts(await harness.say(stranger, qr))  # what scanning and pasting the QR code sends
    sha = hashlib.sha256(pdf).hexdigest()
    for part in ("核验通过", f"信用报告（{number}）", "安康市恒达建材有限公司", HENGDA, "出具对象：办事人员",
                 f"出具单位：{PLATFORM}", f"原文件 SHA-256：{sha}", f"出具时间：{today(harness):%Y-%m-%d}"):
        assert part in answer, part

    original = tmp_path / "报告.pdf"
    original.write_bytes(pdf)
    same = texts(await harness.say(stranger, f"@{original}"))
    assert "完全一致" in same and sha in same

    # Someone edits the file and passes it on: it still opens, its bytes differ.
    altered = tmp_path / "报告-改.pdf"
    altered.write_bytes(pdf.replace(b"/Producer", b"/Produced") + b"\n")
    assert altered.read_bytes() != pdf
    typed = f"/checkreport {number.replace('〔', '[').replace('〕', ']')} {code.lower().replace('-', ' ')}"
    assert "核验通过" in texts(await harness.say(stranger, typed))  # brackets and code as people type them
    caught = texts(await harness.say(stranger, f"@{altered}"))
    assert "已被改动" in caught and hashlib.sha256(altered.read_bytes()).hexdigest() in caught and sha in caught

    wrong = code[:-1] + ("3" if code[-1] != "3" else "4")
    refused = texts(await harness.say(stranger, f"/checkreport {number} {wrong}"))
    assert "核验码不正确" in refused and "恒达" not in refused and sha not in refused
    unknown = texts(await harness.say(stranger, f"/checkreport 安信报〔{year}〕000099号 {code}"))
    assert "未找到" in unknown and "恒达" not in unknown
    assert "请按" in texts(await harness.say(stranger, "/checkreport"))
    # After a failed check a file is not taken as an answer to it (the collector upload flow may
    # take documents; a public user just gets nothing about reports).
    assert "完全一致" not in texts(await harness.say(stranger, f"@{original}"))

    async with harness.db.transaction() as s:
        results = [a.detail["result"] for a in await s.scalars(
            select(AuditEntry).where(AuditEntry.action == "document_check").order_by(AuditEntry.id))]
        row = await s.scalar(select(IssuedDocument))
    assert results == ["genuine", "genuine", "genuine", "altered", "wrong_code", "unknown"]
    assert row is not None and row.sha256 == sha and row.kind == "report"
    assert code.replace("-", "") not in row.code_digest  # only a digest is kept


async def test_a_persons_report_check_shows_the_masked_id_only(harness: BotHarness) -> None:
    t = today(harness)
    person = await add_subject(harness.db, name="张三丰", uscc=None, kind="自然人", id_masked=ID_MASKED, id_hash="h" * 64)
    me = await harness.chat("public")
    await bind(harness.db, me.chat.id, person)
    docs = documents(await harness.say(me, "/report"), me.chat.id)
    assert len(docs) == 1 and docs[0].content is not None
    number, code, _qr = seal_of(docs[0].content)
    answer = texts(await harness.say(await harness.chat("public"), f"/checkreport {number} {code}"))
    assert "张三丰" in answer and ID_MASKED in answer and ID_NUMBER not in answer
    assert "出具对象：公众（主体本人）" in answer and t.isoformat() in answer


async def test_a_notice_is_registered_and_its_qr_links_to_the_platform(harness: BotHarness) -> None:
    subject = await add_subject(harness.db)
    services = harness.app.bot_data["services"]  # type: ignore[attr-defined]
    proposed = await propose_listing(
        harness.db, subject_id=subject, list_type="wage_arrears", reasons="拖欠农民工工资逾期未支付",
        today=today(harness), calendar=services.calendar, render=lambda n: render_notice(n, PLATFORM),
        dept_code="RSJ", prefix="安", public_url="https://credit.ankang.example",
    )
    number, code, qr = seal_of(proposed.pdf)
    assert number == proposed.notice.number
    link = urlsplit(qr)
    assert (link.netloc, link.path) == ("credit.ankang.example", "/verify")
    assert parse_qs(link.query) == {"number": [number], "code": [code.replace("-", "")]}

    ok = await check_document(harness.db, number, code, file_sha256=hashlib.sha256(proposed.pdf).hexdigest(), channel="api")
    assert ok.status == "genuine" and ok.kind == "严重失信主体名单列入事前告知书"
    assert (ok.subject_name, ok.subject_code, ok.issued_to) == ("安康市恒达建材有限公司", HENGDA, "被告知主体")
    assert ok.issuer == "安康市人力资源和社会保障局" and ok.sha256 == proposed.sha256
    assert ok.issued_at is not None and abs(ok.issued_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    altered = await check_document(harness.db, number, code, file_sha256="0" * 64)
    assert altered.status == "altered" and altered.sha256 == proposed.sha256
    wrong = await check_document(harness.db, number, "K7QH-3MXA-94RT")
    assert wrong == dataclasses.replace(wrong, kind=None, subject_name=None, sha256=None) and wrong.status == "wrong_code"
    assert (await check_document(harness.db, "安信告〔1999〕0001号", code)).status == "unknown"
