"""The migrate step every door shares: the schema, then the region's reference data.

A database is usable only with its departments: binding codes, API keys, imports and duties all
name a department by its code. So every command that migrates a database (`db upgrade`, `import`,
`admin …`, `duties`, `remind`, `listing`, `evaluate`, `stats`) also loads the region file's divisions
and departments and the reporting duties it names, in `prepare_database`. All of it is idempotent:
rows are compared before they are written (a second run writes nothing), and a duty an admin switched
off stays off (`seed_duties` inserts only duties the database has never seen).

The serving processes (`run`, `console`, `demo`'s chat, `api`) start through `open_database`
instead: they write nothing to a database whose schema is current, so they start on a read-only hot
standby; a fresh database (or one an upgrade of the program finds behind) is migrated and loaded
there as before, so `creditbot run` on an empty database still works. `database_for` builds the
process's `Database` from the settings: pool sizes, the read copy, the outbox.
"""

from __future__ import annotations

import logging
from pathlib import Path

from db import migrate
from db.outbox import Outbox
from db.regions import default_region, seed_region
from db.session import Database
from services.collection.duties import seed_duties
from services.settings import Settings

log = logging.getLogger(__name__)


async def prepare_database(db: Database, division_code: str) -> int:
    """Migrate `db` to the newest schema and load the region `division_code` (divisions,
    departments, reporting duties). Returns the number of duties added (0 on every later run).
    Raises what the database raises when it cannot be reached or migrated."""
    await migrate.upgrade(db)
    region = default_region(division_code)
    await seed_region(db, region)
    added = await seed_duties(db, region)
    if added:
        log.info("reporting duties loaded: %d", added)
    return added


async def open_database(db: Database, division_code: str) -> bool:
    """What a serving process does at start: nothing when the schema is current and the region is
    loaded (a few reads, no write, so a read-only standby serves), else `prepare_database` (a fresh
    or older database, or one without its departments or duties). Returns whether
    it migrated. Raises what the database raises; on a standby whose schema is behind, the
    read-only refusal (migrate the primary with `creditbot db upgrade`)."""
    if await migrate.current_revision(db) == migrate.head_revision() and await _region_loaded(db, division_code):
        return False
    log.info("database schema or region data missing: migrating and loading the region")
    await prepare_database(db, division_code)
    return True


def database_for(settings: Settings, pool_size: int | None = None) -> Database:
    """The serving process's database: `database.url` for writes, `database.read_url` (if set) for
    reads, pools of `pool_size` (default `database.pool_size`) plus `database.max_overflow`, and
    an outbox in `database.outbox_dir` when set (started by `start_outbox`)."""
    cfg = settings.database
    db = Database(cfg.url, cfg.echo, pool_size=pool_size or cfg.pool_size, max_overflow=cfg.max_overflow,
                  read_url=cfg.read_url)
    if cfg.outbox_dir:
        db.outbox = Outbox(db, Path(cfg.outbox_dir), cfg.outbox_flush_ms / 1000)
    return db


async def start_outbox(db: Database) -> None:
    if db.outbox is not None:
        await db.outbox.start()


async def stop_outbox(db: Database) -> None:
    """Write what the outbox holds before the engines close (what cannot be written stays in its
    spool for the next start)."""
    if db.outbox is not None:
        await db.outbox.stop()


async def _region_loaded(db: Database, division_code: str) -> bool:
    """Whether the region's reference data is there: a department, and a reporting duty when the
    region file names any (a duty switched off is still a row, so an admin's choice never reads as
    missing). Reads only."""
    from sqlalchemy import select

    from db.models import Department, ReportingDuty

    async with db.engine.connect() as conn:
        if await conn.scalar(select(Department.id).limit(1)) is None:
            return False
        if not any(info.categories for info in default_region(division_code).departments):
            return True
        return await conn.scalar(select(ReportingDuty.id).limit(1)) is not None
