"""Everything that must be ready before the first message: region data, jieba, the name index."""

from __future__ import annotations

import datetime as dt
import logging
import time

from bot.calendar_settings import calendar_from_settings
from db.regions import default_region, default_region_file, load_region_file, seed_region
from nlp.lexicon import Lexicon
from nlp.resolver import NameIndex
from services.collection.duties import seed_duties
from services.runtime import Services
from services.subject_feed import load_divisions, load_entries

log = logging.getLogger(__name__)

# An import stamps its rows when it starts but commits minutes later, after other writers have moved
# the watermark on; looking back this far catches such rows. Rows already indexed unchanged are skipped.
REFRESH_OVERLAP = dt.timedelta(minutes=15)
DUTIES_SEEDED = "duties_seeded"


async def prepare_services(services: Services) -> None:
    settings = services.settings
    await seed_region(services.db, load_region_file(default_region_file(settings.region.division_code)))
    services.calendar = calendar_from_settings(settings)
    await ensure_duties(services)
    async with services.db.transaction() as s:
        divisions = await load_divisions(s)
    lexicon = Lexicon.from_divisions(divisions)
    lexicon.warm_up()
    services.lexicon = lexicon
    started = time.perf_counter()
    services.index = NameIndex(lexicon)
    await refresh_index(services)
    log.info("name index: %d subjects in %.1f s", len(services.index), time.perf_counter() - started)


async def ensure_duties(services: Services) -> None:
    """Reporting duties start from the region file; once per process, idempotent across processes
    (a duty an admin switched off stays off)."""
    if services.extras.get(DUTIES_SEEDED):
        return
    added = await seed_duties(services.db, default_region(services.settings.region.division_code))
    services.extras[DUTIES_SEEDED] = True
    if added:
        log.info("reporting duties seeded: %d", added)


async def refresh_index(services: Services) -> int:
    """Pull subjects changed since the watermark; other processes' imports arrive this way."""
    index = services.index
    assert index is not None
    since = services.index_watermark - REFRESH_OVERLAP if services.index_watermark else None
    async with services.db.transaction() as s:
        entries, watermark = await load_entries(s, since)
    entries = [e for e in entries if index.get(e.subject_id) != e]
    if entries:
        index.add(entries)
    if watermark is not None:
        services.index_watermark = watermark
    return len(entries)
