"""Logs never carry an ID number, a phone number or the bot token — including crash reports."""

from __future__ import annotations

import logging

import pytest

from bot.logging_setup import PrivacyFilter, ZonedFormatter
from db.session import Database
from tests.conftest import BotHarness

ID = "610902199001011234"
PHONE = "13912345678"
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"


def test_filter_masks_numbers_and_token() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "id %s phone %s token %s", (ID, PHONE, TOKEN), None)
    assert PrivacyFilter().filter(record)
    message = record.getMessage()
    assert ID not in message and PHONE not in message and TOKEN not in message
    assert "610902********1234" in message and "139****5678" in message and "<token>" in message


def test_log_times_are_in_the_settings_zone_with_their_offset() -> None:
    """The host clock may run in UTC while the scheduler logs its runs in Beijing time: a line is
    stamped in the configured zone, offset included, whatever the host's zone."""
    from zoneinfo import ZoneInfo

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "next run", None, None)
    record.created = 1_796_515_200.25  # 2026-12-06 00:00:00.25 UTC
    shanghai = ZonedFormatter("%(asctime)s %(message)s", ZoneInfo("Asia/Shanghai")).format(record)
    assert shanghai == "2026-12-06 08:00:00.250+08:00 next run"
    assert ZonedFormatter("%(asctime)s", ZoneInfo("UTC")).format(record) == "2026-12-06 00:00:00.250+00:00"


def test_a_port_worker_process_logs_through_the_filter(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`creditbot api --workers 2` starts each worker as a fresh interpreter at `app_from_env`, which
    the CLI's logging set-up never reached: a line it logs is masked and stamped all the same."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = ("import logging; from bot.api.app import app_from_env; app_from_env(); "
            f"logging.getLogger('bot.api').warning('查询 {ID} 电话 {PHONE}')")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITBOT_")}
    env["CREDITBOT_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'worker.sqlite3'}"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr[-2000:]
    assert ID not in done.stderr and PHONE not in done.stderr
    assert "610902********1234" in done.stderr and "+08:00 WARNING bot.api:" in done.stderr


async def test_crash_report_is_scrubbed(harness: BotHarness, caplog: pytest.LogCaptureFixture) -> None:
    """A handler failing on a message that carries an ID and a phone number logs neither."""
    chat = await harness.chat("official")
    services = harness.app.bot_data["services"]  # type: ignore[attr-defined]
    index = services.index
    services.index = object()  # not an index: a genuine crash inside the query handler
    try:
        with caplog.at_level(logging.ERROR):
            out = await harness.say(chat, f"查询 {ID} 电话 {PHONE}")
    finally:
        services.index = index
    assert any("抱歉" in (o.text or "") for o in out)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "update" in logged and "AttributeError" in logged
    assert ID not in logged and PHONE not in logged


def test_database_errors_lose_their_sql_and_parameters() -> None:
    from rules.masking import scrub

    logged = scrub(
        "sqlalchemy.exc.DBAPIError: (asyncpg.Error) invalid byte sequence\n"
        "[SQL: UPDATE checks SET feedback_note=$1::VARCHAR WHERE checks.id = $2::INTEGER]\n"
        "[parameters: ('联系人张小明 住汉滨区某街 12 号', 5)]\n"
        "(Background on this error at: https://sqlalche.me/e/20/dbapi)"
    )
    assert "UPDATE" not in logged and "张小明" not in logged and "某街" not in logged
    assert "DBAPIError" in logged and "Background" in logged  # what happened is still told


async def test_engine_logging_at_debug_never_shows_parameter_values(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """An operator who turns SQLAlchemy's logger up to DEBUG sees statements, never the values bound
    to them (the engine is made with hide_parameters)."""
    from sqlalchemy import text

    with caplog.at_level(logging.DEBUG, logger="sqlalchemy.engine"):
        async with db.transaction() as s:
            await s.execute(text("SELECT :who AS who"), {"who": "联系人张小明 " + ID})
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "SELECT" in logged  # the statement itself was logged
    assert "张小明" not in logged and ID not in logged
