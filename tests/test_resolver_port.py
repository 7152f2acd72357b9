"""The resolver port (issue 27): the chat and the HTTP port resolve names through one async
interface (services.resolver_port.NameResolver) with the local index as its implementation, so
another one — a province-sharded index, a search engine — can stand behind every door.

`CountyShards` below is such another implementation, small enough for a test: one name index per
county, each asked in turn, their answers merged. The doors answer what it answers, not what the
process's own index would."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import httpx

from db.models import Subject
from db.session import Database
from nlp.index_parts import IndexEntry, Resolution
from nlp.lexicon import Lexicon
from nlp.message_names import MessageAnswer, resolve_message
from nlp.resolver import NameIndex
from rules.codes import complete_uscc
from rules.roles import Viewer
from services.apikeys import create_key
from services.resolver_port import LocalIndex, NameResolver, ResolveContext, resolver_of
from services.subject_query import read_text
from tests.conftest import BotHarness
from tests.test_doors_agree import port_app

ANKANG = ("安康市恒达建材有限公司", complete_uscc("91610902MA70PT001"), "610902")
HANYIN = ("汉阴县恒达建材有限公司", complete_uscc("91610921MA70PT002"), "610921")


class CountyShards:
    """A `NameResolver` of one name index per county: every shard is asked, a name clear in exactly
    one shard is that subject, otherwise the shards' candidates are offered together."""

    def __init__(self, lexicon: Lexicon, entries: list[IndexEntry]) -> None:
        by_county: dict[str | None, list[IndexEntry]] = defaultdict(list)
        for entry in entries:
            by_county[entry.division_code].append(entry)
        self.shards = []
        for part in by_county.values():
            shard = NameIndex(lexicon)
            shard.add(part)
            self.shards.append(shard)

    def ready(self) -> bool:
        return True

    async def resolve(self, text: str, context: ResolveContext) -> MessageAnswer:
        answers = [resolve_message(text, shard, context.admit) for shard in self.shards]
        clear = [a for a in answers if a.resolution.status == "clear"]
        if len(clear) == 1:
            return clear[0]
        found = [c for a in answers for c in a.resolution.candidates]
        return MessageAnswer(Resolution("ambiguous" if found else "none", found), answers[0].query, answers[0].legacy)

    async def resolve_many(self, texts: Sequence[str], context: ResolveContext) -> list[MessageAnswer]:
        return [await self.resolve(text, context) for text in texts]

    def subject(self, subject_id: int) -> IndexEntry | None:
        return next((e for s in self.shards if (e := s.get(subject_id)) is not None), None)

    def size(self) -> int:
        return sum(len(s) for s in self.shards)


async def _seed(db: Database) -> dict[str, int]:
    async with db.transaction() as s:
        made = [Subject(kind="法人", name=name, uscc=uscc, division_code=code) for name, uscc, code in (ANKANG, HANYIN)]
        s.add_all(made)
        await s.flush()
        return {m.name: m.id for m in made}


async def test_the_chat_and_the_port_answer_from_whatever_stands_behind_the_port(harness: BotHarness) -> None:
    ids = await _seed(harness.db)
    await harness.refresh()
    svc = harness.app.bot_data["services"]  # type: ignore[attr-defined]
    official = await harness.chat(role="official", dept="SCJGJ")
    # The process's own index: the 字号 is in two counties, so the chat asks which.
    assert isinstance(resolver_of(svc), LocalIndex)
    assert "请选择" in ((await harness.say(official, "恒达建材"))[0].text or "")

    # Behind the port now: shards that hold only 汉阴's subject. Both doors answer with it.
    hanyin = IndexEntry(ids[HANYIN[0]], HANYIN[0], "法人", HANYIN[1], HANYIN[2])
    shards = CountyShards(svc.lexicon, [hanyin])
    assert isinstance(shards, NameResolver)
    svc.resolver = shards
    assert (await harness.say(official, "恒达建材"))[0].text.startswith(f"【{HANYIN[0]}】")  # type: ignore[union-attr]
    reading = await read_text(svc, Viewer(account_id=None, role="official", department_id=None), "恒达建材")
    assert reading.first is not None and reading.first.subject_id == ids[HANYIN[0]]

    app = await port_app(harness.db)
    app.state.api.services.resolver = CountyShards(svc.lexicon, [hanyin])
    key = (await create_key(harness.db, "SCJGJ", "核查系统", "check,query")).key
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://port", headers={"X-API-Key": key}) as port:
        found = (await port.get("/v1/lookup", params={"q": "恒达建材"})).json()
        assert found["status"] == "clear" and found["subject"]["name"] == HANYIN[0], found
        ready = (await port.get("/readyz")).json()
        assert ready["subjects_indexed"] == 1  # what the port's resolver holds, not the local index's 2


async def test_the_local_index_is_the_port_and_waits_while_it_builds(harness: BotHarness) -> None:
    ids = await _seed(harness.db)
    await harness.refresh()
    svc = harness.app.bot_data["services"]  # type: ignore[attr-defined]
    local = resolver_of(svc)
    assert isinstance(local, LocalIndex) and isinstance(local, NameResolver) and resolver_of(svc) is local
    assert local.ready() and local.size() == 2
    assert local.subject(ids[ANKANG[0]]).name == ANKANG[0]  # type: ignore[union-attr]
    context = ResolveContext(Viewer(account_id=None, role="official", department_id=None))
    answer = await local.resolve("安康市恒达建材有限公司", context)
    assert answer.resolution.status == "clear" and answer.resolution.candidates[0].subject_id == ids[ANKANG[0]]
    many = await local.resolve_many(["恒达建材", HANYIN[1]], context)
    assert [a.resolution.status for a in many] == ["ambiguous", "clear"]

    svc.extras["index_building"] = True  # as services.name_index marks a background build
    assert not local.ready()
    official = await harness.chat(role="official", dept="SCJGJ")
    assert "正在加载" in ((await harness.say(official, "恒达建材"))[0].text or "")

