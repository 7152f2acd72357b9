"""Cells that no spreadsheet will ever execute (CSV/formula injection, OWASP).

Spreadsheets treat a cell beginning with = + - @ (and, in some, a tab or carriage return followed by
one) as a formula. The importer refuses such cells in a subject's name; anything we *send back*
that quotes a department's cell — the error list — is made inert by prefixing an apostrophe, which
Excel and WPS show as text and do not display.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def looks_like_formula(text: str) -> bool:
    """True for text a spreadsheet would evaluate (after leading spaces, which Excel ignores)."""
    return text.lstrip(" ").startswith(FORMULA_STARTS)


def inert_cell(text: str) -> str:
    return "'" + text if looks_like_formula(text) else text


__all__ = ["FORMULA_STARTS", "inert_cell", "looks_like_formula"]
