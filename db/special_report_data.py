"""The 专项信用报告's field list and sections: `db/data/special_report_v<version>.toml`, the newest
file, read once per process (rules/special_report.py explains the contents and their sources)."""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path

from rules.special_report import Catalogue, SpecialReportDataError, parse_catalogue

DATA_DIR = Path(__file__).resolve().parent / "data"


@functools.cache
def current_catalogue() -> Catalogue:
    files = sorted(DATA_DIR.glob("special_report_v*.toml"))
    if not files:
        raise SpecialReportDataError("没有专项信用报告领域数据文件")
    catalogues = []
    for path in files:
        try:
            catalogues.append(parse_catalogue(tomllib.loads(path.read_text(encoding="utf-8"))))
        except (tomllib.TOMLDecodeError, SpecialReportDataError) as exc:
            raise SpecialReportDataError(f"{path.name}: {exc}") from None
    return max(catalogues, key=lambda c: tuple(int(x) for x in c.version.split(".")))
