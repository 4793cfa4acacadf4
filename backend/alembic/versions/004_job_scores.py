"""Scores in their own table: a rescore rewrites narrow score rows, never the wide job rows.

Revision ID: 004_job_scores
Revises: 003_search_speed
Create Date: 2026-11-27

A profile change rescores every open job. With the score on `jobs`, each new score rewrote the
whole job row (1-3 KB of description) and, being indexed, re-inserted the row into every index
(PostgreSQL cannot update it in place): about 6 s of database work for 100k jobs on either
backend. `job_scores` holds (job_id, match_score, match_details, visible), so the same rescore
rewrites ~100 bytes a job and one index.

`visible` mirrors the jobs' VISIBLE condition (not hidden, not closed), kept by a trigger on
`jobs`; writers set it when they insert a score row. With it the partial index
`ix_job_scores_visible (match_score, job_id) WHERE visible` answers score-sorted pages and score
counts of visible jobs alone.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "004_job_scores"
down_revision: str | None = "003_search_speed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VISIBLE = "is_hidden = false AND closed_at IS NULL"
JOBS_SCORE_INDEX = ("ix_jobs_visible_score_id", ["match_score", "id"])
TRIGGER = "job_scores_follow_visibility"


def _json_type() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _visibility(row: str) -> str:
    return f"({row}.is_hidden = false AND {row}.closed_at IS NULL)"


def _create_trigger(dialect: str) -> None:
    changed = f"{_visibility('OLD')} IS DISTINCT FROM {_visibility('NEW')}"
    if dialect == "postgresql":
        op.execute(
            f"""CREATE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE job_scores SET visible = {_visibility("NEW")} WHERE job_id = NEW.id;
                RETURN NULL;
            END
            $$"""
        )
        op.execute(
            f"""CREATE TRIGGER {TRIGGER} AFTER UPDATE OF is_hidden, closed_at ON jobs
            FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION {TRIGGER}()"""
        )
    else:
        op.execute(
            f"""CREATE TRIGGER {TRIGGER} AFTER UPDATE OF is_hidden, closed_at ON jobs
            WHEN {changed.replace("IS DISTINCT FROM", "IS NOT")} BEGIN
                UPDATE job_scores SET visible = {_visibility("new")} WHERE job_id = new.id;
            END"""
        )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "job_scores",
        sa.Column(
            "job_id",
            sa.Uuid(),
            sa.ForeignKey("jobs.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("match_score", sa.Float(), nullable=False),
        sa.Column("match_details", _json_type(), nullable=False),
        sa.Column("visible", sa.Boolean(), nullable=False),
    )
    op.execute(
        "INSERT INTO job_scores (job_id, match_score, match_details, visible) "
        f"SELECT id, match_score, match_details, {VISIBLE} FROM jobs"
    )
    op.create_index(
        "ix_job_scores_visible",
        "job_scores",
        ["match_score", "job_id"],
        postgresql_where=sa.text("visible"),
        sqlite_where=sa.text("visible"),
    )
    _create_trigger(dialect)
    op.drop_index(JOBS_SCORE_INDEX[0], table_name="jobs")
    op.drop_column("jobs", "match_details")
    op.drop_column("jobs", "match_score")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column("jobs", sa.Column("match_score", sa.Float(), nullable=False, server_default="0"))
    op.add_column(
        "jobs",
        sa.Column("match_details", _json_type(), nullable=False, server_default=sa.text("'{}'")),
    )
    op.execute(
        "UPDATE jobs SET match_score = s.match_score, match_details = s.match_details "
        "FROM job_scores AS s WHERE s.job_id = jobs.id"
    )
    if dialect == "postgresql":
        op.execute(
            "ALTER TABLE jobs ALTER COLUMN match_score DROP DEFAULT, "
            "ALTER COLUMN match_details DROP DEFAULT"
        )
    name, columns = JOBS_SCORE_INDEX
    op.create_index(
        name, "jobs", columns, postgresql_where=sa.text(VISIBLE), sqlite_where=sa.text(VISIBLE)
    )
    op.execute(
        f"DROP TRIGGER IF EXISTS {TRIGGER}" + (" ON jobs" if dialect == "postgresql" else "")
    )
    if dialect == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {TRIGGER}()")
    op.drop_index("ix_job_scores_visible", table_name="job_scores")
    op.drop_table("job_scores")
