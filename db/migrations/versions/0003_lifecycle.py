"""lifecycle: document numbers, prior notices and listings, objections, repairs, credit reports

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 09:00:00

Generated from db/models/lifecycle.py with Alembic's autogenerate against a database at 0002, then
reviewed; tests/test_lifecycle_schema.py checks that the migrated schema matches the models.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("repair_requests", "objections", "listings", "credit_reports", "document_sequences")


def upgrade() -> None:
    op.create_table(
        "document_sequences",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "year", name=op.f("pk_document_sequences")),
    )
    op.create_table(
        "credit_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_credit_reports_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_credit_reports_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_reports")),
        sa.UniqueConstraint("number", name="credit_report_number"),
    )
    op.create_index(op.f("ix_credit_reports_subject_id"), "credit_reports", ["subject_id"], unique=False)
    op.create_table(
        "listings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("proposed_by_account_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("measures", sa.JSON(), nullable=False),
        sa.Column("notice_number", sa.String(length=40), nullable=False),
        sa.Column("notice_date", sa.Date(), nullable=False),
        sa.Column("objection_days", sa.Integer(), nullable=False),
        sa.Column("objection_deadline", sa.Date(), nullable=False),
        sa.Column("notice_pdf", sa.LargeBinary(), nullable=True),
        sa.Column("notice_sha256", sa.String(length=64), nullable=True),
        sa.Column("effective_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_listings_department_id_departments")
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_account_id"],
            ["accounts.id"],
            name=op.f("fk_listings_proposed_by_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["credit_records.id"], name=op.f("fk_listings_record_id_credit_records")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_listings_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listings")),
        sa.UniqueConstraint("notice_number", name=op.f("uq_listings_notice_number")),
        sa.UniqueConstraint("record_id", name=op.f("uq_listings_record_id")),
    )
    op.create_index(op.f("ix_listings_department_id"), "listings", ["department_id"], unique=False)
    op.create_index(op.f("ix_listings_objection_deadline"), "listings", ["objection_deadline"], unique=False)
    op.create_index(op.f("ix_listings_status"), "listings", ["status"], unique=False)
    op.create_index(op.f("ix_listings_subject_id"), "listings", ["subject_id"], unique=False)
    op.create_table(
        "objections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("prior_status", sa.String(length=12), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("answer_due", sa.Date(), nullable=False),
        sa.Column("decided_by_account_id", sa.Integer(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("corrections", sa.JSON(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_objections_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_account_id"],
            ["accounts.id"],
            name=op.f("fk_objections_decided_by_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_objections_department_id_departments")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["credit_records.id"], name=op.f("fk_objections_record_id_credit_records")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_objections_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objections")),
    )
    op.create_index(op.f("ix_objections_answer_due"), "objections", ["answer_due"], unique=False)
    op.create_index(op.f("ix_objections_department_id"), "objections", ["department_id"], unique=False)
    op.create_index(op.f("ix_objections_record_id"), "objections", ["record_id"], unique=False)
    op.create_index(op.f("ix_objections_status"), "objections", ["status"], unique=False)
    op.create_index(op.f("ix_objections_subject_id"), "objections", ["subject_id"], unique=False)
    op.create_table(
        "repair_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("obligations_met", sa.Boolean(), nullable=False),
        sa.Column("proof", sa.JSON(), nullable=False),
        sa.Column("commitment", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("decided_by_account_id", sa.Integer(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_repair_requests_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_account_id"],
            ["accounts.id"],
            name=op.f("fk_repair_requests_decided_by_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_repair_requests_department_id_departments")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["credit_records.id"], name=op.f("fk_repair_requests_record_id_credit_records")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_repair_requests_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repair_requests")),
    )
    op.create_index(
        op.f("ix_repair_requests_department_id"), "repair_requests", ["department_id"], unique=False
    )
    op.create_index(op.f("ix_repair_requests_record_id"), "repair_requests", ["record_id"], unique=False)
    op.create_index(op.f("ix_repair_requests_status"), "repair_requests", ["status"], unique=False)
    op.create_index(op.f("ix_repair_requests_subject_id"), "repair_requests", ["subject_id"], unique=False)


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
