"""The batch check as an Excel workbook, for procurement staff checking every bidder at once."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from bot.api.schemas import BatchOut
from rules.measures import MATTERS
from rules.text_input import free_text

HEADER = ["序号", "提交内容", "是否确定主体", "主体名称", "统一社会信用代码", "严重失信主体名单", "经营异常名录",
          "应采取的措施", "依据", "核查编号", "说明或候选"]


def _safe(value: object) -> object:
    """A cell as a worksheet can hold it and Excel shows it. Names and texts come from requests and
    from the archive (rows stored before rules/text_input.py existed may hold a control character,
    which openpyxl refuses with IllegalCharacterError, failing the whole export): controls, bidi
    overrides and invisible characters are removed here, on output; a text starting with = + - @
    would be a formula in Excel, so it is kept as text."""
    if not isinstance(value, str):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", free_text(value))
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def batch_workbook(batch: BatchOut) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(f"逢办必查-{MATTERS[batch.matter]}"[:31].replace("/", "、"))
    ws.append(HEADER)
    for line in batch.lines:
        check = line.check
        if check is not None:
            row: list[object] = [
                line.index + 1, line.query, "是", check.subject.name, check.subject.uscc or check.subject.id_masked,
                "是" if line.blacklist else "否", "是" if line.abnormal_list else "否",
                "\n".join(m.text + ("" if m.confirmed else "（依据待核实）") for m in check.measures)
                or "无，本事项无需采取失信惩戒措施",
                "\n".join(f"{m.basis}；实施主体：{m.implementer}" for m in check.measures), check.check_id,
                "\n".join([*(f"{n.list}：{n.reason}" for n in check.not_restricted), *check.notes]),
            ]
        else:
            names = "；".join(f"{c.name}（{c.uscc or c.id_masked or ''}）" for c in line.candidates)
            row = [line.index + 1, line.query, "否", "", "", "", "", "", "", "",
                   " ".join(p for p in (line.note or "", names) if p)]
        ws.append([_safe(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
