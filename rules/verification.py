"""Verification codes of issued documents (信用报告, 事前告知书): pure rules, no I/O.

Every document the platform issues carries its number and a random verification code; anyone
holding the document can ask the platform whether it is genuine. The code is what proves the
holder saw the document (numbers are sequential and guessable), so only its digest is stored.

Shapes: a code is 12 characters from a 27-character alphabet without look-alikes (no 0/O, 1/I/L,
5/S, 2/Z): 27^12 ≈ 1.5e17, about 57 bits, shown in groups of four (`K7QH-3MXA-94RT`). People type
it with spaces, dashes, lowercase or full-width characters; `normalize_code` accepts all of those.
Document numbers look like `安信报〔2026〕000001号`; users type the brackets as [] () 【】 （）.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from urllib.parse import urlencode

ALPHABET = "346789ABCDEFGHJKMNPQRTUVWXY"
CODE_LENGTH = 12
GROUP = 4
# Path of the public check on the platform's site (the HTTP API serves it; query: number, code).
VERIFY_PATH = "/verify"
CHECK_COMMAND = "/checkreport"

_BRACKETS = str.maketrans({"[": "〔", "]": "〕", "(": "〔", ")": "〕", "【": "〔", "】": "〕", "（": "〔", "）": "〕"})
_SEPARATORS = re.compile(r"[\s\-_·.。—–]+")


def new_code() -> str:
    """A fresh code from the operating system's CSPRNG, without separators."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def display_code(code: str) -> str:
    """`K7QH3MXA94RT` → `K7QH-3MXA-94RT`."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def normalize_code(typed: str) -> str | None:
    """The code as stored, from what a person typed; None when it cannot be a code at all (wrong
    length or a character outside the alphabet)."""
    text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", typed)).upper()
    if len(text) != CODE_LENGTH or any(ch not in ALPHABET for ch in text):
        return None
    return text


def normalize_number(typed: str) -> str:
    """A document number as issued: full-width forms folded, any bracket pair as 〔〕, no spaces and
    no control characters (a NUL typed or pasted would otherwise reach the database), at most 64
    characters (no number is longer)."""
    text = unicodedata.normalize("NFKC", typed).translate(_BRACKETS)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cc")
    return re.sub(r"\s+", "", text)[:64]


def code_digest(number: str, code: str) -> str:
    """SHA-256 (hex) of number and code together: what the registry keeps instead of the code, so
    a copy of the database cannot be used to vouch for forged documents."""
    return hashlib.sha256(f"{number}\n{code}".encode()).hexdigest()


def qr_payload(number: str, code: str, public_url: str = "") -> str:
    """What the QR code on the document encodes.

    With the platform's public address configured: a link to its check page carrying number and
    code. Without one: the chat command that performs the same check, ready to paste into the bot."""
    if public_url:
        return f"{public_url.rstrip('/')}{VERIFY_PATH}?{urlencode({'number': number, 'code': code})}"
    return f"{CHECK_COMMAND} {number} {display_code(code)}"
