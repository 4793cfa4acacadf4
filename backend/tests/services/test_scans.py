"""Scan requests, the board's scan lease, running a scan, recovery and the schedule check."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import settings
from app.errors import Conflict, NotFound
from app.models import Job, JobBoard, ScanRun, UserProfile
from app.models.base import utcnow
from app.scrapers.base import FetchContext, ScrapeRequest, ScrapeResult
from app.scrapers.greenhouse import GreenhouseScraper
from app.scrapers.http import Fetcher
from app.services import scan_leases, scans
from app.services.profile import get_profile
from app.services.rescoring import rescore_open_jobs
from app.services.scan_leases import INTERRUPTED, QueuedScan
from app.services.scan_runner import ScanOutcome, run_scan
from tests.factories import make_board, make_profile
from tests.scrapers.local_server import LocalServer, Reply
from tests.tasks.support import (
    GREENHOUSE,
    JOBS_PATH,
    listing,
    local_server,
    sessions_on,
    wait_until,
)

_M = TypeVar("_M", JobBoard, ScanRun)


@pytest.fixture(scope="module")
async def _server() -> AsyncIterator[LocalServer]:
    async with local_server() as server:
        yield server


@pytest.fixture
def greenhouse(_server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> LocalServer:
    """The local server, answering as the Greenhouse job board API."""
    _server.reset()
    monkeypatch.setattr(settings, "greenhouse_api_url", _server.url)
    return _server


@pytest.fixture
async def context() -> AsyncIterator[FetchContext]:
    async with Fetcher(backoff_base_s=0.005, timeout_s=5) as fetcher:
        yield FetchContext(fetcher=fetcher)


async def fresh(session: AsyncSession, model: type[_M], row_id: uuid.UUID) -> _M:
    query = select(model).where(model.id == row_id).execution_options(populate_existing=True)
    return (await session.scalars(query)).one()


async def greenhouse_board(session: AsyncSession, **fields: Any) -> JobBoard:
    return await make_board(
        session, url="https://boards.greenhouse.io/acme", scraper_config=GREENHOUSE, **fields
    )


async def queue(session: AsyncSession, board: JobBoard) -> QueuedScan:
    requested = await scans.request_scan(session, board.id)
    await session.commit()
    return requested.queued


async def run(session: AsyncSession, scan: QueuedScan, context: FetchContext) -> ScanOutcome:
    return await run_scan(
        scan.board_id, scan.scan_id, session_factory=sessions_on(session), context=context
    )


# --- requesting --------------------------------------------------------------------------------


async def test_a_second_request_returns_the_scan_already_queued(session: AsyncSession) -> None:
    board = await make_board(session)

    first = await scans.request_scan(session, board.id)
    second = await scans.request_scan(session, board.id)

    assert first.created
    assert not second.created
    assert second.scan.id == first.scan.id
    assert board.last_scan_status == "queued"
    assert board.current_scan_id == first.scan.id
    count = await session.scalar(select(func.count()).where(ScanRun.board_id == board.id))
    assert count == 1


async def test_a_disabled_board_can_be_scanned_on_request(session: AsyncSession) -> None:
    board = await make_board(session, enabled=False)

    requested = await scans.request_scan(session, board.id)

    assert requested.created
    assert requested.scan.status == "queued"
    assert requested.scan.trigger == "manual"


async def test_requesting_a_scan_of_an_unknown_board_is_not_found(session: AsyncSession) -> None:
    with pytest.raises(NotFound):
        await scans.request_scan(session, uuid.uuid4())


# --- running -----------------------------------------------------------------------------------


@pytest.mark.parametrize("moved", [False, True])
async def test_listings_scored_before_a_concurrent_profile_change_are_rescored(
    session: AsyncSession,
    greenhouse: LocalServer,
    context: FetchContext,
    monkeypatch: pytest.MonkeyPatch,
    moved: bool,
) -> None:
    """The profile changes (and its rescore runs) after the scan read it, before it commits:
    the scan's listings, scored with the old preferences, are rescored after its commit."""
    await make_profile(session, skills=["python"])
    greenhouse.route("GET", JOBS_PATH, listing(1, 2))
    board = await greenhouse_board(session)

    async def profile_before_the_change(session: AsyncSession) -> UserProfile:
        profile = await get_profile(session)
        if not moved:
            return profile
        return UserProfile(skills=["golang"], remote_preference=profile.remote_preference)

    monkeypatch.setattr("app.services.scanner.get_profile", profile_before_the_change)
    rescored = 0

    async def counted_rescore(session: AsyncSession) -> int:
        nonlocal rescored
        rescored += 1
        return await rescore_open_jobs(session)

    monkeypatch.setattr("app.services.scan_runner.rescore_open_jobs", counted_rescore)

    outcome = await run(session, await queue(session, board), context)

    assert (outcome.status, outcome.new) == ("success", 2)
    jobs = (await session.scalars(select(Job).execution_options(populate_existing=True))).all()
    assert {job.match_details["keywords_matched"][0] for job in jobs} == {"python"}
    assert {job.match_score for job in jobs} == {100.0}
    assert rescored == (1 if moved else 0)


