"""What a 专项信用报告 says: per field (领域), whether the subject has 违法违规记录 over the chosen
period, and the records behind each "有". Pure rules, no I/O; the field list and the sections are a
data file (db/data/special_report_v*.toml, read by db/special_report_data.py) with their sources.

Decisions written down (README lists each with its status):
- Sections: 行政处罚 (including penalties decided by 简易程序, which are not published), 行政强制,
  严重失信主体名单 and 刑事裁判 — the minimum of 发改财金〔2025〕565号.
- A penalty, a coercive measure or a criminal judgment counts when it was decided inside the period
  ("近三年内无违法违规记录" speaks of violations decided in those years); a listing counts when it
  was in force at any time in the period (listed before the period's end, not ended before its start).
- Repaired and revoked records do not count: a repaired record is no longer shared or used
  (《信用修复管理办法》2026, 第三条), a revoked one was never true. Records masked during a court-approved
  reorganisation (暂时屏蔽) do not count while masked. Expired ones (past publication) still count:
  publication ending does not undo the violation.
- A record belongs to the field of its department's function (the region file's `role`); a
  department whose function is not listed gives the file's `other_field`.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rules.categories import BLACKLIST, normalize_category
from rules.report_sections import record_in_period

COUNTED_STATUSES = frozenset({"active", "objected", "expired"})
_SPACES = re.compile(r"\s+")


class SpecialReportDataError(ValueError):
    """The data file is not a valid field list; str() names the problem."""


@dataclass(frozen=True)
class Section:
    name: str
    categories: tuple[str, ...]
    require_word: str = ""
    note: str = ""


@dataclass(frozen=True)
class Field:
    name: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Catalogue:
    version: str
    source: str
    sections: tuple[Section, ...]
    fields: tuple[Field, ...]
    other_field: str

    @property
    def field_names(self) -> tuple[str, ...]:
        return (*(f.name for f in self.fields), self.other_field)

    def field_of(self, role: str | None) -> str:
        for f in self.fields:
            if role in f.roles:
                return f.name
        return self.other_field


def parse_catalogue(raw: Mapping[str, Any]) -> Catalogue:
    try:
        sections = tuple(
            Section(s["name"], tuple(normalize_category(c) or c for c in s["categories"]), s.get("require_word", ""), s.get("note", ""))
            for s in raw["sections"]
        )
        fields = tuple(Field(f["name"], tuple(f["roles"])) for f in raw["fields"])
        catalogue = Catalogue(str(raw["version"]), str(raw.get("source", "")), sections, fields, str(raw["other_field"]))
    except (KeyError, TypeError) as exc:
        raise SpecialReportDataError(f"专项信用报告领域数据缺少或有误：{exc}") from None
    if not sections or not fields or len(set(catalogue.field_names)) != len(catalogue.field_names):
        raise SpecialReportDataError("专项信用报告领域数据：领域名称须唯一且非空")
    return catalogue


def _text(*parts: object) -> str:
    return _SPACES.sub("", unicodedata.normalize("NFKC", " ".join(str(p) for p in parts if p)))


def section_of(catalogue: Catalogue, category: str, title: str | None, content: str | None, fields: Mapping[str, Any]) -> str | None:
    """The report section of a record, or None when it is in none (a licence, a civil judgment)."""
    canonical = normalize_category(category) or category
    for section in catalogue.sections:
        if canonical in section.categories:
            if section.require_word and section.require_word not in _text(title, content, *fields.values()):
                continue
            return section.name
    return None


def is_summary_procedure(title: str | None, fields: Mapping[str, Any]) -> bool:
    """A penalty decided by 简易程序 (当场处罚): its procedure column, its name or its remarks say so."""
    for key, value in fields.items():
        if ("程序" in key or key == "备注") and "简易" in _text(value):
            return True
    return "简易程序" in _text(title)


def counts(section: str, status: str, decision_date: dt.date, last_day: dt.date | None, period: tuple[dt.date, dt.date]) -> bool:
    """Whether a record of `section` counts for the period (module docstring)."""
    if status not in COUNTED_STATUSES:
        return False
    if section == BLACKLIST:
        return record_in_period(decision_date, last_day, period)
    return period[0] <= decision_date <= period[1]


def pick_fields(catalogue: Catalogue, words: Iterable[str]) -> tuple[str, ...]:
    """The fields a person named (a field's name or a part of it of two characters or more), in
    the catalogue's order; raises ValueError naming a word that matches no field."""
    chosen: list[str] = []
    for word in words:
        w = _text(word)
        matches = [name for name in catalogue.field_names if w and (w == name or (len(w) >= 2 and w in name))]
        if not matches:
            raise ValueError(f"没有“{word}”这一领域。可选领域：{'、'.join(catalogue.field_names)}")
        chosen += matches
    return tuple(name for name in catalogue.field_names if name in chosen)
