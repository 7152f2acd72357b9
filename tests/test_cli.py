"""The command line as an operator meets it: one clear line for what they got wrong, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def run(args: list[str], tmp_path: Path, stdin: str = "", extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITBOT_")}
    env["CREDITBOT_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )


def test_run_without_a_token_points_to_the_demo(tmp_path: Path) -> None:
    result = run(["run"], tmp_path)
    assert result.returncode == 2
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and "token" in lines[0] and "creditbot demo" in lines[0]
    assert "Traceback" not in result.stderr


def test_db_upgrade_then_current(tmp_path: Path) -> None:
    upgraded = run(["db", "upgrade"], tmp_path)
    assert upgraded.returncode == 0 and "已迁移到最新版本" in upgraded.stdout
    current = run(["db", "current"], tmp_path)
    assert current.stdout.strip() == upgraded.stdout.splitlines()[0].rsplit("：", 1)[1]


def test_demo_builds_and_answers_a_typed_query(tmp_path: Path) -> None:
    result = run(["demo", "--subjects", "300"], tmp_path, stdin="查询 安康市恒达建材有限公司\n")
    assert result.returncode == 0, result.stderr
    assert "演示档案已生成：300 个主体" in result.stdout
    assert "【安康市恒达建材有限公司】" in result.stdout
    again = run(["demo", "--no-console"], tmp_path)
    assert again.returncode == 0 and "演示档案已生成" not in again.stdout  # built once, then reused


def test_console_json_answers_a_demo_subject(tmp_path: Path) -> None:
    assert run(["demo", "--subjects", "300", "--no-console"], tmp_path).returncode == 0
    result = run(["console", "--json", "--as", "official"], tmp_path, stdin="查询 安康市恒达建材有限公司\n#1\n")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines.count({"idle": True}) == 2
    card = lines[0]
    assert card["method"] == "sendMessage" and card["text"].startswith("【安康市恒达建材有限公司】")
    assert card["buttons"] == [["逢办必查：选择办理事项"], ["关注该主体（有新记录或预警时提醒我）"]]
    assert any(item.get("text") == "请选择您正在办理的事项：" for item in lines)


def test_invite_and_bind_through_the_console(tmp_path: Path) -> None:
    assert run(["db", "upgrade"], tmp_path).returncode == 0
    assert run(["demo", "--subjects", "300", "--no-console"], tmp_path).returncode == 0
    invite = run(["admin", "invite", "--role", "official", "--dept", "SCJGJ"], tmp_path)
    assert invite.returncode == 0, invite.stderr
    code = invite.stdout.splitlines()[0].split("：", 1)[1].strip()
    result = run(["console", "--json", "--as", "public", "--user", "123456"], tmp_path, stdin=f"/bind {code}\n/whoami\n/bind {code}\n")
    texts = [json.loads(line).get("text", "") for line in result.stdout.splitlines()]
    assert any(t.startswith("绑定成功。您的角色：办事人员") for t in texts)
    assert any("已被使用" in t for t in texts)
    bad = run(["admin", "invite", "--role", "official", "--dept", "NOPE"], tmp_path)
    assert bad.returncode == 2 and bad.stderr.strip().startswith("找不到部门代码 NOPE。可用的部门代码：SCJGJ、FGW、")


def test_an_unreachable_database_is_one_chinese_line(tmp_path: Path) -> None:
    for command in (["console", "--as", "public"], ["db", "upgrade"], ["api", "--port", "1"]):
        done = run([*command, "--db", "postgresql://postgres:s3cret@127.0.0.1:1/nowhere"], tmp_path)
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert "无法连接数据库" in done.stderr and "Traceback" not in done.stderr, command
        assert "s3cret" not in done.stderr + done.stdout  # the password never reaches the terminal


async def test_the_console_keeps_only_the_index_refresh(harness) -> None:  # type: ignore[no-untyped-def]
    """Reminders and digests belong to other chats: a console must not claim and swallow them."""
    from bot.cli import CONSOLE_JOBS, keep_console_jobs
    from bot.jobs import schedule_jobs
    from handlers import schedule_conversation_jobs

    app = harness.app
    schedule_jobs(app)
    schedule_conversation_jobs(app)
    before = {job.name for job in app.job_queue.jobs()}
    assert any(name.startswith("reminders") for name in before) and "risk digest" in before
    keep_console_jobs(app)
    assert {job.name for job in app.job_queue.jobs() if job.enabled and not job.removed} <= CONSOLE_JOBS


async def test_the_index_refresh_follows_its_setting(db) -> None:  # type: ignore[no-untyped-def]
    """`index.refresh_seconds` sets how soon the bot finds a new name (it was fixed at 30 s)."""
    from dataclasses import replace

    from services.settings import IndexSettings
    from tests.conftest import _harness, settings_for

    settings = replace(settings_for(db), index=IndexSettings(refresh_seconds=7))
    async for h in _harness(db, settings):
        (job,) = h.app.job_queue.get_jobs_by_name("refresh_name_index")
        assert job.job.trigger.interval.total_seconds() == 7
        for each in h.app.job_queue.jobs():
            each.schedule_removal()


def _all_parsers(parser):  # type: ignore[no-untyped-def]
    """The parser and every sub-command's parser, depth first."""
    import argparse

    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                yield from _all_parsers(sub)


def test_help_and_mistakes_are_in_chinese(capsys) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from bot.cli import build_parser

    parsers = list(_all_parsers(build_parser()))
    assert len(parsers) > 20
    for p in parsers:
        text = p.format_help()
        assert text.startswith("用法：") and "显示此帮助并退出" in text, p.prog
        for english in ("usage:", "options:", "show this help", "positional arguments"):
            assert english not in text, (p.prog, english)
    for argv, said in (
        (["console", "--as", "nobody"], "creditbot console：错误：参数 --as：无效的取值 'nobody'（可选："),
        (["console", "--user", "x"], "参数 --user：'x' 不是有效的整数"),
        (["admin", "invite"], "creditbot admin invite：错误：缺少必需的参数：--role"),
        (["--bogus", "run"], "creditbot：错误：无法识别的参数：--bogus"),
    ):
        with pytest.raises(SystemExit) as stop:
            build_parser().parse_args(argv)
        err = capsys.readouterr().err
        assert stop.value.code == 2 and said in err and err.startswith("用法："), err
