"""download_links.recipient: the WeChat user (OpenID) a link was handed to, who alone may open it

Revision ID: 0024
Revises: 0018
Create Date: 2026-12-07 02:40:00

A link handed to a WeChat user is opened only by a browser that proves, through WeChat's 网页授权
(OAuth2, snsapi_base), to be that user (services/download_links.py). Links issued before this
revision have no recipient and stay openable as before until they expire (minutes to hours).

Hand-written from db/models/wechat.py; tests/test_migrations.py checks it against the models.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("download_links", sa.Column("recipient", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("download_links", "recipient")  # plain DROP COLUMN (SQLite 3.35+, PostgreSQL)
