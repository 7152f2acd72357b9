"""The demo's credit records: penalties, licences, blacklist packages and the showcase's own, each
subject's drawn from its own random stream."""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import Any

from db.demo import catalog as cat
from db.demo.generate import (
    DEFAULT_SEED,
    DEMO_AS_OF,
    RECORDS_FROM,
    DemoRecord,
    DemoSubject,
    _context,
    _Ctx,
    _cum,
    _weighted,
)
from db.demo.subjects import _rng
from db.regions import DepartmentInfo, RegionData, default_region

# ------------------------------------------------------------------------------------------- records

# Chance that a subject of a group has a record of a category (independently per category).
RECORD_RATES: dict[str, dict[str, float]] = {
    cat.COMPANY: {
        "登记备案": 0.10, "资质资格": 0.05, "行政许可": 0.18, "行政处罚": 0.08, "行政强制": 0.01,
        "行政确认": 0.03, "行政奖励": 0.02, "行政给付": 0.03, "检查抽查": 0.10, "经营异常名录": 0.03,
        "司法判决": 0.02, "强制执行": 0.012,
    },
    cat.SHOP: {
        "登记备案": 0.06, "行政许可": 0.12, "行政处罚": 0.05, "行政强制": 0.005, "行政确认": 0.01,
        "行政给付": 0.01, "检查抽查": 0.06, "经营异常名录": 0.03, "司法判决": 0.01, "强制执行": 0.005,
    },
    cat.COOP: {
        "行政许可": 0.08, "行政处罚": 0.03, "行政确认": 0.05, "行政奖励": 0.04, "行政给付": 0.08,
        "检查抽查": 0.08, "经营异常名录": 0.05,
    },
    cat.COLLECTIVE: {"行政许可": 0.05, "行政处罚": 0.02, "行政给付": 0.10},
    cat.SOCIAL: {"登记备案": 0.10, "行政处罚": 0.03, "检查抽查": 0.02},
    cat.OTHER: {"行政处罚": 0.01},
    cat.PERSON: {
        "资质资格": 0.04, "行政许可": 0.01, "行政处罚": 0.025, "行政给付": 0.04, "司法判决": 0.015,
        "强制执行": 0.01,
    },
}
BLACKLIST_RATE: dict[str, float] = {cat.COMPANY: 0.006, cat.SHOP: 0.003, cat.COOP: 0.003, cat.PERSON: 0.004}
MAX_RECORDS = 4
SEVERITY_WEIGHTS = (("轻微", 0.10), ("一般", 0.75), ("严重", 0.15))
_SEVERITY_CUM = _cum(w for _, w in SEVERITY_WEIGHTS)

_DOC_SUFFIX = {
    "登记备案": ("登〔{y}〕{n}号",),
    "资质资格": ("资〔{y}〕{n}号", "资字〔{y}〕第{n}号"),
    "行政许可": ("许〔{y}〕{n}号", "许可〔{y}〕{n:04d}号", "许字〔{y}〕第{n}号"),
    "行政处罚": ("罚〔{y}〕{n}号", "罚字〔{y}〕第{n}号", "处罚〔{y}〕{n}号", "罚决字〔{y}〕{n:04d}号"),
    "行政强制": ("强〔{y}〕{n}号", "封〔{y}〕{n}号"),
    "行政确认": ("确〔{y}〕{n}号",),
    "行政奖励": ("发〔{y}〕{n}号", "奖〔{y}〕{n}号"),
    "行政给付": ("给〔{y}〕{n}号", "补〔{y}〕{n}号"),
    "检查抽查": ("检〔{y}〕{n}号", "抽查〔{y}〕{n}号"),
    "经营异常名录": ("异〔{y}〕{n}号", "企异字〔{y}〕第{n}号"),
    "严重失信主体名单": ("失信〔{y}〕{n}号", "严信〔{y}〕{n}号"),
}
_LICENCE_CLASS = {"许可证": "普通", "核准": "核准", "批复": "核准", "检查": "其他", "合格证": "认可"}


class DocNumbers:
    """Per (department, category, year) serial numbers, so document numbers never repeat.

    The state is a few hundred counters, whatever the archive size. Numbers depend on the order
    records are drawn, so one archive is drawn in one pass (as `iter_records` does)."""

    def __init__(self) -> None:
        self._next: dict[tuple[str, str, int], int] = {}

    def take(self, dept: str, series: str, year: int) -> int:
        k = (dept, series, year)
        n = self._next.get(k)
        if n is None:
            n = zlib.crc32(f"{dept}|{series}|{year}".encode()) % 40 + 1
        self._next[k] = n + 1
        return n

    def admin(self, dept: DepartmentInfo, category: str, day: date) -> str:
        templates = _DOC_SUFFIX[category]
        template = templates[zlib.crc32(dept.code.encode()) % len(templates)]
        return dept.doc_prefix + template.format(y=day.year, n=self.take(dept.code, category, day.year))

    def court(self, dept: DepartmentInfo, kind: str, day: date) -> str:
        return f"（{day.year}）{dept.doc_prefix}{kind}{self.take(dept.code, kind, day.year)}号"


