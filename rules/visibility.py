"""Who may see a credit record, and whether it still counts against its subject.

A record is any object with `category`, `status`, `publication_end`, `severity`, `decision_date` and
`rule_edition` (the ORM row, an import row, a test double). Decisions, written down because the domain
brief leaves them open:

- Platform staff (collectors, admins) see what officials see: they check and correct the data.
- `enterprise` sees what the public sees. A subject looking at its own full file is a different
  question (it needs to know whose record it is) and is answered where identity is known.
- An objection (异议) under review does not suspend anything: the record stays published, shared and
  effective until the objection is decided, and callers flag it (`under_objection`). Taking a record
  down because someone objected would let every listed subject suspend its listing by objecting.
- Repaired and revoked records are gone for everyone but nothing else (DOMAIN: "no longer published,
  shared or used").
- Expired records (past their publication period) are no longer public, but stay shared with officials
  as history, marked as such by the caller; they no longer trigger measures.
- A proposed blacklist entry (拟列入, during the prior-notice period of 事前告知) is not a decision yet:
  never public, never a trigger of measures, but shared with officials (marked 拟列入) so that the
  listing department and other offices know a listing is coming.
- A self-declaration's credit commitment waits as "unverified" (待核验) until an official verifies
  the declaration: nothing a declarant wrote is public or scored before that (rules.declarations),
  but officials see it, marked, so the verifying department knows it is there.
- A record masked during a court-approved reorganisation or settlement (暂时屏蔽, 国办发〔2025〕22号;
  services/temporary_masking.py) is, while masked, neither published nor a trigger of measures nor
  scored; officials still see it, marked 暂时屏蔽, as they see expired history.
- Publication periods (and the 2026 "轻微 not published" rule) govern the adverse categories that the
  repair rules cover: 行政处罚, 行政强制 and the blacklist. 经营异常名录 and court records leave by their
  own removal procedures (status change), not by a period. Other categories are published while active,
  until a stored `publication_end` if there is one.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from rules.categories import ABNORMAL_LIST, BLACKLIST, normalize_category
from rules.publication import DEFAULT_SEVERITY, edition_for, publication_end, window
from rules.roles import PUBLIC_ROLES, STAFF_ROLES

EFFECTIVE_STATUSES = frozenset({"active", "objected"})
# A declaration's commitment before an official verified the declaration: shared, never published or counted.
UNVERIFIED = "unverified"
MASKED = "masked"  # 暂时屏蔽 (temporary masking during a reorganisation or settlement)
STATUS_LABELS = {"proposed": "拟列入", "unverified": "待核验", "active": "有效", "objected": "异议处理中", "repaired": "已修复", "revoked": "已撤销", "expired": "已过公示期", "masked": "暂时屏蔽"}

PERIOD_CATEGORIES = frozenset({"行政处罚", "行政强制", BLACKLIST})


class RecordLike(Protocol):
    category: str
    status: str
    publication_end: date | None
    severity: str | None
    decision_date: date
    rule_edition: str | None


def _category(record: RecordLike) -> str:
    return normalize_category(record.category) or record.category


def _severity(record: RecordLike) -> str:
    """A blacklist entry without a grade is 严重: being on that list is what 严重失信 means."""
    if record.severity:
        return record.severity
    return "严重" if _category(record) == BLACKLIST else DEFAULT_SEVERITY


def effective_publication_end(record: RecordLike) -> date | None:
    """The stored end wins (a department may have set it); otherwise the rules' maximum, for the
    categories that have one. None means: no automatic end."""
    if record.publication_end is not None:
        return record.publication_end
    if _category(record) in PERIOD_CATEGORIES:
        return publication_end(record.decision_date, _severity(record), record.rule_edition)
    return None


def _within_period(record: RecordLike, today: date) -> bool:
    end = effective_publication_end(record)
    return end is None or today < end


def under_objection(record: RecordLike) -> bool:
    return record.status == "objected"


def is_published(record: RecordLike, today: date) -> bool:
    """Public view. The end date itself is no longer published."""
    if record.status not in EFFECTIVE_STATUSES or not _within_period(record, today):
        return False
    if _category(record) in PERIOD_CATEGORIES:
        edition = record.rule_edition or edition_for(record.decision_date)
        return window(edition, _severity(record)).published
    return True


def is_shared(record: RecordLike, today: date) -> bool:
    """Officials' view: everything that was not repaired or revoked, expired history and proposed
    listings included.

    `today` is part of the signature so that a future rule (e.g. a retention limit) can use it."""
    del today
    return record.status in (*EFFECTIVE_STATUSES, "expired", "proposed", UNVERIFIED, MASKED)


def visible_to(role: str, record: RecordLike, today: date) -> bool:
    """Raises on an unknown role: a typo must fail loudly, not silently show or hide records."""
    if role in STAFF_ROLES:
        return is_shared(record, today)
    if role in PUBLIC_ROLES:
        return is_published(record, today)
    raise ValueError(f"未知的用户角色：“{role}”")


def counts_for_measures(record: RecordLike, today: date) -> bool:
    """Whether the record can trigger joint-punishment measures: an effective blacklist or abnormal-list
    entry within its period. A stale 'active' past its end date does not count, even before the nightly
    status update has run."""
    return (
        _category(record) in (BLACKLIST, ABNORMAL_LIST)
        and record.status in EFFECTIVE_STATUSES
        and _within_period(record, today)
    )
