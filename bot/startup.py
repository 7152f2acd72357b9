"""Everything a process must hold before the first message: the calendar, jieba, the name index."""

from __future__ import annotations

import logging

from bot.calendar_settings import calendar_from_settings
from nlp.lexicon import Lexicon
from services.name_index import freeze_long_lived, start_index
from services.runtime import Services
from services.subject_feed import load_divisions

log = logging.getLogger(__name__)


async def prepare_services(services: Services) -> None:
    """The process's own state; the database was prepared before (services/database_setup.py)."""
    services.calendar = calendar_from_settings(services.settings)
    async with services.db.transaction() as s:
        divisions = await load_divisions(s)
    lexicon = Lexicon.from_divisions(divisions)
    lexicon.warm_up()
    services.lexicon = lexicon
    await start_index(services, lexicon)
    freeze_long_lived()

