"""Desensitisation (脱敏) policy: what of a person may leave the platform, for every channel alike.

The forms follow DOMAIN.md: ID keeps the first 6 and last 4, phone 3+4, a person's name keeps the
surname, an address stops at the county or town. `scrub` removes ID and phone numbers from any free
text, and is what the log filter applies.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

from rules.text_input import free_text

# An 18-character ID as people type it: digits (ASCII or full-width: `\d` matches both), possibly
# split by a space or a dash anywhere ("610902 19850512 0035", "610902-198505120035").
_SEP = r"[\s\-－—‐]?"
_ID_RE = re.compile(rf"(?<![\dA-Za-z])\d(?:{_SEP}\d){{16}}{_SEP}[\dXxＸｘ](?![\dA-Za-z])")
_BIRTH_DATE = re.compile(r"(?:18|19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")
# First-generation 15-digit IDs (yymmdd birth date) still turn up in legacy department data.
_OLD_ID_RE = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))(\d{3})(?![0-9A-Za-z])")
# A +86/86 prefix and the usual 3-4-4 separators must not let a number slip through.
_PHONE_RE = re.compile(r"(?:(?<=86)|(?<!\d))([1１][3-9３-９]\d)[-\s－]?(\d{4})[-\s－]?(\d{4})(?!\d)")
# Each administrative level is a short run of name characters ending in its suffix. Digits and street
# words (路, 号, 村, 组, ...) cannot be part of a name, and 小区/社区/园区... are not districts: without these
# limits a lazy match ran on to the next 区/乡 and kept "江北路12号恒大小区".
_NAME = r"[^\dA-Za-z\s路街巷弄号栋幢楼室村组]"
_ADDRESS_CUT = re.compile(
    rf"^({_NAME}{{1,7}}?(?:省|自治区))?"
    rf"({_NAME}{{1,9}}?(?:市|自治州|地区|盟))?"
    rf"({_NAME}{{1,9}}?(?:(?<![小社园校景厂营])区|县|市|旗))?"
    rf"({_NAME}{{1,9}}?(?:镇|乡|街道))?"
)


def id_match_key(id_number: str, key: str) -> str:
    """Keyed hash of a normalised ID number: lets a typed number be matched, never read back."""
    return hmac.new(key.encode(), id_number.strip().upper().encode(), hashlib.sha256).hexdigest()


def mask_id(id_number: str) -> str:
    if len(id_number) < 10:
        return "*" * len(id_number)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def mask_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if len(digits) != 11:
        return "*" * len(phone)
    return digits[:3] + "****" + digits[-4:]


def mask_phones(text: str) -> str:
    """`text` with every mobile number masked 3+4 as `mask_phone` stores it (139****5678), also with
    a +86 prefix or 3-4-4 separators; nothing else changed. For echoes of what a user typed, where
    `scrub`'s cleaning of the whole text is not wanted."""
    return _PHONE_RE.sub(lambda m: m.group(1) + "****" + m.group(3), text)


def mask_person_name(name: str) -> str:
    if not name:
        return name
    compound = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙", "宇文", "司徒", "夏侯")
    keep = 2 if name[:2] in compound and len(name) > 2 else 1
    return name[:keep] + "*" * max(1, len(name) - keep)


def mask_address(address: str) -> str:
    """Down to county or town; whatever follows (village, street number, room) is cut."""
    m = _ADDRESS_CUT.match(address or "")
    kept = "".join(part for part in (m.groups() if m else ()) if part)
    return kept + "****" if kept and kept != address else (kept or "****")


# SQLAlchemy appends the statement and its parameters to a database error's text; neither may reach
# a log line (parameters carry what users typed).
_SQL_RE = re.compile(r"\[SQL: .*?\](?=\s*(?:\[parameters:|\(Background|$))", re.S)
_PARAMS_RE = re.compile(r"\[parameters: .*?\](?=\s*(?:\(Background|$))", re.S)


def _masked_id(found: re.Match[str]) -> str:
    """An ID number found in free text, masked (first 6, last 4, in ASCII). Split by separators, it
    is taken for one only with a birth date in its middle: a run of 18 spaced digits is rarer
    than a date range or a list of figures, which must stay readable."""
    typed = found.group(0)
    digits = re.sub(r"[^\dXx]", "", unicodedata.normalize("NFKC", typed)).upper()
    if digits != typed and _BIRTH_DATE.fullmatch(digits[6:14]) is None:
        return typed
    return digits[:6] + "********" + digits[-4:]


def _masked_dated_id(found: re.Match[str]) -> str:
    """An 18-character number masked only when its middle is a birth date (an ID number); a USCC or
    another code written in digits stays readable."""
    digits = re.sub(r"[^\dXx]", "", unicodedata.normalize("NFKC", found.group(0))).upper()
    if _BIRTH_DATE.fullmatch(digits[6:14]) is None:
        return found.group(0)
    return digits[:6] + "********" + digits[-4:]


def mask_identifiers(text: str) -> str:
    """`text` with the personal numbers in it masked: ID numbers (18 characters with a birth date in
    the middle, or the old 15 digits) first 6 and last 4, mobile numbers 3+4. Unlike `scrub`, an
    18-digit code without a birth date (a USCC written in digits) is left as written: this is for
    messages that quote a cell back to the collector who must find and fix it (import row errors)."""
    text = _ID_RE.sub(_masked_dated_id, text)
    text = _OLD_ID_RE.sub(lambda m: m.group(1) + "*****" + m.group(2)[-1] + m.group(3), text)
    return mask_phones(text)


def scrub(text: str) -> str:
    """Mask every ID and mobile number inside free text (log lines, error messages, and free text
    before it is stored: import fields, objection and repair reasons, check feedback notes), and drop
    the SQL statements and parameters database errors carry. Forms as DOMAIN.md and `mask_id` /
    `mask_phone`: ID first 6 and last 4 (18 or 15 digits, also typed with spaces, dashes or
    full-width digits), phone 3+4 (also full-width). Invisible and control characters go first
    (rules.text_input.free_text): a zero-width space inside a number would hide it from the mask."""
    text = _PARAMS_RE.sub("[parameters: 已略去]", _SQL_RE.sub("[SQL: 已略去]", free_text(text)))
    text = _ID_RE.sub(_masked_id, text)
    text = _OLD_ID_RE.sub(lambda m: m.group(1) + "*****" + m.group(2)[-1] + m.group(3), text)
    return mask_phones(text)
