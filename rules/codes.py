"""Unified social credit codes (GB 32100-2015) and resident ID numbers (GB 11643).

python-stdnum is wrong for this region in two ways (see DOMAIN.md): `cn.uscc` refuses valid codes
whose first eight characters are not all digits (N... rural collectives, Y... others), and `cn.ric`
refuses real people's numbers when the area code was renamed after their birth. So the USCC check is
our own, and for ID numbers stdnum's area table is consulted only to add a warning.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_VALUES = {c: i for i, c in enumerate(USCC_ALPHABET)}
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RIC_CHECK = "10X98765432"

REGISTRATION_AUTHORITIES = {
    "1": "机构编制",
    "2": "外交",
    "3": "司法行政",
    "4": "文化",
    "5": "民政",
    "6": "旅游",
    "7": "宗教",
    "8": "工会",
    "9": "市场监管",
    "A": "中央军委改革和编制办公室",
    "N": "农业农村",
    "Y": "其他",
}

# Characters people type for the ones they mean; applied only where a code is expected.
LOOKALIKES = str.maketrans({"O": "0", "I": "1"})
_SEPARATORS = re.compile(r"[\s\-_—–·.．、]+")


def clean_code(raw: str) -> str:
    """Full-width to half-width, separators removed, upper case."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw)).upper()


def repair_lookalikes(code: str) -> str:
    """O→0 and I→1: the two letters people type for digits; neither occurs in a USCC."""
    return code.translate(LOOKALIKES)


@dataclass(frozen=True)
class CodeCheck:
    """Outcome of checking a code: the cleaned value, one Chinese error, or warnings."""

    value: str
    error: str | None = None
    warnings: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.error is None


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_VALUES[c] * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def complete_uscc(first17: str) -> str:
    """Append the check character (used by the demo generator and tests)."""
    return first17 + uscc_check_char(first17)


def validate_uscc(raw: str, repair: bool = False) -> CodeCheck:
    code = clean_code(raw)
    if repair:
        code = repair_lookalikes(code)
    if len(code) != 18:
        return CodeCheck(code, f"统一社会信用代码应为 18 位，您输入的是 {len(code)} 位")
    for pos, ch in enumerate(code, start=1):
        if ch not in USCC_VALUES:
            hint = "（代码中不使用 I、O、Z、S、V）" if ch in "IOZSV" else ""
            return CodeCheck(code, f"第 {pos} 位“{ch}”不是统一社会信用代码允许的字符{hint}")
    if code[0] not in REGISTRATION_AUTHORITIES:
        return CodeCheck(code, f"第 1 位“{code[0]}”不是有效的登记管理部门代码")
    if not (code[2:8].isascii() and code[2:8].isdigit()):
        return CodeCheck(code, "第 3-8 位应为 6 位数字的行政区划代码")
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        return CodeCheck(code, f"校验位不正确：第 18 位应为“{expected}”，您输入的是“{code[17]}”")
    return CodeCheck(code)


def ric_check_char(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, RIC_WEIGHTS, strict=True))
    return RIC_CHECK[total % 11]


def complete_ric(first17: str) -> str:
    return first17 + ric_check_char(first17)


def ric_birth_date(code: str) -> dt.date | None:
    try:
        return dt.date(int(code[6:10]), int(code[10:12]), int(code[12:14]))
    except ValueError:
        return None


def _area_warning(code: str, birth: dt.date) -> str | None:
    """stdnum knows which area codes existed when; a mismatch is only worth a warning."""
    from stdnum.cn import ric as stdnum_ric
    from stdnum.exceptions import ValidationError

    try:
        stdnum_ric.validate(code)
    except ValidationError:
        return f"行政区划代码 {code[:6]} 在出生年份 {birth.year} 的区划表中未找到（可能已更名或撤并），请核对"
    return None


def validate_ric(raw: str, today: dt.date | None = None) -> CodeCheck:
    code = clean_code(raw)
    if len(code) != 18:
        return CodeCheck(code, f"居民身份证号码应为 18 位，您输入的是 {len(code)} 位")
    if not (code[:17].isascii() and code[:17].isdigit()):
        return CodeCheck(code, "居民身份证号码前 17 位应全部是数字")
    if code[17] not in "0123456789X":
        return CodeCheck(code, "居民身份证号码最后一位应为数字或 X")
    birth = ric_birth_date(code)
    today = today or dt.date.today()
    if birth is None or birth > today or birth.year < 1900:
        return CodeCheck(code, f"出生日期 {code[6:14]} 不是有效日期")
    expected = ric_check_char(code[:17])
    if code[17] != expected:
        return CodeCheck(code, f"校验位不正确：最后一位应为“{expected}”，您输入的是“{code[17]}”")
    warning = _area_warning(code, birth)
    return CodeCheck(code, warnings=(warning,) if warning else ())


def looks_like_ric(code: str) -> bool:
    return len(code) == 18 and code[:17].isascii() and code[:17].isdigit() and ric_birth_date(code) is not None
