"""The console leaves every document and photo the bot sends in a folder and prints where."""

from __future__ import annotations

import io
import json
from pathlib import Path

from bot.cli import build_parser
from bot.console import run_console
from bot.console_files import DEFAULT_DIR, FileSaver, safe_name
from tests.conftest import BotHarness
from tests.test_lifecycle_support import HENGDA
from tests.test_report_pdf import seed_company


async def test_json_mode_saves_the_report_and_names_the_path(harness: BotHarness, tmp_path: Path) -> None:
    await seed_company(harness)
    chat = await harness.chat("official", dept="SCJGJ")
    stdout = io.StringIO()
    folder = tmp_path / "下载"
    await run_console(chat, json_mode=True, stdin=io.StringIO(f"/report {HENGDA}\n"), stdout=stdout, saver=FileSaver(folder))
    lines = [json.loads(line) for line in stdout.getvalue().splitlines()]
    docs = [item for item in lines if item.get("method") == "sendDocument"]
    assert len(docs) == 1 and docs[0]["document"].startswith("信用报告-")
    saved = Path(docs[0]["saved"])
    assert saved.is_absolute() and saved.parent == folder.resolve() and saved.name == docs[0]["document"]
    sent = next(o for o in harness.transport.sent if o.method == "sendDocument")
    assert saved.read_bytes() == sent.content and sent.content.startswith(b"%PDF")
    texts = [item for item in lines if item.get("method") == "sendMessage"]
    assert all("saved" not in item for item in texts)  # plain messages have no file


async def test_terminal_view_prints_the_saved_path(harness: BotHarness, tmp_path: Path) -> None:
    await seed_company(harness)
    chat = await harness.chat("official", dept="SCJGJ")
    stdout = io.StringIO()
    saver = FileSaver(tmp_path)
    await run_console(chat, json_mode=False, stdin=io.StringIO(f"/report {HENGDA}\n/report {HENGDA}\n"), stdout=stdout, saver=saver)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 2 and all(name.endswith(".pdf") for name in files)
    shown = stdout.getvalue().replace("\n", "").replace("│", "").replace(" ", "")
    for name in files:
        assert name in shown  # the panel wraps long lines; the path is all there once joined
    assert "已保存到：" in shown


def test_same_name_twice_keeps_both_and_names_stay_inside_the_folder(tmp_path: Path) -> None:
    saver = FileSaver(tmp_path / "out")
    first = saver.save("ontime-2026-11.png", b"one")
    second = saver.save("ontime-2026-11.png", b"two")
    assert (first.name, second.name) == ("ontime-2026-11.png", "ontime-2026-11-2.png")
    assert first.read_bytes() == b"one" and second.read_bytes() == b"two"
    climbing = saver.save("../../etc/passwd", b"x")
    assert climbing.parent == (tmp_path / "out").resolve()
    assert safe_name(None) == "文件" and safe_name("a:b?.pdf") == "a_b_.pdf"


def test_cli_option_and_default_folder() -> None:
    parser = build_parser()
    assert parser.parse_args(["console"]).save_dir is None  # → var/console
    assert Path("var/console") == DEFAULT_DIR
    assert parser.parse_args(["console", "--save-dir", "/tmp/x"]).save_dir == Path("/tmp/x")


async def test_an_unwritable_folder_is_reported_in_the_protocol(harness: BotHarness, tmp_path: Path) -> None:
    await seed_company(harness)
    chat = await harness.chat("official", dept="SCJGJ")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    stdout = io.StringIO()
    await run_console(chat, json_mode=True, stdin=io.StringIO(f"/report {HENGDA}\n"), stdout=stdout, saver=FileSaver(blocker))
    lines = [json.loads(line) for line in stdout.getvalue().splitlines()]  # every line still JSON
    assert any(item.get("error", "").startswith("文件未能保存") for item in lines)
    doc = next(item for item in lines if item.get("method") == "sendDocument")
    assert "saved" not in doc and lines[-1] == {"idle": True}
