"""The resolver port: what answers "which subject does this text mean?" beneath every door.

The chat, typed subjects in commands and the HTTP port all ask services.subject_query, and it asks
a `NameResolver` (issue 27). Today's implementation is `LocalIndex`: the in-process name index
(nlp.resolver, mapped from the host's snapshot). The port is what lets another one stand behind the
same doors without touching them, for the sizes where one index per host stops (docs/scaling.md):

* a province-sharded index: one `LocalIndex`-like shard per group of cities, a resolver that asks
  the shards concurrently and merges their resolutions with the project's tiers;
* a search engine (OpenSearch with a Chinese and a pinyin analyzer): its candidates re-ranked and
  judged by the same tiers and evidence (nlp.resolver_tiers, nlp.evidence) before anything is
  "clear", so a confident wrong answer stays as rare as it is now.

An implementation answers with `MessageAnswer`: the resolution of the text's first name or code
(`resolution`, an `nlp.index_parts.Resolution`), every name it carries (`mentions`, each with its
own resolution), the slots outside the names and the old codes it holds. It admits only subjects
the asker may find by name (`ResolveContext.admit`), raises nothing for any text, and is async, so
a remote implementation waits on the network without holding the event loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from nlp.index_parts import IndexEntry
from nlp.message_names import MessageAnswer, resolve_message
from rules.roles import Viewer, may_find_by_name, may_find_every_subject

if TYPE_CHECKING:
    from services.runtime import Services

# A batch gives the event loop back after this much CPU (other requests' look-ups wait at most this long).
SLICE_SECONDS = 0.005


@dataclass(frozen=True)
class ResolveContext:
    """Who asks: names are resolved only among the subjects this viewer may find by name."""

    viewer: Viewer

    def admit(self, entry: IndexEntry) -> bool:
        """Whether the viewer may find this subject by name (rules.roles; services.findable)."""
        return may_find_by_name(self.viewer, entry.kind, entry.subject_id)

    @property
    def admission(self) -> Callable[[IndexEntry], bool] | None:
        """`admit`, or None when the viewer may find every subject (staff): a resolver then skips
        the per-candidate check, which for a fuzzy guess made an entry for each of ~600 rows."""
        return None if may_find_every_subject(self.viewer) else self.admit


@runtime_checkable
class NameResolver(Protocol):
    """Name and code resolution behind every door (see the module docstring)."""

    def ready(self) -> bool:
        """Whether names can be resolved now (False while a local index is still being built:
        services.subject_query then answers codes from the database and asks names to wait)."""
        ...

    async def resolve(self, text: str, context: ResolveContext) -> MessageAnswer:
        """What one typed text asks for. Raises nothing; call only when `ready()`."""
        ...

    async def resolve_many(self, texts: Sequence[str], context: ResolveContext) -> list[MessageAnswer]:
        """`resolve` for each text, in order (a batch check: up to 1,000 lines)."""
        ...

    def subject(self, subject_id: int) -> IndexEntry | None:
        """The subject as the resolver holds it (a pressed button's name), None when unknown."""
        ...

    def size(self) -> int:
        """How many subjects the resolver answers from (the port's /readyz)."""
        ...


class LocalIndex:
    """`NameResolver` over this process's name index (`Services.index`, swapped in by
    services.name_index when a build or a snapshot load is done, so it is read at each call)."""

    def __init__(self, svc: Services) -> None:
        self._svc = svc

    def ready(self) -> bool:
        from services.name_index import index_ready

        return index_ready(self._svc)

    async def resolve(self, text: str, context: ResolveContext) -> MessageAnswer:
        return (await self.resolve_many([text], context))[0]

    async def resolve_many(self, texts: Sequence[str], context: ResolveContext) -> list[MessageAnswer]:
        """Resolved in this thread, in slices of `SLICE_SECONDS` between which the event loop
        serves everybody else (issue 21: 1,000 fuzzy names took the loop for 3.4 s)."""
        index = self._svc.index
        assert index is not None, "resolve only when ready()"
        out: list[MessageAnswer] = []
        started = time.thread_time()
        for text in texts:
            out.append(resolve_message(text, index, context.admission))
            if len(texts) > 1 and time.thread_time() - started > SLICE_SECONDS:
                await asyncio.sleep(0)
                started = time.thread_time()
        return out

    def subject(self, subject_id: int) -> IndexEntry | None:
        index = self._svc.index
        return index.get(subject_id) if index is not None else None

    def size(self) -> int:
        index = self._svc.index
        return len(index) if index is not None else 0


def resolver_of(svc: Services) -> NameResolver:
    """The resolver these services use: the one set on them (`Services.resolver`), else the local
    index (made once and kept)."""
    if svc.resolver is None:
        svc.resolver = LocalIndex(svc)
    return svc.resolver


__all__ = ["SLICE_SECONDS", "LocalIndex", "NameResolver", "ResolveContext", "resolver_of"]
