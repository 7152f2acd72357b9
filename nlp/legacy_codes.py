"""Find old identifiers anywhere in a message: 15-digit IDs, 组织机构代码, 工商注册号.

Runs before the intent parser, so an old code never becomes part of a name and is never echoed
back as one ("没有找到与“610902850317123”相符的主体" printed a person's ID number in clear).
A 15-digit number is both a possible old ID and a possible registration number: both readings are
kept and the use case decides by what the archive holds. The mention's `shown` text is what a
reply may print: masked for anything that could be a person's number.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rules.legacy_codes import is_old_ric, is_org_code, is_registration_number, ric_15_to_18
from rules.masking import mask_id

# Not preceded or followed by another letter or digit: a 15-digit run inside an 18-digit one is no code.
_FIFTEEN = re.compile(r"(?<![0-9A-Za-z])(\d{15})(?![0-9A-Za-z])")
_ORG = re.compile(r"(?<![0-9A-Za-z])([0-9A-Za-z]{8})[-－—–]?([0-9Xx])(?![0-9A-Za-z])")


@dataclass(frozen=True)
class LegacyCode:
    kind: str  # "ric15" (an old ID, `value` is its 18-digit form) / "reg" (工商注册号) / "org" (组织机构代码)
    value: str
    shown: str  # safe to print in a reply
    also_reg: bool = False  # a "ric15" that is also a valid 工商注册号 (`raw_digits` below)
    raw_digits: str = ""


def find_legacy_codes(text: str) -> tuple[list[LegacyCode], str]:
    """(old codes found, the text with them cut out)."""
    text = unicodedata.normalize("NFKC", text or "")
    found: list[LegacyCode] = []

    def fifteen(m: re.Match[str]) -> str:
        digits = m.group(1)
        if is_old_ric(digits):
            found.append(
                LegacyCode("ric15", ric_15_to_18(digits), mask_id(digits), is_registration_number(digits), digits)
            )
        elif is_registration_number(digits):
            # A company's number is public, but a mistyped ID number looks the same: masked too.
            found.append(LegacyCode("reg", digits, mask_id(digits), raw_digits=digits))
        else:
            # Neither: still never printed in clear, it may be someone's mistyped ID number.
            found.append(LegacyCode("unknown15", digits, mask_id(digits), raw_digits=digits))
        return " "

    text = _FIFTEEN.sub(fifteen, text)

    def org(m: re.Match[str]) -> str:
        code = (m.group(1) + m.group(2)).upper()
        if not is_org_code(code) or sum(c.isdigit() for c in code) < 4:
            return m.group(0)
        found.append(LegacyCode("org", code, f"{code[:8]}-{code[8]}"))
        return " "

    text = _ORG.sub(org, text)
    return found, text
