"""scheduled_runs: the daily full evaluation and digest run claimed per slot, so a run missed while
the bot was down is caught up once across replicas (issue 23)

Revision ID: 0020
Revises: 0017
Create Date: 2026-12-06 23:30:00

Hand-written from db/models/schedule.py; tests/test_migrations.py checks it against the models.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheduled_runs",
        sa.Column("job", sa.String(length=32), nullable=False),
        sa.Column("slot", sa.Date(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("job", "slot", name=op.f("pk_scheduled_runs")),
    )


def downgrade() -> None:
    op.drop_table("scheduled_runs")
