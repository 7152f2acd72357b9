"""Cutting text to what a platform accepts: split long replies, clip echoed input.

Platforms measure differently (Telegram: 4,096 characters of text, 1,024 of caption, counted here in
UTF-16 code units as Telegram counts entity offsets; WeCom: bytes of UTF-8), so every function takes
the measure as an argument. Splits fall on line breaks where possible, so a list never breaks
mid-line unless one line alone is too long.
"""

from __future__ import annotations

from collections.abc import Callable

Measure = Callable[[str], int]
ELLIPSIS = "…"


def utf16_units(text: str) -> int:
    """Length as Telegram counts it (a character outside the BMP, e.g. an emoji, counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def _hard_cut(text: str, limit: int, measure: Measure) -> tuple[str, str]:
    """The longest prefix within `limit`, and the rest (binary search: measures are monotone)."""
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if measure(text[:mid]) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo], text[lo:]


def split_message(text: str, limit: int, measure: Measure = utf16_units) -> list[str]:
    """`text` as consecutive parts each within `limit`; line breaks are preferred cut points.

    Raises ValueError for a limit below 1. An empty text gives one empty part."""
    if limit < 1:
        raise ValueError("limit must be positive")
    if measure(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if measure(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        while measure(line) > limit:
            head, line = _hard_cut(line, limit, measure)
            parts.append(head)
        current = line
    if current or not parts:
        parts.append(current)
    return parts


def clip(text: str, limit: int, measure: Measure = len) -> str:
    """`text` cut to `limit` with an ellipsis when it is longer: for echoing what a user typed."""
    if measure(text) <= limit:
        return text
    head, _ = _hard_cut(text, max(limit - measure(ELLIPSIS), 0), measure)
    return head + ELLIPSIS
