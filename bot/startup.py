"""Everything that must be ready before the first message: region data, jieba, the name index."""

from __future__ import annotations

import datetime as dt
import logging

from bot.index_startup import INDEX_BUILDING, start_index
from bot.services import Services
from db.duties import seed_duties
from db.regions import default_region, default_region_file, load_region_file, seed_region
from db.subject_feed import load_divisions, load_entries
from nlp.lexicon import Lexicon
from rules.workcal import WorkCalendar

log = logging.getLogger(__name__)

# An import stamps its rows when it starts but commits minutes later, after other writers have moved
# the watermark on; looking back this far catches such rows. Rows already indexed unchanged are skipped.
REFRESH_OVERLAP = dt.timedelta(minutes=15)
DUTIES_SEEDED = "duties_seeded"


async def prepare_services(services: Services) -> None:
    settings = services.settings
    await seed_region(services.db, load_region_file(default_region_file(settings.region.division_code)))
    services.calendar = WorkCalendar(settings.calendar.holidays, settings.calendar.workdays)
    await ensure_duties(services)
    async with services.db.transaction() as s:
        divisions = await load_divisions(s)
    lexicon = Lexicon.from_divisions(divisions)
    lexicon.warm_up()
    services.lexicon = lexicon
    await start_index(services, lexicon)


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
    if services.extras.get(INDEX_BUILDING):
        return 0  # the background build reads everything and tops itself up when done
    since = services.index_watermark - REFRESH_OVERLAP if services.index_watermark else None
    async with services.db.transaction() as s:
        entries, watermark = await load_entries(s, since)
    entries = [e for e in entries if index.get(e.subject_id) != e]
    if entries:
        index.add(entries)
    if watermark is not None:
        services.index_watermark = watermark
    return len(entries)
