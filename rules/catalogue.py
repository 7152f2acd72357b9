"""The catalogue of lists, measures and record categories, as parsed from its data files.

Source of the rules (db/data/catalogue_v*.toml cites each text): 国办发〔2020〕49号 — a 严重失信主体名单
exists only where law, regulation or central policy provides for it, and a list only one region
applies needs a 地方性法规; measures that reduce rights come from the 全国失信惩戒措施基础清单 or a
province's 补充清单 grounded in local regulations, and may not be added to or made heavier; the
全国公共信用信息基础目录 bounds what may be recorded at all.

This module is pure: it turns the TOML tables (already read by db/catalogue.py) into typed,
validated objects and merges a region's local supplement onto the national edition. Everything it
refuses raises CatalogueError naming the entry, so a bad data file fails at start-up, not at a check.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from rules.categories import ABNORMAL_LIST, BLACKLIST, CATEGORIES
from rules.matters import MATTERS

REACHES = {"subject": "本主体", "legal_rep": "法定代表人", "principal": "主要负责人", "responsible": "直接责任人员"}
MEASURE_KINDS = ("减损权益", "增加义务", "管理措施")
LOCAL_LEVEL = "地方性法规"
LIST_CATEGORIES = (BLACKLIST, ABNORMAL_LIST)


class CatalogueError(ValueError):
    """A catalogue file that must not be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    number: str = ""
    level: str = ""
    address: str = ""
    issued: dt.date | None = None
    in_force: dt.date | None = None
    confirmed: bool = False
    note: str = ""

    @property
    def label(self) -> str:
        """《title》（number）: how a basis is cited on a card, a check and a document."""
        return f"《{self.title}》" + (f"（{self.number}）" if self.number else "")


@dataclass(frozen=True)
class Citation:
    source: Source
    article: str = ""

    @property
    def label(self) -> str:
        return self.source.label + self.article

    @property
    def confirmed(self) -> bool:
        return self.source.confirmed


@dataclass(frozen=True)
class ListType:
    """One kind of list: who decides it (认定), by which standard, for how long, how one leaves it."""

    key: str
    name: str
    category: str
    authority: str
    authority_roles: tuple[str, ...]
    basis: tuple[Citation, ...]
    reaches: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    standard: str = ""
    period: str = ""
    period_months: int | None = None
    period_min_months: int | None = None
    period_max_months: int | None = None
    period_basis: Citation | None = None
    removal: str = ""
    removal_basis: tuple[Citation, ...] = ()
    notice: str = ""
    notice_basis: tuple[Citation, ...] = ()
    decision_contents: str = ""
    decision_basis: Citation | None = None
    relief: str = ""
    relief_basis: tuple[Citation, ...] = ()
    proposable: bool = False
    measures_complete: bool = False
    confirmed: bool = False
    unconfirmed: tuple[str, ...] = ()
    note: str = ""
    local: bool = False

    @property
    def basis_text(self) -> str:
        return "、".join(c.label for c in self.basis if c.article or c.source.title)


@dataclass(frozen=True)
class MeasureDef:
    """One measure a list carries (an item of the 基础清单 or a 补充清单)."""

    key: str
    list_types: tuple[str, ...]
    text: str
    kind: str
    matters: frozenset[str]
    reaches: tuple[str, ...]
    implementer: str
    basis: tuple[Citation, ...]
    subject_kinds: frozenset[str] = frozenset()
    confirmed: bool = False
    unconfirmed: tuple[str, ...] = ()
    note: str = ""
    qingdan_no: str = ""
    local: bool = False

    def concerns(self, matter: str) -> bool:
        """Whether the measure is shown for `matter`; 其他事项 shows every measure."""
        return matter == "other" or matter in self.matters


@dataclass(frozen=True)
class CatalogueClass:
    """A class of the 全国公共信用信息基础目录 and the platform categories filed under it."""

    name: str
    platform: tuple[str, ...]
    source: Source
    confirmed: bool = False
    note: str = ""


