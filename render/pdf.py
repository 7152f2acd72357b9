"""PDF documents the platform issues: the prior notice (事前告知书) and the credit report (信用报告).

Font: WenQuanYi Micro Hei (render.fonts), a TrueType font shipped by a Python package and embedded
as a subset in every PDF, with a fallback chosen per character for what it lacks (rare characters in
names: render.fonts.pdf_markup), so the Chinese text shows the same in any viewer (poppler, phones, Linux)
without a system or Adobe font pack. reportlab writes a ToUnicode map for the subsets: pypdf
extracts the Chinese text back exactly (the tests rely on that), so the documents stay searchable.

What to show was decided upstream (visibility and masking in rules, through services.lookup); this module
only lays it out. Free text from departments still goes through `scrub`, so an ID or phone number a
department typed into a title cannot leave the platform in a PDF.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from collections.abc import Iterable
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from render.evaluation import grade_lines
from render.fonts import pdf_font, pdf_markup
from render.seal import seal_block
from rules.categories import CATEGORIES
from rules.masking import scrub
from rules.report_sections import (
    DECLARATION_SECTION,
    EVALUATION_SECTION,
    OTHER_CATEGORIES,
    OTHER_SECTION,
    RECORD_SECTIONS,
    SECTIONED,
)
from rules.visibility import STATUS_LABELS
from services.issued_documents import Seal
from services.listings import DecisionData, ListingTerms, NoticeData
from services.report import ReportData


def _font() -> str:
    return pdf_font()


@functools.cache
def _styles() -> dict[str, ParagraphStyle]:
    font = _font()
    base = ParagraphStyle("base", fontName=font, fontSize=10.5, leading=16, wordWrap="CJK")
    return {
        "base": base,
        "title": ParagraphStyle("title", parent=base, fontSize=18, leading=26, alignment=TA_CENTER, spaceAfter=4 * mm),
        "number": ParagraphStyle("number", parent=base, alignment=TA_CENTER, spaceAfter=4 * mm),
        "h2": ParagraphStyle("h2", parent=base, fontSize=13, leading=20, spaceBefore=4 * mm, spaceAfter=2 * mm),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
        "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=12, textColor=colors.HexColor("#555555")),
        "cell": ParagraphStyle("cell", parent=base, fontSize=9, leading=13),
        "indent": ParagraphStyle("indent", parent=base, firstLineIndent=21),
    }


def _p(text: str, style: str = "base") -> Paragraph:
    return Paragraph(pdf_markup(escape(scrub(text)).replace("\n", "<br/>")), _styles()[style])


def _cn(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _build(story: list, title: str, footer: str) -> bytes:  # type: ignore[type-arg]
    buf = io.BytesIO()
    font = _font()

    def page(canvas, doc) -> None:  # type: ignore[no-untyped-def]
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawCentredString(A4[0] / 2, 10 * mm, f"{footer}　第 {doc.page} 页")
        canvas.restoreState()

    doc = SimpleDocTemplate(
        buf, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=20 * mm, bottomMargin=20 * mm,
        title=title, author=footer, subject=title,
        # The canvas opens each page in its initial font: ours, or Helvetica (never embedded) would
        # be listed among the document's fonts.
        initialFontName=font,
    )
    doc.build(story, onFirstPage=page, onLaterPages=page)
    return buf.getvalue()


def _terms_block(terms: ListingTerms, decided: bool) -> list:  # type: ignore[type-arg]
    """The list's measures (each with its basis), validity and removal, as both documents state them."""
    head = "三" if decided else "一"
    story = [_p(f"{head}、失信惩戒措施提示", "h2")]
    if not terms.measures:
        story.append(_p("失信惩戒目录中暂无可以核实依据的该名单惩戒措施。", "indent"))
    shared = len({(m.basis, m.implementer) for m in terms.measures}) == 1  # one basis: cite it once
    for i, m in enumerate(terms.measures, 1):
        mark = "" if m.confirmed else "（依据待核实）"
        story.append(_p(f"{i}. {m.text}{mark}" + ("" if shared else f"（依据：{m.basis}；实施主体：{m.implementer}）")))
    if shared and terms.measures:
        m = terms.measures[0]
        story.append(_p(f"以上措施的依据：{m.basis}；实施主体：{m.implementer}。"))
    return story


