"""Row validation: one file row in, one typed row (or Chinese errors naming row and column) out.

Everything a row needs is decided here, before any write: the subject's identity (USCC, or the keyed
hash of a person's ID number — the clear number never leaves this module), the record's source key,
category, severity, publication end and reporting deadline. The writer then only compares and stores,
which keeps the dry run and the real import on exactly the same rules.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from db.importers.cell_rules import lost_digits_reason, unevaluated_reason
from db.importers.cells import (
    ALIAS_SPLIT,
    DIVISION_CODE,
    LICENSE_KINDS,
    MAX_LEN,
    PERPETUAL_WORDS,
    SUBJECT_KINDS,
    check_uscc,
    infer_kind,
    normalize_kind,
    parse_amount,
    parse_date,
    special_field,
)
from db.importers.inert import looks_like_formula
from db.importers.limits import MAX_CELL_CHARS
from db.importers.reading import Cell, Unevaluated, cell_text
from db.importers.rows import Context, RecordRow, RowErrors, RowInvalid, SubjectRow
from db.importers.templates import HeaderMatch
from rules.canonical import canonical_key
from rules.categories import BLACKLIST, NEGATIVE, SEVERITIES, normalize_category
from rules.codes import clean_code, looks_like_ric, validate_ric
from rules.masking import id_match_key, mask_id, scrub
from rules.publication import edition_for, publication_end
from rules.severity import Graded, grade_penalty
from rules.text_input import TextRefused, free_text, name_text


class RowValidator:
    """Validates rows of one file against its matched template."""

    def __init__(self, match: HeaderMatch, ctx: Context) -> None:
        self.match = match
        self.ctx = ctx
        self.template = match.template
        self.positions = list(match.positions.items())
        self._due_cache: dict[tuple[str, dt.date], tuple[dt.date | None, int]] = {}
        self._pub_cache: dict[tuple[dt.date, str, bool], dt.date] = {}
        self._labels = {f: match.template_label(f) for f in (*STORED_FIELDS, "fine", "confiscation")}
        self._code_labels = frozenset(self._labels[f] for f in _CODE_FIELDS if f in self._labels)
        self._numeric: set[str] = set()

    # -- helpers -------------------------------------------------------------------------------------
    def col(self, fld: str) -> str:
        return self.match.column_name(fld)

    def values(self, cells: list[Cell]) -> dict[str, str]:
        """Used cells as text. Uses the cell's type: a formula without a result is refused, and the
        fields that came from number cells are remembered (codes typed into them lost digits)."""
        n = len(cells)
        out: dict[str, str] = {}
        numeric: set[str] = set()
        for f, i in self.positions:
            cell = cells[i] if i < n else None
            if isinstance(cell, Unevaluated):
                raise RowInvalid(self.col(f), unevaluated_reason(cell))
            if isinstance(cell, int | float) and not isinstance(cell, bool):
                numeric.add(f)
            text = cell_text(cell)
            if len(text) > MAX_CELL_CHARS:
                raise RowInvalid(self.col(f), f"单元格内容过长：{len(text)} 个字符（最多 {MAX_CELL_CHARS} 个）")
            # One rule at every door (rules/text_input.py): names normalised or refused, free text cleaned.
            if f in NAME_FIELDS:
                try:
                    text = name_text(text)
                except TextRefused as exc:
                    raise RowInvalid(self.col(f), str(exc)) from None
            else:
                text = free_text(text).strip()
            out[f] = text
        for i, header, f in self.match.duplicates:
            text = cell_text(cells[i] if i < n else None)
            if text and text != out.get(f, ""):
                main = self.col(f)
                raise RowInvalid(
                    header,
                    f"与“{main}”列是同一项（重复的列），但内容不同：请核对后删除其中一列" if out.get(f)
                    else f"与“{main}”列是同一项（重复的列），内容却填在这一列：请把内容移到“{main}”列并删除这一列",
                )
        self._numeric = numeric
        return out

    def _check_lost_digits(self, fld: str, text: str, what: str) -> None:
        reason = lost_digits_reason(text, fld in self._numeric, what)
        if reason:
            raise RowInvalid(self.col(fld), reason)

    def _date(self, v: dict[str, str], fld: str, required: bool = False, perpetual: bool = False) -> dt.date | None:
        text = v.get(fld, "")
        if not text:
            if required:
                raise RowInvalid(self.col(fld), "必填项为空")
            return None
        if perpetual and text in PERPETUAL_WORDS:
            return None
        try:
            return parse_date(text, self.ctx.xlsx)
        except ValueError as exc:
            raise RowInvalid(self.col(fld), str(exc)) from None

    def _text(self, v: dict[str, str], fld: str, required: bool = False, limit: str | None = None) -> str | None:
        text = v.get(fld, "")
        if not text:
            if required:
                raise RowInvalid(self.col(fld), "必填项为空")
            return None
        max_len = MAX_LEN.get(limit or fld)
        if max_len and len(text) > max_len:
            raise RowInvalid(self.col(fld), f"内容过长：{len(text)} 个字符（最多 {max_len} 个）")
        return text

    def _code(self, v: dict[str, str], fld: str) -> str | None:
        raw = v.get(fld, "")
        if not raw:
            return None
        self._check_lost_digits(fld, raw, "统一社会信用代码")
        check = check_uscc(raw)
        if not check.ok:
            if looks_like_ric(clean_code(raw)):
                raise RowInvalid(self.col(fld), self._id_in_code_column(raw))
            raise RowInvalid(self.col(fld), f"统一社会信用代码“{check.value}”有误：{check.error}")
        return check.value

    def _id_in_code_column(self, raw: str) -> str:
        """The reason for a resident ID number (18 digits with a birth date, rules.codes.looks_like_ric)
        typed into a code column. The national templates keep a person's number apart: 2021 edition
        证件类型 + 证件号码, 2016 edition 行政相对人代码_5 (DOMAIN.md); the number is never quoted."""
        where = self.col("id_number")
        kind = "（证件类型填“身份证”）" if "id_type" in self.template.columns.values() else ""
        also = "" if validate_ric(raw, today=self.ctx.today).ok else "；该号码的校验位也不正确，请一并核对"
        return f"填写的像是居民身份证号码，不是本列的代码：自然人的身份证号码应填在“{where}”列{kind}，本列留空{also}"

    def _due(self, category: str, decision: dt.date) -> tuple[dt.date | None, int]:
        """Deadline and lateness, cached: a file holds few distinct decision dates and the working-day
        count walks the calendar day by day."""
        key = (category, decision)
        hit = self._due_cache.get(key)
        if hit is None:
            cal = self.ctx.calendar
            try:
                due = cal.due_date(category, decision).due
                late = max(0, cal.working_days_between(due, self.ctx.today))
            except (ValueError, NotImplementedError):
                due, late = None, 0
            hit = self._due_cache[key] = (due, late)
        return hit

    def _pub_end(self, decision: dt.date, severity: str, special: bool) -> dt.date:
        key = (decision, severity, special)
        hit = self._pub_cache.get(key)
        if hit is None:
            hit = self._pub_cache[key] = publication_end(decision, severity, special=special)
        return hit

    # -- subjects ------------------------------------------------------------------------------------
    def subject(self, row: int, v: dict[str, str]) -> SubjectRow:
        name = self._text(v, "name", required=True)
        assert name is not None
        if looks_like_formula(name):
            raise RowInvalid(self.col("name"), "名称以 =、+、-、@ 开头，像是表格公式，不能作为主体名称，请核对该单元格")
        legal_rep = self._text(v, "legal_rep")
        if legal_rep and looks_like_formula(legal_rep):
            raise RowInvalid(self.col("legal_rep"), "姓名以 =、+、-、@ 开头，像是表格公式，请核对该单元格")
        kind_text = v.get("kind", "")
        kind: str | None = None
        if kind_text:
            kind = normalize_kind(kind_text)
            if kind is None:
                raise RowInvalid(self.col("kind"), f"主体类别“{kind_text}”无法识别（应为 {'、'.join(SUBJECT_KINDS)} 之一）")
        uscc = self._code(v, "uscc")
        id_raw = v.get("id_number", "")
        if not kind:  # blank, or 法人及非法人组织
            if uscc:
                kind = infer_kind(uscc, name)
            elif id_raw and kind != "":
                kind = "自然人"
            else:
                col = self.col("uscc") if "uscc" in self.match.positions else self.col("id_number")
                raise RowInvalid(col, "缺少统一社会信用代码（自然人须填写证件号码）")
        if kind == "自然人":
            # The legacy code columns are stored as written: a person's ID number must not land there.
            for fld in _SUBJECT_CODE_FIELDS:
                if looks_like_ric(clean_code(v.get(fld, ""))):
                    raise RowInvalid(self.col(fld), self._id_in_code_column(v[fld]))
        id_hash = id_masked = None
        if kind == "自然人" or (kind == "个体工商户" and not uscc):
            if not id_raw:
                what = "自然人" if kind == "自然人" else "无统一社会信用代码的个体工商户"
                raise RowInvalid(self.col("id_number"), f"{what}须填写证件号码")
            id_hash, id_masked = self._id(v, id_raw)
            if kind == "自然人":
                uscc = None
            key = "id:" + id_hash
        else:
            if not uscc:
                raise RowInvalid(self.col("uscc"), f"{kind}须填写统一社会信用代码")
            key = "uscc:" + uscc
        return SubjectRow(
            row=row,
            key=key,
            kind=kind,
            name=name,
            uscc=uscc,
            id_hash=id_hash,
            id_masked=id_masked,
            legal_rep=legal_rep,
            division_code=uscc[2:8] if uscc else None,
        )

    def _id(self, v: dict[str, str], raw: str) -> tuple[str, str]:
        """Keyed hash and masked form; the clear number is dropped here and never echoed in errors."""
        self._check_lost_digits("id_number", raw, "证件号码")
        id_type = v.get("id_type", "")
        if not id_type or ("身份证" in id_type and "外国人" not in id_type) or id_type in ("1", "01", "001"):
            check = validate_ric(raw, today=self.ctx.today)
            if not check.ok:
                raise RowInvalid(self.col("id_number"), f"身份证号码有误：{check.error}")
            number = check.value
        else:
            number = clean_code(raw)
            if len(number) < 5 or len(number) > 30:
                raise RowInvalid(self.col("id_number"), f"{id_type}号码长度不正确")
        return id_match_key(number, self.ctx.id_key), mask_id(number)

    def subject_row(self, row: int, cells: list[Cell]) -> SubjectRow:
        """A row of the 主体名录 template: the subject plus the columns only that template carries."""
        v = self.values(cells)
        s = self.subject(row, v)
        division = v.get("division", "")
        if division:
            if not DIVISION_CODE.match(division):
                raise RowInvalid(self.col("division"), f"所属区划代码“{division}”应为 6 位或 12 位数字")
            s.division_code = division[:6] if division.endswith("000000") and len(division) == 12 else division
        else:
            s.division_code = None
        s.address = self._text(v, "address")
        s.established = self._date(v, "established")
        if s.established and s.established > self.ctx.today:
            raise RowInvalid(self.col("established"), f"成立日期 {s.established} 晚于今天")
        s.status = self._text(v, "reg_status", limit="status")
        aliases: list[tuple[str, str]] = []
        for fld, kind in (("former_names", "曾用名"), ("short_name", "简称")):
            for alias in ALIAS_SPLIT.split(v.get(fld, "")):
                alias = alias.strip()
                if not alias or alias == s.name or (alias, kind) in aliases:
                    continue
                if len(alias) > MAX_LEN["name"]:
                    raise RowInvalid(self.col(fld), f"名称过长：{len(alias)} 个字符（最多 200 个）")
                if looks_like_formula(alias):
                    raise RowInvalid(self.col(fld), f"{kind}以 =、+、-、@ 开头，像是表格公式，请核对该单元格")
                aliases.append((alias, kind))
        s.aliases = tuple(aliases)
        s.persons = self._persons(v, s)
        return s

    def _persons(self, v: dict[str, str], s: SubjectRow) -> tuple[tuple[str, str, str, str], ...]:
        """The 法定代表人 / 主要负责人 given with an ID number, as (role, name, keyed hash, masked):
        the clear number is dropped here. A person is stored only with a number (a name alone
        cannot tell two 张伟 apart)."""
        out = []
        for role, name_field, id_field, label in (
            ("legal_rep", "legal_rep", "legal_rep_id", "法定代表人"), ("principal", "principal", "principal_id", "主要负责人"),
        ):
            raw = v.get(id_field, "")
            if not raw:
                continue
            if s.kind == "自然人":
                raise RowInvalid(self.col(id_field), f"自然人没有{label}，请删除该{label}证件号码")
            name = self._text(v, name_field)
            if not name:
                raise RowInvalid(self.col(name_field), f"填写了{label}证件号码，但缺少{label}姓名")
            self._check_lost_digits(id_field, raw, f"{label}证件号码")
            check = validate_ric(raw, today=self.ctx.today)
            if not check.ok:
                raise RowInvalid(self.col(id_field), f"{label}身份证号码有误：{check.error}")
            out.append((role, name, id_match_key(check.value, self.ctx.id_key), mask_id(check.value)))
        return tuple(out)

    # -- records -------------------------------------------------------------------------------------
    def record_row(self, row: int, cells: list[Cell]) -> RecordRow:
        """Every independent check runs; RowInvalid carries all the row's errors (RowInvalid.errors)."""
        v = self.values(cells)
        t = self.template
        errs = RowErrors()
        subject: SubjectRow | None = None
        with errs.check():
            subject = self.subject(row, v)
        category = t.category or ""
        if t.kind == "generic":
            with errs.check():
                text = v.get("category", "")
                if not text:
                    raise RowInvalid(self.col("category"), "必填项为空")
                found = normalize_category(text)
                if found is None:
                    raise RowInvalid(self.col("category"), f"未知的信息类别“{text}”")
                category = found
        doc_number: str | None = None
        with errs.check():
            doc_number = self._text(v, "doc_number", required=True)
        decision: dt.date | None = None
        with errs.check():
            decision = self._date(v, "decision_date", required=True)
            assert decision is not None
            if decision > self.ctx.today:
                raise RowInvalid(self.col("decision_date"), f"决定日期 {decision} 晚于今天（{self.ctx.today}）")
        valid_from = valid_until = pub_end = None
        with errs.check():
            valid_from = self._date(v, "valid_from")
        with errs.check():
            valid_until = self._date(v, "valid_until", perpetual=True)
            if valid_until and decision and valid_until < decision:
                raise RowInvalid(self.col("valid_until"), f"有效期截止日 {valid_until} 早于决定日期 {decision}")
            if valid_from and valid_until and valid_until < valid_from:
                raise RowInvalid(self.col("valid_until"), f"有效期至 {valid_until} 早于有效期自 {valid_from}")
        with errs.check():
            pub_end = self._date(v, "pub_end")
            if pub_end and decision and pub_end < decision:
                raise RowInvalid(self.col("pub_end"), f"公示截止期 {pub_end} 早于决定日期 {decision}")

        # Source: the reporting unit's USCC from the file, else the department's, else a name.
        source_uscc = authority_uscc = None
        with errs.check():
            source_uscc = self._code(v, "source_unit_uscc")
        with errs.check():
            authority_uscc = self._code(v, "authority_uscc")
        unit_uscc = source_uscc or authority_uscc
        unit_name = v.get("source_unit") or v.get("authority") or ""
        dept = self.ctx.dept
        owner = self.ctx.ownership
        if owner is not None:
            has_unit = bool(v.get("source_unit"))
            with errs.check():
                owner.check_code(self.col("source_unit_uscc"), source_uscc)
            with errs.check():
                owner.check_code(self.col("authority_uscc"), authority_uscc)
            with errs.check():
                owner.check_name(self.col("source_unit"), v.get("source_unit"), must_be_own=True)
            with errs.check():
                owner.check_name(self.col("authority"), v.get("authority"), must_be_own=not has_unit)
        source_key = canonical_key(unit_uscc or (dept.uscc if dept else None) or unit_name or (dept.name if dept else ""))
        source_name = unit_name or (dept.name if dept else "") or source_key
        with errs.check():
            if not source_key:
                col = self.col("source_unit") if "source_unit" in self.match.positions else self.col("authority")
                raise RowInvalid(col, "缺少数据来源单位（或决定机关），且导入时未指定部门")
            if len(source_key) > 128 or len(source_name) > 128:
                raise RowInvalid(self.col("source_unit"), "数据来源单位名称过长（最多 128 个字符）")

        fields: dict[str, Any] = {}
        for fld in ("fine", "confiscation"):
            if v.get(fld):
                with errs.check():
                    try:
                        fields[self._labels[fld]] = parse_amount(v[fld])
                    except ValueError as exc:
                        raise RowInvalid(self.col(fld), str(exc)) from None

        severity_text = v.get("severity", "")
        severity: str | None = None
        if severity_text:
            severity = next((s for s in SEVERITIES if severity_text.startswith(s)), None)
            with errs.check():
                if severity is None:
                    raise RowInvalid(self.col("severity"), f"未知的严重程度“{severity_text}”（应为 轻微、一般、严重 之一）")

        if t.kind == "license":
            license_kind = v.get("license_kind", "")
            with errs.check():
                if license_kind and t.edition == "2021" and license_kind not in LICENSE_KINDS:
                    raise RowInvalid(self.col("license_kind"), f"许可类别“{license_kind}”无法识别（应为 {'、'.join(LICENSE_KINDS)} 之一）")
        errs.raise_any()
        assert subject is not None and doc_number is not None and decision is not None

        kinds = "；".join(x for x in (v.get("penalty_kinds", ""), v.get("penalty_kind2", "")) if x)
        graded: Graded | None = None
        if t.kind == "penalty":
            title = v.get("title") or v.get("violation_type") or kinds or "行政处罚决定"
            content = v.get("penalty_content") or None
            if severity is None:
                fine = fields.get("罚款金额（万元）")
                procedure = "".join(v.get(f, "") for f in ("penalty_content", "remark"))
                graded = grade_penalty(kinds or content or "", fine, self.ctx.severity_rules, procedure)
        elif t.kind == "license":
            title = v.get("title") or v.get("doc_name") or v.get("cert_name") or "行政许可决定"
            content = v.get("license_content") or None
        else:
            title = v.get("title") or category
            content = v.get("content") or None
            if severity is None and category == "行政处罚":
                graded = grade_penalty(content or "", None, self.ctx.severity_rules, v.get("remark", ""))
            elif severity is None and category == BLACKLIST:
                graded = Graded("严重", "列入严重失信主体名单，按定级规则为严重")
        if graded is not None:
            severity = graded.severity
            fields["严重程度依据"] = graded.basis
        elif severity is not None:
            fields["严重程度依据"] = "报送单位填写"

        rule_edition = None
        if category in NEGATIVE:
            rule_edition = edition_for(decision)
            if pub_end is None and severity is not None:
                special_text = "".join(
                    v.get(f, "") for f in ("violation_type", "facts", "basis", "title", "content", "penalty_content")
                )
                pub_end = self._pub_end(decision, severity, special_field(special_text + source_name))
        due, late = self._due(category, decision)

        labels = self._labels
        for fld, value in v.items():
            if value and fld in STORED_FIELDS:
                fields[labels[fld]] = value
        if kinds:
            fields["处罚类别"] = kinds
            fields.pop("处罚类别2", None)
        if t.edition:
            fields["模板版本"] = t.edition

        # Privacy at rest: ID and mobile numbers inside free text (违法事实, 备注, ...) are stored masked.
        fields = {k: _masked(x) if isinstance(x, str) and k not in self._code_labels else x for k, x in fields.items()}
        title, content = _masked(title) if title else title, _masked(content) if content else content

        return RecordRow(
            row=row,
            subject=subject,
            category=category,
            source_key=source_key,
            source_name=source_name,
            doc_number=doc_number,
            title=title[:255] if title else None,
            content=content,
            decision_date=decision,
            valid_until=valid_until,
            severity=severity,
            rule_edition=rule_edition,
            publication_end=pub_end,
            due=due,
            late_working_days=late,
            fields=fields,
            doc_key=canonical_key(doc_number),
        )


