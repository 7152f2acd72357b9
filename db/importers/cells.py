"""Reading one cell's text as the field it stands for: dates (ISO, 年月日, compact, Excel serials),
amounts, subject kinds, USCCs; the vocabularies of the national templates (subject kinds, licence
kinds, words for "no end date")."""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from functools import lru_cache

from rules.codes import CodeCheck, validate_uscc
from rules.publication import is_special_field

SUBJECT_KINDS = ("自然人", "法人", "非法人组织", "个体工商户")
_KIND_ALIASES = {
    "个人": "自然人",
    "公民": "自然人",
    "企业": "法人",
    "企业法人": "法人",
    "法人组织": "法人",
    "机关法人": "法人",
    "事业单位法人": "法人",
    "社会团体法人": "法人",
    "其他组织": "非法人组织",
    "个体户": "个体工商户",
    "个体": "个体工商户",
}
# The 2021 national template has one value for both: split them by the name, since the code cannot.
_LEGAL_OR_NOT = ("法人及非法人组织", "法人和非法人组织", "法人或非法人组织", "法人及其他组织")
_NON_LEGAL_NAME = re.compile(r"(分公司|分店|分厂|分行|支行|办事处|合伙|个人独资|营业部|分部|分社)")
LICENSE_KINDS = ("普通", "特许", "认可", "核准", "登记", "其他")
PERPETUAL_WORDS = {"长期", "永久", "长期有效", "永久有效", "无期限", "无固定期限", "不限期"}
_DATE_RE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:\d{6})?$")
DIVISION_CODE = re.compile(r"^\d{6}(?:\d{6})?$")
ALIAS_SPLIT = re.compile(r"[；;]")
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")

MAX_LEN = {"name": 200, "doc_number": 128, "legal_rep": 64, "address": 255, "source_name": 128, "status": 16}


def parse_date(text: str, xlsx: bool = False) -> dt.date:
    """ISO, slashes, dots, 年月日, compact 8 digits, with or without a time; Excel serials from XLSX."""
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            return _plausible(dt.date.fromisoformat(text), text)
        except ValueError as exc:
            if "日期" in str(exc):
                raise
    m = _DATE_RE.match(text) or _COMPACT_DATE.match(text)
    if m is None:
        if xlsx and _SERIAL.match(text) and 20000 <= float(text) < 80000:
            # A number cell: the whole part counts days, the fraction is the time (46086.5 is noon).
            return _EXCEL_EPOCH + dt.timedelta(days=int(float(text)))
        raise ValueError(f"日期格式无法识别：“{text}”（应为 YYYY-MM-DD）")
    try:
        value = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise ValueError(f"日期不存在：“{text}”") from None
    return _plausible(value, text)


def _plausible(value: dt.date, text: str) -> dt.date:
    if value.year < 1900:
        raise ValueError(f"日期不合理：“{text}”")
    return value


# A decimal number as typed or exported: digits with an optional fraction and exponent. Words that
# float() also takes (inf, Infinity, NaN) are not amounts.
_AMOUNT = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


def parse_amount(text: str) -> float:
    """An amount in 万元: a finite, non-negative decimal. Full-width digits and thousands separators
    are accepted (NFKC); `inf`, `NaN` and numbers too large for a float (`1e400`) are refused, since a
    record stored with them is not valid JSON and grades wrongly. Raises ValueError (Chinese)."""
    cleaned = unicodedata.normalize("NFKC", text)
    for part in (",", "万元", "万", " "):
        cleaned = cleaned.replace(part, "")
    if not _AMOUNT.match(cleaned):
        raise ValueError(f"应为数字（单位：万元），实际为“{text}”")
    value = float(cleaned)
    if not math.isfinite(value):
        raise ValueError(f"金额“{text}”超出可表示的范围，应为有限的数字（单位：万元）")
    if value < 0:
        raise ValueError(f"金额不能为负数：“{text}”")
    return value


@lru_cache(maxsize=8192)
def check_uscc(raw: str) -> CodeCheck:
    return validate_uscc(raw)


@lru_cache(maxsize=4096)
def special_field(text: str) -> bool:
    """Violation texts repeat heavily within a file (the same few violation types)."""
    return is_special_field(text)


def normalize_kind(text: str) -> str | None:
    """Canonical 主体类别, "" for the combined 2021 value (decided from the code and name), None if unknown."""
    value = text.replace(" ", "").replace("　", "")
    if value in SUBJECT_KINDS:
        return value
    if value in _LEGAL_OR_NOT:
        return ""
    return _KIND_ALIASES.get(value)


def infer_kind(uscc: str | None, name: str) -> str:
    if uscc and uscc.startswith("92"):
        return "个体工商户"
    return "非法人组织" if _NON_LEGAL_NAME.search(name) else "法人"
