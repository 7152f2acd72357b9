"""resolver context: the subject last shown in each chat, for follow-up questions

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 14:00:00

Hand-written from db/models_resolver_context.py; plain column types only, so it runs unchanged on
SQLite and PostgreSQL. tests/test_declare_db.py checks that the migrated schema matches the models.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_subjects",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("shown_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_chat_subjects_subject_id_subjects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("chat_id", "user_id", name=op.f("pk_chat_subjects")),
    )
    op.create_index(op.f("ix_chat_subjects_subject_id"), "chat_subjects", ["subject_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_chat_subjects_subject_id"), table_name="chat_subjects")
    op.drop_table("chat_subjects")
