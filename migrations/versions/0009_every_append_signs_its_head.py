"""every append signs its head

From this revision on, every append to the transparency log signs the head of the log it makes
in its own transaction, so a tree size without a signed head is evidence that heads were
deleted. Logs begun earlier signed heads only when one was asked for: ``log_state.signed_from``
records the first size that must have a head (the size the next append makes), and
``registry verify-log`` asks for a head of every size from there on.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("log_state", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("signed_from", sa.Integer(), nullable=False, server_default="1")
        )
    op.execute("UPDATE log_state SET signed_from = tree_size + 1")


def downgrade() -> None:
    with op.batch_alter_table("log_state", schema=None) as batch_op:
        batch_op.drop_column("signed_from")
