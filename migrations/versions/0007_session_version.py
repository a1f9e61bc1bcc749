"""session version

Every sign-in cookie (the session's and the remember-me one) names the account's session
version; signing out, a new password and deactivation raise it, so every cookie issued before
stops working. Existing accounts start at 0; cookies issued before this revision name no
version, so everyone signs in once more after the upgrade.

A plain ADD/DROP COLUMN on both databases (SQLite has had DROP COLUMN since 3.35): no batch
copy of ``user_account``, which every other table refers to.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "user_account",
        sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_column("user_account", "session_version")
