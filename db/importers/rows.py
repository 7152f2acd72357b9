"""What validation hands the writer: typed subject and record rows, row errors, and the context of
one import (hash key, date, department, calendar, severity rules)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rules.masking import mask_identifiers
from rules.severity import DEFAULT_SEVERITY_RULES, SeverityRules
from rules.workcal import WorkCalendar

if TYPE_CHECKING:
    from db.importers.ownership import Ownership


@dataclass(frozen=True)
class RowError:
    """One problem: the file's row number (as Excel shows it), the column, and a Chinese reason."""

    row: int
    column: str | None
    reason: str

    def __post_init__(self) -> None:
        # Reasons quote cells back ("代码“…”有误"); an ID or phone number typed into the wrong column
        # must not come back in clear in the chat, the CLI or the API (rules.masking.mask_identifiers).
        object.__setattr__(self, "reason", mask_identifiers(self.reason))


@dataclass(frozen=True)
class DeptInfo:
    id: int
    code: str
    name: str
    uscc: str | None


@dataclass
class Context:
    """What validation needs besides the row: the hash key, the import date, the department."""

    id_key: str
    today: dt.date
    calendar: WorkCalendar
    dept: DeptInfo | None = None
    severity_rules: SeverityRules = field(default_factory=lambda: DEFAULT_SEVERITY_RULES)
    xlsx: bool = False
    # Set when the import runs for a department: its rows must be its own (db.importers.ownership).
    ownership: Ownership | None = None


@dataclass(slots=True)
class SubjectRow:
    """A subject as a row describes it. `key` is its archive identity: USCC, else the ID hash."""

    row: int
    key: str
    kind: str
    name: str
    uscc: str | None
    id_hash: str | None
    id_masked: str | None
    legal_rep: str | None = None
    division_code: str | None = None
    address: str | None = None
    established: dt.date | None = None
    status: str | None = None
    aliases: tuple[tuple[str, str], ...] = ()
    # (role, name, id_hash, id_masked) of the persons behind an organisation: legal_rep / principal.
    persons: tuple[tuple[str, str, str, str], ...] = ()


@dataclass(slots=True)
class RecordRow:
    row: int
    subject: SubjectRow
    category: str
    source_key: str
    source_name: str
    doc_number: str  # as written, for display
    title: str | None
    content: str | None
    decision_date: dt.date
    valid_until: dt.date | None
    severity: str | None
    rule_edition: str | None
    publication_end: dt.date | None
    due: dt.date | None
    late_working_days: int
    fields: dict[str, Any] = field(default_factory=dict)
    doc_key: str = ""  # canonical 文书号 (rules.canonical): what "the same document" compares

    @property
    def identity(self) -> tuple[str, str, str]:
        return (self.source_key, self.category, self.doc_key)


class RowInvalid(Exception):
    """A row's problems: `errors` lists every (column, reason) found; `column`/`reason` are the first."""

    def __init__(self, column: str | None, reason: str, more: tuple[tuple[str | None, str], ...] = ()) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason
        self.errors: tuple[tuple[str | None, str], ...] = ((column, reason), *more)


class RowErrors:
    """Collects the independent checks of one row, so that the report lists every problem of the row
    rather than only the first (a collector fixes a file in one round, not one error per upload)."""

    def __init__(self) -> None:
        self.found: list[tuple[str | None, str]] = []

    @contextmanager
    def check(self) -> Iterator[None]:
        try:
            yield
        except RowInvalid as exc:
            self.found.extend(exc.errors)

    def raise_any(self) -> None:
        """Raises RowInvalid carrying every error collected so far (if any)."""
        if self.found:
            (column, reason), *more = self.found
            raise RowInvalid(column, reason, tuple(more))
