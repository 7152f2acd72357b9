"""import identity and privacy at rest: canonical 文书号 as the record key; raw uploads scrubbed

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 09:00:00

1. credit_records.doc_key: the canonical form of doc_number (rules.canonical); source_key made
   canonical too. Records that were one document written with other brackets, full-width digits or
   spaces are merged into the earliest one (the first report keeps its reporting date): everything
   that pointed at a duplicate (correction history, checks, objections, …) is moved to the survivor,
   and a record_changes row on the survivor keeps the duplicate's values, so no history is lost.
   A group is left alone, with a warning, only if two of its records are each the one record of a
   table that allows one row per record (nothing is ever deleted to make a merge fit).
   Then a unique index on (source_key, category, doc_key) stops it from happening again.
2. uploads.content becomes nullable and is emptied: every upload's raw bytes (ID numbers in clear)
   stayed forever. Uploads still waiting for 确认导入 become `expired`: the collector sends the file
   again, and from now on the bytes are kept only encrypted and only until the decision.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from alembic import op

from rules.canonical import canonical_key

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")
MERGE_SOURCE = "数据迁移 0005：合并同一文书号的重复记录"
_KEPT = ("doc_number", "source_key", "source_name", "subject_id", "title", "content", "decision_date",
         "valid_until", "severity", "publication_end", "status", "department_id", "reported_at")


def _references(bind: sa.engine.Connection) -> list[tuple[str, str, bool]]:
    """(table, column, unique) for every foreign key column pointing at credit_records.id."""
    inspector = sa.inspect(bind)
    out = []
    for table in inspector.get_table_names():
        uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)}
        uniques |= {tuple(i["column_names"]) for i in inspector.get_indexes(table) if i.get("unique")}
        for fk in inspector.get_foreign_keys(table):
            if fk["referred_table"] == "credit_records" and len(fk["constrained_columns"]) == 1:
                column = fk["constrained_columns"][0]
                out.append((table, column, (column,) in uniques))
    return out


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


def _merge(bind: sa.engine.Connection) -> None:
    """Group by canonical key reading only the key columns (memory ~ 100 bytes a record); the full
    rows are read for duplicate groups only."""
    groups: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for rid, source_key, category, doc_number in bind.execute(
        sa.text("SELECT id, source_key, category, doc_number FROM credit_records ORDER BY id")
    ):
        groups[(canonical_key(source_key), category, canonical_key(doc_number))].append(rid)
    refs = _references(bind)
    now = dt.datetime.now(dt.UTC)
    keys: list[dict[str, Any]] = []
    for (source_key, _category, doc_key), ids in groups.items():
        if len(ids) == 1:
            keys.append({"k": doc_key, "s": source_key, "id": ids[0]})
            continue
        members = bind.execute(
            sa.text(f"SELECT id, {', '.join(_KEPT)} FROM credit_records WHERE id IN :ids ORDER BY id").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": ids},
        ).mappings().all()
        survivor, duplicates = members[0], members[1:]
        if _clash(bind, refs, ids):
            log.warning("0005: records %s left unmerged (each is referenced by a one-per-record table)", ids)
            keys += [{"k": f"{m['doc_number']}#{m['id']}"[:128], "s": m["source_key"], "id": m["id"]} for m in members]
            continue
        for dup in duplicates:
            for table, column, _unique in refs:
                bind.execute(
                    sa.text(f"UPDATE {table} SET {column} = :keep WHERE {column} = :dup"),
                    {"keep": survivor["id"], "dup": dup["id"]},
                )
            bind.execute(
                sa.text(
                    "INSERT INTO record_changes (record_id, subject_id, changed_at, source_file, changes) "
                    "VALUES (:rid, :sid, :at, :src, :changes)"
                ),
                {
                    "rid": survivor["id"], "sid": survivor["subject_id"], "at": now, "src": MERGE_SOURCE,
                    "changes": json.dumps(
                        {"merged_duplicate": [None, {"id": dup["id"], **{k: _jsonable(dup[k]) for k in _KEPT}}]},
                        ensure_ascii=False,
                    ),
                },
            )
            bind.execute(sa.text("DELETE FROM credit_records WHERE id = :id"), {"id": dup["id"]})
        keys.append({"k": doc_key, "s": source_key, "id": survivor["id"]})
    if keys:  # one executemany, not a round trip per record
        bind.execute(sa.text("UPDATE credit_records SET doc_key = :k, source_key = :s WHERE id = :id"), keys)


def _clash(bind: sa.engine.Connection, refs: list[tuple[str, str, bool]], ids: list[int]) -> bool:
    """Would merging these records put two rows into a table that allows one row per record?"""
    for table, column, unique in refs:
        if not unique:
            continue
        used = bind.execute(
            sa.text(f"SELECT COUNT(*) FROM {table} WHERE {column} IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": ids},
        ).scalar()
        if (used or 0) > 1:
            return True
    return False


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("credit_records", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("doc_key", sa.String(length=128), nullable=False, server_default=""))
    _merge(bind)
    with op.batch_alter_table("credit_records", schema=None, recreate="never") as batch_op:
        batch_op.create_index("record_source_doc_key", ["source_key", "category", "doc_key"], unique=True)

    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.alter_column("content", existing_type=sa.LargeBinary(), nullable=True)
    op.execute(sa.text("UPDATE uploads SET content = NULL"))
    op.execute(sa.text("UPDATE uploads SET status = 'expired' WHERE status IN ('checking', 'pending', 'importing')"))


def downgrade() -> None:
    # Merged duplicates are not split again (their values stay in record_changes); the raw bytes
    # scrubbed from uploads are gone for good: an empty value satisfies the old NOT NULL.
    op.execute(sa.text("UPDATE uploads SET content = :empty").bindparams(sa.bindparam("empty", b"", sa.LargeBinary())))
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.alter_column("content", existing_type=sa.LargeBinary(), nullable=False)
    with op.batch_alter_table("credit_records", schema=None, recreate="never") as batch_op:
        batch_op.drop_index("record_source_doc_key")
    op.execute(sa.text("ALTER TABLE credit_records DROP COLUMN doc_key"))
