"""The 专项信用报告 PDF: the conclusion per field first (有 / 无违法违规记录), then the records behind
each "有", then what the report covers and how to verify it. Same font and verification block as
the other documents (render/pdf.py, render/seal.py)."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from render.pdf import _build, _cn, _grid, _p, _styles
from render.seal import seal_block
from services.special_report import SpecialReportData

HAS, HAS_NOT = "有违法违规记录", "无违法违规记录"


def render_special_report(data: SpecialReportData, platform: str) -> bytes:
    start, end = data.period
    story = [
        _p(platform, "number"),
        _p("专项信用报告", "title"),
        _p("（替代有无违法违规记录证明）", "number"),
        _p(f"报告编号：{data.number}"),
        _p(f"生成时间：{data.generated_at:%Y-%m-%d %H:%M:%S}（北京时间）"),
        _p(f"信用主体：{data.subject_name}（{data.code_label}：{data.code}）"),
        _p(f"报告使用人：{data.reader}"),
        _p(f"查询时段：{_cn(start)}至{_cn(end)}"),
        _p("一、结论", "h2"),
    ]
    summary = [[_p("领域", "cell"), _p("结论", "cell"), _p("记录数", "cell")]]
    for f in data.fields:
        summary.append([_p(f.name, "cell"), _p(HAS if f.has_records else HAS_NOT, "cell"), _p(str(len(f.entries)), "cell")])
    story.append(_grid(summary, [50 * mm, 80 * mm, 40 * mm]))
    story.append(_p("二、违法违规记录明细", "h2"))
    found = [f for f in data.fields if f.has_records]
    if not found:
        story.append(_p(f"查询时段内，上述领域均{HAS_NOT}。"))
    for f in found:
        story.append(_p(f"{f.name}：{len(f.entries)} 条"))
        rows = [[_p(h, "cell") for h in ("类别", "决定日期", "文书号 / 名称", "决定机关", "状态")]]
        for e in f.entries:
            status = e.status + ("；简易程序，未公示" if e.summary_procedure else "")
            title = f"{e.doc_number}\n{e.title}" if e.title else e.doc_number
            rows.append([_p(e.section, "cell"), _p(f"{e.decision_date:%Y-%m-%d}", "cell"), _p(title, "cell"),
                         _p(e.department, "cell"), _p(status, "cell")])
        story += [_grid(rows, [26 * mm, 22 * mm, 58 * mm, 36 * mm, 28 * mm]), Spacer(1, 3 * mm)]
    story.append(_p("三、报告说明", "h2"))
    covered = "、".join(s.name + (f"（{s.note}）" if s.note else "") for s in data.sections)
    for line in (
        f"本报告涵盖：{covered}。",
        "行政处罚、行政强制、刑事裁判以决定（裁判）日期在查询时段内的为准；严重失信主体名单以查询时段内处于列入状态的为准。",
        "已信用修复、已撤销以及依法暂时屏蔽的信息不列入本报告。",
        "依据《国家发展改革委 公安部 国家数据局关于全面推行以专项信用报告替代有无违法违规记录证明的通知》"
        "（发改财金〔2025〕565号），本报告可替代各部门分别出具的有无违法违规记录证明。",
        f"领域划分：{data.catalogue_source}（版本 {data.catalogue_version}）。",
    ):
        story.append(_p(line, "small"))
    if data.seal is not None:
        story += [Spacer(1, 6 * mm), seal_block(data.seal, _styles())]
    return _build(story, "专项信用报告", f"{platform} · {data.number}")
