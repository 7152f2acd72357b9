"""link code hardening and outbox recipients (review 1 of issue 12)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 17:00:00

- link_secrets.revoked_at: a 授权码 can be revoked, and dies with its issuer's binding;
- declaration_link_attempts.last_failed_at: per-account link failures expire;
- notices.sealed / recipient_account_id / recipient / subject_id: the original text (encrypted) and
  whom it is for, re-checked before each retry.

Batch mode so that SQLite can add the foreign keys; tests/test_migrations.py checks the result.
Outstanding 授权码 hashed before this revision no longer match (the hash is now keyed): they expire
within 72 h anyway and are issued again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("link_secrets") as batch:
        batch.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("declaration_link_attempts") as batch:
        batch.add_column(sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("notices") as batch:
        batch.add_column(sa.Column("sealed", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("recipient_account_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("recipient", sa.String(length=12), nullable=True))
        batch.add_column(sa.Column("subject_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_notices_recipient_account_id_accounts"), "accounts", ["recipient_account_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_foreign_key(op.f("fk_notices_subject_id_subjects"), "subjects", ["subject_id"], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("notices") as batch:
        batch.drop_constraint(op.f("fk_notices_subject_id_subjects"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_notices_recipient_account_id_accounts"), type_="foreignkey")
        for column in ("subject_id", "recipient", "recipient_account_id", "sealed"):
            batch.drop_column(column)
    with op.batch_alter_table("declaration_link_attempts") as batch:
        batch.drop_column("last_failed_at")
    with op.batch_alter_table("link_secrets") as batch:
        batch.drop_column("revoked_at")
