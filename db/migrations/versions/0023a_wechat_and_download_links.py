"""wechat_users, wechat_choices, download_links: the WeChat 服务号 channel and its document links (issue 26)

Revision ID: 0023a
Revises: 0023
Create Date: 2026-12-01 12:00:00

Hand-written from db/models/wechat.py; tests/test_migrations.py checks it against the models.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023a"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wechat_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.String(length=32), nullable=False),
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("ptb_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wechat_users")),
        sa.UniqueConstraint("app_id", "openid", name="uq_wechat_users_app_openid"),
        sa.UniqueConstraint("ptb_id", name=op.f("uq_wechat_users_ptb_id")),
    )
    op.create_table(
        "wechat_choices",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("buttons", sa.JSON(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_wechat_choices")),
    )
    op.create_table(
        "download_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("document_number", sa.String(length=40), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("file_name", sa.String(length=128), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("opens_left", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_download_links_account_id_accounts"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_download_links_subject_id_subjects"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_download_links")),
    )
    op.create_index(op.f("ix_download_links_account_id"), "download_links", ["account_id"], unique=False)
    op.create_index(op.f("ix_download_links_expires_at"), "download_links", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_download_links_expires_at"), table_name="download_links")
    op.drop_index(op.f("ix_download_links_account_id"), table_name="download_links")
    op.drop_table("download_links")
    op.drop_table("wechat_choices")
    op.drop_table("wechat_users")
