"""Scan storing benchmark (scanning issue): store 20,000 scraped listings, re-scan them, rescore
100,000 stored jobs, and compare with the naive per-row ORM insert the bulk path replaces.

Each backend gets fresh scratch databases. Timings are end to end in-process: store + dedup +
score + commit. Verdicts are on wall time; the CPU time beside it (this process, plus every
PostgreSQL server process on this machine: a large scan uses two) says what the work costs when
other work on the machine stretches the wall clock. Memory is the peak RSS of this process,
sampled every 5 ms with psutil while the two scans run (the 20,000 listings themselves, about
40 MB of text, are part of it).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import timedelta

import psutil
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app import migrations
from app.database import build_engine
from app.models import Job, JobBoard, UserProfile
from app.models.base import utcnow
from app.scrapers.base import RawJob
from app.services.listing_identity import ListingIdentity
from app.services.rescoring import board_matcher, rescore_open_jobs
from app.services.scanner import StoreOutcome, store_listings
from benchmarks import data, floors
from benchmarks.harness import insert_jobs, insert_rows, print_table, scratch_database_url

FIRST_SCAN_TARGET = {"sqlite": 5_000, "postgresql": 3_000}  # listings/s, at least
RESCAN_TARGET = 30_000  # listings/s, at least
MEMORY_TARGET_MB = 300
RESCORE_TARGET_S = 3.0
PROFILE = {
    "desired_title": "Backend Engineer",
    "desired_locations": "Berlin, Germany, Remote",
    "remote_preference": "any",
    "skills": ["python", "kubernetes", "postgresql", "terraform"],
}


@contextmanager
def peak_rss() -> Iterator[dict[str, float]]:
    """Sample this process's RSS every 5 ms; yields a dict whose `mb` is the peak seen
    (and `start_mb` the RSS before)."""
    process = psutil.Process()
    peak = {"mb": process.memory_info().rss / 2**20}
    peak["start_mb"] = peak["mb"]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.005):
            peak["mb"] = max(peak["mb"], process.memory_info().rss / 2**20)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        done.set()
        sampler.join()
        peak["mb"] = max(peak["mb"], process.memory_info().rss / 2**20)


async def _board(sessions: async_sessionmaker[AsyncSession], source: str) -> JobBoard:
    async with sessions() as session:
        board = JobBoard(
            name=f"{source} careers",
            url=f"https://boards.greenhouse.io/{source}",
            scraper_config={"scraper_type": "greenhouse"},
            keyword_filters=[],
        )
        session.add(board)
        if (await session.scalar(select(func.count()).select_from(UserProfile))) == 0:
            session.add(UserProfile(**PROFILE))
        await session.commit()
        return board


@dataclass
class Took:
    """Wall time, and the CPU time behind it: this process's and the database server's.

    On a busy machine wall time stretches while CPU time stays about what the work costs;
    with SQLite the database work runs in this process, so `server_s` is 0.
    """

    wall_s: float = 0.0
    client_s: float = 0.0
    server_s: float = 0.0

    def cpu(self) -> str:
        if self.server_s:
            return f"{self.client_s:.2f} + {self.server_s:.2f} server"
        return f"{self.client_s:.2f}"


def _server_cpu(session: AsyncSession) -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL server process on this machine (none for
    SQLite): the scan's own backend and the one computing search vectors beside it."""
    if session.get_bind().dialect.name != "postgresql":
        return {}
    used: dict[int, float] = {}
    for process in psutil.process_iter(["name"]):
        if process.info["name"] == "postgres":
            try:
                used[process.pid] = sum(process.cpu_times()[:2])
            except psutil.Error:
                continue  # ended meanwhile
    return used


@asynccontextmanager
async def timed(session: AsyncSession) -> AsyncIterator[Took]:
    took = Took()
    server_before = _server_cpu(session)
    started, cpu_started = time.perf_counter(), time.process_time()
    yield took
    took.wall_s = time.perf_counter() - started
    took.client_s = time.process_time() - cpu_started
    # Processes started meanwhile count from zero; ones that ended meanwhile are not counted.
    took.server_s = sum(
        used - server_before.get(pid, 0.0) for pid, used in _server_cpu(session).items()
    )


