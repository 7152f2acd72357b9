"""Admin side of collection: /duties, /overdue, the on-time chart, `creditbot duties` and `remind`;
and the hand-written migration 0002 against the models."""

from __future__ import annotations

import argparse
import datetime as dt
import json

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import update

from bot import cli_collect
from db.models import Base, ReportingDuty
from db.session import Database
from services.settings import DatabaseSettings, Settings
from tests.test_collect_upload import penalty_file, until

MINE = {"reporting_duties", "uploads", "period_reports", "reminder_claims"}


async def test_migration_matches_models(db: Database) -> None:
    def diff(connection):  # type: ignore[no-untyped-def]
        ctx = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(ctx, Base.metadata)

    async with db.engine.connect() as conn:
        changes = await conn.run_sync(diff)

    def touches_mine(change) -> bool:  # type: ignore[no-untyped-def]
        items = change if isinstance(change, list) else [change]
        for item in items:
            for part in item[1:]:
                names = {part} if isinstance(part, str) else {getattr(part, "name", None)}
                table = getattr(part, "table", None)
                names.add(getattr(table, "name", None))
                if names & MINE:
                    return True
        return False

    mine = [c for c in changes if touches_mine(c)]
    assert mine == []
    assert {t for t in Base.metadata.tables if t in MINE} == MINE


async def test_duties_in_chat(harness) -> None:  # type: ignore[no-untyped-def]
    admin = await harness.chat("admin", dept="FGW")
    out = await harness.say(admin, "/duties JTJ")
    assert "安康市交通运输局（JTJ）的报送职责" in (out[-1].text or "") and "· 行政处罚（7 个工作日内）" in (out[-1].text or "")
    out = await harness.say(admin, "/duties add 奖励 JTJ")
    assert "已添加“行政奖励”报送职责" in (out[-1].text or "")
    assert out[-1].buttons[0] == ["移除 资质资格"]
    out = await harness.say(admin, "#1")  # 移除 资质资格
    assert "已移除“资质资格”" in (out[-1].text or "") and "· 资质资格" not in (out[-1].text or "")
    collector = await harness.chat("collector", dept="JTJ")
    out = await harness.say(collector, "/duties")
    assert "仅限系统管理员" in (out[-1].text or "")
    county = await harness.chat("admin", dept="610902-SCJGJ")
    out = await harness.say(county, "/duties remove 行政处罚 JTJ")
    assert "只能管理本县区部门" in (out[-1].text or "")


async def test_overdue_and_on_time_chart(harness, tmp_path) -> None:  # type: ignore[no-untyped-def]
    async with harness.db.transaction() as s:
        await s.execute(update(ReportingDuty).values(created_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)))
    collector = await harness.chat("collector", dept="SCJGJ")
    old = dt.date.today() - dt.timedelta(days=40)
    await harness.say(collector, f"@{penalty_file(tmp_path / 'late.csv', 4, old)}")
    await until(harness, lambda o: "确认导入" in str(o.buttons))
    await harness.say(collector, "#1")
    await until(harness, lambda o: "已导入“" in (o.text or ""))

    admin = await harness.chat("admin", dept="FGW")
    out = await harness.say(admin, "/overdue")
    assert not harness.transport.refused  # a long list is split under Telegram's 4,096, never refused
    text = "\n".join(o.text or "" for o in out)  # the whole reply, however many messages it took
    assert "安康市市场监督管理局（SCJGJ）" in text and "逾期未报送：" in text
    assert "本月迟报记录 4 条" in text
    out = await harness.say(admin, "#1")  # 本月按时率图表
    photo = out[-1]
    assert photo.method == "sendPhoto" and (photo.content or b"")[:8] == b"\x89PNG\r\n\x1a\n"
    assert "SCJGJ" in (photo.text or "") and "0.0%（0/4）" in (photo.text or "")
    public = await harness.chat("public")
    assert "仅限系统管理员" in ((await harness.say(public, "/overdue"))[-1].text or "")


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    cli_collect.add_parser(sub)
    return parser.parse_args(argv)


async def test_cli_duties_and_remind(db: Database, capsys) -> None:  # type: ignore[no-untyped-def]
    from bot.cli import answer
    from bot.transport import InProcessBotAPI
    from db.regions import default_region, seed_region
    from services.accounts import ensure_local_account

    settings = Settings(database=DatabaseSettings(url=db.url))
    await seed_region(db, default_region())
    assert await cli_collect.run(_args("duties", "remove", "--dept", "JTJ", "--category", "资质资格"), settings) == 0
    assert "“资质资格”报送职责已移除" in capsys.readouterr().out
    assert await cli_collect.run(_args("duties", "list", "--dept", "JTJ"), settings) == 0
    listed = capsys.readouterr().out
    assert "JTJ\t安康市交通运输局\t行政许可" in listed and "资质资格" not in listed
    assert await answer(cli_collect.run(_args("duties", "add", "--dept", "JTJ", "--category", "火星"), settings)) == 2
    assert "未知的信息类别" in capsys.readouterr().err

    await ensure_local_account(db, 700_400, "collector", "SCJGJ")  # JTJ now has no monthly duty
    assert await cli_collect.run(_args("remind", "--at", "2026-10-27T09:00", "--dry-run"), settings) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["chat_id"] for line in lines] == [700_400]
    assert "报送提醒" in lines[0]["text"] and lines[0]["buttons"][1] == ["今日不再提醒"]
    assert await cli_collect.run(_args("remind", "--at", "2026-10-27T09:00"), settings) == 2
    assert "未配置 Telegram token" in capsys.readouterr().out
    transport = InProcessBotAPI()
    assert await cli_collect.run(_args("remind", "--at", "2026-10-27T09:00"), settings, transport=transport) == 0
    assert "发送 1 条" in capsys.readouterr().out and transport.sent[0].chat_id == 700_400
    assert await cli_collect.run(_args("remind", "--at", "2026-10-27T09:05"), settings, transport=transport) == 0
    assert "发送 0 条，已发送过 1 条" in capsys.readouterr().out