def _sentence(text: str) -> str:
    return text if text.endswith(("。", "！", "？", "；")) else text + "。"


def render_notice(notice: NoticeData, platform: str) -> bytes:
    """事前告知书: the list, its standard and basis, the facts, the measures, period and removal
    conditions, the right to object with its deadline, how to repair."""
    you = "你" if notice.subject_kind == "自然人" else "你单位"
    provisional = "（节假日安排尚未公布，期限按现行规则推算，如有调整以公布为准）" if notice.deadline_provisional else ""
    terms = notice.terms
    list_name = terms.list_name if terms else "严重失信主体名单"
    story = [
        _p("严重失信主体名单列入事前告知书", "title"),
        _p(notice.number, "number"),
        _p(f"{notice.subject_name}（{notice.code_label}：{notice.code}）："),
        Spacer(1, 2 * mm),
        _p(f"经查，{_sentence(notice.reasons)}", "indent"),
        _p(f"依据{notice.basis}，本机关拟将{you}列入{list_name}（严重失信主体名单）。", "indent"),
    ]
    if terms is not None:
        story += _terms_block(terms, decided=False)
        story += [
            _p(f"列入期限：{terms.period or '依有关规定'}。", "indent"),
            _p(f"移出条件和程序：{terms.removal}" + (f"（依据：{terms.removal_basis}）" if terms.removal_basis else ""), "indent"),
        ]
    else:
        story += [_p("一、列入后将依法依规采取的惩戒措施", "h2"), *[_p(f"{i}. {m}") for i, m in enumerate(notice.measures, 1)]]
    story += [
        _p("二、陈述、申辩和异议的权利", "h2"),
        _p(
            f"{you}有权进行陈述、申辩，对拟列入事项提出异议。请于{_cn(notice.deadline)}前"
            f"（自本告知书送达之日起{notice.objection_days}个工作日内）{provisional}，"
            f"通过“信用通”机器人发送 /objection 提出异议并提交证明材料，或向本机关书面提出。"
            f"逾期未提出异议的，本机关将依法列入{list_name}；提出异议的，待本机关作出处理决定后再行办理。",
            "indent",
        ),
        _p("三、信用修复", "h2"),
        _p(notice.repair_hint, "indent"),
        *_signed(notice.department, notice.notice_date, f"本告知书由{platform}送达，编号 {notice.number}，可凭编号向本机关核验。",
                 notice.seal, "告知书"),
    ]
    return _build(story, "事前告知书", f"{platform} · {notice.number}")


def _signed(department: str, day: dt.date, footnote: str, seal: Seal | None, what: str) -> list:  # type: ignore[type-arg]
    """The issuing department and date, the delivery note, and the verification block."""
    story = [Spacer(1, 10 * mm), _p(department, "right"), _p(_cn(day), "right"), Spacer(1, 6 * mm), _p(footnote, "small")]
    return story + ([Spacer(1, 3 * mm), seal_block(seal, _styles(), what)] if seal is not None else [])


