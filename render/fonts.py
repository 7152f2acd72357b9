"""The Chinese fonts of every document and chart the platform makes: WenQuanYi Micro Hei, and a
fallback chosen per character for what it lacks.

Why this font: the documents are official (信用报告, 事前告知书) and must read the same on a phone,
on Linux with poppler, or on a machine without Adobe's Asian font pack, so the glyphs travel inside
the PDF. reportlab can embed only TrueType outlines (glyf), not the CFF outlines of Noto/Source Han
OpenType; WenQuanYi Micro Hei is TrueType, covers GB 18030's common hanzi plus Latin, digits and the
full-width punctuation of official documents (〔〕、：；“”), and is licensed under the Apache License
2.0 (OS/2 fsType 8: editable embedding allowed), which permits redistribution and embedding.

Where it comes from: the `paperang-p2-fonts-cjk` package (a data-only wheel holding
`wqy-microhei.ttc`), a dependency in pyproject.toml, so a plain `pip install` brings it and no
system font package is needed. reportlab embeds only the glyphs a document uses (a subset).

Characters it lacks: names hold characters outside the basic block (𠮷 U+20BB7, 㙟 U+365F, 䶮 U+4DAE):
WenQuanYi has 2 of CJK Extension A's 6,592 and none of Extensions B-F. GB 18030-2022 (implementation
level 3) requires all of them, so every such character is set in a fallback, chosen per character when
the document is drawn: HanaMin (花園明朝, the Hanazono fonts: HanaMinA for the basic block,
Extension A and the compatibility ideographs; HanaMinB for Extensions B-F), TrueType outlines, under
the SIL Open Font License 1.1 (or the Hanazono Font License), embedded as subsets like the main font.
No font package on PyPI covers these blocks; the fonts come from Debian's `fonts-hanazono`, which the
project's setup installs (Makefile, tools/debian-packages). A character no installed font has (CJK
Extensions G-I, beyond GB 18030-2022: no free TrueType font in the registries covers them; BabelStone
Han has 62 % of G) stays right in the chat, the database and the XLSX, and prints in PDFs as 〓, the
typesetters' mark for a missing glyph (`missing()` names such characters).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

# The name under which reportlab and matplotlib know the face.
FONT_NAME = "WenQuanYi Micro Hei"
PDF_FONT = "WQYMicroHei"
FONT_PACKAGE = "paperang_p2_fonts_cjk"
FONT_FILE = "fonts/wqy-microhei.ttc"
# Index of the proportional face in the collection (1 is the monospaced "Micro Hei Mono").
SUBFONT_INDEX = 0


class FontMissing(RuntimeError):
    """The font package is not installed (a broken environment, not a user error)."""


@functools.cache
def font_path() -> Path:
    """Path of the installed TrueType collection; raises FontMissing when the package is absent."""
    try:
        path = Path(str(resources.files(FONT_PACKAGE) / FONT_FILE))
    except ModuleNotFoundError:
        raise FontMissing(f"font package {FONT_PACKAGE} is not installed (pip install -e .)") from None
    if not path.is_file():
        raise FontMissing(f"font file {FONT_FILE} is missing from {FONT_PACKAGE}")
    return path


@functools.cache
def pdf_font() -> str:
    """Register the font with reportlab once (parsing the 5 MB file takes about a second) and
    return its name for styles and canvases. Text set in it is embedded as subsets (FontFile2)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    _fix_reportlab_to_unicode()
    pdfmetrics.registerFont(TTFont(PDF_FONT, str(font_path()), subfontIndex=SUBFONT_INDEX))
    return PDF_FONT


@functools.cache
def chart_font() -> str:
    """Add the font to matplotlib's font manager once and return its family name for `fontfamily`."""
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(font_path()))
    return font_manager.FontProperties(fname=str(font_path())).get_name()


@dataclass(frozen=True)
class Fallback:
    """A font for characters the main font lacks: its name in PDFs and its file name."""

    pdf_name: str
    file: str


# In order of preference; each is used only for characters the ones before it lack.
FALLBACKS = (
    Fallback("HanaMinA", "HanaMinA.ttf"),  # basic block, Extension A, compatibility ideographs
    Fallback("HanaMinB", "HanaMinB.ttf"),  # Extensions B, C, D, E, F
)
# Where Debian's fonts-hanazono (and fontconfig generally) puts system fonts.
FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".local/share/fonts")
_NOT_ASCII = re.compile(r"[^\x00-\x7f]")
MISSING_MARK = "〓"  # U+3013 GETA MARK: printed where no installed font has the character


