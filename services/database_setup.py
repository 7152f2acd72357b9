"""The migrate step every door shares: the schema, then the region's reference data.

A database is usable only with its departments: binding codes, API keys, imports and duties all
name a department by its code. So every command that migrates a database (`db upgrade`, `import`,
`admin …`, `duties`, `remind`, `listing`, `evaluate`, `stats`, `api`, `run`, `console`, `demo`) also
loads the region file's divisions and departments and the reporting duties it names, in this one
function. All of it is idempotent: rows are compared before they are written (a second run writes
nothing), and a duty an admin switched off stays off (`seed_duties` inserts only duties the database
has never seen).
"""

from __future__ import annotations

import logging

from db import migrate
from db.regions import default_region, seed_region
from db.session import Database
from services.collection.duties import seed_duties

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
