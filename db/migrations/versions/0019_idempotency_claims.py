"""idempotency claims: a key is claimed before the work (owner and lease), the answer stored after

Revision ID: 0019
Revises: 0023a
Create Date: 2026-12-06 23:00:00

Until now the answer to an `Idempotency-Key` was stored after the work, so overlapping copies of one
request all ran. A row is now written first, holding the key for one copy (`owner`, `lease_until`)
with no answer yet (`status_code` and `body` empty); the answer fills it in. `created_at` is indexed
for the pruning of old answers. Hand-written from db/models/api.py; tests/test_migrations.py checks it
against the models.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0023a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_idempotency", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column("status_code", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("body", existing_type=sa.JSON(), nullable=True)
        batch_op.create_index(batch_op.f("ix_api_idempotency_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    # Claims still in progress have no answer to keep.
    op.execute("DELETE FROM api_idempotency WHERE status_code IS NULL OR body IS NULL")
    with op.batch_alter_table("api_idempotency", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_idempotency_created_at"))
        batch_op.alter_column("body", existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column("status_code", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("lease_until")
        batch_op.drop_column("owner")
