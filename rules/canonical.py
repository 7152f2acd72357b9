"""One canonical form for every text used as a key or for a duplicate check: document numbers
(文书号), codes, and the names of departments used as a record's source.

Why: the same 文书号 reaches us as 安市监罚〔2025〕12号, 安市监罚[2025]12号, 安市监罚（2025）12号,
安市监罚【2025】12号, in full-width letters and digits or with stray spaces, depending on which system
exported it and who typed it. Compared as written, a re-export with other brackets doubled every penalty
on the card. The canonical form folds exactly those differences and nothing else:

- Unicode NFKC (full-width ASCII → ASCII, ideographic space → space, ［］（） → []());
- every bracket pair used around a year or a number → 〔〕 (GB/T 9704-2012 writes the year of a
  发文字号 in 六角括号 〔〕);
- all whitespace and zero-width characters removed; Latin letters upper-cased.

The original text is kept for display; only comparisons use this form. Pure: no I/O.
"""

from __future__ import annotations

import re
import unicodedata

OPEN, CLOSE = "〔", "〕"
# After NFKC: （ → (, ［ → [, ｛ → {, ﹝ → 〔 already; the CJK brackets NFKC keeps are listed too.
_BRACKETS = str.maketrans(
    {
        "(": OPEN, "[": OPEN, "{": OPEN, "【": OPEN, "〖": OPEN, "〘": OPEN, "〚": OPEN, "⦅": OPEN, "〈": OPEN,
        ")": CLOSE, "]": CLOSE, "}": CLOSE, "】": CLOSE, "〗": CLOSE, "〙": CLOSE, "〛": CLOSE, "⦆": CLOSE, "〉": CLOSE,
    }
)
_INVISIBLE = re.compile(r"[\s\u200b-\u200f\u2060\ufeff]+")


def canonical_key(text: str, limit: int | None = 128) -> str:
    """The comparison form of `text` (shape: str, at most `limit` characters).

    >>> canonical_key("安市监罚［2025］ 12号") == canonical_key("安市监罚〔２０２５〕12号")
    True
    """
    folded = unicodedata.normalize("NFKC", text).translate(_BRACKETS)
    folded = _INVISIBLE.sub("", folded).upper()
    return folded[:limit] if limit else folded


__all__ = ["canonical_key"]