def render_decision(decision: DecisionData, platform: str) -> bytes:
    """列入决定书: 事由, 依据, measures, validity, 移出条件和程序, 救济途径 (复议, 诉讼)."""
    terms = decision.terms
    you = "你" if decision.subject_kind == "自然人" else "你单位"
    until = f"至{_cn(decision.expires_on)}前一日止" if decision.expires_on else "至依规定移出时止"
    story = [
        _p(f"{terms.list_name}列入决定书", "title"),
        _p(decision.number, "number"),
        _p(f"{decision.subject_name}（{decision.code_label}：{decision.code}）："),
        Spacer(1, 2 * mm),
        _p("一、列入事由", "h2"),
        _p(f"经查，{_sentence(decision.reasons)}", "indent"),
        _p(f"本机关已于前期送达事前告知书（{decision.notice_number}），{you}在异议期内未提出异议或异议已经处理。", "indent"),
        _p("二、列入依据", "h2"),
        _p(f"依据{terms.basis}（认定标准：{terms.standard}），本机关决定将{you}列入{terms.list_name}。", "indent"),
        *_terms_block(terms, decided=True),
        _p("四、列入期限", "h2"),
        _p(f"自{_cn(decision.effective_on)}起列入，{until}（{terms.period or '依有关规定'}）。", "indent"),
        _p("五、移出条件和程序", "h2"),
        _p(terms.removal + (f"（依据：{terms.removal_basis}）" if terms.removal_basis else ""), "indent"),
        _p("六、救济途径", "h2"),
        _p(_sentence(terms.relief), "indent"),
        *_signed(decision.department, decision.decision_date,
                 f"本决定书由{platform}送达，编号 {decision.number}，可凭编号和核验码核验。", decision.seal, "决定书"),
    ]
    return _build(story, "列入决定书", f"{platform} · {decision.number}")


def _record_rows(data: ReportData, category: str) -> list[list[Paragraph]]:
    head = ["决定日期", "文书号 / 名称", "决定机关", "程度", "状态"]
    rows = [[_p(h, "cell") for h in head]]
    for r in data.card.records:
        if r.category != category:
            continue
        notes = [STATUS_LABELS.get(r.status, r.status)]
        if r.objection_pending and r.status != "objected":
            notes.append("异议处理中")
        if data.staff and not r.published and r.status in ("active", "objected"):
            notes.append("已过公示期（仅供政务共享）" if r.past_end else "未公示（仅供政务共享）")
        if r.published and r.last_public_day:
            notes.append(f"公示至{r.last_public_day:%Y-%m-%d}")
        title = f"{r.doc_number}\n{r.title}" if r.title else r.doc_number
        rows.append([
            _p(f"{r.decision_date:%Y-%m-%d}", "cell"),
            _p(title, "cell"),
            _p(r.department, "cell"),
            _p(r.severity or "—", "cell"),
            _p("；".join(notes), "cell"),
        ])
    return rows


def _ordered_categories(present: Iterable[str]) -> list[str]:
    found = set(present)
    return [c for c in CATEGORIES if c in found] + sorted(found - set(CATEGORIES))


NUMERALS = "一二三四五六七八九十"
GRID = [
    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
]


def _grid(rows: list[list[Paragraph]], widths: list[float]) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), _font()), *GRID]))
    return table


def _category_block(data: ReportData, category: str, label: bool) -> list:  # type: ignore[type-arg]
    rows = _record_rows(data, category)
    out: list = [_p(f"{category}：{len(rows) - 1} 条") if label else Spacer(1, 0)]  # type: ignore[type-arg]
    out += [_grid(rows, [22 * mm, 58 * mm, 40 * mm, 14 * mm, 36 * mm]), Spacer(1, 3 * mm)]
    return out


def _declaration_rows(data: ReportData) -> list[list[Paragraph]]:
    rows = [[_p(h, "cell") for h in ("申报编号", "类别", "内容", "申报日期")]]
    for d in data.card.declarations:
        if d.status != "verified":
            continue
        day = f"{d.submitted_on:%Y-%m-%d}" if d.submitted_on else "—"
        rows.append([_p(d.receipt_no, "cell"), _p(d.category, "cell"), _p(d.headline or "—", "cell"), _p(day, "cell")])
    return rows