async def _timed_store(
    sessions: async_sessionmaker[AsyncSession], board: JobBoard, listings: Sequence[RawJob]
) -> tuple[Took, StoreOutcome]:
    async with sessions() as session, timed(session) as took:
        outcome = await store_listings(session, board, listings, complete=True)
        await session.commit()
    return took, outcome


async def _naive_store(
    sessions: async_sessionmaker[AsyncSession], board: JobBoard, listings: Sequence[RawJob]
) -> Took:
    """The seed's way: a SELECT per listing to deduplicate, then session.add per new job."""
    identity = ListingIdentity(board.id, board.url, board.scraper_config)
    async with sessions() as session, timed(session) as took:
        session.autoflush = True
        profile = await session.scalar(select(UserProfile).limit(1))
        assert profile is not None
        matcher = board_matcher(profile, board.keyword_filters)
        for listing in listings:
            company = listing.company or board.name
            key = identity.dedup_hash(listing, company)
            found = await session.scalar(select(Job).where(Job.dedup_hash == key))
            if found is not None:
                found.last_seen_at = utcnow()
                continue
            result = matcher.score(
                listing.title, listing.description, listing.location, listing.workplace_type
            )
            session.add(
                Job(
                    board_id=board.id,
                    title=listing.title,
                    company=company,
                    location=listing.location,
                    url=listing.url,
                    description=listing.description,
                    external_id=listing.external_id,
                    posted_date=listing.posted_date,
                    salary_min=listing.salary_min,
                    salary_max=listing.salary_max,
                    salary_currency=listing.salary_currency,
                    salary_period=listing.salary_period,
                    workplace_type=listing.workplace_type,
                    employment_type=listing.employment_type,
                    department=listing.department,
                    dedup_hash=key,
                    match_score=result.score,
                    match_details=result.details,
                )
            )
        await session.commit()
    return took


async def _analyze(engine: AsyncEngine) -> None:
    if engine.dialect.name == "postgresql":
        async with engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("VACUUM ANALYZE"))
    else:
        async with engine.begin() as connection:
            await connection.execute(text("ANALYZE"))


@dataclass
class ScanFigures:
    first: Took
    again: Took
    peak_mb: float
    start_mb: float
    naive: Took
    bulk: Took


async def measure_scans(url: str, count: int, naive_count: int) -> ScanFigures:
    engine = build_engine(url)
    sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
    try:
        board = await _board(sessions, "bench")
        listings = data.raw_jobs(count)
        with peak_rss() as peak:
            first, first_outcome = await _timed_store(sessions, board, listings)
            again, again_outcome = await _timed_store(sessions, board, listings)
        counts = (first_outcome.new, again_outcome.new, again_outcome.updated)
        assert counts == (count, 0, 0), (first_outcome, again_outcome)
        await _analyze(engine)
        naive_board = await _board(sessions, "naive")
        naive = await _naive_store(
            sessions, naive_board, data.raw_jobs(naive_count, seed=5, source="naive")
        )
        bulk_board = await _board(sessions, "bulk")
        bulk, _ = await _timed_store(
            sessions, bulk_board, data.raw_jobs(naive_count, seed=5, source="bulk")
        )
    finally:
        await engine.dispose()
    return ScanFigures(first, again, peak["mb"], peak["start_mb"], naive, bulk)


async def measure_rescoring(url: str, stored: int) -> tuple[int, Took, Took]:
    engine = build_engine(url)
    sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
    try:
        boards = data.boards()
        for board in boards:
            board["keyword_filters"] = ["python", "golang"] if board["name"][-1] in "02468" else []
        async with engine.begin() as connection:
            await insert_rows(connection, JobBoard, boards)
            jobs = data.jobs([board["id"] for board in boards], stored)
            await insert_jobs(connection, ({**job, "closed_at": None} for job in jobs))
            await insert_rows(connection, UserProfile, [{**PROFILE, "id": uuid.uuid4()}])
        async with sessions() as session, timed(session) as cold:
            # Scans store jobs scored: score the seeded ones as a scan would have (timed too:
            # nothing is known of their keywords yet, so every description is searched).
            await rescore_open_jobs(session)
            await session.commit()
        await _analyze(engine)
        async with sessions() as session:
            # The profile change that triggers a rescore: a new skill and a new title.
            await session.execute(
                update(UserProfile).values(
                    skills=[*PROFILE["skills"], "rust"],
                    desired_title="Platform Engineer",
                    updated_at=utcnow() + timedelta(seconds=1),
                )
            )
            await session.commit()
        async with sessions() as session, timed(session) as took:
            rescored = await rescore_open_jobs(session)
            await session.commit()
        return rescored, took, cold
    finally:
        await engine.dispose()