async def test_a_scan_stores_listings_and_records_its_counts(
    session: AsyncSession, greenhouse: LocalServer, context: FetchContext
) -> None:
    greenhouse.route("GET", JOBS_PATH, listing(1, 2, 3), listing(1, 2))
    board = await greenhouse_board(session, consecutive_failures=2, last_scan_error="old")

    first = await run(session, await queue(session, board), context)
    second_scan = await queue(session, board)
    second = await run(session, second_scan, context)

    assert (first.status, first.found, first.new, first.closed) == ("success", 3, 3, 0)
    assert (second.status, second.found, second.new, second.closed) == ("success", 2, 0, 1)
    recorded = await fresh(session, ScanRun, second_scan.scan_id)
    assert recorded.status == "success"
    assert (recorded.jobs_found, recorded.jobs_new, recorded.jobs_closed) == (2, 0, 1)
    assert recorded.started_at is not None
    assert recorded.finished_at is not None
    assert recorded.duration_ms is not None
    assert recorded.error is None
    board = await fresh(session, JobBoard, board.id)
    assert board.last_scan_status == "success"
    assert board.last_scan_error is None
    assert board.jobs_found_last_scan == 2
    assert board.consecutive_failures == 0
    assert board.last_scanned_at == recorded.finished_at
    assert board.current_scan_id is None
    assert board.scan_lease_until is None
    open_jobs = await session.scalar(
        select(func.count()).where(Job.board_id == board.id, Job.closed_at.is_(None))
    )
    assert open_jobs == 2


async def test_a_scraper_error_is_recorded_in_its_own_words(
    session: AsyncSession, greenhouse: LocalServer, context: FetchContext
) -> None:
    greenhouse.route("GET", JOBS_PATH, Reply(status=404, json={"status": 404}))
    board = await greenhouse_board(session, consecutive_failures=1)
    scan = await queue(session, board)

    outcome = await run(session, scan, context)

    message = "Greenhouse board `acme` not found (404)"
    assert (outcome.status, outcome.message) == ("error", message)
    recorded = await fresh(session, ScanRun, scan.scan_id)
    assert (recorded.status, recorded.error) == ("error", message)
    assert recorded.finished_at is not None
    board = await fresh(session, JobBoard, board.id)
    assert (board.last_scan_status, board.last_scan_error) == ("error", message)
    assert board.consecutive_failures == 2
    assert board.last_scanned_at is not None
    assert board.current_scan_id is None
    assert board.scan_lease_until is None


async def test_an_unexpected_failure_is_recorded_without_its_internals(
    session: AsyncSession, context: FetchContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: object, request: ScrapeRequest, ctx: FetchContext) -> ScrapeResult:
        raise RuntimeError("internal detail")

    monkeypatch.setattr(GreenhouseScraper, "scrape", broken)
    board = await greenhouse_board(session)
    scan = await queue(session, board)

    outcome = await run(session, scan, context)

    assert outcome.status == "error"
    assert outcome.message is not None
    assert "RuntimeError" in outcome.message
    assert "internal detail" not in outcome.message
    board = await fresh(session, JobBoard, board.id)
    assert (board.last_scan_status, board.last_scan_error) == ("error", outcome.message)
    assert board.consecutive_failures == 1


# --- the lease ---------------------------------------------------------------------------------


async def test_a_scan_already_running_elsewhere_is_not_run_again(
    session: AsyncSession, greenhouse: LocalServer, context: FetchContext
) -> None:
    greenhouse.route("GET", JOBS_PATH, listing(1))
    board = await greenhouse_board(session)
    scan = await queue(session, board)
    # Another runner took the lease (say, the first delivery of a redelivered Celery message).
    assert await scan_leases.take_lease(session, scan, now=utcnow()) is not None
    await session.commit()

    outcome = await run(session, scan, context)

    assert outcome.status == "skipped"
    assert greenhouse.requests == []
    assert (await fresh(session, ScanRun, scan.scan_id)).status == "running"


async def test_a_scan_superseded_after_its_lease_lapsed_does_not_run(
    session: AsyncSession, greenhouse: LocalServer, context: FetchContext
) -> None:
    greenhouse.route("GET", JOBS_PATH, listing(1))
    board = await greenhouse_board(session)
    stale = await queue(session, board)
    board.scan_lease_until = utcnow() - timedelta(seconds=1)
    await session.commit()
    replacement = await scans.request_scan(session, board.id)
    await session.commit()

    outcome = await run(session, stale, context)

    assert replacement.created
    assert replacement.scan.id != stale.scan_id
    assert outcome.status == "skipped"
    assert greenhouse.requests == []
    old = await fresh(session, ScanRun, stale.scan_id)
    assert (old.status, old.error) == ("error", INTERRUPTED)


def _scraping(server: LocalServer) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return bool(server.requests)

    return check


