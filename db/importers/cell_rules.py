"""What a cell's *type* says about its content, as one Chinese sentence for the row error.

- Excel keeps 15 significant digits in a number cell. An 18-character USCC or ID number typed into
  one (all digits, as many are) silently loses its last digits: 610902199001011234 becomes
  610902199001011000. Validating the damaged value used to blame the check character; the real fix
  for the collector is to format the column as text and type the numbers again. CSV exported from
  such a sheet carries the same damage as scientific notation (6.10902E+17).
- A formula whose result was never saved (a file written by a program, not by Excel) has no value
  we could import; an error value (#N/A, #REF!) is not data either.
"""

from __future__ import annotations

import re

from db.importers.reading import Unevaluated

EXCEL_DIGITS = 15
_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:\.\d+)?[eE][+-]?\d+$")


def lost_digits_reason(text: str, from_number_cell: bool, what: str) -> str | None:
    """None when the text can be a code as typed; else why it cannot (shape: one sentence)."""
    digits = text.replace(".", "", 1).lstrip("+-")
    if from_number_cell and digits.isdigit() and len(text.split(".")[0].lstrip("+-")) > EXCEL_DIGITS:
        return (
            f"该单元格是数字格式，Excel 数字只保留 {EXCEL_DIGITS} 位有效数字，{what}已丢失末尾数字；"
            "请把此列设为“文本”格式，重新填写后再导入"
        )
    if _SCIENTIFIC.match(text):
        return (
            f"{what}“{text}”已被表格软件显示为科学计数法并丢失了末尾数字；请把此列设为“文本”格式，"
            "重新填写后再导出"
        )
    return None


def unevaluated_reason(cell: Unevaluated) -> str:
    if cell.formula.startswith("#"):
        return f"单元格是错误值 {cell.formula[:16]}（公式计算出错），请改正后重新导出"
    return (
        "单元格是公式，但文件中没有保存计算结果；请在 Excel 或 WPS 中打开并保存，"
        "或把公式粘贴为数值后重新导入"
    )


__all__ = ["lost_digits_reason", "unevaluated_reason"]
