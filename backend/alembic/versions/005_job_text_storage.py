"""PostgreSQL job text: one search-vector function, visibility inside the vector, lz4.

Revision ID: 005_job_text_storage
Revises: 004_job_scores
Create Date: 2026-11-27

Parsing text into a tsvector is most of the database's work when a scan stores new listings
(~0.25 ms per 2 KB description, ~70% of it). `jobs_search_vector(title, company, description)`
is the one definition of a job's weighted vector (title above company above description). The
trigger only computes it for an inserted row that arrives without one, so a large scan can have
its vectors computed on a second connection while its own connection inserts (app/services/
search_vectors.py), using two cores. An update re-parses only when the text really changed.

`description_tsv` of a hidden or closed listing also holds the lexeme INVISIBLE, as SQLite's
`jobs_fts.state` holds 'invisible' (003), so counting the visible matches of a search as
`description_tsv @@ (query & !INVISIBLE)` the GIN index tells which hits are visible instead of
each hit's row (a quarter of the count's time for a word in half of 100k jobs). Search text is
lower-cased before it is parsed, so no search can name the marker. A change of visibility alone
adds or removes the marker without re-parsing.

Descriptions and vectors are stored out of line (toast_tuple_target, migration 001) and were
compressed with pglz; lz4 compresses several times faster and decompresses about 4x faster,
which a scan's inserts and a rescore's keyword search (it reads every open description) both
feel. Where the server lacks lz4 the columns keep pglz. SQLite is unchanged.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "005_job_text_storage"
down_revision: str | None = "004_job_scores"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WEIGHTS = (("title", "A"), ("company", "B"), ("description", "C"))
# Keep in step with app/services/search.py PG_INVISIBLE.
MARKER = "INVISIBLE"
TEXT_CHANGED = " OR ".join(f"NEW.{column} IS DISTINCT FROM OLD.{column}" for column, _ in WEIGHTS)


def _vector(row: str = "") -> str:
    """The weighted vector of `row`'s columns (bare names: the function's own arguments)."""
    return " ||\n        ".join(
        f"setweight(to_tsvector('english', search_prepare({row}{column})), '{weight}')"
        for column, weight in WEIGHTS
    )


def _invisible(row: str) -> str:
    return f"({row}.is_hidden OR {row}.closed_at IS NOT NULL)"


REFRESH = f"""CREATE OR REPLACE FUNCTION jobs_tsv_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- A vector given with the row was computed from its text beside the insert.
        IF NEW.description_tsv IS NULL THEN
            NEW.description_tsv := jobs_search_vector(NEW.title, NEW.company, NEW.description);
        END IF;
    ELSIF {TEXT_CHANGED} THEN
        NEW.description_tsv := jobs_search_vector(NEW.title, NEW.company, NEW.description);
    ELSIF {_invisible("NEW")} = {_invisible("OLD")} THEN
        -- Same text, same visibility: re-parsing would be wasted (and a tsvector assigned is
        -- stored anew even when equal).
        RETURN NEW;
    ELSE
        NEW.description_tsv := ts_delete(NEW.description_tsv, '{MARKER}'::text);
    END IF;
    IF {_invisible("NEW")} THEN
        NEW.description_tsv := NEW.description_tsv || '{MARKER}'::tsvector;
    END IF;
    RETURN NEW;
END
$$"""

# Applies to values written from now on; stored ones keep their compression until rewritten.
LZ4 = """DO $$ BEGIN
    ALTER TABLE jobs ALTER COLUMN description SET COMPRESSION lz4,
        ALTER COLUMN description_tsv SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 is not available: job text stays compressed with pglz';
END $$"""

UPGRADE = [
    f"""CREATE FUNCTION jobs_search_vector(title text, company text, description text)
    RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT {_vector()} $$""",
    REFRESH,
    "DROP TRIGGER jobs_tsv_refresh ON jobs",
    """CREATE TRIGGER jobs_tsv_refresh
    BEFORE INSERT OR UPDATE OF title, company, description, is_hidden, closed_at ON jobs
    FOR EACH ROW EXECUTE FUNCTION jobs_tsv_refresh()""",
    # description_tsv is not among the trigger's columns: this re-parses nothing.
    f"""UPDATE jobs SET description_tsv = description_tsv || '{MARKER}'::tsvector
    WHERE {_invisible("jobs")}""",
    LZ4,
]

# Back to 001's function and trigger.
DOWNGRADE = [
    f"""UPDATE jobs SET description_tsv = ts_delete(description_tsv, '{MARKER}'::text)
    WHERE {_invisible("jobs")}""",
    f"""CREATE OR REPLACE FUNCTION jobs_tsv_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.description_tsv :=
        {_vector("NEW.")};
    RETURN NEW;
END
$$""",
    "DROP TRIGGER jobs_tsv_refresh ON jobs",
    """CREATE TRIGGER jobs_tsv_refresh BEFORE INSERT OR UPDATE OF title, company, description
    ON jobs FOR EACH ROW EXECUTE FUNCTION jobs_tsv_refresh()""",
    "DROP FUNCTION jobs_search_vector(text, text, text)",
    """ALTER TABLE jobs ALTER COLUMN description SET COMPRESSION default,
    ALTER COLUMN description_tsv SET COMPRESSION default""",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in UPGRADE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in DOWNGRADE:
            op.execute(statement)