# Any ID or mobile number has a run of 3 digits; most free text has none, and one search is much
# cheaper than scrub's three substitutions (the importer's speed is measured in bench/importer.py).
_DIGITS = re.compile(r"\d{3}")


def _masked(text: str) -> str:
    """`text` with ID and mobile numbers masked (rules.masking.scrub), for storage."""
    return scrub(text) if _DIGITS.search(text) else text


# Code columns (registration, organisation, tax, unit codes, licence numbers) are identifiers, not free
# text: kept as written, never passed through `scrub` (a 15-digit registration number can look like an
# old ID number).
# The legacy subject codes (行政相对人代码_2.._6): an organisation's, never a person's number.
_SUBJECT_CODE_FIELDS = ("code_reg", "code_org", "code_tax", "code_inst", "code_soc")

# Cells read as names (rules/text_input.name_text): what identifies a subject, a person, a department
# or a decision. Every other cell is free text (rules/text_input.free_text).
NAME_FIELDS = frozenset({"name", "legal_rep", "former_names", "short_name", "authority", "source_unit", "doc_number"})

_CODE_FIELDS = (
    "code_reg", "code_org", "code_tax", "code_inst", "code_soc", "authority_uscc", "source_unit_uscc",
    "license_no", "local_code", "updated_ts", "valid_from",
)

# Columns kept in the record's `fields` (by their national name). Identity columns live in real
# columns; the person's ID number is never kept anywhere.
STORED_FIELDS = frozenset(
    {
        "code_reg", "code_org", "code_tax", "code_inst", "code_soc", "id_type", "legal_rep",
        "doc_name", "violation_type", "facts", "basis", "penalty_kind2", "license_revoked",
        "valid_from", "authority", "authority_uscc", "source_unit", "source_unit_uscc", "remark",
        "license_kind", "cert_name", "license_no", "status", "local_code", "updated_ts",
    }
)
