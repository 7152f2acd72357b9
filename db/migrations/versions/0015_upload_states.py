"""upload states: a confirmation's attempts, start and failure, so a stranded import can be confirmed again

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 16:20:00

An upload killed while `importing` is recognised by its lease (db/leases.py), not by a column; these
columns tell the collector what happened: how many confirmations started, when the latest one
started, and why it did not finish. Uploads left `importing` by an earlier version keep that status
and become confirmable again at once (nobody holds their lease).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("failure", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.drop_column("failure")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("attempts")
