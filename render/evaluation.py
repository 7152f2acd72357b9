"""The credit grade in words: the same lines on the card, in the digest and in the credit report."""

from __future__ import annotations

from rules.evaluation import format_points
from services.evaluation_views import GradeView


def grade_lines(g: GradeView) -> list[str]:
    """The grade block of a card; the explanation and risk class only when the view carries them
    (officials)."""
    lines = [f"信用评价：{g.grade}（{g.score} 分，满分 1000；模型 {g.model_version}，{g.computed_at:%Y-%m-%d} 评价）"]
    if g.risk_label:
        lines.append(f"风险分类：{g.risk_label}；建议检查频次：{g.inspection}")
    if g.reasons:
        lines.append("影响最大的记录：")
        lines += [f"  {format_points(r.points)} 分 · {r.label} {r.date}" + (f" {r.title}" if r.title else "") for r in g.reasons]
    return lines
