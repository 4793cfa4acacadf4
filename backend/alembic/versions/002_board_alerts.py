"""Per-board alert state for the notifier: when "failing" and "finds nothing" were mailed.

Revision ID: 002_board_alerts
Revises: 001_initial
Create Date: 2026-11-28

Plain ADD/DROP COLUMN on both backends (SQLite has both since 3.35). Batch mode is avoided on
purpose: on SQLite it rebuilds `job_boards` by dropping it, and with foreign keys on that drop
would cascade into every job and scan of every board.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "002_board_alerts"
down_revision: str | None = "001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
COLUMNS = ("alerted_failing_at", "alerted_empty_at")


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column("job_boards", sa.Column(name, TIMESTAMP, nullable=True))


def downgrade() -> None:
    for name in reversed(COLUMNS):
        op.drop_column("job_boards", name)
