"""conversations: every multi-step chat flow keeps its state in the database (issue 12)

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 16:00:00

Hand-written from db/models/conversations.py; tests/test_migrations.py checks the migrated schema
against the models on SQLite and PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("flow", sa.String(length=32), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_key", sa.String(length=48), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "user_id", name=op.f("pk_conversations")),
    )
    op.create_index(op.f("ix_conversations_expires_at"), "conversations", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_conversations_expires_at"), table_name="conversations")
    op.drop_table("conversations")
