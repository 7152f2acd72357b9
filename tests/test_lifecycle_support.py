"""Helpers for the lifecycle and report tests (no tests here): seeding, wiring, reading PDFs."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import select

from bot.transport import Outgoing
from db.models import Account, AccountSubject, CreditRecord, Department, Subject
from db.session import Database
from rules.codes import complete_uscc
from rules.publication import edition_for
from tests.conftest import BotHarness

HENGDA = complete_uscc("91610902MA70HD001")
HUATAI = complete_uscc("91610902MA70HT003")


def today(harness: BotHarness) -> dt.date:
    return harness.app.bot_data["services"].today()  # type: ignore[attr-defined]


async def dept_id(db: Database, code: str = "SCJGJ") -> int:
    async with db.transaction() as s:
        found = await s.scalar(select(Department.id).where(Department.code == code))
        if found is None:  # a bare `db` test: no region seeding
            dept = Department(code=code, name=f"安康市{code}", division_code="610900")
            s.add(dept)
            await s.flush()
            found = dept.id
        return int(found)


async def add_subject(db: Database, name: str = "安康市恒达建材有限公司", uscc: str | None = HENGDA, **kw: object) -> int:
    async with db.transaction() as s:
        subject = Subject(kind=kw.pop("kind", "法人"), name=name, uscc=uscc, division_code="610902", legal_rep="张伟", **kw)
        s.add(subject)
        await s.flush()
        return subject.id


async def add_record(
    db: Database,
    subject_id: int,
    department_id: int | None,
    category: str,
    doc: str,
    decided: dt.date,
    **kw: object,
) -> int:
    values: dict[str, object] = {
        "severity": "一般",
        "rule_edition": edition_for(decided),
        "status": "active",
        "title": f"{category}事项",
    }
    values.update(kw)
    async with db.transaction() as s:
        record = CreditRecord(
            subject_id=subject_id,
            category=category,
            department_id=department_id,
            source_key="11610900090000070G",
            source_name="安康市市场监督管理局",
            doc_number=doc,
            decision_date=decided,
            **values,
        )
        s.add(record)
        await s.flush()
        return record.id


async def bind(db: Database, telegram_user_id: int, subject_id: int) -> None:
    """Bind a subject to an existing account directly (people have no USCC to bind by)."""
    async with db.transaction() as s:
        account = await s.scalar(select(Account).where(Account.telegram_user_id == telegram_user_id))
        assert account is not None
        s.add(AccountSubject(account_id=account.id, subject_id=subject_id))


def texts(out: list[Outgoing]) -> str:
    return "\n".join(o.text or "" for o in out)


def pdf_text(content: bytes | None) -> str:
    """The document's text with all whitespace removed: table cells wrap lines wherever the column
    ends, so compare against `compact(expected)`."""
    assert content is not None and content.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(content))
    return compact("".join(page.extract_text() or "" for page in reader.pages))


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def proof_file(tmp_path: Path, name: str = "缴款凭证.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(b"%PDF-1.4 proof of payment")
    return path
