"""The one Chinese font of every document and chart the platform makes: WenQuanYi Micro Hei.

Why this font: the documents are official (信用报告, 事前告知书) and must read the same on a phone,
on Linux with poppler, or on a machine without Adobe's Asian font pack, so the glyphs travel inside
the PDF. reportlab can embed only TrueType outlines (glyf), not the CFF outlines of Noto/Source Han
OpenType; WenQuanYi Micro Hei is TrueType, covers GB 18030's common hanzi plus Latin, digits and the
full-width punctuation of official documents (〔〕、：；“”), and is licensed under the Apache License
2.0 (OS/2 fsType 8: editable embedding allowed), which permits redistribution and embedding.

Where it comes from: the `paperang-p2-fonts-cjk` package (a data-only wheel holding
`wqy-microhei.ttc`), a dependency in pyproject.toml, so a plain `pip install` brings it and no
system font package is needed. reportlab embeds only the glyphs a document uses (a subset).
"""

from __future__ import annotations

import functools
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

    pdfmetrics.registerFont(TTFont(PDF_FONT, str(font_path()), subfontIndex=SUBFONT_INDEX))
    return PDF_FONT


@functools.cache
def chart_font() -> str:
    """Add the font to matplotlib's font manager once and return its family name for `fontfamily`."""
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(font_path()))
    return font_manager.FontProperties(fname=str(font_path())).get_name()
