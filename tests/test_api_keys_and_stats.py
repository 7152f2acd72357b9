"""API keys from the command line (shown once, only a hash kept, revocable) and 逢办必查 statistics
that count port checks beside chat checks, in the chat and in the CLI."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from db import migrate
from db.demo.load import build_demo
from db.models import ApiKey, Subject
from db.regions import default_region, seed_region
from db.session import Database
from services.api_checks import raise_api_check, viewer_for
from services.apikeys import KEY_CACHE_SECONDS, KeyCache, authenticate, create_key, revoke_key
from tests.conftest import BotHarness


def cli(args: list[str], db_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITBOT_")}
    env["CREDITBOT_DATABASE_URL"] = db_url
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=120)


async def test_apikey_create_list_revoke_from_the_cli(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'keys.sqlite3'}"
    db = Database(url)
    try:
        await migrate.upgrade(db)
        await seed_region(db, default_region())
        created = cli(["admin", "apikey", "create", "--dept", "FGW", "--name", "公共资源交易系统",
                       "--scopes", "check,query"], url, tmp_path)
        assert created.returncode == 0, created.stderr
        key = re.search(r"ck_[0-9a-f]{8}_\S+", created.stdout)
        assert key is not None
        principal = await authenticate(db, key.group(0))
        assert principal is not None and principal.scopes == {"check", "query"}
        async with db.sessions() as s:
            stored = (await s.scalars(select(ApiKey))).one()
        assert stored.key_hash != key.group(0) and key.group(0) not in (stored.prefix, stored.name, stored.scopes)
        listed = cli(["admin", "apikey", "list"], url, tmp_path)
        assert stored.prefix in listed.stdout and "公共资源交易系统" in listed.stdout and "有效" in listed.stdout
        assert key.group(0) not in listed.stdout
        revoked = cli(["admin", "apikey", "revoke", stored.prefix], url, tmp_path)
        assert revoked.returncode == 0 and "已吊销" in revoked.stdout
        assert await authenticate(db, key.group(0)) is None
        bad = cli(["admin", "apikey", "create", "--dept", "NOPE", "--name", "x", "--scopes", "check"], url, tmp_path)
        assert bad.returncode == 2 and "找不到部门代码" in bad.stderr and "Traceback" not in bad.stderr
        scope = cli(["admin", "apikey", "create", "--dept", "FGW", "--name", "x", "--scopes", "check,admin"],
                    url, tmp_path)
        assert scope.returncode == 2 and "未知的权限范围" in scope.stderr
        stats = cli(["stats"], url, tmp_path)
        assert stats.returncode == 0 and "聊天 0 次，接口 0 次" in stats.stdout
    finally:
        await db.dispose()


async def test_stats_count_api_checks_beside_chat_checks(harness: BotHarness) -> None:
    await build_demo(harness.db, n_subjects=60)
    await harness.refresh()
    async with harness.db.sessions() as s:
        subject_id = await s.scalar(select(Subject.id).where(Subject.name == "安康市鑫源矿业有限公司"))
    assert subject_id is not None
    new = await create_key(harness.db, "YJJ", "招投标系统", "check")
    principal = await authenticate(harness.db, new.key)
    assert principal is not None
    for matter in ("tender", "award"):
        await raise_api_check(harness.db, principal, viewer_for(principal), subject_id, matter, dt.date(2026, 11, 30),
                              "ZB-1", "李四")
    admin = await harness.chat("admin", dept="YJJ")
    stats = "\n".join(m.text or "" for m in await harness.say(admin, "/stats"))
    assert "共 2 次（聊天 0 次，接口 2 次）" in stats and "未反馈 2 次" in stats


async def test_a_cached_key_is_refused_once_its_revocation_is_older_than_the_cache(db: Database) -> None:
    await seed_region(db, default_region())
    new = await create_key(db, "FGW", "公共资源交易系统", "check")
    other = await create_key(db, "FGW", "招投标系统", "check")
    now = [1000.0]
    cache = KeyCache(db, clock=lambda: now[0])
    assert cache.ttl == KEY_CACHE_SECONDS == 10.0
    first = await cache.authenticate(new.key)
    assert first is not None and first.prefix == new.prefix
    await revoke_key(db, new.prefix)
    now[0] += KEY_CACHE_SECONDS - 0.5  # within the TTL the worker still trusts what it verified
    assert await cache.authenticate(new.key) == first
    now[0] += 1.0
    assert await cache.authenticate(new.key) is None
    assert await cache.authenticate(new.key) is None  # and it stays refused
    assert (await cache.authenticate(other.key)) is not None  # the other key is untouched
    assert await cache.authenticate("ck_00000000_not-a-key") is None
    assert await cache.authenticate(new.key + "x") is None
