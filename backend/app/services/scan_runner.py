"""Running one scan: where a scan happens, in the embedded runner, a Celery worker or the CLI.

1. Take the board's lease (one short transaction) and mark the scan running.
2. Scrape with no transaction open (a scrape can take minutes), renewing the lease meanwhile.
3. In ONE transaction: store the listings, record the counts on the scan and the outcome on the
   board, release the lease; commit.
4. Only then announce the outcome (`scan_finished`).

A scraper failure is recorded in the scraper's own words; anything unexpected is recorded as a
generic message with the traceback in the log. Either way the board's lease is released.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import structlog
from pydantic import ValidationError

from app.models import JobBoard
from app.models.base import utcnow
from app.scrapers.base import FetchContext, ScrapeRequest, ScrapeResult
from app.scrapers.config import ScraperConfig
from app.scrapers.errors import BadConfig, ScrapeError
from app.scrapers.http import Fetcher
from app.scrapers.registry import get_scraper
from app.services import events, notifier, scan_leases
from app.services.profile import get_profile, matching_preferences
from app.services.rescoring import rescore_open_jobs
from app.services.scan_leases import INTERRUPTED, LEASES, LeasePolicy, QueuedScan
from app.services.scanner import StoreOutcome, store_listings
from app.services.scans import SessionFactory

log = structlog.get_logger("hunter.scans")

Progress = Callable[[str], None]


def unexpected_error(exc: BaseException) -> str:
    return f"the scan failed unexpectedly ({type(exc).__name__}); the details are in Hunter's log"


@dataclass(frozen=True)
class ScanOutcome:
    """How one run of a scan ended. `skipped`: it did not run (another runner holds the board,
    or the scan is no longer the board's current one); `message` says why, or what failed."""

    board_id: uuid.UUID
    scan_id: uuid.UUID
    status: Literal["success", "error", "skipped"]
    board_name: str = ""
    found: int = 0
    new: int = 0
    updated: int = 0
    closed: int = 0
    new_job_ids: list[uuid.UUID] = field(default_factory=list)
    message: str | None = None
    duration_ms: int | None = None


class LeaseLost(Exception):
    """The scan's lease was taken away (it lapsed and the scan was declared interrupted)."""


class ScanRuntime:
    """What the scans of one event loop share: one HTTP fetcher and the process's browser."""

    def __init__(self, fetcher: Fetcher | None = None) -> None:
        self._owns_fetcher = fetcher is None
        self._fetcher = fetcher or Fetcher()

    @property
    def context(self) -> FetchContext:
        return FetchContext(fetcher=self._fetcher)

    async def aclose(self) -> None:
        """Close the fetcher and, if a scan launched it, the process's Chromium."""
        if self._owns_fetcher:
            await self._fetcher.aclose()
        from app.scrapers import browser

        await browser.shared_browser().close()


async def run_scan(
    board_id: uuid.UUID,
    scan_id: uuid.UUID,
    *,
    session_factory: SessionFactory,
    context: FetchContext,
    leases: LeasePolicy = LEASES,
    progress: Progress | None = None,
    requeue_on_cancel: bool = False,
) -> ScanOutcome:
    """Run the queued scan `scan_id` of board `board_id` to its end and record how it went.

    Cancelled (its runner is stopping), the scan is recorded as interrupted, or with
    `requeue_on_cancel` queued again for a runner that will resume it.
    """
    scan = QueuedScan(board_id=board_id, scan_id=scan_id)
    report = progress or (lambda _: None)
    report("Taking the board's scan lease")
    async with session_factory() as session, session.begin():
        board = await scan_leases.take_lease(session, scan, now=utcnow(), leases=leases)
        snapshot = _Snapshot.of(board) if board is not None else None
    if snapshot is None:
        log.info("scan_skipped", board_id=str(board_id), scan_id=str(scan_id))
        return ScanOutcome(
            board_id,
            scan_id,
            "skipped",
            message="not run: the board has another scan in progress, or this one is over",
        )
    started = time.monotonic()
    run = _Run(scan, snapshot, session_factory, leases, started)
    try:
        await scan_started(scan, snapshot.name)
        report(f"Scraping {snapshot.name}")
        result = await run.scrape(context)
        report(f"Storing {len(result.jobs)} listings")
        outcome = await run.store(result)
    except LeaseLost:
        log.warning("scan_lease_lost", board_id=str(board_id), scan_id=str(scan_id))
        return ScanOutcome(board_id, scan_id, "skipped", snapshot.name, message=INTERRUPTED)
    except ScrapeError as exc:
        outcome = await run.fail(exc.message)
    except asyncio.CancelledError:
        # Stopped on shutdown: say so now rather than leave the board waiting for its lease
        # to lapse (which is what happens if even this write fails). Nothing was stored: the
        # listings are written in one transaction, rolled back if it was under way.
        with contextlib.suppress(Exception):
            await (run.requeue() if requeue_on_cancel else run.fail(INTERRUPTED))
        raise
    except Exception as exc:
        log.exception("scan_crashed", board_id=str(board_id), scan_id=str(scan_id))
        outcome = await run.fail(unexpected_error(exc))
    await scan_finished(outcome, session_factory)
    return outcome


@dataclass(frozen=True)
class _Snapshot:
    """What the scrape needs from the board, read while taking the lease."""

    name: str
    url: str
    scraper_config: dict[str, object]

    @classmethod
    def of(cls, board: JobBoard) -> _Snapshot:
        return cls(name=board.name, url=board.url, scraper_config=dict(board.scraper_config))

    def request(self) -> ScrapeRequest:
        try:
            config = ScraperConfig.model_validate(self.scraper_config)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
                for error in exc.errors()[:3]
            )
            raise BadConfig(
                f"the board's scraper_config is no longer valid ({problems}); edit the board"
            ) from None
        return ScrapeRequest(url=self.url, board_name=self.name, config=config)


