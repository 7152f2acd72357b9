"""Column maps of the exchange templates, both editions, and how a file's header picks one.

Every template column maps to an internal field name, so validation and writing see one shape
whatever the file's edition. Headers are compared after normalisation (full-width → half-width,
spaces, `*` required-markers, underscores and brackets removed) and, failing that, with the bracketed
part dropped, so "罚款金额(万元)", "罚款金额（万元）", "罚款金额" and "行政相对人代码_1（统一社会信用代码）"
all land on their column. The legacy code columns _2.._6 mean different codes in the two editions,
which is why the edition is decided first and the numbered columns are mapped per edition.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

# Internal field → the national (2021) column name: used in error messages, docs and stored `fields`.
LABELS: dict[str, str] = {
    "name": "行政相对人名称",
    "kind": "行政相对人类别",
    "uscc": "统一社会信用代码",
    "code_reg": "工商注册号",
    "code_org": "组织机构代码",
    "code_tax": "税务登记号",
    "code_inst": "事业单位证书号",
    "code_soc": "社会组织登记证号",
    "legal_rep": "法定代表人",
    "id_type": "证件类型",
    "id_number": "证件号码",
    "doc_number": "决定文书号",
    "doc_name": "行政许可决定文书名称",
    "violation_type": "违法行为类型",
    "facts": "违法事实",
    "basis": "处罚依据",
    "penalty_kinds": "处罚类别",
    "penalty_kind2": "处罚类别2",
    "penalty_content": "处罚内容",
    "fine": "罚款金额（万元）",
    "confiscation": "没收违法所得、没收非法财物的金额（万元）",
    "license_revoked": "暂扣或吊销证照名称及编号",
    "decision_date": "决定日期",
    "valid_from": "有效期自",
    "valid_until": "有效期至",
    "pub_end": "公示截止期",
    "authority": "决定机关",
    "authority_uscc": "决定机关统一社会信用代码",
    "source_unit": "数据来源单位",
    "source_unit_uscc": "数据来源单位统一社会信用代码",
    "remark": "备注",
    "severity": "严重程度",
    "title": "事项名称",
    "content": "内容",
    "license_kind": "许可类别",
    "cert_name": "许可证书名称",
    "license_no": "许可编号",
    "license_content": "许可内容",
    "status": "当前状态",
    "local_code": "地方编码",
    "updated_ts": "数据更新时间戳",
    "category": "信息类别",
    "division": "所属区划代码",
    "address": "注册地址",
    "established": "成立日期",
    "reg_status": "登记状态",
    "former_names": "曾用名",
    "short_name": "简称",
    "legal_rep_id": "法定代表人证件号码",
    "principal": "主要负责人",
    "principal_id": "主要负责人证件号码",
}

_SUBJECT_2021 = {
    "行政相对人名称": "name",
    "行政相对人类别": "kind",
    "行政相对人代码_1": "uscc",
    "行政相对人代码_2": "code_reg",
    "行政相对人代码_3": "code_org",
    "行政相对人代码_4": "code_tax",
    "行政相对人代码_5": "code_inst",
    "行政相对人代码_6": "code_soc",
    "法定代表人": "legal_rep",
    "证件类型": "id_type",
    "证件号码": "id_number",
}
_SUBJECT_2016 = {
    "行政相对人名称": "name",
    "行政相对人代码_1": "uscc",
    "行政相对人代码_2": "code_org",
    "行政相对人代码_3": "code_reg",
    "行政相对人代码_4": "code_tax",
    "行政相对人代码_5": "id_number",
    "法定代表人姓名": "legal_rep",
}
_SOURCE = {
    "数据来源单位": "source_unit",
    "数据来源单位统一社会信用代码": "source_unit_uscc",
    "备注": "remark",
}

# Aliases accepted in every template that has the field (documented in docs/import.md). Numbered
# legacy code columns are deliberately absent: their meaning depends on the edition.
ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("主体名称", "行政相对人名称", "相对人名称", "企业名称", "单位名称", "名称", "当事人名称", "当事人"),
    "kind": ("主体类别", "行政相对人类别", "相对人类别", "主体类型", "当事人类别"),
    "uscc": ("统一社会信用代码", "社会信用代码", "信用代码", "行政相对人代码_1统一社会信用代码"),
    "legal_rep": ("法定代表人", "法定代表人姓名", "法人代表", "负责人", "经营者", "法定代表人负责人"),
    "id_type": ("证件类型", "证件种类"),
    "id_number": ("证件号码", "身份证号", "身份证号码", "居民身份证号", "居民身份证号码"),
    "doc_number": ("文书号", "决定文书号", "决定书文号", "文号", "行政处罚决定书文号", "行政许可决定文书号", "行政许可决定书文号"),
    "decision_date": ("决定日期", "作出决定日期", "处罚决定日期", "许可决定日期"),
    "valid_until": ("有效期至", "截止日期", "有效期截止", "处罚有效期", "许可截止期"),
    "pub_end": ("公示截止期", "公示截止日期", "公示期限至"),
    "source_unit": ("数据来源单位", "来源单位", "报送单位"),
    "source_unit_uscc": ("数据来源单位统一社会信用代码", "来源单位统一社会信用代码", "报送单位统一社会信用代码"),
    "remark": ("备注", "说明"),
    "severity": ("严重程度", "失信程度", "违法程度"),
    "category": ("信息类别", "类别", "信息类型", "数据类别"),
    "title": ("事项名称", "项目名称"),
    "content": ("内容", "事项内容", "决定内容"),
    "division": ("所属区划代码", "区划代码", "行政区划代码", "所属区划"),
    "address": ("注册地址", "住所", "地址", "经营场所", "住所地"),
    "established": ("成立日期", "注册日期", "登记日期"),
    "reg_status": ("登记状态", "经营状态", "状态"),
    "former_names": ("曾用名", "历史名称"),
    "short_name": ("简称", "字号"),
    "fine": ("罚款金额", "罚款金额万元"),
    "legal_rep_id": ("法定代表人身份证号", "法定代表人身份证号码", "法定代表人证件号", "法人代表身份证号"),
    "principal": ("主要负责人姓名",),
    "principal_id": ("主要负责人身份证号", "主要负责人身份证号码", "主要负责人证件号"),
}


@dataclass(frozen=True)
class Template:
    """One template edition: its exact columns (header → field), required fields, and sheet names."""

    kind: str  # subjects | penalty | license | generic
    edition: str | None  # "2021" national | "2016" legacy (penalty/license only)
    title: str
    columns: dict[str, str]
    required: tuple[str, ...]
    required_any: tuple[tuple[str, ...], ...] = ()
    sheet_names: tuple[str, ...] = ()
    category: str | None = None
    _index: dict[str, tuple[str, int]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        index: dict[str, tuple[str, int]] = {}
        fields = set(self.columns.values())
        for fld, names in ALIASES.items():
            if fld in fields:
                for alias in names:
                    for key in header_keys(alias):
                        index.setdefault(key, (fld, 1))
        for name, fld in self.columns.items():
            for key in header_keys(name):
                index[key] = (fld, 2)
        object.__setattr__(self, "_index", index)

    @property
    def label(self) -> str:
        return self.title

    def lookup(self, header: str) -> tuple[str, int] | None:
        """(field, weight): 2 for the template's own column name, 1 for an accepted alias."""
        for key in header_keys(header):
            hit = self._index.get(key)
            if hit:
                return hit
        return None


