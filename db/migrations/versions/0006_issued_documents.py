"""issued documents: the registry that lets anyone verify a credit report or prior notice

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 09:00:00

Hand-written from db/models_documents.py; plain column types only, so it runs unchanged on SQLite
and PostgreSQL. tests/test_migrations.py checks that the migrated schema matches the models.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issued_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("code_digest", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("subject_name", sa.String(length=200), nullable=False),
        sa.Column("subject_code", sa.String(length=40), nullable=False),
        sa.Column("issued_to", sa.String(length=100), nullable=False),
        sa.Column("issuer", sa.String(length=200), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_issued_documents_account_id_accounts")),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_issued_documents_subject_id_subjects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issued_documents")),
        sa.UniqueConstraint("number", name=op.f("uq_issued_documents_number")),
    )
    op.create_index(op.f("ix_issued_documents_subject_id"), "issued_documents", ["subject_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_issued_documents_subject_id"), table_name="issued_documents")
    op.drop_table("issued_documents")
