"""Names with characters outside the basic block, end to end: imported from CSV (UTF-8, and GB18030,
the only Chinese encoding that holds them: GBK cannot) and from XLSX, then found by name in the chat
and at the port, and written back into the port's XLSX export, every character intact."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import httpx
import pytest
from python_calamine import CalamineWorkbook

from bot.api.app import create_app
from db.importers import samples as S
from services.apikeys import create_key
from services.imports import import_file
from tests.conftest import BotHarness, settings_for

TODAY = dt.date(2026, 6, 30)
HEADERS = S.HEADERS[("penalty", "2021")]
# Written down before running: Extension B (𠮷 U+20BB7, 𪚥 U+2A6A5), Extension A (㙟 U+365F, 䶮 U+4DAE),
# Extension C (𪜀 U+2A700).
UTF8_NAME = "安康市\U00020bb7祥商贸有限公司"
GB_NAME = "安康市㙟䶮\U0002a6a5建材有限公司"
XLSX_NAME = "安康市\U0002a700记餐饮有限公司"  # the codes are 汉滨区 (610902) ones


def rows(i: int, name: str) -> list[dict[str, str]]:
    row = S.penalty_row(i, decision=dt.date(2026, 3, 2), person_every=0)
    row["行政相对人名称"] = name
    return [row]


async def test_rare_characters_survive_import_chat_and_port(harness: BotHarness, tmp_path: Path) -> None:
    db = harness.db
    key = settings_for(db).privacy.id_hash_key
    with pytest.raises(UnicodeEncodeError):
        GB_NAME.encode("gbk")  # the GB18030 file holds characters GBK cannot
    files = [
        S.write_csv(tmp_path / "utf8.csv", HEADERS, rows(71, UTF8_NAME)),
        S.write_csv(tmp_path / "gb.csv", HEADERS, rows(72, GB_NAME), encoding="gb18030"),
        S.write_xlsx(tmp_path / "x.xlsx", HEADERS, rows(73, XLSX_NAME), sheet="行政处罚"),
    ]
    encodings = []
    for path in files:
        report = await import_file(db, path, id_key=key, today=TODAY)
        assert report.written, (path.name, report.fatal, report.errors[:2])
        encodings.append(report.encoding)
    assert encodings == ["utf-8", "gb18030", None]
    await harness.refresh()

    official = await harness.chat("official", dept="SCJGJ")
    for i, name in zip((71, 72, 73), (UTF8_NAME, GB_NAME, XLSX_NAME), strict=True):
        card = "\n".join(o.text or "" for o in await harness.say(official, name))
        assert name in card and rows(i, name)[0]["行政处罚决定书文号"] in card, (name, card[:300])

    app = create_app(settings_for(db), db)
    api_key = (await create_key(db, "SCJGJ", "采购系统", "query,check")).key
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://port", headers={"X-API-Key": api_key}) as c:
            for name in (UTF8_NAME, GB_NAME, XLSX_NAME):
                found = (await c.get("/v1/lookup", params={"q": name})).json()
                assert found["status"] == "clear" and found["subject"]["name"] == name, [c["name"] for c in found["candidates"]]
            body = {"matter": "procurement", "subjects": [UTF8_NAME, GB_NAME, XLSX_NAME], "case_number": "ZB-9",
                    "operator": "李四"}
            answer = await c.post("/v1/checks/batch", params={"format": "xlsx"}, json=body)
            assert answer.status_code == 200, answer.text
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(answer.content)).get_sheet_by_index(0).to_python()
    assert [line[3] for line in sheet[1:]] == [UTF8_NAME, GB_NAME, XLSX_NAME]
