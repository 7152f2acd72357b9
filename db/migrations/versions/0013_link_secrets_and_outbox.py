"""link secrets and notice outbox: one-time 授权码 for a public link proof; notices retried until delivered

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 16:30:00

Hand-written from db/models/declarations.py (LinkSecret) and db/models/notices.py (Notice);
tests/test_migrations.py checks the migrated schema against the models on SQLite and PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "link_secrets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_by_account_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by_account_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_link_secrets_subject_id_subjects"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["issued_by_account_id"], ["accounts.id"], name=op.f("fk_link_secrets_issued_by_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["used_by_account_id"], ["accounts.id"], name=op.f("fk_link_secrets_used_by_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_secrets")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_link_secrets_code_hash")),
    )
    op.create_index(op.f("ix_link_secrets_subject_id"), "link_secrets", ["subject_id"], unique=False)
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=True),
        sa.Column("file_name", sa.String(length=128), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["listing_id"], ["listings.id"], name=op.f("fk_notices_listing_id_listings"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_notices_account_id_accounts"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
    )
    op.create_index(op.f("ix_notices_chat_id"), "notices", ["chat_id"], unique=False)
    op.create_index(op.f("ix_notices_account_id"), "notices", ["account_id"], unique=False)
    op.create_index(op.f("ix_notices_status"), "notices", ["status"], unique=False)
    op.create_index(op.f("ix_notices_next_try_at"), "notices", ["next_try_at"], unique=False)


def downgrade() -> None:
    op.drop_table("notices")
    op.drop_table("link_secrets")
