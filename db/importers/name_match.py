"""Does a row's name fit the subject its code points at? (review finding: a row whose USCC or ID
number belongs to an existing subject with a clearly different name was filed on that subject).

The name fits when it is the archive's name or one of its aliases (曾用名, 简称) after canonical
folding (rules.canonical: full-width/half-width, brackets, spaces). Anything else is a row error
naming the archive's holder of the code; a natural person's name is masked (surname only), so the
error does not reveal who an ID number belongs to. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable

from rules.canonical import canonical_key
from rules.masking import mask_person_name

PERSON = "自然人"


def name_fits(name: str, archive_name: str, aliases: Iterable[str] = ()) -> bool:
    """True when `name` is `archive_name` or one of `aliases`, compared canonically."""
    wanted = canonical_key(name, limit=None)
    return any(wanted == canonical_key(known, limit=None) for known in (archive_name, *aliases))


def mismatch_reason(archive_kind: str, archive_name: str, by_id_number: bool) -> str:
    """The Chinese row error: whose code it is in the archive (a person's name masked)."""
    shown = mask_person_name(archive_name) if archive_kind == PERSON or by_id_number else archive_name
    code = "证件号码" if by_id_number else "统一社会信用代码"
    return f"名称与代码不符：档案中该代码属于“{shown}”，请核对名称或{code}（曾用名、简称请先通过主体名录登记）"


def mismatch_in_file_reason(code: str, first_row: int) -> str:
    """The Chinese row error for a code the file gives to two different names, both new to the archive."""
    return (
        f"名称与代码不符：该{code}在第 {first_row} 行对应另一名称；同一{code}只能对应一个主体，"
        "请核对名称或代码（曾用名、简称请先通过主体名录登记）"
    )