@functools.cache
def fallback_path(fallback: Fallback) -> Path | None:
    """The installed file of a fallback font, or None when it is not installed."""
    for folder in FONT_DIRS:
        hit = folder / "truetype" / "hanazono" / fallback.file
        if hit.is_file():
            return hit
    for folder in FONT_DIRS:
        if folder.is_dir():
            for hit in folder.rglob(fallback.file):
                return hit
    return None


@functools.cache
def _cmap(path: Path, index: int = 0) -> frozenset[int]:
    """Code points a font file has glyphs for (its best cmap)."""
    from fontTools.ttLib import TTFont as ToolsFont

    with ToolsFont(str(path), fontNumber=index, lazy=True) as font:
        return frozenset(font.getBestCmap())


def _main_has(cp: int) -> bool:
    return cp < 0x80 or cp in _cmap(font_path(), SUBFONT_INDEX)


def fallback_for(ch: str) -> Fallback | None:
    """The first installed fallback with a glyph for `ch`, when the main font has none."""
    cp = ord(ch)
    if _main_has(cp):
        return None
    for fallback in FALLBACKS:
        path = fallback_path(fallback)
        if path is not None and cp in _cmap(path):
            return fallback
    return None


def missing(text: str) -> list[str]:
    """Characters of `text` that no installed font can draw (printable ones only)."""
    return sorted({ch for ch in text if ch.isprintable() and not _main_has(ord(ch)) and fallback_for(ch) is None})


def _utf16_hex(cp: int) -> str:
    """A code point as the PDF ToUnicode map wants it: UTF-16BE in hex (a surrogate pair beyond U+FFFF)."""
    return cp.to_bytes(4, "big").hex().upper()[4:] if cp <= 0xFFFF else chr(cp).encode("utf-16-be").hex().upper()


@functools.cache
def _fix_reportlab_to_unicode() -> None:
    """reportlab 4-5 writes a character beyond U+FFFF into a font's ToUnicode CMap as its bare code
    point (`<20BB7>`), an odd-length string that readers drop: the page printed 𠮷 but the text layer
    lost it. PDF 32000-1 §9.10.3 wants UTF-16BE, a surrogate pair there; this rewrites those entries."""
    from reportlab.pdfbase import ttfonts

    original = ttfonts.makeToUnicodeCMap

    def to_unicode_cmap(fontname: str, subset: list[int]) -> str:
        text = original(fontname, subset)
        if all(cp <= 0xFFFF for cp in subset):
            return text
        lines = text.split("\n")
        start = lines.index(f"{len(subset)} beginbfchar") + 1
        lines[start : start + len(subset)] = [f"<{i:02X}> <{_utf16_hex(cp)}>" for i, cp in enumerate(subset)]
        return "\n".join(lines)

    ttfonts.makeToUnicodeCMap = to_unicode_cmap


@functools.cache
def _pdf_fallback(fallback: Fallback) -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    _fix_reportlab_to_unicode()
    path = fallback_path(fallback)
    assert path is not None
    pdfmetrics.registerFont(TTFont(fallback.pdf_name, str(path)))
    return fallback.pdf_name


def pdf_markup(markup: str) -> str:
    """Paragraph markup with every run of characters the main font lacks set in its fallback
    (`<font face=…>`), so a name with 𠮷 or 㙟 prints those characters and the text layer holds them.
    A character no installed font has becomes 〓 (the typesetters' mark for a missing glyph): reportlab
    would print nothing and put NUL in the text layer. `markup` is already escaped; tags and entities
    are ASCII and pass through untouched."""
    if not _NOT_ASCII.search(markup):
        return markup
    out: list[str] = []
    run: list[str] = []
    current: Fallback | None = None
    for ch in markup:
        fallback = fallback_for(ch) if ord(ch) >= 0x80 else None
        if fallback is None and ord(ch) >= 0x80 and not _main_has(ord(ch)) and ch.isprintable():
            ch = MISSING_MARK
        if fallback is not current and run:
            out.append(_wrap("".join(run), current))
            run = []
        current = fallback
        run.append(ch)
    if run:
        out.append(_wrap("".join(run), current))
    return "".join(out)


def _wrap(text: str, fallback: Fallback | None) -> str:
    return text if fallback is None else f'<font face="{_pdf_fallback(fallback)}">{text}</font>'


@functools.cache
def chart_fonts() -> tuple[str, ...]:
    """Family names for matplotlib, main font first: matplotlib (3.6+) takes each glyph from the first
    family that has it, so chart labels with rare characters print them."""
    from matplotlib import font_manager

    families = [chart_font()]
    for fallback in FALLBACKS:
        path = fallback_path(fallback)
        if path is not None:
            font_manager.fontManager.addfont(str(path))
            families.append(font_manager.FontProperties(fname=str(path)).get_name())
    return tuple(families)

