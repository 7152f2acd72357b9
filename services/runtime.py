"""What handlers need at hand: one object per Application, kept in `bot_data`.

Handlers reach the database, the name index and the rules through this, never through globals, so
two Applications in one process (tests, console beside webhook) never share state by accident.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from db.catalogue import current_catalogue, set_region
from db.session import Database
from services.heavy import HeavyWork
from services.settings import Settings

if TYPE_CHECKING:
    from nlp.lexicon import Lexicon
    from nlp.resolver import NameIndex
    from rules.workcal import WorkCalendar
    from services.resolver_port import NameResolver

SERVICES_KEY = "services"


@dataclass
class Services:
    settings: Settings
    db: Database
    lexicon: Lexicon | None = None
    index: NameIndex | None = None
    calendar: WorkCalendar | None = None
    index_watermark: int | None = None  # position in the subject change stream (services.subject_feed)
    extras: dict[str, Any] = field(default_factory=dict)
    # What resolves names and codes behind every door (services.resolver_port); None: the local index.
    resolver: NameResolver | None = None
    heavy: HeavyWork = field(default_factory=HeavyWork)  # CPU-heavy jobs of this process (services/heavy.py)

    def __post_init__(self) -> None:
        self.heavy = HeavyWork(self.settings.limits.heavy_jobs)
        set_region(self.settings.region.division_code)  # the local supplement of the catalogue
        current_catalogue()  # a bad catalogue file fails at start-up (CatalogueError names it), not at a check

    def today(self) -> dt.date:
        return dt.datetime.now(self.settings.tz).date()

    def now(self) -> dt.datetime:
        return dt.datetime.now(self.settings.tz)
