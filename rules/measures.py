"""Joint punishment (联合惩戒): which measures apply to a listed subject for the matter an official handles.

"逢办必查": the official names the matter, the platform answers with the measures that apply to it and
why, the official reports back. Measures are keyed to matters so the answer fits the case at hand
rather than listing every measure for every check.

Decisions:
- 严重失信主体名单 (blacklist) carries the measures DOMAIN.md lists, split by organisations and natural
  persons. 个体工商户 get the organisation measures: the measures concern the business.
- 经营异常名录 carries only lighter measures (重点监管 and 审慎审核): the 企业信息公示暂行条例 (Art. 18)
  makes an abnormal-list entry an important consideration in procurement, tendering, state land
  transfer and honours, not a ban. Where the subject is also blacklisted for the same matter, the
  lighter measure is dropped as redundant.
- "other" (其他事项) answers with every measure for the subject: the platform cannot tell which apply,
  so the official sees all of them.
- 重点监管 (more inspections) applies to every matter: whoever deals with the subject should know.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from rules.categories import ABNORMAL_LIST, BLACKLIST, normalize_category

MATTERS: dict[str, str] = {
    "procurement": "政府采购",
    "award": "评优评先",
    "project": "项目审批",
    "tender": "招标投标",
    "subsidy": "财政补贴",
    "hiring": "人员录用/任职",
    "land": "土地/矿产出让",
    "license": "行政许可审批",
    "qualification": "资格认定",
    "registration": "登记注册",
    "other": "其他事项",
}
ALL_MATTERS = frozenset(MATTERS)

@dataclass(frozen=True)
class ListingFact:
    """One list entry of the subject: 严重失信主体名单 or 经营异常名录."""

    category: str
    department: str
    since: date
    basis: str | None


@dataclass(frozen=True)
class Measure:
    text: str
    reason: str


@dataclass(frozen=True)
class _Rule:
    text: str
    matters: frozenset[str]


def _rule(text: str, *matters: str) -> _Rule:
    return _Rule(text, frozenset(matters) if matters else ALL_MATTERS)


_SUPERVISION = "列为重点监管对象，提高检查比例和频次"

BLACKLIST_ORGANISATION: tuple[_Rule, ...] = (
    _rule(_SUPERVISION),
    _rule("不得参加评优评先，不得授予荣誉称号或表彰奖励", "award"),
    _rule("限制新的项目审批、核准", "project"),
    _rule("限制取得土地使用权和矿产资源开采权", "land"),
    _rule("限制参与招标投标", "tender"),
    _rule("限制参与政府采购", "procurement"),
    _rule("限制申请财政补贴、财政资金和政策扶持", "subsidy", "project"),
    _rule("依法实施市场禁入或行业禁入", "license", "registration", "qualification"),
    _rule("暂停或从严审核相关行政许可", "license", "project"),
    _rule("依法限制法定代表人、主要负责人出境", "other"),
)

BLACKLIST_PERSON: tuple[_Rule, ...] = (
    _rule("不得参加评优评先，不得授予荣誉称号或表彰奖励", "award"),
    _rule("不得担任法定代表人、董事、监事或高级管理人员", "registration", "hiring"),
    _rule("不得录用为公务员或机关、事业单位工作人员", "hiring"),
    _rule("限制申请政府资金支持", "subsidy", "project"),
    _rule("不得取得或担任评审专家资格", "qualification", "tender", "procurement"),
    _rule("暂停相关执业资格", "qualification", "license"),
)

ABNORMAL: tuple[_Rule, ...] = (
    _rule(_SUPERVISION),
    _rule("政府采购中作为重要考量因素，审慎审核", "procurement"),
    _rule("招标投标中作为重要考量因素，审慎审核", "tender"),
    _rule("国有土地、矿产资源出让中作为重要考量因素，审慎审核", "land"),
    _rule("评优评先、授予荣誉称号时从严把关，审慎审核", "award"),
    _rule("行政许可审慎审批，不适用告知承诺等便利措施", "license", "project"),
)

_PERSON_KINDS = frozenset({"自然人", "个人", "person", "natural_person", "individual"})
_ORGANISATION_KINDS = frozenset({
    "法人", "非法人组织", "个体工商户", "企业", "单位", "组织",
    "legal_person", "organisation", "organization", "org", "enterprise", "company", "individual_business",
    "unincorporated",
})


def _is_person(subject_kind: str) -> bool:
    kind = subject_kind.strip().lower()
    if kind in _PERSON_KINDS:
        return True
    if kind in _ORGANISATION_KINDS:
        return False
    raise ValueError(f"未知的主体类别：“{subject_kind}”")


def _format_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _reason(listing: ListingFact, list_name: str) -> str:
    basis = f"，依据：{listing.basis}" if listing.basis else ""
    return f"该主体自{_format_date(listing.since)}起被{listing.department}列入{list_name}{basis}"


def _applies(rule: _Rule, matter: str) -> bool:
    return matter == "other" or matter in rule.matters


def measures_for(subject_kind: str, listings: Sequence[ListingFact], matter: str) -> list[Measure]:
    """Measures for the matter, blacklist measures first, one per measure text (reasons joined when
    several listings lead to the same measure). Listings of other categories are ignored."""
    if matter not in MATTERS:
        raise ValueError(f"未知的办理事项：“{matter}”")
    matter_key = matter
    person = _is_person(subject_kind)
    by_text: dict[str, list[str]] = {}
    blacklist_matters: set[str] = set()

    def add(rule: _Rule, reason: str) -> None:
        reasons = by_text.setdefault(rule.text, [])
        if reason not in reasons:
            reasons.append(reason)

    ordered = sorted(listings, key=lambda item: item.since)
    for listing in ordered:
        if normalize_category(listing.category) != BLACKLIST:
            continue
        for rule in BLACKLIST_PERSON if person else BLACKLIST_ORGANISATION:
            if _applies(rule, matter_key):
                add(rule, _reason(listing, BLACKLIST))
                if rule.matters != ALL_MATTERS:
                    blacklist_matters |= rule.matters
    for listing in ordered:
        if normalize_category(listing.category) != ABNORMAL_LIST:
            continue
        for rule in ABNORMAL:
            if not _applies(rule, matter_key):
                continue
            if rule.matters != ALL_MATTERS and rule.matters <= blacklist_matters:
                continue
            add(rule, _reason(listing, ABNORMAL_LIST))
    return [Measure(text, "；".join(reasons)) for text, reasons in by_text.items()]
