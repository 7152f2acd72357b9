"""First run: standard database URLs choose the async driver, and `creditbot import` on a brand-new
database migrates it by itself; no log line carries SQL. Calendar and subject-cache fixes too."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot import cli_import
from bot.calendar_settings import calendar_from_settings
from bot.cli import build_parser, run_command
from bot.logging_setup import SQL_LOGGERS, setup_logging
from db.importers import samples as S
from db.importers import writer
from db.models import CreditRecord, Subject
from db.session import Database
from db.urls import UrlError, async_url
from services.imports import import_file
from services.settings import CalendarSettings, ConfigError, Settings, load_settings, with_database
from tests.conftest import _create_pg_database, _drop_pg_database
from tests.test_import_cli import parse

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///var/x.sqlite3", "sqlite+aiosqlite:///var/x.sqlite3"),
        ("sqlite+aiosqlite:///var/x.sqlite3", "sqlite+aiosqlite:///var/x.sqlite3"),
        ("postgresql://u:p@h:5433/db?ssl=require", "postgresql+asyncpg://u:p@h:5433/db?ssl=require"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+psycopg2://u@h/db", "postgresql+asyncpg://u@h/db"),
    ],
)
def test_standard_urls_choose_the_async_driver(given: str, expected: str) -> None:
    assert async_url(given) == expected


@pytest.mark.parametrize("bad", ["mysql://x", "var/x.sqlite3", ""])
def test_other_urls_are_refused_in_chinese(bad: str) -> None:
    with pytest.raises(UrlError, match="数据库地址"):
        async_url(bad)


def test_settings_accept_standard_urls(tmp_path: Path) -> None:
    settings = load_settings(None, env={"CREDITBOT_DATABASE_URL": "postgres://u@h/db"})
    assert settings.database.url == "postgres://u@h/db"
    cfg = tmp_path / "c.toml"
    cfg.write_text('[database]\nurl = "oracle://x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"database\.url"):
        load_settings(cfg, env={})


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_import_on_a_new_database_migrates_it(
    backend: str, tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    pg_name = None
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'new' / 'first.sqlite3'}"
    else:
        pg_name, async_dsn = await _create_pg_database()
        url = async_dsn.replace("postgresql+asyncpg://", "postgres://", 1)  # the form hosting panels give
    rows = [S.penalty_row(i, decision=dt.date(2025, 1, 6)) for i in range(1, 5)]
    path = S.write_csv(tmp_path / "first.csv", S.HEADERS[("penalty", "2021")], rows)
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, {n: logging.getLogger(n).level for n in SQL_LOGGERS})
    setup_logging("DEBUG")  # as `creditbot` with log_level = "DEBUG" would
    caplog.set_level(logging.DEBUG)
    try:
        code = await cli_import.run(parse(["import", str(path), "--db", url]), Settings())
        out = capsys.readouterr()
        assert code == 0, out
        assert "导入完成" in out.out
        db = Database(url)
        try:
            async with db.transaction() as s:
                assert await s.scalar(select(func.count()).select_from(CreditRecord)) == 4
        finally:
            await db.dispose()
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)
        if pg_name:
            await _drop_pg_database(pg_name)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for sql in ("SELECT ", "INSERT ", "no such table", "[parameters"):
        assert sql not in logged


def test_configured_year_is_the_announced_schedule() -> None:
    """2027 as announced in [calendar]: no package estimate is mixed in (02-09/10 are working days)
    and a deadline inside the year is a fact, not provisional."""
    settings = Settings(
        calendar=CalendarSettings(
            holidays=[dt.date(2027, 1, 1), dt.date(2027, 2, 5), dt.date(2027, 2, 8)],
            workdays=[dt.date(2027, 2, 14)],
        )
    )
    cal = calendar_from_settings(settings)
    assert cal.is_workday(dt.date(2027, 2, 9)) and cal.is_workday(dt.date(2027, 2, 10))
    assert not cal.is_workday(dt.date(2027, 2, 5)) and cal.is_workday(dt.date(2027, 2, 14))
    deadline = cal.due_date("行政处罚", dt.date(2027, 2, 4))
    # 5 hol, 6-7 weekend, 8 hol, then 9,10,11,12 (4), 14 make-up Sunday (5), 15, 16 (7)
    assert deadline.due == dt.date(2027, 2, 16) and not deadline.provisional
    # A year the configuration does not mention still comes from the packages.
    assert not calendar_from_settings(Settings()).is_workday(dt.date(2026, 10, 1))


async def test_more_subjects_than_the_cache_holds(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The subject cache used to be cleared in the middle of a batch, leaving rows without a subject
    (production: > 100,000 distinct subjects). A small bound shows the same at test size."""
    monkeypatch.setattr(writer, "SUBJECT_CACHE_MAX", 40)
    rows = [S.penalty_row(i, decision=dt.date(2025, 1, 6), person_every=3) for i in range(1, 301)]
    path = S.write_csv(tmp_path / "many.csv", S.HEADERS[("penalty", "2021")], rows)
    report = await import_file(db, path, id_key="k", today=dt.date(2025, 6, 30), batch_size=100)
    assert report.ok and report.written, report.fatal
    async with db.transaction() as s:
        assert await s.scalar(select(func.count()).select_from(CreditRecord)) == 300
        assert await s.scalar(select(func.count()).select_from(CreditRecord).where(CreditRecord.subject_id.is_(None))) == 0
        assert await s.scalar(select(func.count()).select_from(Subject)) == 300


