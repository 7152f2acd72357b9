"""Identifiers officials still hold from before the 统一社会信用代码 (2015) and the 18-digit ID (1999).

* 15-digit resident ID (GB 11643-1989): 6-digit area, birth date as YYMMDD (all 19xx), 3-digit
  sequence, no check character. It becomes the 18-digit number by inserting "19" and appending the
  GB 11643-1999 check character.
* 组织机构代码 (GB 11714-1997): 8 characters and a check character (weights 3 7 9 10 5 8 4 2, mod 11,
  10 → X, 11 → 0), usually written XXXXXXXX-X. It is characters 9-17 of the USCC (GB 32100-2015).
* 工商注册号 (GS 15-2006): 15 digits, the last an ISO 7064 MOD 11,10 check digit.
"""

from __future__ import annotations

import datetime as dt

from rules.codes import complete_ric

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def old_ric_birth_date(code15: str) -> dt.date | None:
    if len(code15) != 15 or not code15.isdigit():
        return None
    try:
        return dt.date(1900 + int(code15[6:8]), int(code15[8:10]), int(code15[10:12]))
    except ValueError:
        return None


def is_old_ric(code15: str) -> bool:
    """15 digits with a real birth date: the shape of a first-generation ID number."""
    return old_ric_birth_date(code15) is not None


def ric_15_to_18(code15: str) -> str:
    """610902850317123 → 61090219850317123 + check character. Raises ValueError if not an old ID."""
    if not is_old_ric(code15):
        raise ValueError("not a 15-digit resident ID")
    return complete_ric(code15[:6] + "19" + code15[6:])


def org_check_char(body8: str) -> str:
    total = sum(_ORG_ALPHABET.index(c) * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True))
    r = 11 - total % 11
    return "X" if r == 10 else "0" if r == 11 else str(r)


def is_org_code(code9: str) -> bool:
    """Nine characters (dash removed) whose last one is the GB 11714 check character."""
    code9 = code9.upper()
    if len(code9) != 9 or not all(c in _ORG_ALPHABET for c in code9[:8]):
        return False
    return org_check_char(code9[:8]) == code9[8]


def is_registration_number(code15: str) -> bool:
    """15 digits with a valid ISO 7064 MOD 11,10 check digit (the 工商注册号 of GS 15-2006)."""
    if len(code15) != 15 or not code15.isdigit():
        return False
    p = 10
    for ch in code15[:14]:
        s = (p + int(ch)) % 10 or 10
        p = (s * 2) % 11
    return (11 - p) % 10 == int(code15[14])
