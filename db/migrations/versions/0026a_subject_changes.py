"""subject_changes: the name index's change stream, written by triggers on subjects and aliases

Revision ID: 0026a
Revises: 0024
Create Date: 2026-12-07 03:00:00

Hand-written from db/models/changes.py (SubjectChange); tests/test_migrations.py checks the table
against the model, tests/test_subject_stream.py the triggers on both databases.

Why triggers: every writer of subjects (the importer, admin edits, declarations, the demo, scripts)
must be seen by every process's index, and one forgotten call would leave a stale name for ever.
Only what the index holds is recorded: a subject inserted or deleted, its name, kind, USCC or
division changed; an alias inserted, changed or deleted. On PostgreSQL the triggers are per
statement with transition tables (one INSERT … SELECT per statement: an import of 300,000 subjects
pays one statement, not 300,000 calls). SQLite has only row triggers.

Note for later migrations: SQLite's batch mode rebuilds a table by copying it, which drops its
triggers; a migration that batch-alters `subjects` or `subject_aliases` must create them again
(`create_triggers` here).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026a"
down_revision = "0024"
branch_labels = None
depends_on = None

EVENT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# What the index holds of a subject (services.subject_feed reads exactly these, and the aliases).
SUBJECT_COLUMNS = ("name", "kind", "uscc", "division_code")
ALIAS_COLUMNS = ("subject_id", "alias", "kind")
# (table, the column naming the subject, the columns whose change matters)
WATCHED = (("subjects", "id", SUBJECT_COLUMNS), ("subject_aliases", "subject_id", ALIAS_COLUMNS))


def _changed(columns: tuple[str, ...], old: str, new: str, sqlite: bool) -> str:
    if sqlite:
        return " OR ".join(f"{new}.{c} IS NOT {old}.{c}" for c in columns)
    row = ", ".join
    return f"({row(f'{new}.{c}' for c in columns)}) IS DISTINCT FROM ({row(f'{old}.{c}' for c in columns)})"


def pg_statements(table: str, key: str, columns: tuple[str, ...]) -> list[str]:
    """Three statement triggers on `table`, one event each (transition tables allow no more)."""
    changed = _changed(columns, "o", "n", sqlite=False)
    return [
        f"""CREATE FUNCTION {table}_feed_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO subject_changes (subject_id) SELECT DISTINCT n.{key} FROM new_rows AS n;
  RETURN NULL;
END $$""",
        f"""CREATE FUNCTION {table}_feed_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO subject_changes (subject_id) SELECT DISTINCT o.{key} FROM old_rows AS o;
  RETURN NULL;
END $$""",
        f"""CREATE FUNCTION {table}_feed_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO subject_changes (subject_id)
  SELECT n.{key} FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id WHERE {changed}
  UNION
  SELECT o.{key} FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id WHERE {changed};
  RETURN NULL;
END $$""",
        f"CREATE TRIGGER {table}_feed_insert AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {table}_feed_insert()",
        f"CREATE TRIGGER {table}_feed_delete AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {table}_feed_delete()",
        f"CREATE TRIGGER {table}_feed_update AFTER UPDATE ON {table} REFERENCING OLD TABLE AS old_rows"
        f" NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {table}_feed_update()",
    ]


def sqlite_statements(table: str, key: str, columns: tuple[str, ...]) -> list[str]:
    """Row triggers (SQLite has no others); an alias moved to another subject touches both."""
    add = "INSERT INTO subject_changes (subject_id) VALUES"
    moved = f" {add} (OLD.{key}) ;" if key != "id" else ""
    return [
        f"CREATE TRIGGER {table}_feed_insert AFTER INSERT ON {table} BEGIN {add} (NEW.{key}); END",
        f"CREATE TRIGGER {table}_feed_delete AFTER DELETE ON {table} BEGIN {add} (OLD.{key}); END",
        f"CREATE TRIGGER {table}_feed_update AFTER UPDATE OF {', '.join(columns)} ON {table}"
        f" WHEN {_changed(columns, 'OLD', 'NEW', sqlite=True)} BEGIN {add} (NEW.{key});{moved} END",
    ]


def create_triggers() -> None:
    """The triggers of every watched table (also for a later migration that rebuilt one on SQLite)."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, key, columns in WATCHED:
        for statement in (sqlite_statements if sqlite else pg_statements)(table, key, columns):
            op.execute(statement)


def drop_triggers() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, _key, _columns in WATCHED:
        for event in ("insert", "delete", "update"):
            if sqlite:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_feed_{event}")
            else:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_feed_{event} ON {table}")
                op.execute(f"DROP FUNCTION IF EXISTS {table}_feed_{event}()")


def upgrade() -> None:
    op.create_table(
        "subject_changes",
        sa.Column("id", EVENT_ID, autoincrement=True, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_changes")),
        sa.UniqueConstraint("seq", name=op.f("uq_subject_changes_seq")),
    )
    create_triggers()


def downgrade() -> None:
    drop_triggers()
    op.drop_table("subject_changes")