def _groups_match(groups: frozenset[str], sectors: frozenset[str] | None, subject: DemoSubject) -> bool:
    if subject.group not in groups:
        return False
    return sectors is None or subject.group not in (cat.COMPANY, cat.SHOP) or subject.sector in sectors


def _department(ctx: _Ctx, role: str, category: str, subject: DemoSubject, rng: random.Random) -> DepartmentInfo | None:
    local = ctx.depts_by_role.get((role, subject.division_code))
    city = ctx.city_depts_by_role.get(role)
    choices = [d for d in (local, city) if d is not None and category in d.categories]
    if not choices:
        return None
    if len(choices) == 2 and rng.random() < 0.3:
        return choices[1]
    return choices[0]


def _pick_option(ctx: _Ctx, category: str, subject: DemoSubject, rng: random.Random) -> tuple[Any, DepartmentInfo] | None:
    """A catalog entry that fits the subject, and a department of the region that reports it."""
    if category == "行政处罚":
        options: list[Any] = [v for v in cat.VIOLATIONS if _groups_match(v.groups, v.sectors, subject)]
    else:
        options = [i for i in cat.ITEMS if i.category == category and _groups_match(i.groups, i.sectors, subject)]
    rng.shuffle(options)
    for option in options:
        dept = _department(ctx, option.role, category, subject, rng)
        if dept is not None:
            return option, dept
    return None


def _date_between(rng: random.Random, lo: date, hi: date) -> date | None:
    if hi < lo:
        return None
    return lo + timedelta(days=rng.randrange((hi - lo).days + 1))


def _earliest(subject: DemoSubject) -> date:
    if subject.group == cat.PERSON:
        adult = date(subject.established.year + 18, subject.established.month, min(subject.established.day, 28))
        return max(RECORDS_FROM, adult)
    return max(RECORDS_FROM, subject.established + timedelta(days=30))


def _party_fields(subject: DemoSubject) -> dict[str, Any]:
    """The 行政相对人 columns of the national templates; never a person's ID number."""
    fields: dict[str, Any] = {"行政相对人名称": subject.name, "行政相对人类别": subject.kind}
    if subject.uscc:
        fields["行政相对人代码_1"] = subject.uscc
    if subject.legal_rep:
        fields["法定代表人"] = subject.legal_rep
    if subject.group == cat.PERSON:
        fields["证件类型"] = "身份证"
    return fields


def _who(subject: DemoSubject) -> str:
    return "当事人" if subject.group == cat.PERSON else subject.name


def _fine(rng: random.Random, severity: str, kinds: str) -> float:
    if "罚款" not in kinds:
        return 0.0
    if severity == "严重":
        return round(rng.uniform(5, 80), 2)
    return round(min(50.0, rng.lognormvariate(0, 1.1)), 2)


def _penalty(
    docs: DocNumbers, subject: DemoSubject, violation: cat.Violation, dept: DepartmentInfo, day: date,
    severity: str, status: str, rng: random.Random,
) -> DemoRecord:
    kinds = rng.choice(cat.PENALTY_KINDS[severity])
    fine = _fine(rng, severity, kinds)
    confiscated = round(rng.uniform(0.05, 3), 2) if "没收" in kinds else 0.0
    measure = kinds
    if fine:
        measure = measure.replace("罚款", f"罚款人民币{fine:g}万元")
    if confiscated:
        measure = measure.replace("没收违法所得", f"没收违法所得{confiscated:g}万元")
    doc = docs.admin(dept, "行政处罚", day)
    content = (
        f"{_who(subject)}{violation.fact}，违反了相关法律法规规定，依据{violation.basis}，"
        f"{dept.name}决定给予{measure}的行政处罚。"
    )
    fields = _party_fields(subject) | {
        "行政处罚决定书文号": doc,
        "违法行为类型": violation.kind,
        "违法事实": violation.fact,
        "处罚依据": violation.basis,
        "处罚类别": kinds,
        "处罚内容": measure,
        "罚款金额（万元）": fine,
        "没收违法所得、没收非法财物的金额（万元）": confiscated,
        "处罚决定日期": day.isoformat(),
        "处罚机关": dept.name,
        "处罚机关统一社会信用代码": dept.uscc,
        "数据来源单位": dept.name,
        "数据来源单位统一社会信用代码": dept.uscc,
    }
    return DemoRecord(
        subject.key, "行政处罚", dept.code, doc, day, violation.fact, content, severity, status, fields,
        reported_on=day + timedelta(days=rng.randint(1, 5)),
    )


