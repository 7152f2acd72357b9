"""Names with characters outside the basic block print in every PDF and chart (GB 18030-2022).

WenQuanYi Micro Hei has no glyph for them; render.fonts picks a fallback per character. For a name from
each CJK block of GB 18030-2022 level 3 (Extension A, B, C, D, E, F) the rendered page has ink at each
character, no two neighbours look alike (a missing glyph draws the same box for all), the fallback is
embedded as a subset, and the text layer holds the very characters (no NUL). Pictures are saved under
pytest's tmp dir for a person to look at."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

from PIL import Image

from render.charts import chart_figure, render_chart
from render.fonts import fallback_for, missing
from render.pdf import render_notice
from services.collection.uploads import DeptRate
from tests.pdf_inspect import fonts, ink, render, same_glyph
from tests.test_documents_fonts import NOTICE, SUBSET, assert_glyphs
from tests.test_lifecycle_support import compact, pdf_text

# One real-shaped name per block, written down before running: Extension A (㙟 U+365F, 䶮 U+4DAE),
# B (𠮷 U+20BB7, 𪚥 U+2A6A5), C (𪜀 U+2A700), D (𫝀 U+2B740), E (𫠠 U+2B820), F (𬺰 U+2CEB0).
NAMES = {
    "A": "安康市㙟䶮商贸有限公司",
    "B": "\U00020bb7祥\U0002a6a5建材有限公司",
    "C": "汉阴县\U0002a700记餐饮店",
    "D": "旬阳市\U0002b740氏农业合作社",
    "E": "石泉县\U0002b820源物流有限公司",
    "F": "平利县\U0002ceb0茶业有限公司",
}
RARE = "".join(ch for name in NAMES.values() for ch in name if fallback_for(ch) is not None)


def test_every_block_has_a_fallback_and_nothing_is_missing() -> None:
    assert RARE == "㙟䶮\U00020bb7\U0002a6a5\U0002a700\U0002b740\U0002b820\U0002ceb0"
    for name in NAMES.values():
        assert missing(name) == [], name
    assert missing("𰻞") == ["𰻞"]  # Extension G (biáng): no free TrueType font of the registries has it


def test_a_character_no_font_has_prints_as_the_missing_glyph_mark() -> None:
    pdf = render_notice(dataclasses.replace(NOTICE, subject_name="西安\U00030ede\U00030ede面馆"), "安康市公共信用信息平台")
    text = pdf_text(pdf)
    assert "西安〓〓面馆" in text and "\x00" not in text


def char_boxes(pdf: bytes, text: str) -> list[tuple[int, int, int, int]]:
    """Boxes of `text`'s characters, one per character (pdfium counts a character outside the basic
    plane once, as its code point)."""
    import pypdfium2 as pdfium

    from tests.pdf_inspect import SCALE

    doc = pdfium.PdfDocument(pdf)
    try:
        page = doc[0]
        height, textpage = page.get_height(), page.get_textpage()
        chars = textpage.get_text_range()
        start = chars.find(text)
        assert start >= 0, f"{text!r} not in the text layer"
        boxes = []
        i = len(chars[:start].encode("utf-16-le")) // 2
        for ch in text:
            left, bottom, right, top = textpage.get_charbox(i)
            boxes.append((int(left * SCALE), int((height - top) * SCALE), int(right * SCALE) + 1, int((height - bottom) * SCALE) + 1))
            i += len(ch.encode("utf-16-le")) // 2
        return boxes
    finally:
        doc.close()


def test_notice_prints_rare_characters_from_every_block(tmp_path: Path) -> None:
    for block, name in NAMES.items():
        pdf = render_notice(dataclasses.replace(NOTICE, subject_name=name), "安康市公共信用信息平台")
        assert_glyphs(render(pdf), name, char_boxes(pdf, name), tmp_path / f"notice-{block}.png")
        text = pdf_text(pdf)
        assert compact(name) in text and "\x00" not in text, block
        names = {f.name.split("+", 1)[1] for f in fonts(pdf)}
        assert all(f.embedded == "FontFile2" and SUBSET.match(f.name) for f in fonts(pdf))
        assert any(n.startswith("WenQuanYiMicroHei") for n in names) and names & {"HanaMinA", "HanaMinB"}, names
        assert len(pdf) < 400_000, len(pdf)  # subsets of the fallbacks too, not their 50 MB


def test_chart_labels_print_rare_characters(tmp_path: Path) -> None:
    rates = [DeptRate(f"D{i}", name, name, 1, 2) for i, name in enumerate(NAMES.values())]
    fig = chart_figure(rates, "2026-11")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)" otherwise
        png = render_chart(rates, "2026-11")
    path = tmp_path / "rare-chart.png"
    path.write_bytes(png)
    image = Image.open(path).convert("L")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    for label in fig.axes[0].get_yticklabels():
        text = label.get_text()
        e = label.get_window_extent(renderer)
        width = (e.x1 - e.x0) / len(text)  # hanzi are square: equal advances
        boxes = [
            (int(e.x0 + i * width) + 1, int(image.height - e.y1), int(e.x0 + (i + 1) * width) - 1, int(image.height - e.y0))
            for i in range(len(text))
        ]
        for ch, box in zip(text, boxes, strict=True):
            assert ink(image, box) > 0.04, (text, ch)
        for i in range(len(text) - 1):
            if text[i] != text[i + 1]:
                assert not same_glyph(image, boxes[i], boxes[i + 1]), text[i : i + 2]
