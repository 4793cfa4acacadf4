"""API read-path benchmark (foundation issue): 100,000 listings and 2,000 applications, measured
through HTTP against one `hunter serve` process, sequential requests after a warm-up.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import psutil
from sqlalchemy import text

from app import migrations
from app.database import build_engine
from app.models import Application, ApplicationLog, JobBoard
from benchmarks import data
from benchmarks.harness import (
    Timing,
    insert_jobs,
    insert_rows,
    print_table,
    scratch_database_url,
    served_hunter,
    time_async,
    time_requests,
    verdict,
)

# (label, path, seed system median/p95 ms, target median/p95 ms)
CASES = [
    (
        "search, selective two words",
        "/api/jobs?search=haskell%20kubernetes",
        (19.7, 29.3),
        (10, 20),
    ),
    ("search, word in half the jobs", "/api/jobs?search=python", (90, 108), (30, 45)),
    (
        "sort by score, min_score=60",
        "/api/jobs?sort_by=match_score&min_score=60",
        (59.5, 71),
        (10, 20),
    ),
    ("list, no filter, first page", "/api/jobs", (83, 105), (10, 20)),
    ("dashboard", "/api/applications/dashboard", (94, 112), (30, 45)),
]
MEMORY_TARGET_MB = 150


async def seed(url: str, job_count: int, application_count: int) -> dict[str, float]:
    engine = build_engine(url)
    started = time.perf_counter()
    try:
        async with engine.begin() as connection:
            boards = data.boards()
            await insert_rows(connection, JobBoard, boards)
            job_ids = []

            def remember(rows: Any) -> Any:
                for row in rows:
                    job_ids.append(row["id"])
                    yield row

            await insert_jobs(connection, remember(data.jobs([b["id"] for b in boards], job_count)))
            apps, logs = data.applications(job_ids, application_count)
            await insert_rows(connection, Application, apps)
            await insert_rows(connection, ApplicationLog, logs)
        seconds = time.perf_counter() - started
        # Statistics as a running system keeps them (autovacuum / PRAGMA optimize).
        if engine.dialect.name == "postgresql":
            async with engine.connect() as connection:
                connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
                await connection.execute(text("VACUUM ANALYZE"))
        else:
            async with engine.begin() as connection:
                await connection.execute(text("ANALYZE"))
    finally:
        await engine.dispose()
    return {"seconds": seconds}


async def naive_comparisons(url: str) -> list[tuple[str, Timing]]:
    """What the benchmark replaces, timed in-process on the same data."""
    engine = build_engine(url)
    like = "ILIKE" if engine.dialect.name == "postgresql" else "LIKE"
    visible = "is_hidden = false AND closed_at IS NULL"
    results = []
    try:
        async with engine.connect() as connection:

            async def naive_search() -> None:
                await connection.execute(
                    text(
                        f"SELECT count(*) FROM jobs WHERE {visible} AND (title {like} :w "
                        f"OR company {like} :w OR description {like} :w)"
                    ),
                    {"w": "%python%"},
                )
                await connection.execute(
                    text(
                        f"SELECT * FROM jobs WHERE {visible} AND (title {like} :w OR company "
                        f"{like} :w OR description {like} :w) ORDER BY created_at DESC LIMIT 25"
                    ),
                    {"w": "%python%"},
                )

            async def per_row_page() -> None:
                rows = (
                    await connection.execute(
                        text(
                            f"SELECT id, board_id FROM jobs WHERE {visible} "
                            "ORDER BY created_at DESC LIMIT 25"
                        )
                    )
                ).all()
                await connection.execute(text(f"SELECT count(*) FROM jobs WHERE {visible}"))
                for row in rows:
                    await connection.execute(
                        text("SELECT name FROM job_boards WHERE id = :id"), {"id": row.board_id}
                    )
                    await connection.execute(
                        text("SELECT status FROM applications WHERE job_id = :id"), {"id": row.id}
                    )

            results.append(("search: LIKE '%python%' scan", await time_async(naive_search, 10, 2)))
            results.append(
                ("list: per-row board/application lookups", await time_async(per_row_page, 50, 5))
            )
    finally:
        await engine.dispose()
    return results


def run(backends: list[str], job_count: int, application_count: int) -> None:
    for backend in backends:
        url = scratch_database_url(backend, "hunter_bench_api")
        migrations.upgrade(url)
        seeded = asyncio.run(seed(url, job_count, application_count))
        print(
            f"\n[{backend}] seeded {job_count:,} jobs and {application_count:,} applications "
            f"in {seeded['seconds']:.1f} s"
        )
        measured: dict[str, Timing] = {}
        with served_hunter(url) as (base, pid), httpx.Client(base_url=base, timeout=30) as client:
            for label, path, _, _ in CASES:
                measured[label] = time_requests(client, path)
            rss_mb = psutil.Process(pid).memory_info().rss / 2**20
        rows = []
        for label, _, seed_figure, target in CASES:
            got = measured[label]
            ok = (
                verdict(got.median_ms, target[0]) == "ok" and verdict(got.p95_ms, target[1]) == "ok"
            )
            rows.append(
                (
                    label,
                    f"{got.median_ms:.1f} / {got.p95_ms:.1f}",
                    f"{target[0]} / {target[1]}",
                    f"{seed_figure[0]} / {seed_figure[1]}",
                    "ok" if ok else "MISSED",
                )
            )
        rows.append(
            (
                "server RSS after run (MB)",
                f"{rss_mb:.0f}",
                f"{MEMORY_TARGET_MB}",
                "87",
                verdict(rss_mb, MEMORY_TARGET_MB),
            )
        )
        print_table(
            f"[{backend}] API, ms median / p95",
            rows,
            ("request", "measured", "target", "seed system", ""),
        )

        naive = asyncio.run(naive_comparisons(url))
        by_label = {
            "search: LIKE '%python%' scan": measured["search, word in half the jobs"],
            "list: per-row board/application lookups": measured["list, no filter, first page"],
        }
        print_table(
            f"[{backend}] what the indexed paths replace (in-process SQL, ms median)",
            [
                (
                    label,
                    f"{t.median_ms:.1f}",
                    f"{by_label[label].median_ms:.1f}",
                    f"{t.median_ms / by_label[label].median_ms:.1f}x",
                )
                for label, t in naive
            ],
            ("naive alternative", "naive", "Hunter (HTTP)", "ratio"),
        )