def _item_record(
    docs: DocNumbers, subject: DemoSubject, item: cat.Item, dept: DepartmentInfo, day: date, status: str | None,
    rng: random.Random, court_doc: str | None = None,
) -> DemoRecord:
    category = item.category
    valid_until = None
    if item.valid_years:
        valid_until = date(day.year + item.valid_years, day.month, min(day.day, 28))
    if dept.role == "court":
        if category == "司法判决":
            # The city court (no parent) hears appeals; county courts hear first instance.
            doc = docs.court(dept, "民终" if dept.parent_code is None else "民初", day)
        elif category == "强制执行":
            doc = docs.court(dept, "执", day)
        else:
            doc = court_doc or docs.court(dept, "执", day)
    else:
        doc = docs.admin(dept, category, day)
    fields = _party_fields(subject) | {"决定机关": dept.name, "决定机关统一社会信用代码": dept.uscc, "决定日期": day.isoformat()}
    content = f"{_who(subject)}：{item.content}。"
    if status is None:
        status = "expired" if valid_until is not None and valid_until <= DEMO_AS_OF else "active"
    if category == "行政许可":
        licence_class = next((v for k, v in _LICENCE_CLASS.items() if k in item.title), "其他")
        fields |= {
            "行政许可决定文书名称": f"{item.title}准予许可决定书",
            "行政许可决定文书号": doc,
            "许可类别": licence_class,
            "许可证书名称": item.title,
            "许可编号": f"{dept.division_code}{day:%Y}{rng.randrange(10**6):06d}",
            "许可内容": item.content,
            "有效期自": day.isoformat(),
            "有效期至": valid_until.isoformat() if valid_until else "长期",
            "许可机关": dept.name,
            "许可机关统一社会信用代码": dept.uscc,
            "当前状态": "有效" if status == "active" else "已失效",
        }
    elif category == "资质资格":
        fields |= {"证书名称": item.title, "证书编号": f"{dept.division_code}{day:%y}{rng.randrange(10**6):06d}",
                   "有效期至": valid_until.isoformat() if valid_until else "长期"}
    elif category in ("司法判决", "强制执行"):
        amount = round(rng.lognormvariate(1.5, 1.0), 2)
        cause = item.title if category == "司法判决" else rng.choice(cat.CASE_CAUSES_FOR_ENFORCEMENT)
        fields |= {"案号": doc, "案由": cause, "标的金额（万元）": amount}
        content = f"{_who(subject)}：{item.content}，案由{cause}，标的金额{amount:g}万元。"
    elif category == "经营异常名录":
        fields |= {"列入经营异常名录原因": item.title, "列入日期": day.isoformat(), "作出决定机关": dept.name}
        if status == "repaired":
            out = min(DEMO_AS_OF - timedelta(days=1), day + timedelta(days=rng.randint(30, 400)))
            fields |= {"移出日期": out.isoformat(), "移出原因": "依法补报年度报告并申请移出"}
    elif category == "严重失信主体名单":
        fields |= {"名单名称": item.title, "列入原因": item.content, "列入日期": day.isoformat(), "认定机关": dept.name}
    return DemoRecord(
        subject.key, category, dept.code, doc, day, item.title, content, item.severity, status, fields,
        valid_until=valid_until, reported_on=day + timedelta(days=rng.randint(1, 25)),
    )


def _penalty_status(rng: random.Random, severity: str, day: date) -> str:
    old = (DEMO_AS_OF - day).days > 200
    if old and severity == "一般" and rng.random() < 0.18:
        return "repaired"
    if old and severity == "严重" and rng.random() < 0.05:
        return "repaired"
    return "active"


