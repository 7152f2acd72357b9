"""Chinese text for cards, candidate lists and measures. Masking was already applied upstream."""

from __future__ import annotations

from rules.declarations import STATUS_LABELS as DECLARATION_STATUS
from services.lookup import DeclarationView, RecordView, SubjectCard

PAGE_SIZE = 5
PER_CATEGORY = 3
STATUS_NOTES = {"proposed": "拟列入", "unverified": "待核验", "objected": "异议处理中", "expired": "已过公示期", "repaired": "已修复", "revoked": "已撤销", "masked": "暂时屏蔽"}


def record_line(r: RecordView, staff: bool) -> str:
    parts = [f"[{r.category}] {r.decision_date:%Y-%m-%d} {r.doc_number}", r.department]
    if r.title:
        parts.insert(1, r.title)
    if r.severity:
        parts.append(f"严重程度：{r.severity}")
    notes = []
    if r.status in STATUS_NOTES and (staff or r.status == "objected"):
        notes.append(STATUS_NOTES[r.status])
    if r.objection_pending and r.status != "objected":
        notes.append(STATUS_NOTES["objected"])
    if staff and not r.published and r.status == "active":
        notes.append("已过公示期" if r.past_end else "未公示")
    if r.published and r.last_public_day:
        notes.append(f"公示至 {r.last_public_day:%Y-%m-%d}")
    line = " · ".join(parts)
    return line + (f"（{'；'.join(notes)}）" if notes else "")


def card_text(card: SubjectCard, staff: bool, category: str | None = None, page: int = 0) -> tuple[str, bool]:
    """The card and whether more records remain after this page."""
    lines = [f"【{card.name}】"]
    lines += [f"⚠️ {flag}" for flag in card.flags]
    lines.append(f"主体类别：{card.kind}")
    lines.append(f"{card.code_label}：{card.code}")
    if card.legal_rep and card.kind != "自然人":
        lines.append(f"{card.legal_rep_label}：{card.legal_rep}")
    if card.division:
        lines.append(f"所属区划：{card.division}")
    lines.append(f"登记状态：{card.status}")
    records = [r for r in card.records if category is None or r.category == category]
    lines.append("")
    if not records:
        lines += [f"—— {category or '信用记录'} ——", "暂无可查看的记录。"]
        more = False
    elif category is None and page == 0:
        # The first view: per category its count and most recent records; "more" lists them all.
        lines.append("—— 信用记录 ——")
        for cat, n in card.counts.most_common():
            lines.append(f"▸ {cat} {n} 条")
            lines += ["· " + record_line(r, staff) for r in records if r.category == cat][:PER_CATEGORY]
        more = any(n > PER_CATEGORY for n in card.counts.values())
    else:
        # Pages of the full list; with no category filter page 0 was the summary above.
        first = (page - 1 if category is None else page) * PAGE_SIZE
        pages = (len(records) + PAGE_SIZE - 1) // PAGE_SIZE
        title = category or "全部信用记录"
        lines.append(f"—— {title}：{len(records)} 条（第 {first // PAGE_SIZE + 1}/{pages} 页）——")
        lines += ["· " + record_line(r, staff) for r in records[first : first + PAGE_SIZE]]
        more = len(records) > first + PAGE_SIZE
    if card.related and page == 0 and category is None:
        lines += ["", "—— 关联人员与关联主体（仅限办事人员，已记录查询）——", *related_lines(card)]
    if card.declarations and page == 0 and category in (None, "自主申报"):
        lines += ["", "—— 自主申报 ——"] + ["· " + declaration_line(d) for d in card.declarations]
    return "\n".join(lines), more


def related_lines(card: SubjectCard) -> list[str]:
    """Whom the persons behind this subject link it to, and which measures reach them."""
    out = []
    for r in card.related:
        lists = "、".join(dict.fromkeys(item.list_name or item.category for item in r.listings))
        out.append(f"· {r.name}（{r.code}）：{r.relation}" + (f"；名单：{lists}" if lists else ""))
        out += [f"  - {m.text}（{m.list_name}；依据：{m.basis_text}）" for m in r.measures]
    return out


def declaration_line(d: DeclarationView) -> str:
    """Verified ones say 已核验; the rest (shown only to officials and the declarant) say their status."""
    when = f" {d.submitted_on:%Y-%m-%d}" if d.submitted_on else ""
    return f"[{d.category}]{when} {d.headline} · {d.receipt_no}（{DECLARATION_STATUS.get(d.status, d.status)}）"