@dataclass(frozen=True)
class SeverityStandard:
    """A department's own grading standard (行政处罚裁量基准) as amount thresholds, with its source."""

    department: str
    serious_fine_wan: float | None
    minor_fine_wan: float | None
    source: str
    confirmed: bool = False


@dataclass(frozen=True)
class Catalogue:
    version: str
    name: str
    edition_date: dt.date
    sources: Mapping[str, Source]
    list_types: Mapping[str, ListType]
    measures: tuple[MeasureDef, ...]
    categories: tuple[CatalogueClass, ...]
    severity_standards: Mapping[str, SeverityStandard] = field(default_factory=dict)
    local_versions: tuple[str, ...] = ()

    @property
    def edition(self) -> str:
        """What a record keeps as the catalogue edition it was collected under ("2024.1", plus the
        local supplement's version when one applies: "2024.1+610900/2026.1")."""
        return "+".join((self.version, *self.local_versions))

    def list_type(self, key: str | None) -> ListType | None:
        return self.list_types.get(key or "")

    def measures_of(self, key: str) -> tuple[MeasureDef, ...]:
        return tuple(m for m in self.measures if key in m.list_types)

    def class_of(self, category: str) -> CatalogueClass | None:
        """The catalogue class a platform category is collected under; None: outside the catalogue."""
        for c in self.categories:
            if category in c.platform:
                return c
        return None

    def decidable_by(self, role: str) -> tuple[ListType, ...]:
        """List types a department of this region role may decide (认定), proposable ones first."""
        found = [t for t in self.list_types.values() if role in t.authority_roles]
        return tuple(sorted(found, key=lambda t: (not t.proposable, t.key)))

    def identify(self, *texts: str | None, category: str | None = None) -> str | None:
        """The list type a record names in its title (or, failing that, its content), by the
        longest name or alias found; None when nothing matches or two types tie. The 经营异常名录
        is its own category and needs no text. Never a guess by department: a wrong type would
        apply another list's measures."""
        if category == ABNORMAL_LIST:
            return "abnormal" if "abnormal" in self.list_types else None
        for text in texts:
            norm = _norm(text or "")
            if not norm:
                continue
            best: list[tuple[int, str]] = []
            for t in self.list_types.values():
                if t.category != BLACKLIST:
                    continue
                hit = max((len(n) for n in (_norm(t.name), *map(_norm, t.aliases)) if n and n in norm), default=0)
                if hit:
                    best.append((hit, t.key))
            if best:
                best.sort(reverse=True)
                if len(best) > 1 and best[0][0] == best[1][0]:
                    return None
                return best[0][1]
        return None


_NOISE = re.compile(r"[\s\"'“”‘’《》〈〉「」【】()（）\[\]]+")


def _norm(text: str) -> str:
    return _NOISE.sub("", unicodedata.normalize("NFKC", text))


# -- parsing ---------------------------------------------------------------------------------------