async def test_import_into_an_unmigrated_database_names_the_cause(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The library call (not the CLI, which migrates first) on a database without tables: the real
    cause in Chinese, and the log line carries neither the statement nor its parameters."""
    rows = [S.penalty_row(i, decision=dt.date(2025, 1, 6), person_every=2) for i in range(1, 5)]
    path = S.write_csv(tmp_path / "p.csv", S.HEADERS[("penalty", "2021")], rows)
    db = Database(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    caplog.set_level(logging.INFO)
    try:
        report = await import_file(db, path, id_key="k", today=dt.date(2025, 6, 30))
    finally:
        await db.dispose()
    assert report.fatal is not None and "数据库尚未初始化" in report.fatal and "creditbot db upgrade" in report.fatal
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "写入数据库失败" in logged
    for leak in ("SELECT", "INSERT", "subjects", S.uscc(1)):
        assert leak not in logged


# -- a database made by `db upgrade` + `import`: every command finds the departments -----------------


async def cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """One `creditbot` command as `main` runs it (parsed, settings with --db), in this event loop."""
    args = build_parser().parse_args(argv)
    code = await run_command(with_database(Settings(), getattr(args, "db", None)), args)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_commands_find_the_departments_without_the_bot_having_started(
    backend: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: "找不到部门代码" for all four until `run`, `api` or `demo` had started once."""
    pg_name = None
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'first.sqlite3'}"
    else:
        pg_name, url = await _create_pg_database()
    rows = [S.penalty_row(i, decision=dt.date(2025, 1, 6)) for i in range(1, 4)]
    path = S.write_csv(tmp_path / "p.csv", S.HEADERS[("penalty", "2021")], rows)
    try:
        code, out, _ = await cli(["db", "upgrade", "--db", url], capsys)
        assert code == 0 and "已载入本地区的 81 个部门" in out
        assert (await cli(["import", str(path), "--db", url], capsys))[0] == 0
        code, out, err = await cli(["admin", "apikey", "create", "--dept", "FGW", "--name", "审批系统", "--db", url], capsys)
        assert code == 0 and "接口密钥" in out, err
        code, out, err = await cli(["admin", "invite", "--role", "official", "--dept", "FGW", "--db", url], capsys)
        assert code == 0 and out.startswith("绑定码："), err
        more = [S.penalty_row(i, decision=dt.date(2025, 1, 6)) for i in range(10, 13)]
        second = S.write_csv(tmp_path / "q.csv", S.HEADERS[("penalty", "2021")], more)
        code, out, err = await cli(["import", str(second), "--dept", "SCJGJ", "--db", url], capsys)
        assert code == 0 and "导入完成" in out, out + err
        code, out, err = await cli(["duties", "list", "--dept", "FGW", "--db", url], capsys)
        assert code == 0 and out.startswith("FGW\t安康市发展和改革委员会\t"), out + err
        code, out, _ = await cli(["admin", "departments", "--db", url], capsys)
        listed = out.splitlines()
        assert code == 0 and len(listed) == 81 and listed[:2] == [
            "SCJGJ\t市市场监管局\t安康市市场监督管理局", "FGW\t市发改委（市信用办）\t安康市发展和改革委员会",
        ]
        code, _, err = await cli(["admin", "invite", "--role", "official", "--dept", "FGX", "--db", url], capsys)
        assert code == 2 and err.startswith("找不到部门代码 FGX。是否是 FGW？可用的部门代码：SCJGJ、FGW、")
        assert all(line.split("\t")[0] in err for line in listed)  # every valid code is named
        # Loading again changes nothing, and a duty an admin switched off stays off.
        assert (await cli(["duties", "remove", "--dept", "FGW", "--category", "行政许可", "--db", url], capsys))[0] == 0
        assert (await cli(["db", "upgrade", "--db", url], capsys))[0] == 0
        code, out, _ = await cli(["duties", "list", "--dept", "FGW", "--db", url], capsys)
        assert code == 0 and "行政许可" not in out
    finally:
        if pg_name:
            await _drop_pg_database(pg_name)


COMMAND_MENTION = re.compile(r'(?<!b")creditbot((?: [a-z][a-z-]*)+)')  # b"creditbot … v1": HMAC labels


def test_messages_name_only_commands_that_exist() -> None:
    """Every `creditbot …` a message or a help text names is a command the parser has (the import
    once pointed to a "creditbot 部门列表" that never existed)."""
    parser = build_parser()
    mentioned: set[str] = set()
    for folder in ("bot", "handlers", "services", "render", "db"):
        for path in (ROOT / folder).rglob("*.py"):
            for match in COMMAND_MENTION.finditer(path.read_text(encoding="utf-8")):
                mentioned.add(match.group(1).strip())
    assert "admin departments" in mentioned and "db upgrade" in mentioned
    for words in sorted(mentioned):
        action: argparse.ArgumentParser | None = parser
        for word in words.split():
            subparsers = [a for a in action._actions if isinstance(a, argparse._SubParsersAction)] if action else []
            if not subparsers:
                break  # the rest are arguments
            action = subparsers[0].choices.get(word)
            assert action is not None, f"messages name `creditbot {words}`, which does not exist"
