"""Search speed: visibility inside SQLite's full-text index; (key, id) indexes for list pages.

Revision ID: 003_search_speed
Revises: 002_board_alerts
Create Date: 2026-11-28

SQLite: `jobs_fts` gains a fourth column, `state`, holding the word 'invisible' for hidden or
closed listings (empty otherwise), so `... NOT state:invisible` counts the visible matches of a
search from the full-text index alone instead of testing tens of thousands of hits against the
jobs table. The table is contentless, so it is rebuilt from `jobs`; its triggers now also follow
`is_hidden` and `closed_at`, and only re-index a row when an indexed value really changed.

Both backends: list pages are sorted by (created_at, id) or (match_score, id); indexes over
visible listings in exactly that order let a page be read from the index without a sort.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "003_search_speed"
down_revision: str | None = "002_board_alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VISIBLE = sa.text("is_hidden = false AND closed_at IS NULL")
# (name, columns); keep in step with the indexes declared on app/models/job.py Job.
PAGE_INDEXES = (
    ("ix_jobs_visible_created_id", ["created_at", "id"]),
    ("ix_jobs_visible_score_id", ["match_score", "id"]),
)
# Replaced by the (key, id) indexes above, which serve every query these served.
SUPERSEDED = (
    ("ix_jobs_visible_created", ["created_at"]),
    ("ix_jobs_visible_score", ["match_score"]),
)

# (pattern, spelling) pairs; keep in step with app/services/search.py SPECIAL_TOKENS (and 001).
SPECIAL_TOKENS = [
    ("c++", " cplusplus "),
    ("c#", " csharp "),
    ("f#", " fsharp "),
    (".net", " dotnet "),
]
TEXT_COLUMNS = ("title", "company", "description")
TRIGGERS = ("jobs_fts_insert", "jobs_fts_delete", "jobs_fts_update")


def _sql_prepare(expr: str) -> str:
    """SQL that lower-cases `expr` and spells the special tokens, as 001 does."""
    out = f"lower(coalesce({expr}, ''))"
    for pattern, spelling in SPECIAL_TOKENS:
        out = f"replace({out}, '{pattern}', '{spelling}')"
    return out


def _state(row: str) -> str:
    return f"CASE WHEN {row}.is_hidden OR {row}.closed_at IS NOT NULL THEN 'invisible' ELSE '' END"


def _fts_statements(with_state: bool) -> list[str]:
    """The FTS5 table, its triggers and its initial fill; `with_state` is this revision's form."""
    columns = [*TEXT_COLUMNS, "state"] if with_state else list(TEXT_COLUMNS)
    names = ", ".join(columns)

    def values(row: str) -> str:
        prepared = [_sql_prepare(f"{row}.{column}") for column in TEXT_COLUMNS]
        return ", ".join([*prepared, _state(row)] if with_state else prepared)

    watched = [*TEXT_COLUMNS, "is_hidden", "closed_at"] if with_state else list(TEXT_COLUMNS)
    changed = " OR ".join(f"old.{column} IS NOT new.{column}" for column in TEXT_COLUMNS)
    if with_state:
        changed += f" OR ({_state('old')}) IS NOT ({_state('new')})"
    return [
        f"CREATE VIRTUAL TABLE jobs_fts USING fts5({names}, content='', "
        "tokenize='porter unicode61')",
        f"""CREATE TRIGGER jobs_fts_insert AFTER INSERT ON jobs BEGIN
            INSERT INTO jobs_fts(rowid, {names}) VALUES (new.rowid, {values("new")});
        END""",
        f"""CREATE TRIGGER jobs_fts_delete AFTER DELETE ON jobs BEGIN
            INSERT INTO jobs_fts(jobs_fts, rowid, {names})
            VALUES ('delete', old.rowid, {values("old")});
        END""",
        # Scans touch every listing they see; only a change to what is indexed re-indexes it.
        f"""CREATE TRIGGER jobs_fts_update AFTER UPDATE OF {", ".join(watched)} ON jobs
        WHEN {changed} BEGIN
            INSERT INTO jobs_fts(jobs_fts, rowid, {names})
            VALUES ('delete', old.rowid, {values("old")});
            INSERT INTO jobs_fts(rowid, {names}) VALUES (new.rowid, {values("new")});
        END""",
        f"INSERT INTO jobs_fts(rowid, {names}) SELECT rowid, {values('jobs')} FROM jobs",
    ]


def _replace_fts(with_state: bool) -> None:
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS jobs_fts")
    for statement in _fts_statements(with_state):
        op.execute(statement)


def _swap_indexes(
    create: Sequence[tuple[str, list[str]]], drop: Sequence[tuple[str, list[str]]]
) -> None:
    for name, columns in create:
        op.create_index(name, "jobs", columns, postgresql_where=VISIBLE, sqlite_where=VISIBLE)
    for name, _ in drop:
        op.drop_index(name, table_name="jobs")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _replace_fts(with_state=True)
    _swap_indexes(PAGE_INDEXES, SUPERSEDED)


def downgrade() -> None:
    _swap_indexes(SUPERSEDED, PAGE_INDEXES)
    if op.get_bind().dialect.name == "sqlite":
        _replace_fts(with_state=False)
