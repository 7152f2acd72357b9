"""inbound_events: callbacks stored before they are acknowledged, handled from the store (issue 23)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01 10:00:00

Replaces wecom_callbacks (the dedupe keys: the inbox row is the key now) and wecom_turns (one
member's events one at a time: only the oldest pending event of a member can be claimed). Hand-written
from db/models/inbound.py; tests/test_migrations.py checks it against the models.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("dedupe_key", sa.String(length=128), nullable=False),
        sa.Column("member", sa.String(length=128), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=32), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=64), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_events")),
        sa.UniqueConstraint("channel", "dedupe_key", name="uq_inbound_events_channel_key"),
    )
    op.create_index("ix_inbound_events_queue", "inbound_events", ["channel", "status", "member", "id"], unique=False)
    op.create_index(op.f("ix_inbound_events_received_at"), "inbound_events", ["received_at"], unique=False)
    op.drop_index(op.f("ix_wecom_callbacks_received_at"), table_name="wecom_callbacks")
    op.drop_table("wecom_callbacks")
    op.drop_table("wecom_turns")


def downgrade() -> None:
    op.create_table(
        "wecom_turns",
        sa.Column("member", sa.String(length=96), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("member", name=op.f("pk_wecom_turns")),
    )
    op.create_table(
        "wecom_callbacks",
        sa.Column("dedupe_key", sa.String(length=255), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("dedupe_key", name=op.f("pk_wecom_callbacks")),
    )
    op.create_index(op.f("ix_wecom_callbacks_received_at"), "wecom_callbacks", ["received_at"], unique=False)
    op.drop_index(op.f("ix_inbound_events_received_at"), table_name="inbound_events")
    op.drop_index("ix_inbound_events_queue", table_name="inbound_events")
    op.drop_table("inbound_events")
