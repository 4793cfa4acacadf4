"""Migrations build, remove and rebuild the schema on each backend, keeping existing data."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app import migrations
from app.database import build_engine

TABLES = {
    "job_boards",
    "scan_runs",
    "jobs",
    "user_profiles",
    "education",
    "work_experience",
    "applications",
    "application_logs",
    "job_scores",
}


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    return set(names) - {"alembic_version"}


async def _insert_job(engine: AsyncEngine, *, hidden: bool = False) -> None:
    """Insert a board and a job titled "Senior C++ Engineer" at Acme through plain SQL, with
    its score where the schema at hand keeps it."""
    board_id, job_id = uuid.uuid4().hex, uuid.uuid4().hex
    sqlite = engine.dialect.name == "sqlite"
    scores_apart = "job_scores" in await _tables(engine)
    score_columns = "" if scores_apart else " match_score, match_details,"
    score_values = "" if scores_apart else " 0, '{}',"
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO job_boards (id, name, url, enabled, scan_interval_minutes,"
                " keyword_filters, scraper_config, last_scan_status, jobs_found_last_scan,"
                " consecutive_failures, created_at, updated_at) VALUES (:id, 'b', 'https://x',"
                " true, 60, '[]', '{}', 'never', 0, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {"id": board_id if sqlite else uuid.UUID(board_id)},
        )
        await connection.execute(
            # Only the constant score fragments above vary.
            text(
                "INSERT INTO jobs (id, board_id, title, company, location, url, description,"  # noqa: S608
                f"{score_columns} dedup_hash, first_seen_at, last_seen_at,"
                " workplace_type, is_new, is_hidden, created_at, updated_at) VALUES (:id, :board,"
                f" 'Senior C++ Engineer', 'Acme', '', '', 'Low latency systems',{score_values}"
                " :hash, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'unknown', true, :hidden,"
                " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {
                "id": job_id if sqlite else uuid.UUID(job_id),
                "board": board_id if sqlite else uuid.UUID(board_id),
                "hash": job_id,
                "hidden": hidden,
            },
        )
        if scores_apart:
            await connection.execute(
                text(
                    "INSERT INTO job_scores (job_id, match_score, match_details, visible)"
                    " VALUES (:id, 0, '{}', :visible)"
                ),
                {"id": job_id if sqlite else uuid.UUID(job_id), "visible": not hidden},
            )


async def _search_finds(engine: AsyncEngine, word: str) -> int:
    if engine.dialect.name == "sqlite":
        query = "SELECT count(*) FROM jobs_fts WHERE jobs_fts MATCH :q"
    else:
        query = "SELECT count(*) FROM jobs WHERE description_tsv @@ to_tsquery('english', :q)"
    async with engine.connect() as connection:
        return int((await connection.execute(text(query), {"q": word})).scalar_one())


async def test_upgrade_downgrade_upgrade(scratch_url: str) -> None:
    engine = build_engine(scratch_url)
    try:
        await asyncio.to_thread(migrations.upgrade, scratch_url)
        assert await _tables(engine) >= TABLES
        await _insert_job(engine)
        assert await _search_finds(engine, "cplusplus") == 1
        assert await _search_finds(engine, "latency") == 1

        await asyncio.to_thread(migrations.downgrade, scratch_url)
        assert not (await _tables(engine)) & TABLES

        await asyncio.to_thread(migrations.upgrade, scratch_url)
        assert await _tables(engine) >= TABLES
        await _insert_job(engine)
        assert await _search_finds(engine, "acme") == 1
    finally:
        await engine.dispose()


async def _visible_hits(engine: AsyncEngine, word: str) -> int:
    """Visible jobs matching `word`, counted the way the jobs list counts them."""
    if engine.dialect.name == "sqlite":
        query = "SELECT count(*) FROM jobs_fts WHERE jobs_fts MATCH :q"
        word = f"{word} NOT state:invisible"
    else:
        query = (
            "SELECT count(*) FROM jobs WHERE description_tsv"
            " @@ (to_tsquery('english', :q) && !!'INVISIBLE'::tsquery)"
        )
    async with engine.connect() as connection:
        return int((await connection.execute(text(query), {"q": word})).scalar_one())


async def test_search_speed_rebuilds_the_index_from_existing_jobs_and_back(
    scratch_url: str,
) -> None:
    engine = build_engine(scratch_url)
    try:
        await asyncio.to_thread(migrations.upgrade, scratch_url, "002_board_alerts")
        await _insert_job(engine)  # indexed before the search speed revision existed
        await asyncio.to_thread(migrations.upgrade, scratch_url)
        assert await _search_finds(engine, "cplusplus") == 1
        if engine.dialect.name == "sqlite":
            assert await _visible_hits(engine, "cplusplus") == 1
            async with engine.begin() as connection:
                await connection.execute(text("UPDATE jobs SET is_hidden = true"))
            assert await _visible_hits(engine, "cplusplus") == 0
            assert await _search_finds(engine, "cplusplus") == 1

        await asyncio.to_thread(migrations.downgrade, scratch_url, "002_board_alerts")
        assert await _search_finds(engine, "latency") == 1
        await asyncio.to_thread(migrations.upgrade, scratch_url)
        assert await _search_finds(engine, "acme") == 1
    finally:
        await engine.dispose()


async def _scores(engine: AsyncEngine) -> list[tuple[float, bool]]:
    """(score, visible) of every job, the way the jobs list reads them."""
    query = "SELECT match_score, visible FROM job_scores ORDER BY match_score"
    async with engine.connect() as connection:
        return [
            (float(score), bool(visible))
            for score, visible in await connection.execute(text(query))
        ]


async def test_job_scores_move_out_of_jobs_and_back(scratch_url: str) -> None:
    engine = build_engine(scratch_url)
    try:
        await asyncio.to_thread(migrations.upgrade, scratch_url, "003_search_speed")
        await _insert_job(engine)
        await _insert_job(engine, hidden=True)
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE jobs SET match_score = 70 WHERE is_hidden"))
        await asyncio.to_thread(migrations.upgrade, scratch_url)
        assert await _scores(engine) == [(0.0, True), (70.0, False)]
        assert await _search_finds(engine, "cplusplus") == 2  # the full-text index still fits

        # Hiding, closing, showing and reopening a job carry over to its score row.
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE jobs SET is_hidden = NOT is_hidden"))
        assert await _scores(engine) == [(0.0, False), (70.0, True)]
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE jobs SET closed_at = CURRENT_TIMESTAMP"))
        assert await _scores(engine) == [(0.0, False), (70.0, False)]
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE jobs SET closed_at = NULL"))
        assert await _scores(engine) == [(0.0, False), (70.0, True)]
        # A job removed takes its score with it.
        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM jobs WHERE is_hidden"))
        assert await _scores(engine) == [(70.0, True)]

        await asyncio.to_thread(migrations.downgrade, scratch_url, "003_search_speed")
        async with engine.connect() as connection:
            stored = (await connection.execute(text("SELECT match_score FROM jobs"))).all()
        assert [float(score) for (score,) in stored] == [70.0]
        assert await _search_finds(engine, "latency") == 1
        await asyncio.to_thread(migrations.upgrade, scratch_url)
        assert await _scores(engine) == [(70.0, True)]
    finally:
        await engine.dispose()


async def test_search_vectors_mark_hidden_and_closed_jobs_and_back(scratch_url: str) -> None:
    engine = build_engine(scratch_url)
    try:
        await asyncio.to_thread(migrations.upgrade, scratch_url, "003_search_speed")
        await _insert_job(engine)
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE jobs SET is_hidden = true"))
        await asyncio.to_thread(migrations.upgrade, scratch_url)
        assert await _visible_hits(engine, "cplusplus") == 0
        assert await _search_finds(engine, "cplusplus") == 1
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE jobs SET is_hidden = false"))
        assert await _visible_hits(engine, "cplusplus") == 1
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE jobs SET closed_at = CURRENT_TIMESTAMP"))
        assert await _visible_hits(engine, "cplusplus") == 0
        async with engine.begin() as connection:  # new text, still closed
            await connection.execute(text("UPDATE jobs SET description = 'Trading engines'"))
        assert await _visible_hits(engine, "trading") == 0
        assert await _search_finds(engine, "trading") == 1

        await asyncio.to_thread(migrations.downgrade, scratch_url, "003_search_speed")
        assert await _search_finds(engine, "trading") == 1
        if engine.dialect.name == "postgresql":
            marked = "SELECT count(*) FROM jobs WHERE description_tsv @@ 'INVISIBLE'::tsquery"
            async with engine.connect() as connection:
                assert (await connection.execute(text(marked))).scalar_one() == 0
        await asyncio.to_thread(migrations.upgrade, scratch_url)
        assert await _visible_hits(engine, "acme") == 0
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE jobs SET closed_at = NULL"))
        assert await _visible_hits(engine, "acme") == 1
    finally:
        await engine.dispose()