_STRIP = re.compile(r"[\s*＊_\-—:：'\"“”]+")
_BRACKETS = re.compile(r"[()\[\]【】〔〕<>《》{}]")
_BRACKETED = re.compile(r"[(\[【〔<《{][^)\]】〕>》}]*[)\]】〕>》}]")


def header_keys(header: str) -> tuple[str, ...]:
    """Lookup keys of a header: with the bracket content kept, then with it dropped."""
    text = _STRIP.sub("", unicodedata.normalize("NFKC", str(header)).replace("\ufeff", ""))
    full = _BRACKETS.sub("", text)
    short = _BRACKETS.sub("", _BRACKETED.sub("", text))
    return (full,) if short == full or not short else (full, short)


PENALTY_2021 = Template(
    kind="penalty",
    edition="2021",
    title="行政处罚（国家标准 2021 版）",
    category="行政处罚",
    columns={
        **_SUBJECT_2021,
        "行政处罚决定书文号": "doc_number",
        "违法行为类型": "violation_type",
        "违法事实": "facts",
        "处罚依据": "basis",
        "处罚类别": "penalty_kinds",
        "处罚内容": "penalty_content",
        "罚款金额（万元）": "fine",
        "没收违法所得、没收非法财物的金额（万元）": "confiscation",
        "暂扣或吊销证照名称及编号": "license_revoked",
        "处罚决定日期": "decision_date",
        "处罚有效期": "valid_until",
        "公示截止期": "pub_end",
        "处罚机关": "authority",
        "处罚机关统一社会信用代码": "authority_uscc",
        **_SOURCE,
        "严重程度": "severity",
    },
    required=("name", "doc_number", "decision_date"),
    sheet_names=("行政处罚",),
)

