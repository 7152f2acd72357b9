"""Helpers that look at a PDF as a reader would (no tests here): which fonts it carries, and what a
page looks like once rendered (pypdfium2, a pip-installed renderer, so no system package is needed).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image, ImageChops
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

SCALE = 2.0  # rendering scale: 144 dpi, enough for 10.5 pt hanzi to be told apart


@dataclass(frozen=True)
class FontInfo:
    name: str
    subtype: str
    embedded: str | None  # FontFile / FontFile2 / FontFile3, None when not embedded


def _descriptor_fonts(font: DictionaryObject) -> list[DictionaryObject]:
    if font.get("/Subtype") == "/Type0":
        return [d.get_object() for d in font["/DescendantFonts"]]
    return [font]


def fonts(pdf: bytes) -> list[FontInfo]:
    """Every font the pages use, with the kind of embedded font file its descriptor points to."""
    seen: dict[str, FontInfo] = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        resources = page.get("/Resources")
        if resources is None:
            continue
        for ref in (resources.get_object().get("/Font") or {}).values():
            font = ref.get_object()
            for f in _descriptor_fonts(font):
                descriptor = f.get("/FontDescriptor")
                embedded = None
                if descriptor is not None:
                    d = descriptor.get_object()
                    embedded = next((k[1:] for k in ("/FontFile2", "/FontFile3", "/FontFile") if k in d), None)
                name = str(f.get("/BaseFont"))
                seen[name] = FontInfo(name, str(f.get("/Subtype")), embedded)
    return list(seen.values())


def render(pdf: bytes, page: int = 0) -> Image.Image:
    """The page as a greyscale image, as a viewer would draw it."""
    doc = pdfium.PdfDocument(pdf)
    try:
        return doc[page].render(scale=SCALE, grayscale=True).to_pil().convert("L")
    finally:
        doc.close()


def render_poppler(pdf: bytes, page: int = 0) -> Image.Image | None:
    """The page as poppler draws it (pdftoppm, the renderer of most Linux viewers) at the same
    resolution as `render`; None where poppler is not installed (it is a system package, so the
    project never requires it)."""
    exe = shutil.which("pdftoppm")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "doc.pdf"
        source.write_bytes(pdf)
        n = str(page + 1)
        subprocess.run([exe, "-r", str(int(72 * SCALE)), "-gray", "-png", "-f", n, "-l", n, "-singlefile", str(source),
                        str(Path(tmp) / "page")], check=True, capture_output=True, timeout=60)
        with Image.open(Path(tmp) / "page.png") as image:
            return image.convert("L")


def char_boxes(pdf: bytes, text: str, page: int = 0) -> list[tuple[int, int, int, int]]:
    """Pixel boxes (left, top, right, bottom in the `render` image) of each character of the first
    occurrence of `text` on the page; empty when the text is not found."""
    doc = pdfium.PdfDocument(pdf)
    try:
        p = doc[page]
        height = p.get_height()
        textpage = p.get_textpage()
        searcher = textpage.search(text)
        hit = searcher.get_next()
        if hit is None:
            return []
        start, count = hit
        boxes = []
        for i in range(start, start + count):
            left, bottom, right, top = textpage.get_charbox(i)
            boxes.append((int(left * SCALE), int((height - top) * SCALE), int(right * SCALE) + 1, int((height - bottom) * SCALE) + 1))
        return boxes
    finally:
        doc.close()


def ink(image: Image.Image, box: tuple[int, int, int, int]) -> float:
    """Share of dark pixels (below mid-grey) in the box: 0.0 for blank paper."""
    crop = image.crop(box)
    dark = sum(1 for v in crop.tobytes() if v < 128)
    return dark / max(1, crop.width * crop.height)


def same_glyph(image: Image.Image, a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    """Whether two character cells look alike: a missing glyph draws the same empty box (tofu) for
    every character, real hanzi differ."""
    first, second = image.crop(a), image.crop(b).resize(image.crop(a).size)
    return ImageChops.difference(first, second).getbbox() is None
