"""wecom: user id mapping, shared access token, callback dedupe, member turns, sent messages and cards

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 13:30:00

Hand-written from db/models_wecom.py; plain column types only, so it runs unchanged on SQLite and
PostgreSQL. tests/test_migrations.py checks that the migrated schema matches the models.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wecom_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("corp_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("ptb_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wecom_users")),
        sa.UniqueConstraint("corp_id", "user_id", name="wecom_corp_user"),
        sa.UniqueConstraint("ptb_id", name=op.f("uq_wecom_users_ptb_id")),
    )
    op.create_table(
        "wecom_tokens",
        sa.Column("app_key", sa.String(length=96), nullable=False),
        sa.Column("access_token", sa.String(length=512), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("app_key", name=op.f("pk_wecom_tokens")),
    )
    op.create_table(
        "wecom_callbacks",
        sa.Column("dedupe_key", sa.String(length=255), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("dedupe_key", name=op.f("pk_wecom_callbacks")),
    )
    op.create_index(op.f("ix_wecom_callbacks_received_at"), "wecom_callbacks", ["received_at"], unique=False)
    op.create_table(
        "wecom_turns",
        sa.Column("member", sa.String(length=96), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("member", name=op.f("pk_wecom_turns")),
    )
    op.create_table(
        "wecom_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member", sa.String(length=96), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wecom_sends")),
    )
    op.create_index(op.f("ix_wecom_sends_member"), "wecom_sends", ["member"], unique=False)
    op.create_index(op.f("ix_wecom_sends_at"), "wecom_sends", ["at"], unique=False)
    op.create_table(
        "wecom_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wecom_messages")),
    )
    op.create_index(op.f("ix_wecom_messages_chat_id"), "wecom_messages", ["chat_id"], unique=False)
    op.create_table(
        "wecom_cards",
        sa.Column("task_id", sa.String(length=128), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("first_button", sa.Integer(), nullable=False),
        sa.Column("response_code", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"], ["wecom_messages.id"], name=op.f("fk_wecom_cards_message_id_wecom_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_wecom_cards")),
    )
    op.create_index(op.f("ix_wecom_cards_message_id"), "wecom_cards", ["message_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_wecom_cards_message_id"), table_name="wecom_cards")
    op.drop_table("wecom_cards")
    op.drop_index(op.f("ix_wecom_messages_chat_id"), table_name="wecom_messages")
    op.drop_table("wecom_messages")
    op.drop_table("wecom_turns")
    op.drop_index(op.f("ix_wecom_sends_at"), table_name="wecom_sends")
    op.drop_index(op.f("ix_wecom_sends_member"), table_name="wecom_sends")
    op.drop_table("wecom_sends")
    op.drop_index(op.f("ix_wecom_callbacks_received_at"), table_name="wecom_callbacks")
    op.drop_table("wecom_callbacks")
    op.drop_table("wecom_tokens")
    op.drop_table("wecom_users")
