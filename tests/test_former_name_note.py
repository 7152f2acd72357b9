"""A card found by a former name (曾用名) says so, in the chat and on the port: the card heads with
today's name, which is not what was asked for, and an official must see why it is the same
subject before acting on it. Expected answers written before running the code."""

from __future__ import annotations

import httpx

from db.models import Subject, SubjectAlias
from rules.codes import complete_uscc
from services.apikeys import create_key
from tests.conftest import BotHarness
from tests.test_doors_agree import port_app

NAME = "安康市汉滨区瑞丰商贸有限公司"
FORMER = "安康市汉滨区瑞丰百货有限公司"
NOTE = f"“{FORMER}”是该主体的曾用名。"


async def _seed(harness: BotHarness) -> None:
    async with harness.db.transaction() as s:
        company = Subject(kind="法人", name=NAME, division_code="610902", uscc=complete_uscc("91610902MA70RF001"))
        company.aliases.append(SubjectAlias(alias=FORMER, kind="曾用名"))
        person = Subject(kind="自然人", name="王瑞丰", division_code="610902")
        person.aliases.append(SubjectAlias(alias="王瑞峰", kind="曾用名"))
        s.add_all([company, person])
    await harness.refresh()


async def test_a_card_found_by_a_former_name_says_so_at_every_door(harness: BotHarness) -> None:
    await _seed(harness)
    chat = await harness.chat("official", dept="SCJGJ")
    by_former = "\n".join(o.text or "" for o in await harness.say(chat, FORMER))
    assert NOTE in by_former and f"【{NAME}】" in by_former
    assert by_former.index(NOTE) < by_former.index(f"【{NAME}】")  # said before the card
    by_name = "\n".join(o.text or "" for o in await harness.say(chat, NAME))
    assert f"【{NAME}】" in by_name and "曾用名" not in by_name
    # A person's former name is never echoed, even to an official who finds the person by it.
    by_old_person_name = "\n".join(o.text or "" for o in await harness.say(chat, "王瑞峰"))
    assert "【王瑞丰】" in by_old_person_name and "王瑞峰" not in by_old_person_name

    app = await port_app(harness.db)
    key = (await create_key(harness.db, "SCJGJ", "核查系统", "query")).key
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://port",
                                 headers={"X-API-Key": key}) as port:
        got = (await port.get("/v1/lookup", params={"q": FORMER})).json()
        assert got["status"] == "clear" and got["subject"]["name"] == NAME and got["note"] == NOTE
        got = (await port.get("/v1/lookup", params={"q": NAME})).json()
        assert got["status"] == "clear" and got["note"] is None
