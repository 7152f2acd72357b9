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
import unicodedata

BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_KEPT_CONTROLS = frozenset("\t\n\r")
_NONCHARACTERS = frozenset("\ufffe\uffff")
_BREAKS = re.compile(r"\r\n?")
_FOLD = re.compile(r" *[\t\n\r][\t\n\r ]*")  # a run of blanks with a tab or line break in it


class TextRefused(ValueError):
    """A name holds a character that would change what is shown; str() is one Chinese sentence."""


def _kind(ch: str) -> str | None:
    """"control", "bidi", "format" or None for a character a text may hold."""
    if ch < " " or "\x7f" <= ch <= "\x9f":
        return None if ch in _KEPT_CONTROLS else "control"
    if ch.isascii() or ch.isalnum():  # the common case, decided without a table look-up
        return None
    if ch in BIDI_CONTROLS:
        return "bidi"
    if ch in _NONCHARACTERS:
        return "control"
    category = unicodedata.category(ch)
    if category == "Cf":
        return "format"
    if category == "Cs":
        return "control"
    return None


def refusal(text: str) -> str | None:
    """Why `text` cannot be taken as a name (a Chinese sentence naming the character), or None."""
    if text.isprintable():  # every character the rule acts on is unprintable to Python
        return None
    for ch in text:
        kind = _kind(ch)
        if kind == "bidi":
            return f"含有改变文字显示方向的控制字符（U+{ord(ch):04X}），会使显示的内容与实际不同"
        if kind == "control":
            return f"含有不可见的控制字符（U+{ord(ch):04X}）"
    return None


def name_text(text: str) -> str:
    """A name as it is stored: format characters removed, tabs and line breaks folded into one
    space (none between two Chinese characters), ends trimmed. Raises TextRefused for a control, bidirectional control, surrogate or
    noncharacter (see the module's docstring)."""
    if text.isprintable():
        return text.strip()
    reason = refusal(text)
    if reason is not None:
        raise TextRefused(reason)
    text = "".join(ch for ch in text if _kind(ch) != "format")
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
    text = _BREAKS.sub("\n", text)
    return "".join(ch for ch in text if _kind(ch) is None)


__all__ = ["BIDI_CONTROLS", "TextRefused", "free_text", "name_text", "refusal"]
