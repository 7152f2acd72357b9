"""The demo's codes: USCCs with valid check characters and ID numbers, drawn without collisions
from a keyed permutation of each code space, so a subject's code follows from its key alone."""

from __future__ import annotations

import random
from datetime import date, timedelta

from db.demo import names as pools
from rules.codes import USCC_ALPHABET, complete_ric, complete_uscc

BIRTH_FROM = date(1950, 1, 1)
BIRTH_TO = date(2005, 12, 31)

_M64 = (1 << 64) - 1
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_NEW_CODE_DOMAIN = 31**5  # "M" + letter + "7" + five characters: 28.6 million subjects
_LEGACY_DOMAIN = 9 * 10**7  # eight digits, first one 1-9
_PERSON_DAYS = (BIRTH_TO - BIRTH_FROM).days + 1
_PERSON_DOMAIN = _PERSON_DAYS * 900  # sequence 000-899; 900-999 is kept for showcase persons
MAX_SUBJECTS = _NEW_CODE_DOMAIN


# --------------------------------------------------------------------------------------------- codes


def _mix(z: int) -> int:
    """splitmix64 finaliser: a fast, well-spread integer hash (stable across Python versions)."""
    z = (z + 0x9E3779B97F4A7C15) & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def permute(x: int, domain: int, key: int) -> int:
    """A keyed bijection of range(domain): four Feistel rounds on the next even bit width, with
    cycle-walking back into the domain. Distinct inputs give distinct outputs, always."""
    if not 0 <= x < domain:
        raise ValueError(f"{x} 超出置换范围 {domain}")
    bits = max(2, (domain - 1).bit_length())
    bits += bits % 2
    half = bits // 2
    mask = (1 << half) - 1
    while True:
        left, right = x >> half, x & mask
        for rnd in range(4):
            left, right = right, left ^ (_mix(right ^ _mix(key * 4 + rnd)) & mask)
        x = (left << half) | right
        if x < domain:
            return x


def org_check_char(body: str) -> str:
    """GB 11714 check character of an 8-character organisation code body."""
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    r = 11 - total % 11
    return "X" if r == 10 else "0" if r == 11 else str(r)


def _base31(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        value, r = divmod(value, 31)
        chars.append(USCC_ALPHABET[r])
    return "".join(reversed(chars))


def _org_code(key: int, seed: int, letter: str, legacy: bool, reserved: frozenset[str] = frozenset()) -> str:
    """Positions 9-17 of a generated USCC; unique per key (and never in the showcase range, nor one
    of the `reserved` old codes the showcase uses: `legacy_org_code` keeps those outside the keys, so
    stepping the permutation once more lands on a value no key reaches)."""
    if legacy:
        x = permute(key, _LEGACY_DOMAIN, seed ^ 0x1E6AC1)
        if str(10**7 + x) + org_check_char(str(10**7 + x)) in reserved:
            x = permute(x, _LEGACY_DOMAIN, seed ^ 0x1E6AC1)
        body = str(10**7 + x)
    else:
        body = "M" + letter + "7" + _base31(permute(key, _NEW_CODE_DOMAIN, seed ^ 0x5EC7), 5)
    return body + org_check_char(body)


def _showcase_org_code(index: int, letter: str) -> str:
    body = "M" + letter + "6" + _base31(37 * index + 1000, 5)
    return body + org_check_char(body)


def legacy_org_code(text: str) -> str:
    """A showcase subject's old organisation code (`71093627-6`) as USCC positions 9-17. Raises
    ValueError for a wrong check character, or a code some generated subject's key could reach."""
    body, _, check = text.partition("-")
    if not (len(body) == 8 and body.isdigit() and body[0] != "0" and check == org_check_char(body)):
        raise ValueError(f"组织机构代码 {text} 无效（8 位数字加校验位）")
    if int(body) - 10**7 < MAX_SUBJECTS:
        raise ValueError(f"组织机构代码 {text} 落在随机主体可能使用的号段内，请选用 {10**7 + MAX_SUBJECTS} 以上的代码")
    return body + check


_ORG_LETTER = {"9": "A", "N": "F", "5": "J", "Y": "G", "1": "B"}


def make_uscc(type_code: str, division_code: str, org_code: str) -> str:
    return complete_uscc(type_code + division_code + org_code)


def _person_id(key: int, seed: int, area: str) -> tuple[str, date, str]:
    """(ID number, birth date, sex) for a generated person: date and sequence from the permutation."""
    x = permute(key, _PERSON_DOMAIN, seed ^ 0x1D0C)
    days, seq = divmod(x, 900)
    birth = BIRTH_FROM + timedelta(days=days)
    number = complete_ric(f"{area}{birth:%Y%m%d}{seq:03d}")
    return number, birth, "男" if seq % 2 else "女"


_MOBILE_PREFIXES = pools._split("130 131 132 133 135 136 137 138 139 150 151 152 153 155 156 158 159 173 177 180 182 185 186 187 188 189 199")

def _mobile(rng: random.Random) -> str:
    return rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
