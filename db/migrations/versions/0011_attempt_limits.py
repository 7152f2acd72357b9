"""attempt limits: failed guesses (binding codes, link proofs) and their cool-down

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 13:40:00

Hand-written from db/models/attempts.py; tests/test_migrations.py checks the migrated schema
against the models on SQLite and PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attempt_limits",
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_attempt_limits")),
    )


def downgrade() -> None:
    op.drop_table("attempt_limits")
