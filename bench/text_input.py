"""What the one rule for names and free text (rules/text_input.py) costs an import, per cell.

    python -m bench.text_input --rows 100000

Every cell of `--rows` generated 行政处罚 rows (db/importers/samples.py, the national template's
shape) goes through the rule as the importer applies it: names through `name_text`, every other
cell through `free_text`. Baseline in the same run: the `str.strip` every cell already got. A second
pass measures cells that do hold what the rule removes (a zero-width space, a line break). Prints
ONE JSON line, with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import time

from db.importers.samples import penalty_row
from rules.text_input import free_text, name_text

NAME_COLUMNS = frozenset({"行政相对人名称", "法定代表人", "行政处罚决定书文号", "处罚机关", "数据来源单位"})


def _cells(rows: int, dirty: bool) -> list[tuple[bool, str]]:
    out = []
    for i in range(rows):
        for column, value in penalty_row(i).items():
            text = f"{value[:3]}\u200b{value[3:]}\n" if dirty and value else value
            out.append((column in NAME_COLUMNS, text))
    return out


def _time(cells: list[tuple[bool, str]], rule: bool) -> float:
    started = time.perf_counter()
    if rule:
        for is_name, text in cells:
            name_text(text) if is_name else free_text(text).strip()
    else:
        for _is_name, text in cells:
            text.strip()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="名称与自由文本规则的开销（每个单元格）")
    p.add_argument("--rows", type=int, default=100_000)
    args = p.parse_args(argv)
    result: dict[str, object] = {"rows": args.rows, "load_average": round(os.getloadavg()[0], 1)}
    for label, dirty in (("clean_cells", False), ("cells_with_invisible_characters", True)):
        cells = _cells(args.rows, dirty)
        baseline = min(_time(cells, False) for _ in range(3))
        ours = min(_time(cells, True) for _ in range(3))
        result[label] = {"cells": len(cells), "rule_ns_per_cell": round(ours / len(cells) * 1e9),
                         "baseline_strip_ns_per_cell": round(baseline / len(cells) * 1e9),
                         "rule_s_per_100k_rows": round(ours / args.rows * 100_000, 2)}
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
