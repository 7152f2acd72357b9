"""Everything that must be ready before the first message: region data, jieba, the name index."""

from __future__ import annotations

import logging

from bot.calendar_settings import calendar_from_settings
from db.regions import default_region, default_region_file, load_region_file, seed_region
from nlp.lexicon import Lexicon
from services.collection.duties import seed_duties
from services.name_index import freeze_long_lived, start_index
from services.runtime import Services
from services.subject_feed import load_divisions

log = logging.getLogger(__name__)

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
    await start_index(services, lexicon)
    freeze_long_lived()


async def ensure_duties(services: Services) -> None:
    """Reporting duties start from the region file; once per process, idempotent across processes
    (a duty an admin switched off stays off)."""
    if services.extras.get(DUTIES_SEEDED):
        return
    added = await seed_duties(services.db, default_region(services.settings.region.division_code))
    services.extras[DUTIES_SEEDED] = True
    if added:
        log.info("reporting duties seeded: %d", added)
