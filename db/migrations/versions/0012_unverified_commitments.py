"""unverified commitments: a pending self-declaration's commitment record is neither public nor scored

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 15:00:00

Data only. Until now a declaration's 信用承诺 record was "active" from submission; it now waits as
"unverified" until an official verifies the declaration (rules.visibility, rules.declarations).
Commitment records of declarations still pending move to "unverified"; downgrade moves them back.
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "UPDATE credit_records SET status = 'unverified' WHERE status = 'active' AND id IN "
        "(SELECT commitment_record_id FROM declarations WHERE status = 'pending' AND commitment_record_id IS NOT NULL)"
    )


def downgrade() -> None:
    op.execute("UPDATE credit_records SET status = 'active' WHERE status = 'unverified'")
