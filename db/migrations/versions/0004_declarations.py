"""declarations: self-declarations with credit commitment, and link-proof attempts

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:00:00

Hand-written from db/models/declarations.py; plain column types only, so it runs unchanged on SQLite
and PostgreSQL. tests/test_declare_db.py checks that the migrated schema matches the models.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "declarations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("open_key", sa.String(length=32), nullable=True),
        sa.Column("receipt_no", sa.String(length=40), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("link", sa.String(length=8), nullable=True),
        sa.Column("category", sa.String(length=16), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("seen", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("commitment_version", sa.String(length=16), nullable=True),
        sa.Column("commitment_text", sa.Text(), nullable=True),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("authorisation_version", sa.String(length=16), nullable=True),
        sa.Column("authorisation_text", sa.Text(), nullable=True),
        sa.Column("authorised_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("submitted_on", sa.Date(), nullable=True),
        sa.Column("commitment_record_id", sa.Integer(), nullable=True),
        sa.Column("decided_by_account_id", sa.Integer(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("broken_record_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_declarations_account_id_accounts")),
        sa.ForeignKeyConstraint(
            ["broken_record_id"], ["credit_records.id"], name=op.f("fk_declarations_broken_record_id_credit_records")
        ),
        sa.ForeignKeyConstraint(
            ["commitment_record_id"],
            ["credit_records.id"],
            name=op.f("fk_declarations_commitment_record_id_credit_records"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_account_id"], ["accounts.id"], name=op.f("fk_declarations_decided_by_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_declarations_department_id_departments")
        ),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_declarations_subject_id_subjects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_declarations")),
        sa.UniqueConstraint("open_key", name=op.f("uq_declarations_open_key")),
        sa.UniqueConstraint("receipt_no", name=op.f("uq_declarations_receipt_no")),
    )
    op.create_index(op.f("ix_declarations_account_id"), "declarations", ["account_id"], unique=False)
    op.create_index(op.f("ix_declarations_department_id"), "declarations", ["department_id"], unique=False)
    op.create_index(op.f("ix_declarations_status"), "declarations", ["status"], unique=False)
    op.create_index(op.f("ix_declarations_subject_id"), "declarations", ["subject_id"], unique=False)
    op.create_table(
        "declaration_link_attempts",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_declaration_link_attempts_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_declaration_link_attempts")),
    )


def downgrade() -> None:
    op.drop_table("declaration_link_attempts")
    for name in ("subject_id", "status", "department_id", "account_id"):
        op.drop_index(op.f(f"ix_declarations_{name}"), table_name="declarations")
    op.drop_table("declarations")
