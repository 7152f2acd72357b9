"""Documents people can open anywhere: every PDF carries its Chinese font (an embedded TrueType
subset), a rendered page shows real hanzi where the text stands, and the chart labels departments
by Chinese name in the same font.

Each rendering is saved as a PNG under pytest's tmp dir (`pytest --basetemp=DIR` keeps them) so a
person can look at what a reader would see."""

from __future__ import annotations

import datetime as dt
import re
import warnings
from pathlib import Path

from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image

from render.charts import chart_figure, render_chart
from render.fonts import chart_font, font_path
from render.pdf import render_notice
from services.collection.uploads import DeptRate
from services.listings import NoticeData
from tests.conftest import BotHarness
from tests.pdf_inspect import char_boxes, fonts, ink, render, render_poppler, same_glyph
from tests.test_lifecycle_support import HENGDA, compact, pdf_text
from tests.test_report_pdf import documents, seed_company

NOTICE = NoticeData(
    number="安信告〔2026〕0007号",
    subject_name="安康市恒达建材有限公司",
    subject_kind="法人",
    code_label="统一社会信用代码",
    code=HENGDA,
    department="安康市市场监督管理局",
    basis="《保障农民工工资支付条例》第四十八条",
    reasons="拖欠农民工工资，经责令限期支付逾期未支付",
    measures=("在政府采购活动中依法予以限制", "不得享受财政补贴等政策扶持"),
    notice_date=dt.date(2026, 11, 30),
    objection_days=5,
    deadline=dt.date(2026, 12, 7),
    deadline_provisional=False,
)
SUBSET = re.compile(r"^/[A-Z]{6}\+")


def assert_fonts_embedded(pdf: bytes) -> None:
    found = fonts(pdf)
    assert found, "a document with text has fonts"
    for font in found:
        assert font.embedded == "FontFile2", font  # TrueType outlines inside the file
        assert SUBSET.match(font.name) and "WenQuanYiMicroHei" in font.name, font  # a subset, not the 5 MB face


def assert_hanzi_drawn(pdf: bytes, text: str, png: Path) -> None:
    """Where `text` stands on page 1 every character has ink, and no two look alike (a missing
    glyph draws the same empty box for every character): as pdfium draws it, and as poppler does
    where it is installed."""
    boxes = char_boxes(pdf, text)
    assert_glyphs(render(pdf), text, boxes, png)
    poppler = render_poppler(pdf)
    if poppler is not None:
        assert_glyphs(poppler, text, boxes, png.with_name(f"{png.stem}-poppler.png"))


def assert_glyphs(image: Image.Image, text: str, boxes: list[tuple[int, int, int, int]], png: Path) -> None:
    image.save(png)
    assert len(boxes) == len(text), f"{text} not found on the page"
    for ch, box in zip(text, boxes, strict=True):
        assert 0.05 < ink(image, box) < 0.9, (ch, box)
    for i in range(len(boxes) - 1):
        if text[i] != text[i + 1]:
            assert not same_glyph(image, boxes[i], boxes[i + 1]), text[i : i + 2]
    # Blank paper elsewhere: the ink is the text, not a grey page.
    assert ink(image, (0, image.height - 20, image.width, image.height)) == 0.0


def test_notice_embeds_its_font_and_renders_chinese(tmp_path: Path) -> None:
    pdf = render_notice(NOTICE, "安康市公共信用信息平台")
    assert_fonts_embedded(pdf)
    assert len(pdf) < 300_000  # subset: a few hundred glyphs, not the whole collection
    assert_hanzi_drawn(pdf, "严重失信主体名单列入事前告知书", tmp_path / "notice.png")
    assert_hanzi_drawn(pdf, "陈述、申辩和异议的权利", tmp_path / "notice.png")
    text = pdf_text(pdf)
    for part in ("严重失信主体名单列入事前告知书", "安信告〔2026〕0007号", HENGDA, "在政府采购活动中依法予以限制", "2026年12月7日"):
        assert compact(part) in text, part


async def test_report_embeds_its_font_and_renders_chinese(harness: BotHarness, tmp_path: Path) -> None:
    await seed_company(harness)
    official = await harness.chat("official", dept="SCJGJ")
    docs = documents(await harness.say(official, f"/report {HENGDA}"), official.chat.id)
    assert len(docs) == 1
    pdf = docs[0].content
    assert pdf is not None
    assert_fonts_embedded(pdf)
    assert_hanzi_drawn(pdf, "安康市恒达建材有限公司", tmp_path / "report.png")
    assert_hanzi_drawn(pdf, "行政许可信息", tmp_path / "report.png")
    assert "安市监罚〔2026〕201号" in pdf_text(pdf)


def rates() -> list[DeptRate]:
    return [
        DeptRate("SCJGJ", "安康市市场监督管理局", "市场监管局", 3, 4),
        DeptRate("JTJ", "安康市交通运输局", "交通运输局", 1, 4),
        DeptRate("FGW", "安康市发展和改革委员会", "", 4, 4),  # no short name: the full name
    ]


def test_chart_labels_departments_in_chinese_with_the_shipped_font(tmp_path: Path) -> None:
    fig = chart_figure(rates(), "2026-11")
    ax = fig.axes[0]
    labels = ax.get_yticklabels()
    assert [t.get_text() for t in labels] == ["市场监管局", "交通运输局", "安康市发展和改革委员会"]
    assert not any(code in t.get_text() for t in labels for code in ("SCJGJ", "JTJ", "FGW"))
    for text in (*labels, ax.title):
        assert Path(font_manager.findfont(text.get_fontproperties())) == font_path()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)" otherwise
        png = render_chart(rates(), "2026-11")
    (tmp_path / "ontime.png").write_bytes(png)
    image = Image.open(tmp_path / "ontime.png").convert("L")
    renderer = FigureCanvasAgg(fig).get_renderer()  # the canvas render_chart's savefig uses
    fig.draw(renderer)
    boxes = []
    for label in labels:
        e = label.get_window_extent(renderer)
        boxes.append((int(e.x0), int(image.height - e.y1), int(e.x1) + 1, int(image.height - e.y0) + 1))
        assert ink(image, boxes[-1]) > 0.05, label.get_text()
    assert not same_glyph(image, boxes[0], boxes[1])
    assert chart_font() == "WenQuanYi Micro Hei"
