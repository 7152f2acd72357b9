"""Working-day deadlines where people meet them: `/due` in chat, `creditbot due`, and a configured
holiday override moving a 2027 deadline (a year the holiday libraries do not know yet)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def creditbot(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )


async def test_due_in_chat(harness) -> None:  # type: ignore[no-untyped-def]
    chat = await harness.chat("official")
    out = await harness.say(chat, "/due 2026-09-28 行政处罚")
    # National Day week (10-01..10-07) is not counted; make-up Saturday 10-10 is.
    assert "2026-09-28 作出的行政处罚信息，应于 2026-10-13（星期二）前报送（决定之日起 7 个工作日内）" in (out[-1].text or "")


async def test_due_far_dates_are_answered_at_once(harness) -> None:  # type: ignore[no-untyped-def]
    """Years away from today used to walk day by day for 18 s while every other user waited."""
    chat = await harness.chat("collector", dept="SCJGJ")
    for asked, expected in [
        ("/due 0001-01-01 行政许可", "年份超出范围"),
        ("/due 3000-01-01 行政许可", "年份超出范围"),
        ("/due 2099-01-01 行政处罚", "超出可查询范围"),
        ("/due 1950-01-01", "超出可查询范围"),
        ("/due 2027-02-30", "不是有效日期"),
    ]:
        out = await harness.say(chat, asked)
        assert expected in (out[-1].text or ""), asked


def test_due_cli_far_date_is_refused_in_chinese() -> None:
    done = creditbot("due", "1949-10-01", "--today", "2026-10-09")
    assert done.returncode == 2 and "日期相差过远" in done.stderr and "Traceback" not in done.stderr


def test_due_cli() -> None:
    done = creditbot("due", "2026-10-03", "--category", "行政处罚", "--today", "2026-10-09")
    assert done.returncode == 0, done.stderr
    # Decided on a holiday: day 0 is not counted; 10-08, 09, 10(调休), 12, 13, 14, 15.
    assert "应于 2026-10-15（星期四）前报送" in done.stdout
    assert "距今还有 5 个工作日" in done.stdout  # 10-10 (调休), 12, 13, 14, 15


def test_config_holiday_override_moves_a_2027_deadline(tmp_path: Path) -> None:
    base = creditbot("due", "2027-03-01", "--category", "行政处罚", "--today", "2027-03-01", cwd=tmp_path)
    assert "应于 2027-03-10（星期三）前报送" in base.stdout and "尚未公布" in base.stdout
    config = tmp_path / "config.toml"
    config.write_text("[calendar]\nholidays = [2027-03-03, 2027-03-04]\n", encoding="utf-8")
    moved = creditbot("--config", str(config), "due", "2027-03-01", "--category", "行政处罚", "--today", "2027-03-01", cwd=tmp_path)
    assert moved.returncode == 0, moved.stderr
    assert "应于 2027-03-12（星期五）前报送" in moved.stdout
