"""api keys: keys of department systems, checks raised through the port, idempotent answers

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 13:30:00

Hand-written from db/models_api.py; plain column types only, so it runs unchanged on SQLite and
PostgreSQL. tests/test_migrations.py checks that the migrated schema matches the models.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("scopes", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_api_keys_account_id_accounts")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_api_keys_department_id_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    op.create_index(op.f("ix_api_keys_department_id"), "api_keys", ["department_id"], unique=False)
    op.create_table(
        "api_checks",
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("case_number", sa.String(length=64), nullable=True),
        sa.Column("operator", sa.String(length=64), nullable=True),
        sa.Column("batch", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["api_key_id"], ["api_keys.id"], name=op.f("fk_api_checks_api_key_id_api_keys")),
        sa.ForeignKeyConstraint(
            ["check_id"], ["checks.id"], name=op.f("fk_api_checks_check_id_checks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("check_id", name=op.f("pk_api_checks")),
    )
    op.create_index(op.f("ix_api_checks_api_key_id"), "api_checks", ["api_key_id"], unique=False)
    op.create_table(
        "api_idempotency",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("idem_key", sa.String(length=128), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["api_keys.id"], name=op.f("fk_api_idempotency_api_key_id_api_keys"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_idempotency")),
        sa.UniqueConstraint("api_key_id", "idem_key", name="api_idempotency_key"),
    )


def downgrade() -> None:
    op.drop_table("api_idempotency")
    op.drop_index(op.f("ix_api_checks_api_key_id"), table_name="api_checks")
    op.drop_table("api_checks")
    op.drop_index(op.f("ix_api_keys_department_id"), table_name="api_keys")
    op.drop_table("api_keys")