@dataclass
class _Run:
    scan: QueuedScan
    board: _Snapshot
    session_factory: SessionFactory
    leases: LeasePolicy
    started: float

    def elapsed_ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)

    async def scrape(self, context: FetchContext) -> ScrapeResult:
        """Scrape the board, renewing the lease until the scrape ends; no transaction is open."""
        request = self.board.request()
        scraper = get_scraper(request.config.scraper_type)
        scraping = asyncio.ensure_future(scraper.scrape(request, context))
        try:
            while True:
                done, _ = await asyncio.wait(
                    {scraping}, timeout=self.leases.renew_every.total_seconds()
                )
                if done:
                    return scraping.result()
                if not await self._renew():
                    raise LeaseLost
        finally:
            if not scraping.done():
                scraping.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await scraping

    async def _renew(self) -> bool:
        try:
            async with self.session_factory() as session, session.begin():
                return await scan_leases.renew_lease(
                    session, self.scan, now=utcnow(), leases=self.leases
                )
        except Exception:
            # A database hiccup: the lease is still ours until it lapses; try again next time.
            log.warning("scan_lease_renewal_failed", scan_id=str(self.scan.scan_id), exc_info=True)
            return True

    async def store(self, result: ScrapeResult) -> ScanOutcome:
        """Store the listings and record the scan's success, in one transaction."""
        now = utcnow()
        async with self.session_factory() as session, session.begin():
            # Renewing first both proves the lease is still ours and locks the board's row
            # until commit, so a concurrent recovery cannot interleave with this write.
            if not await scan_leases.renew_lease(session, self.scan, now=now, leases=self.leases):
                raise LeaseLost
            board = await scan_leases.load_board(session, self.scan.board_id)
            if board is None:
                raise LeaseLost
            stored = await store_listings(
                session, board, result.jobs, complete=result.complete, now=now
            )
            duration_ms = self.elapsed_ms()
            await scan_leases.record_success(
                session, self.scan, stored, now=now, duration_ms=duration_ms
            )
        if stored.new or stored.updated:
            await self._rescore_if_preferences_moved(stored)
        for warning in result.warnings:
            log.info("scan_warning", board=self.board.name, warning=warning)
        return ScanOutcome(
            self.scan.board_id,
            self.scan.scan_id,
            "success",
            self.board.name,
            found=stored.found,
            new=stored.new,
            updated=stored.updated,
            closed=stored.closed,
            new_job_ids=list(stored.new_job_ids),
            duration_ms=duration_ms,
        )

    async def _rescore_if_preferences_moved(self, stored: StoreOutcome) -> None:
        """A profile change committed while this scan stored its listings rescored the open
        jobs it could see, not the ones this scan was about to commit, scored with the
        preferences before: rescore them all now. (The scan itself has succeeded: a failure
        here is logged, and the next profile change or scan scores them again.)"""
        try:
            async with self.session_factory() as session, session.begin():
                if matching_preferences(await get_profile(session)) == stored.scored_with:
                    return
                log.info("scan_rescoring_after_profile_change", scan_id=str(self.scan.scan_id))
                await rescore_open_jobs(session)
        except Exception:
            log.exception("scan_rescore_failed", scan_id=str(self.scan.scan_id))

    async def requeue(self) -> None:
        """Hand the scan back to the queue, its lease and board ready for the next runner."""
        async with self.session_factory() as session, session.begin():
            await scan_leases.return_to_queue(session, self.scan, now=utcnow(), leases=self.leases)
        log.info("scan_requeued", board_id=str(self.scan.board_id), scan_id=str(self.scan.scan_id))

    async def fail(self, message: str) -> ScanOutcome:
        """Record the failure on the scan and the board (one transaction)."""
        duration_ms = self.elapsed_ms()
        async with self.session_factory() as session, session.begin():
            await scan_leases.record_failure(
                session, self.scan, message, now=utcnow(), duration_ms=duration_ms
            )
        return ScanOutcome(
            self.scan.board_id,
            self.scan.scan_id,
            "error",
            self.board.name,
            message=message,
            duration_ms=duration_ms,
        )


# --- after the commit --------------------------------------------------------------------------


async def scan_started(scan: QueuedScan, board_name: str) -> None:
    """Called once the scan is recorded as running (committed): the place for `scan_started`."""
    log.info(
        "scan_started", board_id=str(scan.board_id), scan_id=str(scan.scan_id), board=board_name
    )
    await events.publish_scan_started(scan.board_id, board_name, scan.scan_id)


async def scan_finished(outcome: ScanOutcome, session_factory: SessionFactory) -> None:
    """The one place a finished scan is announced, after the commit that recorded it.

    Events (`scan_completed` or `scan_error`, one `new_job` per new listing) and the
    notification digest belong here, so nothing is published for work that was rolled back.
    """
    log.info(
        "scan_finished",
        board_id=str(outcome.board_id),
        scan_id=str(outcome.scan_id),
        board=outcome.board_name,
        status=outcome.status,
        found=outcome.found,
        new=outcome.new,
        updated=outcome.updated,
        closed=outcome.closed,
        error=outcome.message,
        duration_ms=outcome.duration_ms,
    )
    # Events first: they take milliseconds, a mail may take seconds. Neither ever raises.
    await events.publish_scan_outcome(outcome, session_factory)
    # Awaited here rather than left in a background task: the CLI and Celery workers end (or
    # idle) their event loop as soon as the scan returns, which would drop a pending mail. The
    # scan is committed already; the notifier never raises and gives up after a deadline.
    await notifier.after_scan(outcome, session_factory)