PENALTY_2016 = Template(
    kind="penalty",
    edition="2016",
    title="行政处罚（旧版 2016 版）",
    category="行政处罚",
    columns={
        "行政处罚决定书文号": "doc_number",
        "处罚名称": "title",
        "处罚类别1": "penalty_kinds",
        "处罚类别2": "penalty_kind2",
        "处罚事由": "facts",
        "处罚依据": "basis",
        **_SUBJECT_2016,
        "处罚结果": "penalty_content",
        "处罚决定日期": "decision_date",
        "处罚机关": "authority",
        "当前状态": "status",
        "地方编码": "local_code",
        "数据更新时间戳": "updated_ts",
        "备注": "remark",
        "严重程度": "severity",
        "公示截止期": "pub_end",
    },
    required=("name", "doc_number", "decision_date"),
    sheet_names=("行政处罚",),
)

LICENSE_2021 = Template(
    kind="license",
    edition="2021",
    title="行政许可（国家标准 2021 版）",
    category="行政许可",
    columns={
        **_SUBJECT_2021,
        "行政许可决定文书名称": "doc_name",
        "行政许可决定文书号": "doc_number",
        "许可类别": "license_kind",
        "许可证书名称": "cert_name",
        "许可编号": "license_no",
        "许可内容": "license_content",
        "许可决定日期": "decision_date",
        "有效期自": "valid_from",
        "有效期至": "valid_until",
        "许可机关": "authority",
        "许可机关统一社会信用代码": "authority_uscc",
        "当前状态": "status",
        **_SOURCE,
        "公示截止期": "pub_end",
    },
    required=("name", "doc_number", "decision_date"),
    sheet_names=("行政许可",),
)

LICENSE_2016 = Template(
    kind="license",
    edition="2016",
    title="行政许可（旧版 2016 版）",
    category="行政许可",
    columns={
        "行政许可决定书文号": "doc_number",
        "项目名称": "title",
        "审批类别": "license_kind",
        "许可内容": "license_content",
        **_SUBJECT_2016,
        "许可决定日期": "decision_date",
        "许可截止期": "valid_until",
        "许可机关": "authority",
        "当前状态": "status",
        "地方编码": "local_code",
        "数据更新时间戳": "updated_ts",
        "备注": "remark",
    },
    required=("name", "doc_number", "decision_date"),
    sheet_names=("行政许可",),
)

SUBJECTS = Template(
    kind="subjects",
    edition=None,
    title="主体名录",
    columns={
        "主体名称": "name",
        "主体类别": "kind",
        "统一社会信用代码": "uscc",
        "证件类型": "id_type",
        "证件号码": "id_number",
        "法定代表人": "legal_rep",
        "所属区划代码": "division",
        "注册地址": "address",
        "成立日期": "established",
        "登记状态": "reg_status",
        "曾用名": "former_names",
        "简称": "short_name",
        # The persons behind an organisation (services/persons.py): kept as natural-person subjects,
        # their ID numbers as keyed hash and masked form only.
        "法定代表人证件号码": "legal_rep_id",
        "主要负责人": "principal",
        "主要负责人证件号码": "principal_id",
    },
    required=("name",),
    required_any=(("uscc", "id_number"),),
    sheet_names=("主体名录", "主体"),
)