class _Reader:
    def __init__(self, where: str, sources: Mapping[str, Source]) -> None:
        self.where = where
        self.sources = sources

    def fail(self, entry: str, why: str) -> CatalogueError:
        return CatalogueError(f"{self.where}：{entry}：{why}")

    def text(self, d: Mapping[str, Any], key: str, entry: str, required: bool = False) -> str:
        value = d.get(key, "")
        if not isinstance(value, str):
            raise self.fail(entry, f"{key} 应为字符串")
        if required and not value.strip():
            raise self.fail(entry, f"缺少 {key}")
        return value.strip()

    def strings(self, d: Mapping[str, Any], key: str, entry: str) -> tuple[str, ...]:
        value = d.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(entry, f"{key} 应为字符串列表")
        return tuple(value)

    def months(self, d: Mapping[str, Any], key: str, entry: str) -> int | None:
        value = d.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 120:
            raise self.fail(entry, f"{key} 应为 1 至 120 之间的整数（月）")
        return value

    def flag(self, d: Mapping[str, Any], key: str, entry: str) -> bool:
        value = d.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(entry, f"{key} 应为 true 或 false")
        return value

    def citation(self, c: Any, entry: str) -> Citation:
        if not isinstance(c, dict) or "source" not in c:
            raise self.fail(entry, "依据应写成 { source = \"…\", article = \"…\" }")
        source = self.sources.get(c["source"])
        if source is None:
            raise self.fail(entry, f"引用了未登记的来源“{c['source']}”")
        return Citation(source, self.text(c, "article", entry))

    def reaches(self, d: Mapping[str, Any], entry: str) -> tuple[str, ...]:
        reaches = self.strings(d, "reaches", entry) or ("subject",)
        if unknown := set(reaches) - set(REACHES):
            raise self.fail(entry, f"reaches 含未知对象 {sorted(unknown)}")
        return reaches

    def grounded(self, d: Mapping[str, Any], entry: str, local: bool, why: str) -> tuple[Citation, ...]:
        """The entry's `basis`; a local entry's must cite a 地方性法规."""
        basis = self.citations(d, "basis", entry, required=True)
        if local and not any(c.source.level == LOCAL_LEVEL for c in basis):
            raise self.fail(entry, why)
        return basis

    def citations(self, d: Mapping[str, Any], key: str, entry: str, required: bool = False) -> tuple[Citation, ...]:
        value = d.get(key, [])
        if isinstance(value, dict):
            value = [value]
        if not isinstance(value, list):
            raise self.fail(entry, f"{key} 应为依据列表")
        if required and not value:
            raise self.fail(entry, f"缺少 {key}")
        return tuple(self.citation(c, entry) for c in value)


def _date(value: Any, where: str) -> dt.date | None:
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    raise CatalogueError(f"{where}：日期应写成 2024-03-01 的形式")


def _sources(raw: Iterable[Any], where: str) -> dict[str, Source]:
    out: dict[str, Source] = {}
    for d in raw:
        r = _Reader(where, {})
        sid = r.text(d, "id", "来源", required=True)
        if sid in out:
            raise r.fail(sid, "来源 id 重复")
        out[sid] = Source(
            id=sid, title=r.text(d, "title", sid, required=True), number=r.text(d, "number", sid),
            level=r.text(d, "level", sid), address=r.text(d, "address", sid),
            issued=_date(d.get("issued"), f"{where}：{sid}"), in_force=_date(d.get("in_force"), f"{where}：{sid}"),
            confirmed=r.flag(d, "confirmed", sid), note=r.text(d, "note", sid),
        )
    return out


def _list_type(r: _Reader, d: Mapping[str, Any], local: bool) -> ListType:
    key = r.text(d, "key", "名单类型", required=True)
    category = r.text(d, "category", key, required=True)
    if category not in LIST_CATEGORIES:
        raise r.fail(key, f"category 应为 {'、'.join(LIST_CATEGORIES)} 之一")
    reaches = r.reaches(d, key)
    basis = r.grounded(d, key, local, "仅在本地区实施的名单须以地方性法规为依据（国办发〔2020〕49号）")
    period_basis = r.citations(d, "period_basis", key)
    decision_basis = r.citations(d, "decision_basis", key)
    t = ListType(
        key=key, name=r.text(d, "name", key, required=True), category=category,
        authority=r.text(d, "authority", key, required=True), authority_roles=r.strings(d, "authority_roles", key),
        basis=basis, reaches=reaches, aliases=r.strings(d, "aliases", key), standard=r.text(d, "standard", key),
        period=r.text(d, "period", key), period_months=r.months(d, "period_months", key),
        period_min_months=r.months(d, "period_min_months", key), period_max_months=r.months(d, "period_max_months", key),
        period_basis=period_basis[0] if period_basis else None, removal=r.text(d, "removal", key),
        removal_basis=r.citations(d, "removal_basis", key), notice=r.text(d, "notice", key),
        notice_basis=r.citations(d, "notice_basis", key), decision_contents=r.text(d, "decision_contents", key),
        decision_basis=decision_basis[0] if decision_basis else None, relief=r.text(d, "relief", key),
        relief_basis=r.citations(d, "relief_basis", key), proposable=r.flag(d, "proposable", key),
        measures_complete=r.flag(d, "measures_complete", key), confirmed=r.flag(d, "confirmed", key),
        unconfirmed=r.strings(d, "unconfirmed", key), note=r.text(d, "note", key), local=local,
    )
    if t.proposable and t.confirmed and not (t.standard and t.removal and t.relief and t.period):
        raise r.fail(key, "已核实、可发起的名单须写明认定标准、期限、移出条件和救济途径")
    if t.period_min_months and t.period_max_months and t.period_min_months > t.period_max_months:
        raise r.fail(key, "period_min_months 大于 period_max_months")
    return t


