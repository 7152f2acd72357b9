"""Joint punishment (联合惩戒): which measures the law gives, for the matter an official handles, to a
subject on a list — and why none where a list exists but no measure concerns the matter.

"逢办必查": the official names the matter, the platform answers with the measures that apply and why,
the official reports back. Since 国办发〔2020〕49号 a measure that reduces rights must rest on law or
central policy and belongs to a specific list: the answer is built only from the catalogue
(db/data/catalogue_v*.toml and the region's supplement), per list type, never from one generic set.

Decisions:
- A listing counts with its list type (the record's stored type, else the type its title names:
  rules.catalogue.Catalogue.identify). A 严重失信主体名单 entry whose type cannot be told gets no
  measure at all and a note to ask the listing department: applying another list's measures is
  exactly what exposes the city to 复议 and 诉讼.
- A measure is shown for a matter when the catalogue says it concerns that matter; 其他事项 shows
  every measure of the subject's own lists (not of every list).
- A natural person gets only the measures that bind the listed subject itself (and whose
  `subject_kinds` admit persons); an organisation (个体工商户 included) also sees the measures that
  bind its 法定代表人 / 主要负责人 / 直接责任人员, labelled with whom they bind.
- "Why not restricted": for each list the subject is on whose measures do not concern the matter.
- Measures whose basis the catalogue could not confirm are kept but marked (`confirmed` False), and
  a list whose measures are known to be incomplete says so, so the official asks before restricting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from rules.catalogue import REACHES, Catalogue, ListType, MeasureDef
from rules.categories import ABNORMAL_LIST, BLACKLIST, normalize_category
from rules.matters import ALL_MATTERS, MATTERS, OTHER

__all__ = ["ALL_MATTERS", "MATTERS", "ListingFact", "Measure", "MeasureAnswer", "NotRestricted", "answer", "reaching"]


@dataclass(frozen=True)
class ListingFact:
    """One list entry of the subject: the 严重失信主体名单 or the 经营异常名录, with its list type."""

    category: str
    department: str
    since: date
    basis: str | None
    list_type: str | None = None  # catalogue key; None: not identified
    list_name: str | None = None  # the list type's name, as the catalogue gives it


@dataclass(frozen=True)
class Measure:
    """A measure to take, with its legal basis and who carries it out.

    `reason` says which listing(s) lead to it; `basis` the legal texts (cited with their articles)."""

    text: str
    reason: str
    key: str = ""
    list_type: str = ""
    list_name: str = ""
    basis: tuple[str, ...] = ()
    implementer: str = ""
    kind: str = ""
    reaches: tuple[str, ...] = ()  # keys of rules.catalogue.REACHES
    confirmed: bool = True
    qingdan_no: str = ""

    @property
    def reaches_label(self) -> str:
        return "、".join(REACHES[r] for r in self.reaches)

    @property
    def basis_text(self) -> str:
        return "；".join(self.basis)


@dataclass(frozen=True)
class NotRestricted:
    """A list the subject is on that gives no measure for this matter, and why."""

    list_name: str
    department: str
    since: date
    why: str


@dataclass(frozen=True)
class MeasureAnswer:
    measures: tuple[Measure, ...]
    not_restricted: tuple[NotRestricted, ...] = ()
    notes: tuple[str, ...] = ()
    catalogue: str = ""  # the catalogue edition the answer was given under


_PERSON_KINDS = frozenset({"自然人", "个人", "person", "natural_person", "individual"})
_ORGANISATION_KINDS = frozenset({
    "法人", "非法人组织", "个体工商户", "企业", "单位", "组织",
    "legal_person", "organisation", "organization", "org", "enterprise", "company", "individual_business",
    "unincorporated",
})


def is_person(subject_kind: str) -> bool:
    kind = subject_kind.strip().lower()
    if kind in _PERSON_KINDS:
        return True
    if kind in _ORGANISATION_KINDS:
        return False
    raise ValueError(f"未知的主体类别：“{subject_kind}”")


def _cn(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _reason(listing: ListingFact, list_type: ListType | None) -> str:
    category = normalize_category(listing.category) or listing.category
    named = f"（{list_type.name}）" if list_type and list_type.name != category else ""
    basis = f"，依据：{listing.basis}" if listing.basis else ""
    return f"该主体自{_cn(listing.since)}起被{listing.department}列入{category}{named}{basis}"


def _binds(m: MeasureDef, person: bool, kind: str) -> bool:
    if m.subject_kinds and kind not in m.subject_kinds:
        return False
    return "subject" in m.reaches if person else True


def _as_measure(m: MeasureDef, t: ListType, reason: str) -> Measure:
    return Measure(
        text=m.text, reason=reason, key=m.key, list_type=t.key, list_name=t.name,
        basis=tuple(c.label for c in m.basis), implementer=m.implementer, kind=m.kind, reaches=m.reaches,
        confirmed=m.confirmed and all(c.confirmed for c in m.basis), qingdan_no=m.qingdan_no,
    )


def answer(catalogue: Catalogue, subject_kind: str, listings: Sequence[ListingFact], matter: str) -> MeasureAnswer:
    """The measures for `matter` (a key of MATTERS), one per measure even when several listings lead
    to it (their reasons joined), lists in the order they were entered; the lists that restrict
    nothing for this matter, with why; and notes (an unidentified list, unconfirmed measures).
    Listings of other categories are ignored. Raises ValueError for an unknown kind or matter."""
    if matter not in MATTERS:
        raise ValueError(f"未知的办理事项：“{matter}”")
    person = is_person(subject_kind)
    kind = "自然人" if person else subject_kind
    found: dict[str, tuple[Measure, list[str]]] = {}
    free: list[NotRestricted] = []
    notes: list[str] = []
    for listing in sorted(listings, key=lambda item: item.since):
        category = normalize_category(listing.category)
        if category not in (BLACKLIST, ABNORMAL_LIST):
            continue
        t = catalogue.list_type(listing.list_type)
        if t is None:
            notes.append(
                f"该主体自{_cn(listing.since)}起被{listing.department}列入{category}，但名单类型未能识别："
                "平台无法确定法定的惩戒措施，请向列入部门核实名单类型和依据后依法办理。"
            )
            continue
        reason = _reason(listing, t)
        own = [m for m in catalogue.measures_of(t.key) if _binds(m, person, kind)]
        hits = [m for m in own if m.concerns(matter)]
        for m in hits:
            reasons = found.setdefault(m.key, (_as_measure(m, t, reason), []))[1]
            if reason not in reasons:
                reasons.append(reason)
        if not hits:
            if not own:
                why = f"目录中没有可以核实依据的{t.name}惩戒措施"
            elif t.measures_complete:
                why = f"{t.name}的惩戒措施不涉及“{MATTERS[matter]}”事项，可按正常程序办理"
            else:
                why = f"{t.name}已核实依据的惩戒措施不涉及“{MATTERS[matter]}”事项"
            free.append(NotRestricted(t.name, listing.department, listing.since, why))
        if not t.measures_complete:
            notes.append(f"{t.name}的惩戒措施尚未全部核实，如需限制请先向列入部门核实依据。" + (f"说明：{t.note}" if t.note else ""))
    measures = tuple(replace(m, reason="；".join(reasons)) for m, reasons in found.values())
    if any(not m.confirmed for m in measures):
        notes.append("标注“依据待核实”的措施，其依据未能在官方文本中核实，实施前请向列入部门或法制机构确认。")
    return MeasureAnswer(measures, tuple(free), tuple(dict.fromkeys(notes)), catalogue.edition)


def reaching(
    catalogue: Catalogue, listings: Sequence[ListingFact], role: str, matter: str = OTHER
) -> tuple[Measure, ...]:
    """Measures of an organisation's lists that bind the person in `role` ("legal_rep", "principal"),
    for `matter` (其他事项: all of them). What an organisation's card tells an official about its
    legal representative, and a person's card about the subjects it represents."""
    if role not in REACHES or role == "subject":
        raise ValueError(f"未知的关联身份：“{role}”")
    out: dict[str, Measure] = {}
    for listing in sorted(listings, key=lambda item: item.since):
        t = catalogue.list_type(listing.list_type)
        if t is None or normalize_category(listing.category) not in (BLACKLIST, ABNORMAL_LIST):
            continue
        for m in catalogue.measures_of(t.key):
            if role in m.reaches and m.concerns(matter) and m.key not in out:
                out[m.key] = _as_measure(m, t, _reason(listing, t))
    return tuple(out.values())