GENERIC = Template(
    kind="generic",
    edition=None,
    title="其他信用信息（通用模板）",
    columns={
        "信息类别": "category",
        "主体名称": "name",
        "主体类别": "kind",
        "统一社会信用代码": "uscc",
        "证件号码": "id_number",
        "文书号": "doc_number",
        "决定日期": "decision_date",
        "事项名称": "title",
        "内容": "content",
        "严重程度": "severity",
        "有效期至": "valid_until",
        "公示截止期": "pub_end",
        "数据来源单位": "source_unit",
        "数据来源单位统一社会信用代码": "source_unit_uscc",
        "备注": "remark",
        "证件类型": "id_type",
    },
    required=("category", "name", "doc_number", "decision_date"),
    sheet_names=("通用", "其他", "信用信息"),
)

TEMPLATES: tuple[Template, ...] = (PENALTY_2021, PENALTY_2016, LICENSE_2021, LICENSE_2016, SUBJECTS, GENERIC)
KINDS = ("subjects", "penalty", "license", "generic")
KIND_LABELS = {"subjects": "主体名录", "penalty": "行政处罚", "license": "行政许可", "generic": "其他信用信息"}
EDITION_LABELS = {"2021": "国家标准 2021 版", "2016": "旧版 2016 版"}


@dataclass
class HeaderMatch:
    """A template applied to a header row: which column index feeds which field."""

    template: Template
    header_row: int
    positions: dict[str, int]  # field → column index (first occurrence wins)
    headers: dict[str, str]  # field → the header text as written in the file (for error messages)
    ignored: list[str]
    score: int
    # Columns whose header names a field an earlier column already has ("罚款金额(万元)" beside
    # "罚款金额（万元）"): (column index, header as written, field).
    duplicates: list[tuple[int, str, str]] = field(default_factory=list)

    def missing(self) -> list[str]:
        """Required fields without a column (an either/or requirement reports its first member)."""
        out = [f for f in self.template.required if f not in self.positions]
        for group in self.template.required_any:
            if not any(f in self.positions for f in group):
                out.append(group[0])
        return out

    def column_name(self, fld: str) -> str:
        return self.headers.get(fld) or column_label(self.template, fld)

    def template_label(self, fld: str) -> str:
        """National name under which a field is stored in a record's `fields`."""
        return _STORED_LABELS.get(self.template.kind, {}).get(fld) or LABELS.get(fld, fld)


_STORED_LABELS = {
    "penalty": {"authority": "处罚机关", "authority_uscc": "处罚机关统一社会信用代码"},
    "license": {"authority": "许可机关", "authority_uscc": "许可机关统一社会信用代码"},
}


def column_label(template: Template, fld: str) -> str:
    """The template's own name for a field (the file's wording is preferred when there is one)."""
    for name, f in template.columns.items():
        if f == fld:
            return name
    return LABELS.get(fld, fld)


def match_header(template: Template, cells: Sequence[object], header_row: int) -> HeaderMatch:
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    ignored: list[str] = []
    duplicates: list[tuple[int, str, str]] = []
    score = 0
    for i, cell in enumerate(cells):
        text = "" if cell is None else str(cell).strip()
        if not text:
            continue
        hit = template.lookup(text)
        if hit is None:
            ignored.append(text)
            continue
        if hit[0] in positions:
            duplicates.append((i, text.replace("\ufeff", ""), hit[0]))
            continue
        positions[hit[0]] = i
        headers[hit[0]] = text.replace("\ufeff", "")
        score += hit[1]
    return HeaderMatch(template, header_row, positions, headers, ignored, score, duplicates)


def detect(
    rows: Sequence[tuple[int, Sequence[object]]], kind: str | None = None
) -> HeaderMatch | None:
    """Best template over the first rows (a title line often sits above the header).

    The highest score wins, exact column names counting double, which is what separates the
    editions; completeness only breaks ties. (Completeness first would let a penalty file that lacks
    one column pass as a 主体名录, whose few required columns it happens to contain.)"""
    best: HeaderMatch | None = None
    best_key: tuple[int, bool] = (0, False)
    for row_no, cells in rows:
        for template in TEMPLATES:
            if kind and template.kind != kind:
                continue
            m = match_header(template, cells, row_no)
            key = (m.score, not m.missing())
            if key > best_key:
                best, best_key = m, key
    if best is None or best.score < 4:
        return None
    return best


def sheet_names_for(kind: str | None) -> tuple[str, ...]:
    names: list[str] = []
    for t in TEMPLATES:
        if kind is None or t.kind == kind:
            names.extend(n for n in t.sheet_names if n not in names)
    return tuple(names)
