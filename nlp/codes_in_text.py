"""Find USCCs and resident ID numbers anywhere in a message.

People paste codes with spaces or dashes in the middle ("9161 0921 MA70…"), in full-width digits,
in lower case, and with O for 0 and I for 1. We look for runs of letters and digits (allowing those
separators between groups), glue them, and classify what is 17-19 characters long. A code whose
check character fails is still reported (valid=False with the Chinese reason) so the caller can look
for the subject whose code differs by one character or explain the error; it is never silently
dropped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rules.codes import looks_like_ric, repair_lookalikes, validate_ric, validate_uscc


@dataclass(frozen=True)
class CodeMention:
    raw: str
    value: str
    valid: bool
    error: str | None


# Alphanumeric groups, optionally joined by single separators; the whole run is one candidate.
_RUN = re.compile(r"[0-9A-Za-z]+(?:[ \t\-_—–·.][0-9A-Za-z]+)*")
_SEP = re.compile(r"[ \t\-_—–·.]")


def _classify(raw: str, glued: str) -> tuple[str, CodeMention]:
    """'uscc' or 'ric' and the mention; resident IDs are 17 digits + digit/X with a real birth date."""
    upper = glued.upper()
    ric_form = repair_lookalikes(upper)
    if len(ric_form) == 18 and ric_form[:17].isascii() and ric_form[:17].isdigit() and ric_form[17] in "0123456789X" and looks_like_ric(ric_form):
        check = validate_ric(ric_form)
        if check.ok:
            return "ric", CodeMention(raw, check.value, True, None)
        # An all-digit 18-character string might still be a USCC (12… 机构编制 codes can be digits only).
        uscc = validate_uscc(ric_form, repair=True)
        if uscc.ok:
            return "uscc", CodeMention(raw, uscc.value, True, None)
        return "ric", CodeMention(raw, check.value, False, check.error)
    check = validate_uscc(upper, repair=True)
    return "uscc", CodeMention(raw, check.value, check.ok, check.error)


def _looks_code_like(glued: str) -> bool:
    """At least 15 characters, mostly digits: a phone number or an English word is not a code."""
    digits = sum(ch.isdigit() for ch in repair_lookalikes(glued.upper()))
    return 17 <= len(glued) <= 19 and digits >= 8


def find_codes(text: str) -> tuple[list[CodeMention], list[CodeMention], str]:
    """(USCC mentions, ID mentions, the text with every code cut out).

    The rest is what the name extraction sees, so a code never becomes part of a name.
    """
    text = unicodedata.normalize("NFKC", text or "")
    uscc: list[CodeMention] = []
    ids: list[CodeMention] = []
    pieces: list[str] = []
    last = 0
    for m in _RUN.finditer(text):
        raw = m.group(0)
        groups = _SEP.split(raw)
        found = _split_codes(groups)
        if not found:
            continue
        for glued, raw_part in found:
            kind, mention = _classify(raw_part, glued)
            (ids if kind == "ric" else uscc).append(mention)
        pieces.append(text[last : m.start()])
        pieces.append(" ")
        last = m.end()
    pieces.append(text[last:])
    return uscc, ids, "".join(pieces)


def _split_codes(groups: list[str]) -> list[tuple[str, str]]:
    """Glue separator-split groups into 18-character codes; two codes in one run are both found.

    Greedy from the left: extend until 18 characters; if no exact fit, the whole run is one
    (mistyped) code when it is 17-19 long.
    """
    glued_all = "".join(groups)
    if _looks_code_like(glued_all):
        return [(glued_all, " ".join(groups))]
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(groups):
        acc = ""
        for j in range(i, len(groups)):
            acc += groups[j]
            if len(acc) >= 18:
                break
        if len(acc) == 18 and _looks_code_like(acc):
            out.append((acc, " ".join(groups[i : j + 1])))
            i = j + 1
        elif 17 <= len(groups[i]) <= 19 and _looks_code_like(groups[i]):
            out.append((groups[i], groups[i]))
            i += 1
        else:
            i += 1
    return out
