"""Batch upsert of validated rows, with correction history.

Rows arrive in batches inside one transaction owned by the caller. Each batch costs a handful of
statements whatever its size: one lookup of the subjects it names, one insert of the missing ones,
one lookup of existing records per (source, category), then one bulk insert, one bulk update and one
bulk insert of RecordChange rows. Row-by-row ORM work would be 10-50x slower on 100,000 rows.

A record is "the same" when source key, category and the canonical document number (`doc_key`,
rules.canonical) match (the table's unique key): other brackets or full-width digits are the same
document. The number as first written stays for display. An existing record is updated only when something actually differs, and the differences are
written to RecordChange with the file they came from; so re-importing a file changes nothing.

When `write` is off (dry run, or after the first invalid row) the same lookups classify rows as
new / updating / unchanged without writing. Subjects this import creates are remembered in both modes
by a digest of their key (with the first row and a digest of its name), so they are counted once and
every later row naming their code is held to the same name whether or not anything is written: the
check a collector sees names every row the import would refuse. Memory: ~100 bytes a new subject.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.importers.lookup import each_key
from db.importers.name_match import mismatch_in_file_reason, mismatch_reason, name_fits
from db.importers.persons import link_persons
from db.importers.rows import RecordRow, SubjectRow
from db.models import CreditRecord, RecordChange, Subject, SubjectAlias
from rules.canonical import canonical_key
from rules.workcal import WorkCalendar

IN_CHUNK = 500
SUBJECT_CACHE_MAX = 100_000

_RECORD_COMPARED = (
    "subject_id",
    "title",
    "content",
    "decision_date",
    "valid_until",
    "severity",
    "rule_edition",
    "publication_end",
    "source_name",
    "late_working_days",
    "fields",
)
_SUBJECT_COMPARED = ("kind", "name", "legal_rep", "division_code", "address", "established", "status")


def _chunks(items: Sequence[Any], size: int = IN_CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _as_date(value: Any) -> Any:
    """SQLite may hand back a datetime for a Date column written elsewhere; compare dates as dates."""
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def _digest(key: str) -> bytes:
    return hashlib.blake2b(key.encode(), digest_size=16).digest()


_LOW64 = (1 << 64) - 1


def _name_digest(name: str) -> int:
    """64 bits of the canonical name (rules.canonical): what "the same name" compares in a file."""
    return int.from_bytes(hashlib.blake2b(canonical_key(name, limit=None).encode(), digest_size=8).digest())


def _subject_keys(uscc: str | None, id_hash: str | None) -> list[str]:
    keys = []
    if uscc:
        keys.append("uscc:" + uscc)
    if id_hash:
        keys.append("id:" + id_hash)
    return keys


class MissingSubject(Exception):
    """A record reached the writer without its subject's id: a bug, never the user's file."""

    def __init__(self, row: int) -> None:
        super().__init__(f"row {row}: subject id missing")
        self.row = row


class Writer:
    """Classifies and (when `write`) stores batches; keeps the counts for the report."""

    def __init__(
        self,
        session: AsyncSession,
        *,
        write: bool,
        source_file: str,
        now: dt.datetime,
        department_id: int | None,
        calendar: WorkCalendar,
    ) -> None:
        self.session = session
        self.write = write
        self.source_file = source_file[:255]
        self.now = now
        self.department_id = department_id
        self.calendar = calendar
        self.new = self.updating = self.unchanged = self.subjects_created = 0
        self._subject_ids: dict[str, int] = {}
        # Subjects this import creates (not in the archive before it): digest of the key → the row that
        # introduced it << 64 | 64-bit digest of its canonical name. Later rows naming the same code are
        # held to that name, in the dry run and in the import alike (one verdict).
        self._created: dict[bytes, int] = {}
        # Subjects whose records this import wrote: their evaluation is refreshed before commit.
        self.touched: set[int] = set()
        # (row, template field, Chinese reason) for rows this writer refused; the importer turns them
        # into row errors.
        self.refused: list[tuple[int, str, str]] = []

    # -- subjects ------------------------------------------------------------------------------------
    def _remember(self, key: str, subject_id: int) -> None:
        self._subject_ids[key] = subject_id

    def _trim_cache(self) -> None:
        """Bounded memory; a miss only costs a lookup. Trimmed only *between* batches: clearing it
        while a batch is being resolved used to leave that batch's records without a subject."""
        if len(self._subject_ids) >= SUBJECT_CACHE_MAX:
            self._subject_ids.clear()

    async def _find_subjects(self, keys: Sequence[str], full: bool = False) -> dict[str, Any]:
        usccs = [k[5:] for k in keys if k.startswith("uscc:")]
        hashes = [k[3:] for k in keys if k.startswith("id:")]
        cols = [Subject.id, Subject.uscc, Subject.id_hash]
        if full:
            cols += [getattr(Subject, c) for c in _SUBJECT_COMPARED]
        found: dict[str, Any] = {}
        for column, values in ((Subject.uscc, usccs), (Subject.id_hash, hashes)):
            for chunk in _chunks(values):
                for row in await self.session.execute(each_key(self.session, cols, column, chunk)):
                    for key in _subject_keys(row.uscc, row.id_hash):
                        found[key] = row
        return found

    def _new_subject_values(self, s: SubjectRow) -> dict[str, Any]:
        return {
            "kind": s.kind,
            "name": s.name,
            "uscc": s.uscc,
            "id_hash": s.id_hash,
            "id_masked": s.id_masked,
            "legal_rep": s.legal_rep,
            "division_code": s.division_code,
            "address": s.address,
            "established": s.established,
            "status": s.status or "存续",
            "created_at": self.now,
            "updated_at": self.now,
        }

    async def _insert_subjects(self, subjects: Sequence[SubjectRow]) -> dict[str, int]:
        """Plain executemany, then read the ids back by key: one round trip each. (INSERT … RETURNING
        through the ORM runs in small parameter-limited batches on SQLite, several times slower.)"""
        await self.session.execute(insert(Subject.__table__), [self._new_subject_values(s) for s in subjects])
        found = await self._find_subjects([s.key for s in subjects])
        return {key: row.id for key, row in found.items()}

    async def _resolve_subjects(self, subjects: Iterable[SubjectRow]) -> None:
        """Make sure every subject a record names has an id (or is counted as to-be-created)."""
        self._trim_cache()
        need: dict[str, SubjectRow] = {}
        for s in subjects:
            if s.key not in self._subject_ids:
                need.setdefault(s.key, s)
        if not need:
            return
        for key, row in (await self._find_subjects(list(need))).items():
            if key in need:
                self._remember(key, row.id)
        missing = [s for k, s in need.items() if k not in self._subject_ids]
        if not missing:
            return
        fresh = []
        for s in missing:
            d = _digest(s.key)
            if d not in self._created:
                self._created[d] = s.row << 64 | _name_digest(s.name)
                fresh.append(s)
        self.subjects_created += len(fresh)
        if self.write:
            for key, subject_id in (await self._insert_subjects(missing)).items():
                self._remember(key, subject_id)

    async def subject_batch(self, rows: Sequence[SubjectRow]) -> None:
        """主体名录 rows: insert new subjects; update the existing ones where a given column differs.

        A blank optional column keeps what the archive has: a partial export must not erase data.
        A changed name keeps the old one as 曾用名, so searches by the former name still find it."""
        existing = await self._find_subjects([s.key for s in rows], full=True)
        old_aliases: dict[int, set[str]] = defaultdict(set)
        ids = [row.id for row in existing.values()]
        for chunk in _chunks(ids):
            cols = (SubjectAlias.subject_id, SubjectAlias.alias)
            for subject_id, alias in await self.session.execute(each_key(self.session, cols, SubjectAlias.subject_id, chunk)):
                old_aliases[subject_id].add(alias)

        inserts: list[SubjectRow] = []
        updates: list[dict[str, Any]] = []
        alias_rows: list[dict[str, Any]] = []
        changes: list[dict[str, Any]] = []
        for s in rows:
            old = existing.get(s.key)
            if old is None:
                self.new += 1
                inserts.append(s)
                continue
            values = {c: getattr(old, c) for c in _SUBJECT_COMPARED}
            diff: dict[str, Any] = {}
            for c in _SUBJECT_COMPARED:
                new_value = getattr(s, c)
                if new_value is None or _as_date(values[c]) == new_value:
                    continue
                diff[c] = [_jsonable(values[c]), _jsonable(new_value)]
                values[c] = new_value
            wanted = list(s.aliases)
            if "name" in diff and old.name:
                wanted.append((old.name, "曾用名"))
            have = set(old_aliases.get(old.id, ()))
            added = []
            for alias, kind in wanted:
                if alias not in have and alias != values["name"]:
                    have.add(alias)
                    added.append(alias)
                    alias_rows.append({"subject_id": old.id, "alias": alias, "kind": kind})
            if added:
                diff["aliases"] = [None, added]
            if not diff:
                self.unchanged += 1
                continue
            self.updating += 1
            updates.append({"id": old.id, **values, "updated_at": self.now})
            changes.append(
                {"record_id": None, "subject_id": old.id, "changed_at": self.now,
                 "source_file": self.source_file, "changes": diff}
            )
        if not self.write:
            return
        new_ids: dict[str, int] = {}
        if inserts:
            new_ids = await self._insert_subjects(inserts)
            for s in inserts:
                seen: set[str] = set()
                for alias, kind in s.aliases:
                    if alias not in seen:
                        seen.add(alias)
                        alias_rows.append({"subject_id": new_ids[s.key], "alias": alias, "kind": kind})
        if updates:
            await self.session.execute(update(Subject), updates)
        if alias_rows:
            await self.session.execute(insert(SubjectAlias), alias_rows)
        if changes:
            await self.session.execute(insert(RecordChange), changes)
        with_persons = [s for s in rows if s.persons]
        if with_persons:
            ids = {**{k: row.id for k, row in existing.items()}, **new_ids}
            await link_persons(self.session, [(ids[s.key], s.persons) for s in with_persons], self.now, self.source_file)

    # -- records -------------------------------------------------------------------------------------
    async def _find_records(self, rows: Sequence[RecordRow]) -> dict[tuple[str, str, str], Any]:
        groups: dict[tuple[str, str], list[str]] = defaultdict(list)
        for r in rows:
            groups[(r.source_key, r.category)].append(r.doc_key)
        cols = [CreditRecord.id, CreditRecord.doc_key, CreditRecord.department_id, CreditRecord.reported_at]
        cols += [getattr(CreditRecord, c) for c in _RECORD_COMPARED]
        found: dict[tuple[str, str, str], Any] = {}
        for (source_key, category), docs in groups.items():
            for chunk in _chunks(docs):
                stmt = each_key(self.session, cols, CreditRecord.doc_key, chunk,
                                CreditRecord.source_key == source_key, CreditRecord.category == category)
                for row in await self.session.execute(stmt):
                    found[(source_key, category, row.doc_key)] = row
        return found

    def _late_for_update(self, r: RecordRow, old: Any) -> int:
        """Lateness is a fact of the first report: kept unless the decision date itself was corrected,
        and then measured against the original report date, so re-imports stay idempotent."""
        if _as_date(old.decision_date) == r.decision_date or r.due is None:
            return int(old.late_working_days)
        reported = old.reported_at.date() if isinstance(old.reported_at, dt.datetime) else self.now.date()
        return max(0, self.calendar.working_days_between(r.due, reported))

    async def record_batch(self, rows: Sequence[RecordRow]) -> None:
        await self._resolve_subjects(r.subject for r in rows)
        misnamed = await self._refuse_misnamed(rows) | self._refuse_renamed(rows)
        existing = await self._find_records(rows)
        if self._refuse_foreign(rows, existing) or misnamed:
            self.write = False  # nothing of this import may be written (the importer rolls back)
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        changes: list[dict[str, Any]] = []
        for r in rows:
            subject_id = self._subject_ids.get(r.subject.key)
            if subject_id is None and self.write:
                raise MissingSubject(r.row)
            values: dict[str, Any] = {
                "subject_id": subject_id,
                "title": r.title,
                "content": r.content,
                "decision_date": r.decision_date,
                "valid_until": r.valid_until,
                "severity": r.severity,
                "rule_edition": r.rule_edition,
                "publication_end": r.publication_end,
                "source_name": r.source_name,
                "late_working_days": r.late_working_days,
                "fields": r.fields,
            }
            old = existing.get(r.identity)
            if old is None:
                self.new += 1
                if self.write:
                    inserts.append(
                        {**values, "category": r.category, "department_id": self.department_id,
                         "source_key": r.source_key, "doc_number": r.doc_number, "doc_key": r.doc_key,
                         "reported_at": self.now,
                         "status": "active", "created_at": self.now, "updated_at": self.now}
                    )
                continue
            values["late_working_days"] = self._late_for_update(r, old)
            diff = self._diff(old, values)
            if self.department_id is not None and old.department_id != self.department_id:
                diff["department_id"] = [old.department_id, self.department_id]
            if not diff:
                self.unchanged += 1
                continue
            self.updating += 1
            if self.write:
                dept = self.department_id if self.department_id is not None else old.department_id
                updates.append({"id": old.id, **values, "department_id": dept, "updated_at": self.now})
                changes.append(
                    {"record_id": old.id, "subject_id": subject_id, "changed_at": self.now,
                     "source_file": self.source_file, "changes": diff}
                )
        if not self.write:
            return
        self.touched.update(v["subject_id"] for v in (*inserts, *updates) if v["subject_id"] is not None)
        if inserts:
            await self.session.execute(insert(CreditRecord), inserts)
        if updates:
            await self.session.execute(update(CreditRecord), updates)
        if changes:
            await self.session.execute(insert(RecordChange), changes)

    async def _refuse_misnamed(self, rows: Sequence[RecordRow]) -> bool:
        """A row whose code belongs to an archive subject of a clearly different name (not the name,
        not a 曾用名 or 简称) must not be filed on that subject (db.importers.name_match). One lookup of
        names and one of aliases per batch. Returns True when a row was refused."""
        ids = {
            self._subject_ids[r.subject.key] for r in rows
            if r.subject.key in self._subject_ids and _digest(r.subject.key) not in self._created
        }
        if not ids:
            return False
        names: dict[int, tuple[str, str]] = {}
        aliases: dict[int, list[str]] = defaultdict(list)
        for chunk in _chunks(sorted(ids)):
            for sid, kind, name in await self.session.execute(
                each_key(self.session, (Subject.id, Subject.kind, Subject.name), Subject.id, chunk)
            ):
                names[sid] = (kind, name)
            for sid, alias in await self.session.execute(
                each_key(self.session, (SubjectAlias.subject_id, SubjectAlias.alias), SubjectAlias.subject_id, chunk)
            ):
                aliases[sid].append(alias)
        refused = False
        for r in rows:
            sid = self._subject_ids.get(r.subject.key)
            if sid is None or sid not in names or _digest(r.subject.key) in self._created:
                continue
            kind, name = names[sid]
            if not name_fits(r.subject.name, name, aliases.get(sid, ())):
                by_id = r.subject.key.startswith("id:")
                self.refused.append((r.row, "name", mismatch_reason(kind, name, by_id)))
                refused = True
        return refused

    def _refuse_renamed(self, rows: Sequence[RecordRow]) -> bool:
        """Rows naming, under the code of a subject this import creates, another name than the row that
        introduced it: the import would file them on that subject, so both the dry run and the import
        refuse them here, from memory (the archive does not hold the subject during a dry run)."""
        refused = False
        for r in rows:
            first = self._created.get(_digest(r.subject.key))
            if first is None or first >> 64 == r.row or first & _LOW64 == _name_digest(r.subject.name):
                continue
            code = "证件号码" if r.subject.key.startswith("id:") else "统一社会信用代码"
            self.refused.append((r.row, "name", mismatch_in_file_reason(code, first >> 64)))
            refused = True
        return refused

    def _refuse_foreign(self, rows: Sequence[RecordRow], existing: dict[tuple[str, str, str], Any]) -> bool:
        """An import for a department may update only that department's records (not another's, not
        the platform's own bulk-loaded ones). Returns True when a row was refused."""
        if self.department_id is None:
            return False
        refused = False
        for r in rows:
            old = existing.get(r.identity)
            if old is not None and old.department_id != self.department_id:
                self.refused.append(
                    (r.row, "doc_number", f"文书号“{r.doc_number}”的记录已由其他部门（或平台）报送，本部门不能修改或接管该记录")
                )
                refused = True
        return refused

    @staticmethod
    def _diff(old: Any, values: dict[str, Any]) -> dict[str, Any]:
        diff: dict[str, Any] = {}
        for c in _RECORD_COMPARED:
            before, after = getattr(old, c), values[c]
            if c == "fields":
                before = before or {}
                for k in sorted(set(before) | set(after)):
                    if before.get(k) != after.get(k):
                        diff[f"fields.{k}"] = [before.get(k), after.get(k)]
                continue
            if _as_date(before) != after:
                diff[c] = [_jsonable(before), _jsonable(after)]
        return diff