async def test_a_scan_whose_lease_lapsed_never_overwrites_the_board(
    session: AsyncSession, greenhouse: LocalServer, context: FetchContext
) -> None:
    greenhouse.route("GET", JOBS_PATH, listing(1, 2, hang=True))
    board = await greenhouse_board(session)
    scan = await queue(session, board)
    running = asyncio.create_task(run(session, scan, context))
    await wait_until(_scraping(greenhouse), "the scan to reach Greenhouse")
    # The runner looks dead (its lease ran out): the schedule check recovers and requeues.
    board = await fresh(session, JobBoard, board.id)
    board.scan_lease_until = utcnow() - timedelta(seconds=1)
    await session.commit()
    requeued = await scans.check_scan_schedules(sessions_on(session))

    greenhouse.reset()  # the source answers after all
    outcome = await running

    assert outcome.status == "skipped"
    assert [queued.board_id for queued in requeued] == [board.id]
    board = await fresh(session, JobBoard, board.id)
    assert board.current_scan_id == requeued[0].scan_id
    assert board.last_scan_status == "queued"
    assert await session.scalar(select(func.count()).where(Job.board_id == board.id)) == 0
    old = await fresh(session, ScanRun, scan.scan_id)
    assert (old.status, old.error) == ("error", INTERRUPTED)


# --- recovery and scheduling -------------------------------------------------------------------


async def running_board(session: AsyncSession, lease_left: timedelta) -> tuple[JobBoard, ScanRun]:
    board = await make_board(session, last_scanned_at=utcnow() - timedelta(days=1))
    scan = ScanRun(board_id=board.id, status="running", trigger="schedule", started_at=utcnow())
    session.add(scan)
    await session.flush()
    board.last_scan_status = "running"
    board.current_scan_id = scan.id
    board.scan_lease_until = utcnow() + lease_left
    await session.commit()
    return board, scan


async def test_a_scan_whose_worker_died_is_recorded_as_interrupted_and_requeued(
    session: AsyncSession,
) -> None:
    board, crashed = await running_board(session, lease_left=timedelta(minutes=-1))

    queued = await scans.check_scan_schedules(sessions_on(session))

    old = await fresh(session, ScanRun, crashed.id)
    assert (old.status, old.error) == ("error", INTERRUPTED)
    assert old.finished_at is not None
    board = await fresh(session, JobBoard, board.id)
    assert [scan.board_id for scan in queued] == [board.id]
    assert board.current_scan_id == queued[0].scan_id != crashed.id
    assert board.last_scan_status == "queued"
    assert board.last_scan_error == INTERRUPTED
    assert board.consecutive_failures == 1


async def test_a_scan_holding_a_live_lease_is_left_alone(session: AsyncSession) -> None:
    board, scan = await running_board(session, lease_left=timedelta(minutes=3))

    queued = await scans.check_scan_schedules(sessions_on(session))

    assert queued == []
    assert (await fresh(session, ScanRun, scan.id)).status == "running"
    assert (await fresh(session, JobBoard, board.id)).current_scan_id == scan.id


async def test_the_schedule_check_queues_exactly_the_due_boards(session: AsyncSession) -> None:
    now = utcnow()
    never_scanned = await make_board(session)
    overdue = await make_board(
        session, scan_interval_minutes=60, last_scanned_at=now - timedelta(minutes=61)
    )
    await make_board(session, scan_interval_minutes=60, last_scanned_at=now - timedelta(minutes=59))
    await make_board(session, enabled=False)
    await make_board(
        session, enabled=False, scan_interval_minutes=5, last_scanned_at=now - timedelta(days=3)
    )
    failing = await make_board(
        session,
        scan_interval_minutes=30,
        last_scanned_at=now - timedelta(minutes=45),
        last_scan_status="error",
        consecutive_failures=4,
    )
    await session.commit()

    queued = await scans.check_scan_schedules(sessions_on(session), now=now)
    again = await scans.check_scan_schedules(sessions_on(session), now=now + timedelta(seconds=30))

    # Never-scanned first, then the longest waiting.
    assert [scan.board_id for scan in queued] == [never_scanned.id, overdue.id, failing.id]
    assert again == []
    for scan in queued:
        recorded = await fresh(session, ScanRun, scan.scan_id)
        assert (recorded.status, recorded.trigger) == ("queued", "schedule")


async def test_history_is_newest_first(session: AsyncSession) -> None:
    board = await make_board(session)
    start = utcnow() - timedelta(hours=3)
    for hours in range(3):
        session.add(
            ScanRun(board_id=board.id, status="success", created_at=start + timedelta(hours=hours))
        )
    await session.flush()

    found, total = await scans.list_scans(session, board.id, limit=2)

    assert total == 3
    assert [scan.created_at for scan in found] == [
        start + timedelta(hours=2),
        start + timedelta(hours=1),
    ]


async def test_a_board_is_found_by_id_or_by_name_in_any_case(session: AsyncSession) -> None:
    acme = await make_board(session, name="Acme Careers")
    await make_board(session, name="Twin")
    await make_board(session, name="twin")

    assert (await scans.resolve_board(session, str(acme.id))).id == acme.id
    assert (await scans.resolve_board(session, "acme careers")).id == acme.id
    with pytest.raises(NotFound, match="No board named 'Nope'"):
        await scans.resolve_board(session, "Nope")
    with pytest.raises(Conflict, match="use the board's id"):
        await scans.resolve_board(session, "TWIN")
