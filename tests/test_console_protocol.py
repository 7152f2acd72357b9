"""The console contract other tools drive: one input a line, JSON actions, `{"idle": true}`."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from bot.console import run_console
from tests.conftest import BotHarness

ROOT = Path(__file__).resolve().parents[1]


async def test_json_lines_and_idle_markers(harness: BotHarness) -> None:
    chat = await harness.chat("official")
    stdin = io.StringIO("/start\n#1\n/whoami\n")
    stdout = io.StringIO()
    await run_console(chat, json_mode=True, stdin=stdin, stdout=stdout)
    lines = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert sum(1 for item in lines if item == {"idle": True}) == 3
    first = lines[0]
    assert first["method"] == "sendMessage" and first["chat_id"] == chat.chat.id and "信用通" in first["text"]
    # `#1` with no buttons on screen is reported, not crashed on.
    assert {"error": "没有可以点击的按钮"} in lines
    assert any(item.get("text", "").startswith("角色：办事人员") for item in lines)


async def test_button_press_is_a_callback_query(harness: BotHarness) -> None:
    chat = await harness.chat("official")
    async with harness.db.transaction() as s:
        from db.models import Subject

        s.add(Subject(kind="法人", name="安康市恒达建材有限公司", uscc="91610900MA70XYTL0T", division_code="610902"))
        s.add(Subject(kind="法人", name="汉阴县恒达建材有限公司", uscc="91610921MA70XYTL1R", division_code="610921"))
    await harness.refresh()
    out = await harness.say(chat, "恒达建材")
    assert out and out[-1].buttons, "two near-twins must be offered as buttons"
    labels = [label for row in out[-1].buttons for label in row]
    assert any("汉阴" in label for label in labels) and any("汉滨" in label or "安康市恒达" in label for label in labels)
    card = await harness.say(chat, "#1")
    assert card[0].method == "sendMessage"
    assert card[0].text is not None and card[0].text.startswith("【")


def test_cli_console_json_over_stdin(tmp_path: Path) -> None:
    env = {**os.environ, "CREDITBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'c.sqlite3'}"}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "console", "--json", "--as", "official"],
        input="/help\n查询 不存在的某某公司\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines.count({"idle": True}) == 2
    texts = [item["text"] for item in lines if item.get("method") == "sendMessage"]
    assert any("没有找到" in t for t in texts)
    assert "Traceback" not in result.stderr


async def test_idle_waits_for_background_handlers(harness: BotHarness, tmp_path: Path) -> None:
    """An upload is checked by a block=False handler; `idle` must still follow its whole answer."""
    import datetime as dt

    from db.importers import samples

    rows = [samples.penalty_row(i, decision=dt.date.today() - dt.timedelta(days=3)) for i in range(1, 4)]
    path = samples.write_csv(tmp_path / "处罚.csv", list(rows[0]), rows)
    chat = await harness.chat("collector", dept="SCJGJ")
    stdout = io.StringIO()
    await run_console(chat, json_mode=True, stdin=io.StringIO(f"@{path}\n#1\n"), stdout=stdout)
    lines = [json.loads(line) for line in stdout.getvalue().splitlines()]
    first_idle = lines.index({"idle": True})
    before = " ".join(item.get("text") or "" for item in lines[:first_idle])
    assert "检查通过" in before
    assert lines[first_idle - 1]["buttons"] == [["确认导入", "取消"]]
    after = " ".join(item.get("text") or "" for item in lines[first_idle:])
    assert "已导入" in after and lines[-1] == {"idle": True}



async def test_odd_digits_are_text_and_full_width_digits_press(harness: BotHarness) -> None:
    chat = await harness.chat("official")
    async with harness.db.transaction() as s:
        from db.models import Subject

        s.add(Subject(kind="法人", name="安康市恒达建材有限公司", uscc="91610900MA70XYTL0T", division_code="610902"))
        s.add(Subject(kind="法人", name="汉阴县恒达建材有限公司", uscc="91610921MA70XYTL1R", division_code="610921"))
    await harness.refresh()
    assert (await harness.say(chat, "恒达建材"))[-1].buttons
    for odd in ("#²", "#①", "#1²"):
        out = await harness.say(chat, odd)  # a question like any other, never a crash or a press
        assert out and all("抱歉" not in (o.text or "") for o in out)
        assert all(not (o.text or "").startswith("【") for o in out)
    assert (await harness.say(chat, "恒达建材"))[-1].buttons
    pressed = await harness.say(chat, "＃１")  # a phone's full-width digits press the button
    assert pressed and (pressed[0].text or "").startswith("【")


async def test_ids_keep_growing_across_a_restart(harness: BotHarness) -> None:
    from telegram import Update
    from telegram.ext import TypeHandler

    from bot.console import ConsoleChat

    seen: list[int] = []

    async def record(update: Update, _context: object) -> None:
        seen.append(update.update_id)

    harness.app.add_handler(TypeHandler(Update, record), group=-100)
    first = await harness.chat("enterprise")
    await harness.say(first, "/whoami")
    again = ConsoleChat(harness.app, harness.transport, first.user.id)  # the same user after a restart
    await harness.say(again, "/whoami")
    assert len(seen) == 2 and seen[1] > seen[0]
