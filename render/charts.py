"""Charts the admins receive as pictures: on-time reporting rates, grade distributions.

Drawn with matplotlib's Agg backend (call them in a worker thread) in the platform's own font
(render.fonts): the same face as the PDFs, shipped with the package, so Chinese labels never depend
on the fonts the server happens to have.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from render.fonts import chart_fonts
from services.collection.uploads import DeptRate
from services.evaluation_views import Distribution

if TYPE_CHECKING:
    from matplotlib.figure import Figure

GRADE_COLOURS = ("#2e7d32", "#9ccc65", "#f9a825", "#c62828", "#6d4c41", "#455a64")


def chart_figure(rates: list[DeptRate], period: str) -> Figure:
    """A horizontal bar chart of on-time rates (percent), departments by Chinese short name, in the
    platform's own font (render.fonts): the same face as the PDFs, shipped with the package, so the
    labels never depend on what fonts the server happens to have."""
    from matplotlib.figure import Figure  # imported on first use: start-up stays fast

    font = list(chart_fonts())
    labels = [r.short_name or r.name for r in rates]
    values = [round(r.rate * 100, 1) for r in rates]
    fig = Figure(figsize=(8, max(2.5, 0.4 * len(rates) + 1.2)), dpi=100)
    ax = fig.add_subplot()
    ax.set_title(f"{period} 各部门按时报送率（%）", fontfamily=font)
    bars = ax.barh(range(len(rates)), values, color=["#2e7d32" if v >= 90 else "#f9a825" if v >= 60 else "#c62828" for v in values])
    ax.set_yticks(range(len(rates)), labels, fontfamily=font)
    ax.invert_yaxis()
    ax.set_xlim(0, 105)
    for bar, v in zip(bars, values, strict=True):
        ax.text(v + 1, bar.get_y() + bar.get_height() / 2, f"{v:g}", va="center", fontsize=8, fontfamily=font)
    for label in ax.get_xticklabels():
        label.set_fontfamily(font)
    fig.tight_layout()
    return fig


def render_chart(rates: list[DeptRate], period: str) -> bytes:
    """PNG bytes of `chart_figure` (matplotlib's Agg canvas; call it in a worker thread)."""
    buf = io.BytesIO()
    chart_figure(rates, period).savefig(buf, format="png")
    return buf.getvalue()


def render_distribution(dist: Distribution) -> bytes:
    """PNG of a stacked horizontal bar chart: subjects per grade in each county or industry."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    font = list(chart_fonts())
    labels = [label for label, _counts in dist.rows]
    fig = Figure(figsize=(8, max(2.5, 0.45 * len(dist.rows) + 1.5)), dpi=100)
    ax = fig.add_subplot()
    left = [0] * len(dist.rows)
    for gi, grade in enumerate(dist.grades):
        values = [counts[grade] for _label, counts in dist.rows]
        ax.barh(range(len(dist.rows)), values, left=left, color=GRADE_COLOURS[gi % len(GRADE_COLOURS)],
                label=grade)
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.set_yticks(range(len(dist.rows)), labels, fontfamily=font)
    ax.invert_yaxis()
    title = "各区县信用等级分布" if dist.by == "county" else "各行业信用等级分布"
    ax.set_title(title, fontfamily=font)
    legend = ax.legend(loc="lower right", fontsize=8)
    for text in legend.get_texts():
        text.set_fontfamily(font)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def distribution_caption(dist: Distribution) -> str:
    head = "各区县" if dist.by == "county" else "各行业"
    lines = [f"{head}信用等级分布（主体数）："]
    for i, (label, counts) in enumerate(dist.rows, 1):
        lines.append(f"#{i} {label}：" + "，".join(f"{g} {counts[g]}" for g in dist.grades))
    return "\n".join(lines)[:1024]


