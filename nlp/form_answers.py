"""A declarant's typed answers read into the stored form of a field (自主申报).

Reading the user's words — dates in any common form, amounts with 元 or 万元, the words 跳过 /
返回 / 我承诺 — is text understanding; the fields, their kinds and limits are the rules in
rules/declarations.py.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation

from nlp.dates import DateError, parse_date
from rules.declarations import (
    MAX_AMOUNT_WAN,
    MAX_TEXT,
    SKIP_WORD,
    Category,
    DeclarationError,
    Field,
    field_of,
)


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch == " ")
    return re.sub(r"\s+", " ", text).strip()


def is_word(text: str, word: str) -> bool:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "")) == word


_AMOUNT = re.compile(r"^([0-9]+(?:\.[0-9]+)?)\s*(万元|万|元)?$")


def validate(cat: Category, f: Field, text: str, today: date, values: dict[str, str] | None = None) -> str | None:
    """The stored form of a typed answer, None for a skipped optional field; DeclarationError otherwise.

    Dates are stored ISO; amounts in 万元 with at most four decimals (one yuan)."""
    raw = _clean(text)
    if is_word(raw, SKIP_WORD):
        if f.required:
            raise DeclarationError(f"“{f.label}”为必填项，不能跳过。")
        return None
    if not raw:
        raise DeclarationError(f"请输入{f.label}。")
    if f.kind == "date":
        try:
            day = parse_date(raw, today)
        except DateError as exc:
            raise DeclarationError(str(exc)) from None
        if not f.future_ok and day > today:
            raise DeclarationError(f"{f.label}不能晚于今天（{today:%Y-%m-%d}）。")
        if day.year < 1949:
            raise DeclarationError(f"{f.label}“{day:%Y-%m-%d}”过早，请核对。")
        earlier = (values or {}).get(f.not_before or "")
        if earlier and day < date.fromisoformat(earlier):
            raise DeclarationError(f"{f.label}不能早于{field_of(cat, f.not_before or '').label}（{earlier}）。")
        return day.isoformat()
    if f.kind == "amount":
        m = _AMOUNT.match(raw.replace(",", "").replace("，", ""))
        if not m:
            raise DeclarationError(f"“{raw}”不是有效金额，请输入数字（单位：万元），例如 12.5")
        try:
            value = Decimal(m[1])
        except InvalidOperation:
            raise DeclarationError(f"“{raw}”不是有效金额") from None
        if m[2] == "元":
            value = value / Decimal(10000)
        if value <= 0 or value > MAX_AMOUNT_WAN:
            raise DeclarationError("金额应大于 0 且不超过 1 万亿元，请核对。")
        return format(value.quantize(Decimal("0.0001")).normalize(), "f")
    if len(raw) > (64 if f.kind == "number" else MAX_TEXT):
        raise DeclarationError(f"{f.label}过长，请精简后重新输入。")
    if f.kind == "number" and not re.search(r"[0-9A-Za-z]", raw):
        raise DeclarationError(f"“{raw}”不像{f.label}，请核对后输入（应含数字或字母）。")
    return raw
