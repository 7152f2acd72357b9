"""Two replicas of the port on one PostgreSQL answer alike, including about subjects one of them
has just written (each follows the change feed), and a check raised on one is fed back on the other."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from db.demo.generate import showcase
from db.session import Database
from tests.api_server import ApiServer, Keys, seed, start_server, wait_until
from tests.conftest import _create_pg_database, _drop_pg_database

SHOW = {s.tag: s for s in showcase() if s.tag}
QUERIES = ["恒达建材", "鑫源矿业", SHOW["blacklisted"].uscc, "汉阴的恒达", "hdjc", "完全不存在的某某某公司"]


@pytest.fixture(scope="module")
async def replicas(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[ApiServer, ApiServer, Keys]]:
    pg_name, url = await _create_pg_database()
    db = Database(url)
    servers: list[ApiServer] = []
    try:
        keys = await seed(db, subjects=150)
        for name in ("a", "b"):
            workdir: Path = tmp_path_factory.mktemp(f"replica-{name}")
            servers.append(start_server(url, workdir, name))
        yield servers[0], servers[1], keys
    finally:
        for server in servers:
            server.stop()
        await db.dispose()
        await _drop_pg_database(pg_name)


async def test_two_replicas_on_one_postgresql_answer_the_same(replicas: tuple[ApiServer, ApiServer, Keys]) -> None:
    a, b, keys = replicas
    headers = {"X-API-Key": keys.full}
    async with httpx.AsyncClient(headers=headers, timeout=30) as c:
        for q in QUERIES:
            ra = (await c.get(f"{a.url}/v1/lookup", params={"q": q})).json()
            rb = (await c.get(f"{b.url}/v1/lookup", params={"q": q})).json()
            assert ra == rb, q
        # A subject pushed through replica A is found on both.
        row = {"行政相对人名称": "安康市澜沧新材料科技有限公司", "行政相对人类别": "法人",
               "行政相对人代码_1": "91610900MA70000010", "行政许可决定文书号": "安发改许〔2026〕88号",
               "行政许可决定文书名称": "企业投资项目备案", "许可类别": "普通", "许可内容": "新材料项目备案",
               "许可决定日期": "2026-11-24", "有效期自": "2026-11-24", "许可机关": "安康市应急管理局",
               "数据来源单位": "安康市应急管理局"}
        pushed = await c.post(f"{a.url}/v1/records/license", json={"rows": [row]})
        assert pushed.status_code == 200, pushed.text
        assert pushed.json()["subjects_created"] == 1

        async def found_on_both() -> bool:
            for server in (a, b):
                r = (await c.get(f"{server.url}/v1/lookup", params={"q": "澜沧新材料"})).json()
                if not (r["status"] == "clear" and r["subject"]["uscc"] == "91610900MA70000010"):
                    return False
            return True

        # By code at once on both (codes are looked up in the database) ...
        for server in (a, b):
            r = (await c.get(f"{server.url}/v1/lookup", params={"q": "91610900MA70000010"})).json()
            assert r["status"] == "clear", server.url
        # ... by name once each worker has followed the change feed.
        await wait_until(found_on_both, timeout=20)
        check = (await c.post(f"{a.url}/v1/checks", json={"subject": "澜沧新材料", "matter": "award", "case_number": "PY-1", "operator": "王五"})).json()
        fb = await c.post(f"{b.url}/v1/checks/{check['check_id']}/feedback", json={"outcome": "proceeded"})
        again = await c.post(f"{a.url}/v1/checks/{check['check_id']}/feedback", json={"outcome": "proceeded"})
    assert fb.status_code == 200 and fb.json()["repeated"] is False
    assert again.status_code == 200 and again.json()["repeated"] is True
