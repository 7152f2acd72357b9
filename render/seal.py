"""The verification block printed on every issued document: the code, how to check, a QR code.

The QR code carries `Seal.qr` (rules.verification.qr_payload): a link to the platform's check page
when `region.public_url` is set, else the /checkreport command to paste into the bot. It is drawn
with reportlab's own QR widget (vector, no image library), error correction level M.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Table, TableStyle

from render.fonts import pdf_font
from rules.verification import CHECK_COMMAND
from services.issued_documents import Seal

QR_SIZE = 30 * mm


def qr_drawing(payload: str, size: float = QR_SIZE) -> Drawing:
    """A square QR code of `payload` (UTF-8), `size` points wide, quiet zone included."""
    widget = QrCodeWidget(payload, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    width, height = x1 - x0, y1 - y0
    drawing = Drawing(size, size, transform=[size / width, 0, 0, size / height, 0, 0])
    # A drawing starts in Helvetica unless told otherwise; that font would be listed, unembedded.
    drawing.initialFontName = pdf_font()
    drawing.add(widget)
    return drawing


def seal_block(seal: Seal, styles: dict[str, ParagraphStyle], what: str = "报告") -> Table:
    """Code and instructions on the left, the QR code on the right, in a light frame."""
    base, small = styles["base"], styles["small"]
    online = "扫描右侧二维码即可在线核验，" if seal.qr.startswith("http") else "扫描右侧二维码可得到核验指令，"
    lines = [
        Paragraph(escape(f"{what}核验码：{seal.display_code}"), base),
        Paragraph(
            escape(
                f"{online}也可在“信用通”机器人中发送：{CHECK_COMMAND} {seal.number} {seal.display_code}。"
                f"核验结果告知本{what}是否由平台出具、出具对象和时间，并给出原文件的 SHA-256 摘要；"
                f"将所持文件发给机器人，可核对文件是否被改动。"
            ),
            small,
        ),
    ]
    table = Table([[lines, qr_drawing(seal.qr)]], colWidths=[170 * mm - QR_SIZE - 6 * mm, QR_SIZE + 6 * mm])
    table.setStyle(
        TableStyle([
            ("FONTNAME", (0, 0), (-1, -1), base.fontName),
            ("BOX", (0, 0), (-1, -1), 0.4, colors.grey),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("ALIGN", (1, 0), (1, 0), "CENTER"),
        ])
    )
    return table
