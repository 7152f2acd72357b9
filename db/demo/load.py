"""Loading the demo archive into the database, fast enough for a million subjects.

The ORM would build one object per row; the archive is instead written with Core `insert()` and
executemany in batches, in a single transaction, so a failed load leaves nothing behind. Subject ids
are assigned here (after the current maximum) so aliases and records can point at them without a
round trip per row; PostgreSQL's sequence is moved past them afterwards.

Personal ID numbers never reach the database: only the keyed hash and the masked form are written.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from datetime import time as dtime
from itertools import islice
from typing import Any

from sqlalchemy import Connection, MetaData, Table, delete, func, insert, select, text, update

from db.demo.generate import DEFAULT_SEED, DemoRecord, DemoSubject, showcase
from db.demo.records import DocNumbers, records_for
from db.demo.subjects import iter_subjects, subject_at
from db.models import CreditRecord, Department, Subject, SubjectAlias
from db.regions import RegionData, default_region, seed_region
from db.session import Database
from rules.masking import id_match_key, mask_id

BATCH = 5000
_CHINA = timezone(timedelta(hours=8))


class DemoAlreadyPresent(RuntimeError):
    """Building twice would duplicate every subject; the caller decides whether to reuse or reset."""


@dataclass
class DemoSummary:
    """What was loaded: the numbers the CLI prints and the tests compare with the database."""

    seed: int
    subjects: int = 0
    aliases: int = 0
    records: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    by_category: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    aliases_by_kind: dict[str, int] = field(default_factory=dict)
    divisions: int = 0
    departments: int = 0
    seconds: float = 0.0


def _batches(items: Iterable[DemoSubject], size: int) -> Iterable[list[DemoSubject]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


async def demo_present(db: Database, region: RegionData | None = None) -> bool:
    """Is a demo archive already loaded? Looks for the first showcase subject (or, for a region
    without one, subject 0 of the default seed), by name and code."""
    region = region or default_region()
    show = showcase(region)
    first = show[0] if show else subject_at(0, DEFAULT_SEED, region)
    query = select(Subject.id).where(Subject.name == first.name)
    query = query.where(Subject.uscc == first.uscc) if first.uscc else query.where(Subject.id_masked == mask_id(first.id_number or ""))
    async with db.transaction() as session:
        return (await session.scalar(query.limit(1))) is not None


def _subject_row(s: DemoSubject, subject_id: int, id_key: str, now: datetime) -> dict[str, Any]:
    person = s.id_number is not None
    return {
        "id": subject_id,
        "kind": s.kind,
        "name": s.name,
        "uscc": s.uscc,
        "id_hash": id_match_key(s.id_number, id_key) if person else None,
        "id_masked": mask_id(s.id_number) if person else None,
        "legal_rep": s.legal_rep,
        "division_code": s.division_code,
        "address": s.address,
        # A person's birth date is part of the ID number: it stays out of the archive too.
        "established": None if person else s.established,
        "status": s.status,
        "created_at": now,
        "updated_at": now,
    }


def _record_row(
    r: DemoRecord, subject_id: int, dept: tuple[int, str, str], now: datetime,
    edition_for: Callable[[date], str], publication_end: Callable[..., date], is_special_field: Callable[[str], bool],
) -> dict[str, Any]:
    dept_id, dept_uscc, dept_name = dept
    edition = end = None
    if r.severity is not None:
        edition = edition_for(r.decision_date)
        special = is_special_field(f"{r.fields.get('违法行为类型', '')} {r.title}")
        end = publication_end(r.decision_date, r.severity, edition, special)
    reported = r.reported_on or r.decision_date
    return {
        "subject_id": subject_id,
        "category": r.category,
        "department_id": dept_id,
        "source_key": dept_uscc,
        "source_name": dept_name,
        "doc_number": r.doc_number,
        "title": r.title,
        "content": r.content,
        "decision_date": r.decision_date,
        "valid_until": r.valid_until,
        "reported_at": datetime.combine(min(reported, now.date()), dtime(10, 0), _CHINA),
        "late_working_days": 0,
        "severity": r.severity,
        "rule_edition": edition,
        "publication_end": end,
        "status": r.status,
        "fields": r.fields,
        "created_at": now,
        "updated_at": now,
    }


async def build_demo(
    db: Database,
    n_subjects: int = 3000,
    seed: int = 20261127,
    id_key: str = "creditbot-demo-key",
    progress: Callable[[int, int], None] | None = None,
    region: RegionData | None = None,
    rebuild: bool = False,
) -> DemoSummary:
    """Seed the region, then load `n_subjects` demo subjects with their aliases and records.

    Raises DemoAlreadyPresent when a demo archive is already there (see `demo_present`), unless
    `rebuild`: then the whole subject archive is cleared first (see `clear_archive`)."""
    from rules.publication import edition_for, is_special_field, publication_end

    started = time.perf_counter()
    region = region or default_region()
    if await demo_present(db, region):
        if not rebuild:
            raise DemoAlreadyPresent("演示档案已存在，未重复生成")
        await clear_archive(db)
    await seed_region(db, region)
    summary = DemoSummary(seed=seed, divisions=len(region.divisions), departments=len(region.departments))
    by_kind: Counter[str] = Counter()
    by_category: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    alias_kinds: Counter[str] = Counter()
    now = datetime.now(UTC)
    docs = DocNumbers()
    subjects_t, aliases_t, records_t = Subject.__table__, SubjectAlias.__table__, CreditRecord.__table__

    async with db.transaction() as session:
        conn = await session.connection()
        depts = {
            code: (dept_id, uscc, name)
            for dept_id, code, uscc, name in (
                await conn.execute(select(Department.id, Department.code, Department.uscc, Department.name))
            ).all()
        }
        base = (await conn.scalar(select(func.coalesce(func.max(Subject.id), 0)))) or 0
        for batch in _batches(iter_subjects(n_subjects, seed, region), BATCH):
            subject_rows = []
            alias_rows = []
            record_rows = []
            for s in batch:
                sid = base + 1 + s.key
                subject_rows.append(_subject_row(s, sid, id_key, now))
                by_kind[s.kind] += 1
                for kind, names in (("曾用名", s.former_names), ("简称", s.short_names)):
                    for alias in names:
                        alias_rows.append({"subject_id": sid, "alias": alias, "kind": kind})
                        alias_kinds[kind] += 1
                for r in records_for(s, seed, docs, region):
                    record_rows.append(
                        _record_row(r, sid, depts[r.department_code], now, edition_for, publication_end, is_special_field)
                    )
                    by_category[r.category] += 1
                    by_status[r.status] += 1
            await conn.execute(insert(subjects_t), subject_rows)
            if alias_rows:
                await conn.execute(insert(aliases_t), alias_rows)
            if record_rows:
                await conn.execute(insert(records_t), record_rows)
            summary.subjects += len(subject_rows)
            summary.aliases += len(alias_rows)
            summary.records += len(record_rows)
            if progress is not None:
                progress(summary.subjects, n_subjects)
        if db.dialect == "postgresql":
            # Explicit ids do not advance the sequence; the next ordinary insert must not collide.
            await conn.execute(
                text("SELECT setval(pg_get_serial_sequence('subjects', 'id'), (SELECT MAX(id) FROM subjects))")
            )

    summary.by_kind = dict(by_kind)
    summary.by_category = dict(by_category)
    summary.by_status = dict(by_status)
    summary.aliases_by_kind = dict(alias_kinds)
    summary.seconds = time.perf_counter() - started
    return summary


def _clear_plan(md: MetaData) -> tuple[list[Table], list[tuple[Table, str]]]:
    """Tables whose rows cannot outlive a subject (non-null FK, transitively) and nullable FK
    columns that are merely cut loose (an audit entry survives, without its subject)."""
    doomed = {"subjects"}
    loosen: dict[tuple[str, str], Table] = {}
    changed = True
    while changed:
        changed = False
        for table in md.tables.values():
            for fk in table.foreign_keys:
                if fk.column.table.name not in doomed or table.name in doomed:
                    continue
                if fk.parent.nullable:
                    loosen[(table.name, fk.parent.name)] = table
                else:
                    doomed.add(table.name)
                    changed = True
    deletes = [t for t in reversed(md.sorted_tables) if t.name in doomed]
    nulls = [(t, col) for (name, col), t in loosen.items() if name not in doomed]
    return deletes, nulls


async def clear_archive(db: Database) -> None:
    """Remove every subject and what hangs off it; divisions, departments and accounts stay.

    The schema is read from the database itself, so tables added by later migrations are covered
    without this module knowing them."""

    def reflect(conn: Connection) -> MetaData:
        md = MetaData()
        md.reflect(conn)
        return md

    async with db.transaction() as session:
        conn = await session.connection()
        md = await conn.run_sync(reflect)
        deletes, nulls = _clear_plan(md)
        for table, column in nulls:
            await conn.execute(update(table).where(table.c[column].is_not(None)).values({column: None}))
        for table in deletes:
            await conn.execute(delete(table))


def showcase_help(region: RegionData | None = None) -> str:
    """A short Chinese guide to the showcase subjects, for the demo console banner and the README."""
    show = showcase(region or default_region())
    notes = {
        "twin_city": "有一条一般行政处罚",
        "twin_county": "同字号同行业、不同县区的“近似重名”",
        "twin_form": "与上一家仅组织形式不同（有限责任公司）",
        "branch": "分公司（非法人组织）",
        "blacklisted": "列入严重失信主体名单",
        "abnormal": "列入经营异常名录；代码含旧区划 610928",
        "collective": "农村集体经济组织，代码以 N2 开头",
        "coop": "农民专业合作社（93 开头）",
        "shop": "个体工商户，有一条轻微处罚",
        "shop_xunyang": "个体工商户",
        "person_610928": "自然人，旬阳旧区划 610928 身份证号",
        "person_610981": "自然人，610981 身份证号",
        "person_blacklisted": "自然人，失信被执行人",
        "repaired": "行政处罚已信用修复",
        "former_name": "有曾用名和简称",
        "special_food": "食品领域行政处罚（2023 版特殊领域）",
        "honoured": "纳税信用 A 级、守合同重信用",
        "social": "社会团体（51 开头）",
        "other": "其他组织（Y1 开头）",
        "contiguous_part": "名称中的一段即可查到：瀛湖渔业",
        "bracketed_region": "名称带括号区域：瑞祥商贸",
        "legacy_org_code": "代码沿用旧组织机构代码：71093627-6",
        "pinyin": "按拼音查：changhong",
        "street_shop": "街名中的个体户，同音错字也能查到：张记蒸面管",
        "village_collective": "按村名查：关庙双溪村",
        "cdc": "事业单位（12 开头），按简称查：汉滨疾控",
        "bank_postal": "银行分行，按简称查：邮储银行安康分行",
        "bank_ccb": "银行分行，按简称查：建行安康分行",
        "bureau_xunyang": "机关（11 开头），按简称查：旬阳人社局",
    }
    lines = ["演示档案中的示例主体（可直接查询）："]
    for s in show:
        code = s.uscc or (mask_id(s.id_number) if s.id_number else "")
        note = notes.get(s.tag or "", "")
        lines.append(f"  · {s.name}  {code}" + (f"  —— {note}" if note else ""))
    return "\n".join(lines)