def _measure(r: _Reader, d: Mapping[str, Any], list_types: Mapping[str, ListType], local: bool) -> MeasureDef:
    key = r.text(d, "key", "措施", required=True)
    types = r.strings(d, "list_types", key)
    if not types:
        raise r.fail(key, "缺少 list_types（措施所属名单）")
    if unknown := [t for t in types if t not in list_types]:
        raise r.fail(key, f"list_types 含未登记的名单 {unknown}")
    matters = frozenset(r.strings(d, "matters", key))
    if unknown_m := matters - set(MATTERS) - {"other"}:
        raise r.fail(key, f"matters 含未知事项 {sorted(unknown_m)}（应为 {'、'.join(MATTERS)}）")
    kind = r.text(d, "kind", key, required=True)
    if kind not in MEASURE_KINDS:
        raise r.fail(key, f"kind 应为 {'、'.join(MEASURE_KINDS)} 之一")
    reaches = r.reaches(d, key)
    basis = r.grounded(d, key, local, "补充清单的措施须以地方性法规为依据（国办发〔2020〕49号）")
    return MeasureDef(
        key=key, list_types=types, text=r.text(d, "text", key, required=True), kind=kind,
        matters=matters - {"other"}, reaches=reaches, implementer=r.text(d, "implementer", key, required=True),
        basis=basis, subject_kinds=frozenset(r.strings(d, "subject_kinds", key)),
        confirmed=r.flag(d, "confirmed", key), unconfirmed=r.strings(d, "unconfirmed", key),
        note=r.text(d, "note", key), qingdan_no=r.text(d, "qingdan_no", key), local=local,
    )


def _severity_standard(r: _Reader, d: Mapping[str, Any]) -> SeverityStandard:
    dept = r.text(d, "department", "裁量基准", required=True)
    values: dict[str, float | None] = {}
    for k in ("serious_fine_wan", "minor_fine_wan"):
        v = d.get(k)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float) or v < 0):
            raise r.fail(dept, f"{k} 应为不小于 0 的数（万元）")
        values[k] = float(v) if v is not None else None
    return SeverityStandard(dept, values["serious_fine_wan"], values["minor_fine_wan"],
                            r.text(d, "source", dept, required=True), r.flag(d, "confirmed", dept))


def _head(raw: Mapping[str, Any], where: str) -> tuple[str, str, dt.date]:
    version = raw.get("version")
    if not isinstance(version, str) or not re.fullmatch(r"\d{4}\.\d+", version):
        raise CatalogueError(f"{where}：version 应写成“2024.1”的形式")
    edition_date = _date(raw.get("edition_date"), where)
    if edition_date is None:
        raise CatalogueError(f"{where}：缺少 edition_date")
    return version, str(raw.get("name", "")), edition_date


