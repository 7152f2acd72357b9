"""evaluation: scores and grades, grade changes, risk warnings and their deliveries, watch lists

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 13:30:00

Hand-written from db/models_evaluation.py; plain column types only, so it runs unchanged on SQLite
and PostgreSQL. tests/test_evaluation_db.py checks that the migrated schema matches the models.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subject_evaluations",
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("model_version", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(length=8), nullable=False),
        sa.Column("risk_class", sa.String(length=8), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_subject_evaluations_subject_id_subjects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_subject_evaluations")),
    )
    op.create_index(op.f("ix_subject_evaluations_grade"), "subject_evaluations", ["grade"], unique=False)
    op.create_index(op.f("ix_subject_evaluations_risk_class"), "subject_evaluations", ["risk_class"], unique=False)
    op.create_table(
        "grade_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("model_version", sa.String(length=16), nullable=False),
        sa.Column("old_grade", sa.String(length=8), nullable=False),
        sa.Column("new_grade", sa.String(length=8), nullable=False),
        sa.Column("old_score", sa.Integer(), nullable=False),
        sa.Column("new_score", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_grade_changes_subject_id_subjects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grade_changes")),
    )
    op.create_index(op.f("ix_grade_changes_changed_at"), "grade_changes", ["changed_at"], unique=False)
    op.create_index(op.f("ix_grade_changes_subject_id"), "grade_changes", ["subject_id"], unique=False)
    op.create_table(
        "risk_warnings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("cause", sa.String(length=96), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("risk", sa.String(length=8), nullable=False),
        sa.Column("audience", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_risk_warnings_subject_id_subjects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_warnings")),
        sa.UniqueConstraint("subject_id", "cause", name="risk_warning_subject_cause"),
    )
    op.create_index(op.f("ix_risk_warnings_created_at"), "risk_warnings", ["created_at"], unique=False)
    op.create_index(op.f("ix_risk_warnings_subject_id"), "risk_warnings", ["subject_id"], unique=False)
    op.create_table(
        "warning_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("warning_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_warning_deliveries_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["warning_id"], ["risk_warnings.id"], name=op.f("fk_warning_deliveries_warning_id_risk_warnings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warning_deliveries")),
        sa.UniqueConstraint("warning_id", "account_id", name="warning_delivery_warning_account"),
    )
    op.create_index(op.f("ix_warning_deliveries_account_id"), "warning_deliveries", ["account_id"], unique=False)
    op.create_table(
        "watch_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_watch_subscriptions_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_watch_subscriptions_subject_id_subjects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watch_subscriptions")),
        sa.UniqueConstraint("account_id", "subject_id", name="watch_subscription_account_subject"),
    )
    op.create_index(op.f("ix_watch_subscriptions_account_id"), "watch_subscriptions", ["account_id"], unique=False)
    op.create_index(op.f("ix_watch_subscriptions_subject_id"), "watch_subscriptions", ["subject_id"], unique=False)


def downgrade() -> None:
    op.drop_table("watch_subscriptions")
    op.drop_table("warning_deliveries")
    op.drop_table("risk_warnings")
    op.drop_table("grade_changes")
    op.drop_table("subject_evaluations")
