"""repair cases with deadlines, 信用修复告知书, stored documents, 暂时屏蔽, report authorisations, change feed

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-01 10:00:00

Hand-written from db/models/lifecycle.py (RepairRequest), db/models/repair_cases.py,
db/models/changes.py, db/models/notices.py (document_number) and db/models/archive.py (the index on
credit_records.updated_at); tests/test_migrations.py checks the result against the models.
Requests that were "pending" (awaiting a decision) become "accepted" on their filing day: the old
flow had no separate 受理 step.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0020"
branch_labels = None
depends_on = None

EVENT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("repair_requests") as batch:
        batch.alter_column("account_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("origin", sa.String(length=12), nullable=False, server_default="chat"))
        batch.add_column(sa.Column("external_ref", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("applicant", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("accept_due", sa.Date(), nullable=True))
        batch.add_column(sa.Column("accepted_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("accepted_by_account_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("decide_due", sa.Date(), nullable=True))
        batch.add_column(sa.Column("missed", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("missed_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("reminded_for", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("escalated_for", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("decision_number", sa.String(length=40), nullable=True))
        batch.create_foreign_key(
            op.f("fk_repair_requests_accepted_by_account_id_accounts"), "accounts", ["accepted_by_account_id"], ["id"]
        )
        batch.create_unique_constraint("repair_request_external_ref", ["origin", "external_ref"])
        batch.create_index(op.f("ix_repair_requests_accept_due"), ["accept_due"], unique=False)
        batch.create_index(op.f("ix_repair_requests_decide_due"), ["decide_due"], unique=False)
    with op.batch_alter_table("repair_requests") as batch:
        batch.alter_column("origin", existing_type=sa.String(length=12), server_default=None)
    op.execute("UPDATE repair_requests SET status = 'accepted', accepted_on = filed_on WHERE status = 'pending'")

    op.create_index(op.f("ix_credit_records_updated_at"), "credit_records", ["updated_at"], unique=False)
    with op.batch_alter_table("notices") as batch:
        batch.add_column(sa.Column("document_number", sa.String(length=40), nullable=True))

    op.create_table(
        "repair_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("cause", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"], ["credit_records.id"], name=op.f("fk_repair_notices_record_id_credit_records"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_repair_notices_subject_id_subjects")),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"], name=op.f("fk_repair_notices_department_id_departments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repair_notices")),
        sa.UniqueConstraint("record_id", name=op.f("uq_repair_notices_record_id")),
        sa.UniqueConstraint("number", name=op.f("uq_repair_notices_number")),
    )
    op.create_index(op.f("ix_repair_notices_subject_id"), "repair_notices", ["subject_id"], unique=False)
    op.create_index(op.f("ix_repair_notices_department_id"), "repair_notices", ["department_id"], unique=False)
    op.create_index(op.f("ix_repair_notices_status"), "repair_notices", ["status"], unique=False)

    op.create_table(
        "stored_documents",
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_stored_documents_subject_id_subjects")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_stored_documents_department_id_departments")
        ),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_stored_documents")),
    )
    op.create_index(op.f("ix_stored_documents_subject_id"), "stored_documents", ["subject_id"], unique=False)
    op.create_index(op.f("ix_stored_documents_department_id"), "stored_documents", ["department_id"], unique=False)

    op.create_table(
        "subject_maskings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("basis", sa.String(length=12), nullable=False),
        sa.Column("court", sa.String(length=128), nullable=False),
        sa.Column("ruling_number", sa.String(length=128), nullable=False),
        sa.Column("ruling_date", sa.Date(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("records", sa.JSON(), nullable=False),
        sa.Column("recorded_by_account_id", sa.Integer(), nullable=True),
        sa.Column("ended_by_account_id", sa.Integer(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_subject_maskings_subject_id_subjects")),
        sa.ForeignKeyConstraint(
            ["recorded_by_account_id"], ["accounts.id"], name=op.f("fk_subject_maskings_recorded_by_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["ended_by_account_id"], ["accounts.id"], name=op.f("fk_subject_maskings_ended_by_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_maskings")),
    )
    op.create_index(op.f("ix_subject_maskings_subject_id"), "subject_maskings", ["subject_id"], unique=False)
    op.create_index(op.f("ix_subject_maskings_ends_on"), "subject_maskings", ["ends_on"], unique=False)
    op.create_index(op.f("ix_subject_maskings_status"), "subject_maskings", ["status"], unique=False)

    op.create_table(
        "report_authorisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_by_account_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by_account_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_report_authorisations_subject_id_subjects"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["issued_by_account_id"], ["accounts.id"], name=op.f("fk_report_authorisations_issued_by_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["used_by_account_id"], ["accounts.id"], name=op.f("fk_report_authorisations_used_by_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_authorisations")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_report_authorisations_code_hash")),
    )
    op.create_index(op.f("ix_report_authorisations_subject_id"), "report_authorisations", ["subject_id"], unique=False)

    op.create_table(
        "change_events",
        sa.Column("id", EVENT_ID, autoincrement=True, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("person", sa.Boolean(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_change_events_subject_id_subjects")),
        sa.ForeignKeyConstraint(
            ["record_id"], ["credit_records.id"], name=op.f("fk_change_events_record_id_credit_records"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"], name=op.f("fk_change_events_department_id_departments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_events")),
        sa.UniqueConstraint("seq", name=op.f("uq_change_events_seq")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_change_events_subject_id"), "change_events", ["subject_id"], unique=False)


def downgrade() -> None:
    op.drop_table("change_events")
    op.drop_table("report_authorisations")
    op.drop_table("subject_maskings")
    op.drop_table("stored_documents")
    op.drop_table("repair_notices")
    with op.batch_alter_table("notices") as batch:
        batch.drop_column("document_number")
    op.drop_index(op.f("ix_credit_records_updated_at"), table_name="credit_records")
    op.execute("UPDATE repair_requests SET status = 'pending' WHERE status IN ('received', 'accepted')")
    op.execute("DELETE FROM repair_requests WHERE account_id IS NULL")
    with op.batch_alter_table("repair_requests") as batch:
        batch.drop_index(op.f("ix_repair_requests_decide_due"))
        batch.drop_index(op.f("ix_repair_requests_accept_due"))
        batch.drop_constraint("repair_request_external_ref", type_="unique")
        batch.drop_constraint(op.f("fk_repair_requests_accepted_by_account_id_accounts"), type_="foreignkey")
        for column in (
            "decision_number", "escalated_for", "reminded_for", "missed_reason", "missed", "decide_due",
            "accepted_by_account_id", "accepted_on", "accept_due", "applicant", "external_ref", "origin",
        ):
            batch.drop_column(column)
        batch.alter_column("account_id", existing_type=sa.Integer(), nullable=False)