def parse_catalogue(raw: Mapping[str, Any], where: str = "目录数据") -> Catalogue:
    """The national catalogue from its TOML tables. Raises CatalogueError."""
    version, name, edition_date = _head(raw, where)
    sources = _sources(raw.get("sources", []), where)
    r = _Reader(where, sources)
    list_types: dict[str, ListType] = {}
    for d in raw.get("list_types", []):
        t = _list_type(r, d, local=False)
        if t.key in list_types:
            raise r.fail(t.key, "名单类型 key 重复")
        list_types[t.key] = t
    measures = _measures(r, raw.get("measures", []), list_types, local=False, taken=set())
    categories = []
    for d in raw.get("categories", []):
        cname = r.text(d, "name", "目录类别", required=True)
        platform = r.strings(d, "platform", cname)
        if unknown := set(platform) - set(CATEGORIES):
            raise r.fail(cname, f"platform 含平台不认识的类别 {sorted(unknown)}")
        src = sources.get(r.text(d, "source", cname, required=True))
        if src is None:
            raise r.fail(cname, "引用了未登记的来源")
        categories.append(CatalogueClass(cname, platform, src, r.flag(d, "confirmed", cname), r.text(d, "note", cname)))
    filed = [p for c in categories for p in c.platform]
    if missing := [c for c in CATEGORIES if c not in filed]:
        raise CatalogueError(f"{where}：平台类别 {missing} 不在任何目录类别中：目录以外的信息不得归集")
    if twice := sorted({p for p in filed if filed.count(p) > 1}):
        raise CatalogueError(f"{where}：平台类别 {twice} 归入了多个目录类别")
    return Catalogue(version, name, edition_date, sources, list_types, measures, tuple(categories))


def _measures(
    r: _Reader, raw: Iterable[Any], list_types: Mapping[str, ListType], local: bool, taken: set[str]
) -> tuple[MeasureDef, ...]:
    out = []
    for d in raw:
        m = _measure(r, d, list_types, local)
        if m.key in taken:
            raise r.fail(m.key, "措施 key 重复（补充清单不得改动或替换全国清单的措施）")
        taken.add(m.key)
        out.append(m)
    return tuple(out)


def merge_local(national: Catalogue, raw: Mapping[str, Any], where: str = "补充目录") -> Catalogue:
    """The national catalogue plus a region's supplement: its sources, its own list types (each on a
    地方性法规), measures (each on a 地方性法规) and departments' grading standards. A local entry
    may not reuse a national key: it adds, never changes or drops (国办发〔2020〕49号). Raises
    CatalogueError."""
    version = _head(raw, where)[0]
    region = raw.get("region")
    if not isinstance(region, str) or not re.fullmatch(r"\d{6}", region):
        raise CatalogueError(f"{where}：region 应为 6 位行政区划代码")
    local_sources = _sources(raw.get("sources", []), where)
    sources = {**national.sources, **local_sources}
    r = _Reader(where, sources)
    list_types = dict(national.list_types)
    for d in raw.get("list_types", []):
        t = _list_type(r, d, local=True)
        if t.key in list_types:
            raise r.fail(t.key, "与全国目录的名单类型 key 重复：补充目录只能增加")
        list_types[t.key] = t
    measures = _measures(r, raw.get("measures", []), list_types, local=True, taken={m.key for m in national.measures})
    standards = dict(national.severity_standards)
    for d in raw.get("severity_standards", []):
        s = _severity_standard(r, d)
        standards[s.department] = s
    return replace(
        national, sources=sources, list_types=list_types, measures=national.measures + measures,
        severity_standards=standards, local_versions=(*national.local_versions, f"{region}/{version}"),
    )


def applies_to(local_region: str, division_code: str) -> bool:
    """Whether a local file for `local_region` (a province 610000, a city 610900 or a county) covers
    a platform configured for `division_code`."""
    if local_region.endswith("0000"):
        return division_code[:2] == local_region[:2]
    if local_region.endswith("00"):
        return division_code[:4] == local_region[:4]
    return division_code == local_region


def citations_text(citations: Sequence[Citation]) -> str:
    """Citations for print, one source named once: 《办法》第十二条、第十三条；《条例》第四十八条."""
    grouped: dict[str, list[str]] = {}
    for c in citations:
        grouped.setdefault(c.source.label, [])
        if c.article and c.article not in grouped[c.source.label]:
            grouped[c.source.label].append(c.article)
    return "；".join(label + "、".join(articles) for label, articles in grouped.items())
