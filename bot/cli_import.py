"""`creditbot import FILE`: load a department's spreadsheet or export into the archive, all or nothing.

Exit status: 0 imported (or checked, with --dry-run) without errors; 1 rows failed validation and
nothing was written; 2 the file (or the database, or the department code) could not be used at all.
A bad file is always one Chinese line, never a traceback: the people running this are data
collectors, not developers.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from db.importers.reading import estimate_rows
from db.importers.templates import EDITION_LABELS, KIND_LABELS, KINDS
from services.imports import ImportReport, import_file
from services.settings import ConfigError, Settings, with_database

EXIT_OK, EXIT_INVALID, EXIT_UNUSABLE = 0, 1, 2
MAX_ERRORS_SHOWN = 200


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "import",
        help="导入主体名录、行政处罚、行政许可或其他信用信息文件（CSV / XLSX）",
        description="逐行校验后整体导入：任何一行有错误，则整个文件都不写入。",
    )
    p.add_argument("file", type=Path, metavar="FILE", help="CSV（UTF-8 / GBK）或 XLSX 文件")
    p.add_argument("--dept", metavar="CODE", help="报送部门代码（departments 表中的 code）")
    p.add_argument("--kind", choices=KINDS, help="模板类型；不指定时按表头自动识别")
    p.add_argument("--db", metavar="URL", help="数据库地址（默认取配置中的 database.url）")
    p.add_argument("--dry-run", action="store_true", help="只校验并统计，不写入")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    console = Console(stderr=True)
    out = Console()
    try:
        settings = with_database(settings, getattr(args, "db", None))
    except ConfigError as exc:
        console.print(f"[red]{exc}[/red]")
        return EXIT_UNUSABLE
    path: Path = args.file
    if not path.is_file():
        console.print(f"[red]找不到文件：{path}[/red]")
        return EXIT_UNUSABLE

    from sqlalchemy.exc import SQLAlchemyError

    from bot.calendar_settings import calendar_from_settings
    from db.session import Database
    from services.database_setup import prepare_database

    db = Database(settings.database.url)
    total = estimate_rows(path)
    calendar = calendar_from_settings(settings)
    try:
        # A new database is migrated (and its departments loaded) here as the bot and the demo do:
        # importing is often the first thing run against it, and "no such table" helps nobody.
        try:
            await prepare_database(db, settings.region.division_code)
        except (SQLAlchemyError, OSError) as exc:
            console.print(f"[red]无法打开或初始化数据库（{type(exc).__name__}），请检查 --db 或 database.url[/red]")
            return EXIT_UNUSABLE
        with Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=console, transient=True, disable=not console.is_terminal,
        ) as bar:
            task = bar.add_task("校验中" if args.dry_run else "导入中", total=total)
            report = await import_file(
                db,
                path,
                kind=args.kind,
                dept_code=args.dept,
                dry_run=args.dry_run,
                id_key=settings.privacy.id_hash_key,
                progress=lambda n: bar.update(task, completed=n),
                calendar=calendar,
            )
    finally:
        await db.dispose()
    _print(out, report)
    if report.fatal:
        return EXIT_UNUSABLE
    return EXIT_INVALID if report.error_count else EXIT_OK


def _print(out: Console, report: ImportReport) -> None:
    if report.fatal:
        out.print(f"[red]无法导入 {report.file_label}：{report.fatal}[/red]")
        return
    summary = Table(title=f"{report.file_label}", show_header=False, title_justify="left")
    summary.add_column("项目", style="bold")
    summary.add_column("值", justify="right")
    kind = KIND_LABELS.get(report.kind or "", "")
    edition = EDITION_LABELS.get(report.edition or "", "")
    summary.add_row("模板", f"{kind}（{edition}）" if edition else kind)
    if report.encoding or report.sheet:
        summary.add_row("编码 / 工作表", report.encoding or report.sheet or "")
    summary.add_row("读取行数", str(report.rows_read))
    pending = "" if report.written else "（未写入）"
    summary.add_row(f"新增{pending}", str(report.new))
    summary.add_row(f"更新{pending}", str(report.updating))
    summary.add_row("未变化", str(report.unchanged))
    if report.subjects_created:
        summary.add_row(f"新建主体{pending}", str(report.subjects_created))
    summary.add_row("错误", str(report.error_count))
    summary.add_row("用时", f"{report.seconds:.1f} 秒")
    out.print(summary)
    if report.ignored_columns:
        out.print(f"[yellow]未识别、已忽略的列：{'、'.join(report.ignored_columns)}[/yellow]")
    if report.duplicate_columns:
        shown = "、".join(f"“{dup}”（同“{main}”）" for dup, main in report.duplicate_columns)
        out.print(f"[yellow]重复的列（与前面的列是同一项，按前面的列读取）：{shown}[/yellow]")
    if report.error_count:
        errors = Table("行号", "列", "原因", title="错误明细", title_justify="left")
        for e in report.errors[:MAX_ERRORS_SHOWN]:
            errors.add_row(str(e.row), e.column or "", e.reason)
        out.print(errors)
        if report.error_count > MAX_ERRORS_SHOWN:
            out.print(f"……另有 {report.error_count - MAX_ERRORS_SHOWN} 处错误未列出")
        out.print("[red]发现错误，未写入任何数据。请修改文件后重新导入。[/red]")
    elif report.dry_run:
        out.print("[green]检查通过（--dry-run，未写入）。[/green]")
    else:
        out.print("[green]导入完成。[/green]")