def render_report(data: ReportData, platform: str) -> bytes:
    """信用报告 in the sections of rules.report_sections: 基本信息, then one section per category
    group (empty ones say so, so a reader knows the platform looked), verified self-declarations,
    other categories; then the verification block."""
    card = data.card
    generated = data.generated_at
    reader = data.reader
    scope = (
        "本报告供政务部门履职使用，包含未公示和已过公示期的共享信息，不得向社会公开。"
        if data.staff
        else "本报告内容为向社会公示的信用信息。"
    )
    story = [
        _p(f"{platform}", "number"),
        _p("信用报告", "title"),
        _p(f"报告编号：{data.number}"),
        _p(f"生成时间：{generated:%Y-%m-%d %H:%M:%S}（北京时间）"),
        _p(f"报告使用人：{reader}"),
    ]
    if data.period:
        years = round((data.period[1] - data.period[0]).days / 365.25)
        story.append(_p(f"信息时段：{data.period[0]:%Y-%m-%d} 至 {data.period[1]:%Y-%m-%d}（近 {years} 年）"))
    story.append(_p(scope, "small"))
    numerals = iter(NUMERALS)
    story.append(_p(f"{next(numerals)}、基本信息", "h2"))
    info = [("主体名称", card.name), ("主体类别", card.kind), (card.code_label, card.code)]
    if card.legal_rep and card.kind != "自然人":
        info.append((card.legal_rep_label, card.legal_rep))
    if card.division:
        info.append(("所属区划", card.division))
    if card.address:
        info.append(("住所", card.address))
    info.append(("登记状态", card.status))
    info.append(("重点关注", "；".join(card.flags) if card.flags else "未列入严重失信主体名单或经营异常名录"))
    table = Table([[_p(k, "cell"), _p(v, "cell")] for k, v in info], colWidths=[35 * mm, 135 * mm])
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), _font()),  # Table's own default is Helvetica, never embedded
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    story.append(table)
    empty = "报告时段内暂无记录。" if data.period else "暂无记录。"
    present = {r.category for r in card.records}
    for title, categories in RECORD_SECTIONS:
        story.append(_p(f"{next(numerals)}、{title}", "h2"))
        found = [c for c in categories if c in present]
        if not found:
            story.append(_p(empty))
        for category in found:
            story += _category_block(data, category, label=True)
    story.append(_p(f"{next(numerals)}、{DECLARATION_SECTION}", "h2"))
    declared = _declaration_rows(data)
    if len(declared) > 1:
        story += [_p(f"经核验的自主申报：{len(declared) - 1} 项"), _grid(declared, [40 * mm, 30 * mm, 75 * mm, 25 * mm])]
    else:
        story.append(_p(empty))
    if data.grade is not None:  # officials always; the public only where the setting allows
        story.append(_p(f"{next(numerals)}、{EVALUATION_SECTION}", "h2"))
        story += [_p(line.strip(), "small") for line in grade_lines(data.grade)]
    story.append(_p(f"{next(numerals)}、{OTHER_SECTION}", "h2"))
    others = _ordered_categories(c for c in present if c not in SECTIONED)
    if not others:
        story.append(_p(empty))
    for i, category in enumerate(others, 1):
        story.append(_p(f"（{i}）{category}：{len(_record_rows(data, category)) - 1} 条"))
        story += _category_block(data, category, label=False)
    missing = [c for c in OTHER_CATEGORIES if c not in present]
    if others and missing:
        story.append(_p(f"其余类别（{'、'.join(missing)}）：暂无记录。", "small"))
    if data.seal is not None:
        story += [Spacer(1, 6 * mm), seal_block(data.seal, _styles())]
    story += [
        Spacer(1, 6 * mm),
        _p("说明：本报告依据生成时平台归集的信息出具；自然人身份证号等个人信息已按规定脱敏。"
           "对报告内容有异议的，信用主体可通过“信用通”机器人发送 /objection 提出。", "small"),
    ]
    return _build(story, "信用报告", f"{platform} · {data.number}")
