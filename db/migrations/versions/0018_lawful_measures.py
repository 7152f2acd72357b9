"""lawful measures: list types on records and listings, the 列入决定书, catalogue editions, persons behind subjects

Revision ID: 0018
Revises: 0019 (re-chained onto main's head when main was merged in; was 0017)
Create Date: 2026-12-05 09:00:00

- credit_records.list_type: the list type (rules.catalogue) of a list entry decided here; older rows
  stay NULL and are identified from their title when a card is built (nothing is guessed at rest).
- credit_records.catalogue_edition: the 全国公共信用信息基础目录 edition a record was collected under;
  NULL for rows collected before this revision (their edition is not known).
- listings: list type, validity (period_months, expires_on) and the 列入决定书 (number, PDF, hash).
- subject_persons: an organisation's 法定代表人 / 主要负责人 as natural-person subjects.

Hand-written from db/models/archive.py, lifecycle.py and persons.py; tests/test_migrations.py checks
it against the models.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD/DROP COLUMN (SQLite 3.35+, PostgreSQL): a batch rebuild of credit_records or listings
    # would drop a table other rows point at while foreign keys are enforced.
    op.add_column("credit_records", sa.Column("list_type", sa.String(length=32), nullable=True))
    op.add_column("credit_records", sa.Column("catalogue_edition", sa.String(length=40), nullable=True))
    op.add_column("listings", sa.Column("list_type", sa.String(length=32), nullable=True))
    op.add_column("listings", sa.Column("period_months", sa.Integer(), nullable=True))
    op.add_column("listings", sa.Column("expires_on", sa.Date(), nullable=True))
    op.add_column("listings", sa.Column("decision_number", sa.String(length=40), nullable=True))
    op.add_column("listings", sa.Column("decision_pdf", sa.LargeBinary(), nullable=True))
    op.add_column("listings", sa.Column("decision_sha256", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_listings_decision_number"), "listings", ["decision_number"], unique=True)
    op.create_index(op.f("ix_listings_expires_on"), "listings", ["expires_on"], unique=False)
    op.create_table(
        "subject_persons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["subjects.id"], name=op.f("fk_subject_persons_organisation_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["subjects.id"], name=op.f("fk_subject_persons_person_id_subjects"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_persons")),
        sa.UniqueConstraint("organisation_id", "role", name="subject_person_role"),
    )
    op.create_index(op.f("ix_subject_persons_person_id"), "subject_persons", ["person_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_subject_persons_person_id"), table_name="subject_persons")
    op.drop_table("subject_persons")
    op.drop_index(op.f("ix_listings_expires_on"), table_name="listings")
    op.drop_index(op.f("ix_listings_decision_number"), table_name="listings")
    for column in ("decision_sha256", "decision_pdf", "decision_number", "expires_on", "period_months", "list_type"):
        op.drop_column("listings", column)
    op.drop_column("credit_records", "catalogue_edition")
    op.drop_column("credit_records", "list_type")
