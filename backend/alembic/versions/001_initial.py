"""Initial schema: boards, scans, jobs (with full-text search), profile, applications.

Revision ID: 001_initial
Revises:
Create Date: 2026-11-27

Full-text search differs by backend: PostgreSQL keeps a weighted `description_tsv` tsvector
(title A, company B, description C) current with a trigger and indexes it with GIN; SQLite keeps
a contentless FTS5 table `jobs_fts` (rowid = jobs.rowid) current with triggers. Both index text
through `search_prepare`, which spells tokens such as C++, C# and .NET as words
(cplusplus, csharp, dotnet) so they survive tokenization; app/services/search.py applies the
same spelling to queries.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
VISIBLE = sa.text("is_hidden = false AND closed_at IS NULL")
OPEN = sa.text("closed_at IS NULL")

# (pattern, spelling) pairs; keep in step with app/services/search.py SPECIAL_TOKENS.
SPECIAL_TOKENS = [
    ("c++", " cplusplus "),
    ("c#", " csharp "),
    ("f#", " fsharp "),
    (".net", " dotnet "),
]


def _sql_prepare(expr: str) -> str:
    """SQL that lower-cases `expr` and spells the special tokens (same on both backends)."""
    out = f"lower(coalesce({expr}, ''))"
    for pattern, spelling in SPECIAL_TOKENS:
        out = f"replace({out}, '{pattern}', '{spelling}')"
    return out


PG_SEARCH = [
    f"""CREATE FUNCTION search_prepare(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT {_sql_prepare("value")} $$""",
    """CREATE FUNCTION jobs_tsv_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.description_tsv :=
        setweight(to_tsvector('english', search_prepare(NEW.title)), 'A') ||
        setweight(to_tsvector('english', search_prepare(NEW.company)), 'B') ||
        setweight(to_tsvector('english', search_prepare(NEW.description)), 'C');
    RETURN NEW;
END
$$""",
    """CREATE TRIGGER jobs_tsv_refresh BEFORE INSERT OR UPDATE OF title, company, description
    ON jobs FOR EACH ROW EXECUTE FUNCTION jobs_tsv_refresh()""",
]


def _fts_values(row: str) -> str:
    return ", ".join(_sql_prepare(f"{row}.{col}") for col in ("title", "company", "description"))


SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE jobs_fts USING fts5("
    "title, company, description, content='', tokenize='porter unicode61')",
    f"""CREATE TRIGGER jobs_fts_insert AFTER INSERT ON jobs BEGIN
        INSERT INTO jobs_fts(rowid, title, company, description)
        VALUES (new.rowid, {_fts_values("new")});
    END""",
    f"""CREATE TRIGGER jobs_fts_delete AFTER DELETE ON jobs BEGIN
        INSERT INTO jobs_fts(jobs_fts, rowid, title, company, description)
        VALUES ('delete', old.rowid, {_fts_values("old")});
    END""",
    f"""CREATE TRIGGER jobs_fts_update AFTER UPDATE OF title, company, description ON jobs BEGIN
        INSERT INTO jobs_fts(jobs_fts, rowid, title, company, description)
        VALUES ('delete', old.rowid, {_fts_values("old")});
        INSERT INTO jobs_fts(rowid, title, company, description)
        VALUES (new.rowid, {_fts_values("new")});
    END""",
]


def _create_search() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.add_column("jobs", sa.Column("description_tsv", postgresql.TSVECTOR(), nullable=True))
        for statement in PG_SEARCH:
            op.execute(statement)
        op.create_index(
            "ix_jobs_description_tsv", "jobs", ["description_tsv"], postgresql_using="gin"
        )
    else:
        for statement in SQLITE_SEARCH:
            op.execute(statement)


def _tune_job_storage() -> None:
    """PostgreSQL: keep job rows narrow and half their pages free, so a re-scan is cheap.

    Every scan marks each listing it sees (last_seen_at). With 1-3 KB descriptions inline, each
    such update writes a new wide row version on another page and re-inserts every index entry,
    GIN's ~150 per job included. Moving long text out of line (toast_tuple_target) and leaving
    room on each page (fillfactor) lets those updates stay on their page (HOT) without touching
    any index: about 9x less work per re-scan, and searches read far fewer heap pages.
    """
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE jobs SET (fillfactor = 50, toast_tuple_target = 256)")


def _drop_search() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS jobs_tsv_refresh ON jobs")
        op.execute("DROP FUNCTION IF EXISTS jobs_tsv_refresh()")
        op.execute("DROP FUNCTION IF EXISTS search_prepare(text)")
    else:
        for trigger in ("jobs_fts_insert", "jobs_fts_delete", "jobs_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS jobs_fts")


def upgrade() -> None:
    op.create_table(
        "job_boards",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("scan_interval_minutes", sa.Integer(), nullable=False),
        sa.Column("keyword_filters", JSON_TYPE, nullable=False),
        sa.Column("scraper_config", JSON_TYPE, nullable=False),
        sa.Column("last_scanned_at", TIMESTAMP, nullable=True),
        sa.Column("last_scan_status", sa.String(length=16), nullable=False),
        sa.Column("last_scan_error", sa.Text(), nullable=True),
        sa.Column("jobs_found_last_scan", sa.Integer(), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("current_scan_id", sa.Uuid(), nullable=True),
        sa.Column("scan_lease_until", TIMESTAMP, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_boards")),
    )
    op.create_table(
        "user_profiles",
        sa.Column("first_name", sa.String(length=100), nullable=True),
        sa.Column("last_name", sa.String(length=100), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("linkedin_url", sa.String(length=2048), nullable=True),
        sa.Column("website_url", sa.String(length=2048), nullable=True),
        sa.Column("github_url", sa.String(length=2048), nullable=True),
        sa.Column("city", sa.String(length=200), nullable=True),
        sa.Column("region", sa.String(length=200), nullable=True),
        sa.Column("country", sa.String(length=200), nullable=True),
        sa.Column("us_citizen", sa.Boolean(), nullable=True),
        sa.Column("sponsorship_needed", sa.Boolean(), nullable=True),
        sa.Column("veteran_status", sa.String(length=100), nullable=True),
        sa.Column("disability_status", sa.String(length=100), nullable=True),
        sa.Column("gender", sa.String(length=100), nullable=True),
        sa.Column("ethnicity", sa.String(length=100), nullable=True),
        sa.Column("resume_path", sa.String(length=200), nullable=True),
        sa.Column("resume_filename", sa.String(length=255), nullable=True),
        sa.Column("resume_content_type", sa.String(length=100), nullable=True),
        sa.Column("cover_letter_template", sa.Text(), nullable=True),
        sa.Column("desired_title", sa.String(length=200), nullable=True),
        sa.Column("desired_locations", sa.String(length=1000), nullable=True),
        sa.Column("remote_preference", sa.String(length=16), nullable=False),
        sa.Column("min_salary", sa.Integer(), nullable=True),
        sa.Column("skills", JSON_TYPE, nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_profiles")),
    )
    op.create_table(
        "education",
        sa.Column("profile_id", sa.Uuid(), nullable=False),
        sa.Column("school", sa.String(length=300), nullable=False),
        sa.Column("degree", sa.String(length=200), nullable=True),
        sa.Column("field_of_study", sa.String(length=200), nullable=True),
        sa.Column("gpa", sa.String(length=20), nullable=True),
        sa.Column("graduation_year", sa.Integer(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["user_profiles.id"],
            name=op.f("fk_education_profile_id_user_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_education")),
    )
    with op.batch_alter_table("education", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_education_profile_id"), ["profile_id"], unique=False)

    op.create_table(
        "jobs",
        sa.Column("board_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("company", sa.String(length=300), nullable=False),
        sa.Column("location", sa.String(length=500), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("salary_min", sa.Float(), nullable=True),
        sa.Column("salary_max", sa.Float(), nullable=True),
        sa.Column("salary_currency", sa.String(length=8), nullable=True),
        sa.Column("salary_period", sa.String(length=16), nullable=True),
        sa.Column("match_score", sa.Float(), nullable=False),
        sa.Column("match_details", JSON_TYPE, nullable=False),
        sa.Column("dedup_hash", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("external_id", sa.String(length=300), nullable=True),
        sa.Column("posted_date", TIMESTAMP, nullable=True),
        sa.Column("first_seen_at", TIMESTAMP, nullable=False),
        sa.Column("last_seen_at", TIMESTAMP, nullable=False),
        sa.Column("closed_at", TIMESTAMP, nullable=True),
        sa.Column("workplace_type", sa.String(length=16), nullable=False),
        sa.Column("employment_type", sa.String(length=100), nullable=True),
        sa.Column("department", sa.String(length=300), nullable=True),
        sa.Column("is_new", sa.Boolean(), nullable=False),
        sa.Column("is_hidden", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["board_id"],
            ["job_boards.id"],
            name=op.f("fk_jobs_board_id_job_boards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("dedup_hash", name=op.f("uq_jobs_dedup_hash")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_board_id", ["board_id"], unique=False)
        batch_op.create_index(
            "ix_jobs_visible_created",
            ["created_at"],
            unique=False,
            postgresql_where=VISIBLE,
            sqlite_where=VISIBLE,
        )
        batch_op.create_index(
            "ix_jobs_visible_posted",
            ["posted_date"],
            unique=False,
            postgresql_where=VISIBLE,
            sqlite_where=VISIBLE,
        )
        batch_op.create_index(
            "ix_jobs_visible_score",
            ["match_score"],
            unique=False,
            postgresql_where=VISIBLE,
            sqlite_where=VISIBLE,
        )
        batch_op.create_index(
            "ix_jobs_open_board",
            ["board_id", "closed_at"],
            unique=False,
            postgresql_where=OPEN,
            sqlite_where=OPEN,
        )
        batch_op.create_index(
            "ix_jobs_visible_new",
            ["is_new", "is_hidden", "closed_at"],
            unique=False,
            postgresql_where=VISIBLE,
            sqlite_where=VISIBLE,
        )
        batch_op.create_index("ix_jobs_first_seen", ["first_seen_at"], unique=False)

    op.create_table(
        "scan_runs",
        sa.Column("board_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=True),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("jobs_found", sa.Integer(), nullable=False),
        sa.Column("jobs_new", sa.Integer(), nullable=False),
        sa.Column("jobs_updated", sa.Integer(), nullable=False),
        sa.Column("jobs_closed", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["board_id"],
            ["job_boards.id"],
            name=op.f("fk_scan_runs_board_id_job_boards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_runs")),
    )
    with op.batch_alter_table("scan_runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_scan_runs_board_created", ["board_id", "created_at"], unique=False
        )

    op.create_table(
        "work_experience",
        sa.Column("profile_id", sa.Uuid(), nullable=False),
        sa.Column("company", sa.String(length=300), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("start_date", sa.String(length=7), nullable=True),
        sa.Column("end_date", sa.String(length=7), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["user_profiles.id"],
            name=op.f("fk_work_experience_profile_id_user_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_experience")),
    )
    with op.batch_alter_table("work_experience", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_work_experience_profile_id"), ["profile_id"], unique=False
        )

    op.create_table(
        "applications",
        sa.Column("job_id", sa.Uuid(), nullable=True),
        sa.Column("company", sa.String(length=300), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("applied_via", sa.String(length=16), nullable=False),
        sa.Column("applied_at", TIMESTAMP, nullable=False),
        sa.Column("follow_up_at", TIMESTAMP, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_applications_job_id_jobs"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
    )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.create_index("ix_applications_applied_at", ["applied_at"], unique=False)
        batch_op.create_index("ix_applications_follow_up_at", ["follow_up_at"], unique=False)
        batch_op.create_index("ix_applications_job_id", ["job_id"], unique=False)
        batch_op.create_index("ix_applications_status", ["status"], unique=False)

    op.create_table(
        "application_logs",
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("timestamp", TIMESTAMP, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_application_logs_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_logs")),
    )
    with op.batch_alter_table("application_logs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_application_logs_application_id", ["application_id"], unique=False
        )
        batch_op.create_index("ix_application_logs_timestamp", ["timestamp"], unique=False)
    _create_search()
    _tune_job_storage()


def downgrade() -> None:
    _drop_search()
    with op.batch_alter_table("application_logs", schema=None) as batch_op:
        batch_op.drop_index("ix_application_logs_timestamp")
        batch_op.drop_index("ix_application_logs_application_id")

    op.drop_table("application_logs")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index("ix_applications_status")
        batch_op.drop_index("ix_applications_job_id")
        batch_op.drop_index("ix_applications_follow_up_at")
        batch_op.drop_index("ix_applications_applied_at")

    op.drop_table("applications")
    with op.batch_alter_table("work_experience", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_experience_profile_id"))

    op.drop_table("work_experience")
    with op.batch_alter_table("scan_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_scan_runs_board_created")

    op.drop_table("scan_runs")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_first_seen")
        batch_op.drop_index("ix_jobs_visible_new", postgresql_where=VISIBLE, sqlite_where=VISIBLE)
        batch_op.drop_index("ix_jobs_open_board", postgresql_where=OPEN, sqlite_where=OPEN)
        batch_op.drop_index("ix_jobs_visible_score", postgresql_where=VISIBLE, sqlite_where=VISIBLE)
        batch_op.drop_index(
            "ix_jobs_visible_posted", postgresql_where=VISIBLE, sqlite_where=VISIBLE
        )
        batch_op.drop_index(
            "ix_jobs_visible_created", postgresql_where=VISIBLE, sqlite_where=VISIBLE
        )
        batch_op.drop_index("ix_jobs_board_id")

    op.drop_table("jobs")
    with op.batch_alter_table("education", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_education_profile_id"))

    op.drop_table("education")
    op.drop_table("user_profiles")
    op.drop_table("job_boards")
