"""applied_updates: the update keys that applied a flow's step, kept after the flow ends (review 2, F1/F5)

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 17:00:00

Replaces conversations.last_key (one key per flow recognised only the latest redelivery). Hand-written
from db/models/conversations.py; tests/test_migrations.py checks it against the models.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "applied_updates",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=48), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "user_id", "key", name=op.f("pk_applied_updates")),
    )
    op.create_index(op.f("ix_applied_updates_applied_at"), "applied_updates", ["applied_at"], unique=False)
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("last_key")


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("last_key", sa.String(length=48), nullable=True))
    op.drop_index(op.f("ix_applied_updates_applied_at"), table_name="applied_updates")
    op.drop_table("applied_updates")
