"""Benchmark: render credit reports (embedded Chinese font subset, QR code) and the on-time chart.

    python -m bench.documents --records 200 --reports 20

Prints one JSON object. Measured in the same run:

- report: `render.pdf.render_report` on a report with N records over several categories — layout,
  the embedded WenQuanYi Micro Hei subsets, the verification block with its QR code (ms per
  report, KB per file, pages);
- baseline "cid_font": the very same report laid out with reportlab's built-in CID font
  STSong-Light, which is referenced but not embedded (what the platform used before): the price of
  documents that open anywhere is the difference;
- chart: `render.charts.render_chart` for 30 departments (ms per PNG).

The font is parsed once per process (render.fonts caches it); that one-off cost is reported apart.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import statistics
import time
from collections.abc import Callable
from zoneinfo import ZoneInfo

from render import pdf
from services.collection.uploads import DeptRate
from services.issued_documents import new_seal
from services.lookup import RecordView, SubjectCard
from services.report import ReportData

CATEGORIES = ("行政许可", "行政处罚", "登记备案", "资质资格", "检查抽查")


def sample_report(n: int) -> ReportData:
    today = dt.date(2026, 11, 30)
    records = tuple(
        RecordView(
            id=i,
            category=CATEGORIES[i % len(CATEGORIES)],
            doc_number=f"安市监{'许罚备资查'[i % 5]}〔2026〕{i:04d}号",
            department="安康市市场监督管理局",
            decision_date=today - dt.timedelta(days=3 * i),
            title=f"关于安康市恒达建材有限公司第{i}项事项的决定",
            severity="一般" if i % 5 == 1 else None,
            status="active",
            publication_end=today + dt.timedelta(days=200),
            published=True,
        )
        for i in range(1, n + 1)
    )
    card = SubjectCard(
        subject_id=1, name="安康市恒达建材有限公司", kind="法人", code_label="统一社会信用代码", code="91610902MA70HD001E",
        legal_rep="张伟", legal_rep_label="法定代表人", division="汉滨区", address="陕西省安康市汉滨区", status="存续",
        flags=(), records=records,
    )
    number = "安信报〔2026〕000001号"
    now = dt.datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    return ReportData(number, now, card, "official", True, False, new_seal(number))


def timed(fn: Callable[[], bytes], runs: int) -> tuple[list[float], bytes]:
    times, out = [], b""
    for _ in range(runs):
        start = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - start) * 1000)
    return times, out


def pages(content: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(content)).pages)


def with_cid_font(render: Callable[[], bytes]) -> Callable[[], bytes]:
    """The same renderer with the old, non-embedded CID font swapped in (benchmark baseline only)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))

    def run() -> bytes:
        original = pdf._font
        pdf._font = lambda: "STSong-Light"  # type: ignore[assignment]
        pdf._styles.cache_clear()
        try:
            return render()
        finally:
            pdf._font = original  # type: ignore[assignment]
            pdf._styles.cache_clear()

    return run


def summary(times: list[float], content: bytes) -> dict[str, float]:
    return {
        "ms_median": round(statistics.median(times), 1),
        "ms_max": round(max(times), 1),
        "kb": round(len(content) / 1024, 1),
        "pages": pages(content) if content.startswith(b"%PDF") else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("--reports", type=int, default=20)
    args = parser.parse_args()
    data = sample_report(args.records)

    start = time.perf_counter()
    from render.fonts import pdf_font

    pdf_font()
    font_load_ms = (time.perf_counter() - start) * 1000

    def report() -> bytes:
        return pdf.render_report(data, "安康市公共信用信息平台")

    embedded_times, embedded = timed(report, args.reports)
    cid_times, cid = timed(with_cid_font(report), args.reports)

    from render.charts import render_chart

    rates = [DeptRate(f"D{i:02d}", f"安康市第{i}局", f"第{i}局", i % 7, 6) for i in range(30)]
    render_chart(rates, "2026-11")  # font registration and matplotlib import, once
    chart_times, chart = timed(lambda: render_chart(rates, "2026-11"), max(3, args.reports // 4))

    print(json.dumps({
        "benchmark": "documents",
        "records": args.records,
        "reports": args.reports,
        "font_load_ms": round(font_load_ms, 1),
        "report_embedded_font": summary(embedded_times, embedded),
        "baseline_cid_font_not_embedded": summary(cid_times, cid),
        "chart_png_30_departments": {"ms_median": round(statistics.median(chart_times), 1), "kb": round(len(chart) / 1024, 1)},
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
