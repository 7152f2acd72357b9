"""Desensitisation (脱敏) policy: what of a person may leave the platform, for every channel alike.

The forms follow DOMAIN.md: ID keeps the first 6 and last 4, phone 3+4, a person's name keeps the
surname, an address stops at the county or town. `scrub` removes ID and phone numbers from any free
text, and is what the log filter applies.
"""

from __future__ import annotations

import hashlib
import hmac
import re

_ID_RE = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])")
_PHONE_RE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_ADDRESS_CUT = re.compile(r"^(.*?(?:省|自治区))?(.*?(?:市|自治州|地区|盟))?(.*?(?:区|县|市|旗))?(.*?(?:镇|乡|街道))?")


def id_match_key(id_number: str, key: str) -> str:
    """Keyed hash of a normalised ID number: lets a typed number be matched, never read back."""
    return hmac.new(key.encode(), id_number.strip().upper().encode(), hashlib.sha256).hexdigest()


def mask_id(id_number: str) -> str:
    if len(id_number) < 10:
        return "*" * len(id_number)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def mask_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    if len(digits) != 11:
        return "*" * len(phone)
    return digits[:3] + "****" + digits[-4:]


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


def scrub(text: str) -> str:
    """Mask every ID and mobile number inside free text (log lines, error messages)."""
    text = _ID_RE.sub(lambda m: m.group(1) + "********" + m.group(3)[-4:], text)
    return _PHONE_RE.sub(lambda m: m.group(1) + "****" + m.group(3), text)
