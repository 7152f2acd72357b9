"""Settings: defaults, the example file, environment overrides and one-line errors naming the key."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from services.settings import DEFAULT_DB_URL, ConfigError, Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(env={})
    assert settings.database.url == DEFAULT_DB_URL
    assert settings.timezone == "Asia/Shanghai"
    assert settings.telegram.token == ""
    assert settings.region.division_code == "610900"


def test_example_file_is_valid_and_matches_defaults() -> None:
    settings = load_settings(ROOT / "config.example.toml", env={})
    assert settings == Settings()
    assert settings.telegram.mode == "polling"
    assert settings.reminders.times == ["09:00", "15:00"]
    assert settings.calendar.holidays == []


def test_environment_overrides_token_and_database(tmp_path: Path) -> None:
    path = write(tmp_path, '[telegram]\ntoken = "from-file"\n')
    settings = load_settings(
        path,
        env={"CREDITBOT_TELEGRAM_TOKEN": "123:from-env", "CREDITBOT_DATABASE_URL": "postgresql+asyncpg://u@h/db"},
    )
    assert settings.telegram.token == "123:from-env"
    assert settings.database.url == "postgresql+asyncpg://u@h/db"


def test_calendar_dates_are_parsed(tmp_path: Path) -> None:
    path = write(tmp_path, "[calendar]\nholidays = [2027-01-01, \"2027-02-08\"]\nworkdays = [2027-02-14]\n")
    settings = load_settings(path, env={})
    assert settings.calendar.holidays == [dt.date(2027, 1, 1), dt.date(2027, 2, 8)]
    assert settings.calendar.workdays == [dt.date(2027, 2, 14)]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("colour = 1\n", "colour"),
        ("[telegram]\ntokn = \"x\"\n", "telegram.tokn"),
        ("[telegram]\nport = \"8443\"\n", "telegram.port"),
        ("[telegram]\nport = 70000\n", "telegram.port"),
        ("[telegram]\nmode = \"push\"\n", "telegram.mode"),
        ("timezone = \"Mars/Olympus\"\n", "timezone"),
        ("[database]\nurl = \"mysql://x\"\n", "database.url"),
        ("[region]\ndivision_code = \"6109\"\n", "region.division_code"),
        ("[region]\npublic_url = \"credit.example.gov.cn\"\n", "region.public_url"),
        ("[reminders]\ntimes = [\"25:00\"]\n", "reminders.times"),
        ("[calendar]\nholidays = [\"2027-13-01\"]\n", "calendar.holidays"),
        ("[privacy]\nmask_addresses = \"yes\"\n", "privacy.mask_addresses"),
        ("[index]\nrefresh_seconds = 0\n", "index.refresh_seconds"),
        ("[index]\nrefresh_seconds = 100000000000\n", "index.refresh_seconds"),
        ("telegram = 5\n", "telegram"),
    ],
)
def test_bad_settings_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text), env={})
    assert info.value.key == key
    assert key in str(info.value)
    assert "\n" not in str(info.value)


def test_broken_toml_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, "[telegram\n"), env={})
    assert "TOML" in str(info.value)


def test_cli_stops_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, "[telegram]\nmode = \"push\"\n")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--config", str(path), "db", "current"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["配置错误：telegram.mode 只能是 polling 或 webhook"]
    assert "Traceback" not in result.stderr + result.stdout
