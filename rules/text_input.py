"""What a name and a free text may hold: the one rule every door applies (the port, file imports,
the chat), so nothing the platform stores can later be displayed as something else or break a
document built from it.

Three kinds of characters no person types into a name or a note, each handled for a reason:

- Controls (Unicode Cc except tab and line breaks; C1 included), surrogates left by a broken
  encoding, and the noncharacters U+FFFE/U+FFFF: invisible, refused by XML (an XLSX export with one
  fails), and NUL by PostgreSQL.
- Bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E/U+200F, U+061C): they reorder what is
  shown, so "U+202E司公限有" is displayed as another name than the one stored (the "Trojan Source" class
  of spoofing, CVE-2021-42574).
- Other format characters (Unicode Cf: zero-width space and joiners, word joiner, soft hyphen, BOM,
  tag characters): invisible, they make two identical-looking names different keys and hide an ID
  number from the mask.

A **name** (a subject's name, short or former name, a legal representative, a department, a document
number, an operator) is normalised where the result is what the sender saw — format characters
removed, tabs and line breaks folded into one space (none between two Chinese characters: a wrapped
cell), spaces at the ends trimmed — and refused where it
is not: a control, a bidirectional control, a surrogate or a noncharacter makes `TextRefused`, whose
reason names the character, so the door can name the cell. A **free text** (facts, basis, notes,
reasons) is cleaned: everything above removed, tabs and line breaks kept (line breaks as "\\n").

Everything else is kept as it is: rare CJK characters outside the BMP (𠮷 U+20BB7, 䶮 U+4DAE, 㙟
U+365F), characters newer than this Python's Unicode tables (they are "unassigned" to it, and kept),
ideographic variation selectors (Mn, not Cf), private-use characters (old systems encode rare
characters there). No NFKC here: it would fold compatibility ideographs into other characters.
Pure: no I/O.
"""

from __future__ import annotations

import re

# Character classes of the rule. Controls: C0 but tab and line breaks, DEL, C1. Bidirectional controls.
# Surrogates and the noncharacters U+FFFE/U+FFFF. Format characters: Unicode's Cf (as of Unicode
# 15.1, a superset of this Python's tables; tests/test_rules_text_input.py checks it) minus the bidi ones.
_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_BROKEN = "\ud800-\udfff\ufffe\uffff"
_FORMAT = ("\u00ad\u0600-\u0605\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200d\u2060-\u2064\u206a-\u206f"
           "\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
           "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f")
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_REFUSED_IN_NAMES = re.compile(f"[{_CONTROLS}{_BIDI}{_BROKEN}]")
_FORMAT_CHARACTERS = re.compile(f"[{_FORMAT}]")
_REMOVED_FROM_FREE_TEXT = re.compile(f"[{_CONTROLS}{_BIDI}{_BROKEN}{_FORMAT}]")
_BREAKS = re.compile(r"\r\n?")
_FOLD = re.compile(r" *[\t\n\r][\t\n\r ]*")  # a run of blanks with a tab or line break in it


class TextRefused(ValueError):
    """A name holds a character that would change what is shown; str() is one Chinese sentence."""


def refusal(text: str) -> str | None:
    """Why `text` cannot be taken as a name (a Chinese sentence naming the character), or None."""
    if text.isprintable():  # every character the rule acts on is unprintable to Python
        return None
    found = _REFUSED_IN_NAMES.search(text)
    if found is None:
        return None
    ch = found.group()
    if ch in BIDI_CONTROLS:
        return f"含有改变文字显示方向的控制字符（U+{ord(ch):04X}），会使显示的内容与实际不同"
    return f"含有不可见的控制字符（U+{ord(ch):04X}）"


def name_text(text: str) -> str:
    """A name as it is stored: format characters removed, tabs and line breaks folded into one
    space (none between two Chinese characters), ends trimmed. Raises TextRefused for a control,
    bidirectional control, surrogate or noncharacter (see the module's docstring)."""
    if text.isprintable():
        return text.strip()
    reason = refusal(text)
    if reason is not None:
        raise TextRefused(reason)
    text = _FORMAT_CHARACTERS.sub("", text)
    return _FOLD.sub(lambda m: _fold(m.string, m.start(), m.end()), text).strip()


def _fold(text: str, start: int, end: int) -> str:
    """A line broken inside a Chinese name (a wrapped spreadsheet cell) joins without a space."""
    before, after = text[start - 1:start], text[end:end + 1]
    return "" if before and after and not before.isascii() and not after.isascii() else " "


def free_text(text: str) -> str:
    """A free text as it is stored: every control (tab and line breaks kept, as "\\n"), bidirectional
    control, format character, surrogate and noncharacter removed."""
    if text.isprintable():
        return text
    return _REMOVED_FROM_FREE_TEXT.sub("", _BREAKS.sub("\n", text))


__all__ = ["BIDI_CONTROLS", "TextRefused", "free_text", "name_text", "refusal"]