def _blacklist_package(ctx: _Ctx, docs: DocNumbers, subject: DemoSubject, rng: random.Random) -> list[DemoRecord]:
    """A listing and what led to it: enforcement before 失信被执行人, an abnormal-list entry years
    before 严重违法失信名单, a serious penalty before the other lists."""
    picked = _pick_option(ctx, "严重失信主体名单", subject, rng)
    lo = _earliest(subject)
    if picked is None:
        return []
    item, dept = picked
    first = _date_between(rng, lo, DEMO_AS_OF - timedelta(days=120))
    if first is None:
        return []
    out: list[DemoRecord] = []
    listed = first + timedelta(days=rng.randint(60, 110))
    status = "repaired" if (DEMO_AS_OF - listed).days > 400 and rng.random() < 0.1 else "active"
    court_doc = None
    if dept.role == "court":
        enforcement = next(i for i in cat.ITEMS if i.category == "强制执行")
        rec = _item_record(docs, subject, enforcement, dept, first, "active", rng)
        court_doc = rec.doc_number
        out.append(rec)
    elif dept.role == "market":
        abnormal = next(i for i in cat.ITEMS if i.category == "经营异常名录")
        start = _date_between(rng, max(lo, RECORDS_FROM), DEMO_AS_OF - timedelta(days=3 * 366 + 30))
        if start is None:
            return []
        out.append(_item_record(docs, subject, abnormal, dept, start, "active", rng))
        listed = date(start.year + 3, start.month, min(start.day, 28)) + timedelta(days=rng.randint(5, 25))
    else:
        violations = [v for v in cat.VIOLATIONS if v.role == dept.role and subject.group in v.groups] or [
            v for v in cat.VIOLATIONS if v.role == dept.role
        ]
        penalty_dept = dept if "行政处罚" in dept.categories else None
        if violations and penalty_dept is not None:
            out.append(_penalty(docs, subject, rng.choice(violations), penalty_dept, first, "严重", "active", rng))
    if listed >= DEMO_AS_OF:
        listed = DEMO_AS_OF - timedelta(days=1)
    out.append(_item_record(docs, subject, item, dept, listed, status, rng, court_doc=court_doc))
    return out


def _showcase_records(ctx: _Ctx, docs: DocNumbers, subject: DemoSubject) -> list[DemoRecord]:
    rng = random.Random(f"showcase-records:{subject.key}")
    out: list[DemoRecord] = []
    court_doc: str | None = None
    for spec in ctx.showcase_records.get(subject.key, ()):
        dept = ctx.region.department(spec["department"])
        category, day, pick = spec["category"], spec["date"], spec.get("pick")
        if category == "行政处罚":
            violation = next(v for v in cat.VIOLATIONS if v.fact == pick and v.role == dept.role)
            out.append(_penalty(docs, subject, violation, dept, day, spec.get("severity", "一般"), spec.get("status", "active"), rng))
        else:
            item = next(i for i in cat.ITEMS if i.category == category and i.title == pick and i.role == dept.role)
            rec = _item_record(docs, subject, item, dept, day, spec.get("status"), rng, court_doc=court_doc)
            if category == "强制执行":
                court_doc = rec.doc_number
            out.append(rec)
    return out


def records_for(
    subject: DemoSubject, seed: int, docs: DocNumbers, region: RegionData | None = None
) -> list[DemoRecord]:
    """The records of one subject. Which records, when and how grave depend only on (seed, subject);
    document numbers come from `docs`, shared by the whole archive."""
    ctx = _context(region or default_region())
    if subject.key < len(ctx.showcase) and ctx.showcase[subject.key] == subject:
        return _showcase_records(ctx, docs, subject)
    rng = _rng(seed, subject.key, salt=1)
    lo = _earliest(subject)
    out: list[DemoRecord] = []
    if rng.random() < BLACKLIST_RATE.get(subject.group, 0.0):
        out.extend(_blacklist_package(ctx, docs, subject, rng))
    for category, rate in RECORD_RATES.get(subject.group, {}).items():
        if len(out) >= MAX_RECORDS:
            break
        if rng.random() >= rate:
            continue
        picked = _pick_option(ctx, category, subject, rng)
        day = _date_between(rng, lo, DEMO_AS_OF - timedelta(days=1))
        if picked is None or day is None:
            continue
        option, dept = picked
        if category == "行政处罚":
            severity = SEVERITY_WEIGHTS[_weighted(rng, _SEVERITY_CUM)][0]
            out.append(_penalty(docs, subject, option, dept, day, severity, _penalty_status(rng, severity, day), rng))
        elif category == "经营异常名录":
            status = "repaired" if (DEMO_AS_OF - day).days > 60 and rng.random() < 0.4 else "active"
            out.append(_item_record(docs, subject, option, dept, day, status, rng))
        else:
            out.append(_item_record(docs, subject, option, dept, day, None, rng))
    return out


def iter_records(
    subjects: Iterable[DemoSubject], seed: int = DEFAULT_SEED, region: RegionData | None = None
) -> Iterator[DemoRecord]:
    """Records of a stream of subjects, in order. Draw one archive in one pass: document numbers are
    numbered across the pass."""
    docs = DocNumbers()
    for subject in subjects:
        yield from records_for(subject, seed, docs, region)