def _rate_row(label: str, count: int, took: Took, target: int) -> tuple[str, ...]:
    rate = count / took.wall_s
    return (
        label,
        f"{rate:,.0f} ({took.wall_s:.2f} s)",
        took.cpu(),
        f">= {target:,}",
        "ok" if rate >= target else "MISSED",
    )


def run(backends: list[str], count: int, stored: int, naive_count: int) -> None:
    for backend in backends:
        # Other work on the machine stretches wall times; say how busy it was.
        load = os.getloadavg()[0]
        print(f"\n[{backend}] load average {load:.1f} on {os.cpu_count()} CPUs at start")
        url = scratch_database_url(backend, "hunter_bench_scan")
        migrations.upgrade(url)
        scans = asyncio.run(measure_scans(url, count, naive_count))
        url = scratch_database_url(backend, "hunter_bench_rescore")
        migrations.upgrade(url)
        rescored, rescore, cold = asyncio.run(measure_rescoring(url, stored))

        rows = [
            _rate_row(
                f"first scan, {count:,} new (listings/s)",
                count,
                scans.first,
                FIRST_SCAN_TARGET[backend],
            ),
            _rate_row(
                f"same scan again, {count:,} known (listings/s)",
                count,
                scans.again,
                RESCAN_TARGET,
            ),
            (
                "peak RSS over both scans (MB, psutil sampled every 5 ms)",
                f"{scans.peak_mb:.0f} (before: {scans.start_mb:.0f})",
                "",
                f"<= {MEMORY_TARGET_MB}",
                "ok" if scans.peak_mb <= MEMORY_TARGET_MB else "MISSED",
            ),
            (
                f"first scoring of {rescored:,} never-scored jobs (s)",
                f"{cold.wall_s:.2f}",
                cold.cpu(),
                "",
                "",
            ),
            (
                f"rescore {rescored:,} open jobs after a profile change (s)",
                f"{rescore.wall_s:.2f}",
                rescore.cpu(),
                f"<= {RESCORE_TARGET_S}",
                "ok" if rescore.wall_s <= RESCORE_TARGET_S else "MISSED",
            ),
        ]
        print_table(
            f"[{backend}] scan storing (store + dedup + score + commit)",
            rows,
            ("measure", "measured (wall)", "cpu s", "target", ""),
        )
        naive_rate = naive_count / scans.naive.wall_s
        bulk_rate = naive_count / scans.bulk.wall_s
        print_table(
            f"[{backend}] what the bulk path replaces ({naive_count:,} new listings)",
            [
                (
                    "per-row SELECT + session.add",
                    f"{naive_rate:,.0f} (cpu {scans.naive.cpu()})",
                    f"{bulk_rate:,.0f} (cpu {scans.bulk.cpu()})",
                    f"{bulk_rate / naive_rate:.1f}x",
                )
            ],
            ("naive alternative", "naive listings/s", "Hunter listings/s", "ratio"),
        )
        machine_floor = floors.floor(backend, data.raw_jobs(count))
        issue_floor = floors.ISSUE_FLOOR[backend]
        first_rate = count / scans.first.wall_s
        print_table(
            f"[{backend}] this machine against the issue's (its reference insert, {count:,} rows)",
            [
                (
                    "bare insert with full-text index (listings/s)",
                    f"{machine_floor:,.0f}",
                    f"{issue_floor:,}",
                    f"{machine_floor / issue_floor:.2f}x",
                    f"{first_rate / machine_floor:.0%}",
                    f"{FIRST_SCAN_TARGET[backend] / issue_floor:.0%}",
                )
            ],
            (
                "reference insert",
                "here",
                "issue's machine",
                "speed here",
                "first scan / floor here",
                "target / floor there",
            ),
        )
