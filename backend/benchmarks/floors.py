"""What the databases themselves allow on this machine: the reference figures the scanning
issue gives for its targets, measured here, so that scan rates can be read against the machine
they ran on. Its words: "a bare multi-row insert of the same rows into a table with its full-text
index alone runs at ~7,200/s on SQLite FTS5 here, and a COPY into a table with a tsvector trigger
and GIN index at ~3,700/s on PostgreSQL"."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

import asyncpg

from app.scrapers.base import RawJob
from benchmarks.harness import WORK_DIR, scratch_database_url

# Listings per second on the machine the issue's targets were set on.
ISSUE_FLOOR = {"sqlite": 7_200, "postgresql": 3_700}


def _rows(listings: Sequence[RawJob]) -> list[tuple[str, str, str, str]]:
    return [(job.title, job.company or "", job.description, job.url) for job in listings]


def _sqlite_floor(listings: Sequence[RawJob]) -> float:
    WORK_DIR.mkdir(exist_ok=True)
    path = WORK_DIR / "hunter_bench_floor.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    database = sqlite3.connect(path)
    try:
        database.execute("PRAGMA journal_mode = WAL")
        database.execute("PRAGMA synchronous = NORMAL")
        database.executescript(
            """CREATE TABLE jobs (id INTEGER PRIMARY KEY, title TEXT, company TEXT,
                description TEXT, url TEXT);
            CREATE VIRTUAL TABLE jobs_fts USING fts5(title, company, description, content='');
            CREATE TRIGGER jobs_fts_insert AFTER INSERT ON jobs BEGIN
                INSERT INTO jobs_fts (rowid, title, company, description)
                VALUES (new.id, new.title, new.company, new.description);
            END;"""
        )
        rows = _rows(listings)
        started = time.perf_counter()
        with database:
            for start in range(0, len(rows), 500):
                database.executemany(
                    "INSERT INTO jobs (title, company, description, url) VALUES (?, ?, ?, ?)",
                    rows[start : start + 500],
                )
        return len(rows) / (time.perf_counter() - started)
    finally:
        database.close()


async def _postgresql_floor(url: str, listings: Sequence[RawJob]) -> float:
    connection = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        await connection.execute(
            """CREATE TABLE jobs (id serial PRIMARY KEY, title text, company text,
                description text, url text, description_tsv tsvector);
            CREATE INDEX ix_jobs_tsv ON jobs USING gin (description_tsv);
            CREATE TRIGGER jobs_tsv BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION
                tsvector_update_trigger(description_tsv, 'pg_catalog.english', title, company,
                description);"""
        )
        rows = _rows(listings)
        started = time.perf_counter()
        await connection.copy_records_to_table(
            "jobs", records=rows, columns=["title", "company", "description", "url"]
        )
        return len(rows) / (time.perf_counter() - started)
    finally:
        await connection.close()


def floor(backend: str, listings: Sequence[RawJob]) -> float:
    """Listings per second of the issue's reference insert of `listings`, on this machine."""
    if backend == "sqlite":
        return _sqlite_floor(listings)
    url = scratch_database_url("postgresql", "hunter_bench_floor")
    return asyncio.run(_postgresql_floor(url, listings))
