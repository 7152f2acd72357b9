"""Alembic environment: always handed a live connection by db.migrate (async engines)."""

from __future__ import annotations

from alembic import context

from db.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached by calling the alembic CLI directly
    raise SystemExit("请使用 `creditbot db upgrade` 运行数据库迁移。")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
