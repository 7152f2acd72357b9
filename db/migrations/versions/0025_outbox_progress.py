"""outbox_progress: how far each look-up outbox spool has been written to the primary (issue 27)

Revision ID: 0025
Revises: 0026a
Create Date: 2026-12-07 02:45:00

Hand-written from db/models/outbox.py; tests/test_migrations.py checks it against the models.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0026a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_progress",
        sa.Column("spool", sa.String(length=96), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("spool", name=op.f("pk_outbox_progress")),
    )
    with op.batch_alter_table("outbox_progress", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_progress_updated_at"), ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox_progress", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_progress_updated_at"))
    op.drop_table("outbox_progress")
