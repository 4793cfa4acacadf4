"""The scan lease: which scan may touch a board, and until when.

A board's lease (`current_scan_id` + `scan_lease_until`) is only ever taken, renewed and released
by conditional UPDATEs, so two scans of one board never run at once and a scan whose lease was
taken away can never overwrite what the board shows. A lease whose holder died simply expires:
`interrupt_expired` (run by every schedule check) records that scan as interrupted, and the board
is schedulable again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.models import JobBoard, ScanRun, ScanStatus
from app.services.scanner import StoreOutcome

ACTIVE = (ScanStatus.queued.value, ScanStatus.running.value)
INTERRUPTED = "interrupted: the worker stopped before finishing"


@dataclass(frozen=True)
class LeasePolicy:
    """How long a lease lasts while a scan waits for a runner, and while it runs.

    A running scan renews its lease every `renew_every`, so only a runner that stopped (crashed,
    killed, suspended) lets it lapse; then the board is recovered within `running` plus one
    schedule check. A queued scan's lease covers a long wait behind other scans.
    """

    queued: timedelta = timedelta(minutes=30)
    running: timedelta = timedelta(minutes=5)
    renew_every: timedelta = timedelta(minutes=1)


LEASES = LeasePolicy()


@dataclass(frozen=True)
class QueuedScan:
    """A scan to hand to a runner: everything a Celery message or an asyncio task carries."""

    board_id: uuid.UUID
    scan_id: uuid.UUID


def lease_is_free(now: datetime) -> ColumnElement[bool]:
    """No scan holds the board: none queued or running, or its lease has run out."""
    return or_(
        JobBoard.last_scan_status.not_in(ACTIVE),
        JobBoard.scan_lease_until.is_(None),
        JobBoard.scan_lease_until <= now,
    )


def rowcount(result: Any) -> int:
    return cast("CursorResult[Any]", result).rowcount


# --- the lease while a scan runs ---------------------------------------------------------------


async def take_lease(
    session: AsyncSession, scan: QueuedScan, *, now: datetime, leases: LeasePolicy = LEASES
) -> JobBoard | None:
    """Start running `scan`: take the board's lease, or return None if this scan may not run.

    It may run only while it is the board's current scan and no runner holds the lease: it is
    still queued, or a runner that took it stopped renewing (a redelivered Celery message after
    a crash). A second delivery of a scan that is running elsewhere gets None.
    """
    taken = await session.execute(
        update(JobBoard)
        .where(
            JobBoard.id == scan.board_id,
            JobBoard.current_scan_id == scan.scan_id,
            or_(
                JobBoard.last_scan_status == ScanStatus.queued.value,
                JobBoard.scan_lease_until.is_(None),
                JobBoard.scan_lease_until <= now,
            ),
        )
        .values(last_scan_status=ScanStatus.running.value, scan_lease_until=now + leases.running)
        .execution_options(synchronize_session=False)
    )
    if rowcount(taken) == 0:
        return None
    await session.execute(
        update(ScanRun)
        .where(ScanRun.id == scan.scan_id)
        .values(status=ScanStatus.running.value, started_at=now)
        .execution_options(synchronize_session=False)
    )
    return await load_board(session, scan.board_id)


async def renew_lease(
    session: AsyncSession, scan: QueuedScan, *, now: datetime, leases: LeasePolicy = LEASES
) -> bool:
    """Extend a running scan's lease; False if it was lost (the scan was declared interrupted)."""
    renewed = await session.execute(
        update(JobBoard)
        .where(
            JobBoard.id == scan.board_id,
            JobBoard.current_scan_id == scan.scan_id,
            JobBoard.last_scan_status == ScanStatus.running.value,
        )
        .values(scan_lease_until=now + leases.running)
        .execution_options(synchronize_session=False)
    )
    return rowcount(renewed) == 1


async def return_to_queue(
    session: AsyncSession, scan: QueuedScan, *, now: datetime, leases: LeasePolicy = LEASES
) -> bool:
    """Give a running scan back to the queue (its runner is shutting down); False if not ours.

    The board keeps the scan as its current one under a queued lease, so the next runner (the
    next `serve` start, or a worker taking the requeued message) resumes it, and the lease
    lapses into "interrupted" as usual if none ever does.
    """
    returned = await session.execute(
        update(JobBoard)
        .where(
            JobBoard.id == scan.board_id,
            JobBoard.current_scan_id == scan.scan_id,
            JobBoard.last_scan_status == ScanStatus.running.value,
        )
        .values(last_scan_status=ScanStatus.queued.value, scan_lease_until=now + leases.queued)
        .execution_options(synchronize_session=False)
    )
    if rowcount(returned) == 0:
        return False
    await session.execute(
        update(ScanRun)
        .where(ScanRun.id == scan.scan_id, ScanRun.status == ScanStatus.running.value)
        .values(status=ScanStatus.queued.value, started_at=None)
        .execution_options(synchronize_session=False)
    )
    return True


async def load_board(session: AsyncSession, board_id: uuid.UUID) -> JobBoard | None:
    """The board as stored now, even if an older copy is in the session."""
    query = select(JobBoard).where(JobBoard.id == board_id)
    return (await session.scalars(query.execution_options(populate_existing=True))).first()


async def record_success(
    session: AsyncSession,
    scan: QueuedScan,
    stored: StoreOutcome,
    *,
    now: datetime,
    duration_ms: int,
) -> None:
    """Finish a scan that stored its listings: counts on the scan, outcome on the board."""
    await _release(
        session,
        scan,
        last_scan_status=ScanStatus.success.value,
        last_scan_error=None,
        last_scanned_at=now,
        jobs_found_last_scan=stored.found,
        consecutive_failures=0,
    )
    await _finish_run(
        session,
        scan,
        status=ScanStatus.success.value,
        finished_at=now,
        duration_ms=duration_ms,
        jobs_found=stored.found,
        jobs_new=stored.new,
        jobs_updated=stored.updated,
        jobs_closed=stored.closed,
        error=None,
    )


async def record_failure(
    session: AsyncSession,
    scan: QueuedScan,
    message: str,
    *,
    now: datetime,
    duration_ms: int | None = None,
) -> None:
    """Finish a scan that failed: the message on the scan and the board, one more failure.

    `last_scanned_at` moves too, so a failing board is retried at its interval, not every minute.
    """
    await _release(
        session,
        scan,
        last_scan_status=ScanStatus.error.value,
        last_scan_error=message,
        last_scanned_at=now,
        consecutive_failures=JobBoard.consecutive_failures + 1,
    )
    await _finish_run(
        session,
        scan,
        status=ScanStatus.error.value,
        finished_at=now,
        duration_ms=duration_ms,
        error=message,
    )


async def _release(session: AsyncSession, scan: QueuedScan, **board_values: Any) -> None:
    # Only the lease holder writes the board's outcome: a scan declared interrupted meanwhile
    # (its lease lapsed) must not overwrite what the board shows now.
    await session.execute(
        update(JobBoard)
        .where(JobBoard.id == scan.board_id, JobBoard.current_scan_id == scan.scan_id)
        .values(current_scan_id=None, scan_lease_until=None, **board_values)
        .execution_options(synchronize_session=False)
    )


async def _finish_run(session: AsyncSession, scan: QueuedScan, **values: Any) -> None:
    await session.execute(
        update(ScanRun)
        .where(ScanRun.id == scan.scan_id, ScanRun.status.in_(ACTIVE))
        .values(**values)
        .execution_options(synchronize_session=False)
    )


# --- recovery --------------------------------------------------------------------------------


async def interrupt_expired(
    session: AsyncSession, now: datetime, *, board_id: uuid.UUID | None = None
) -> int:
    """Record as interrupted every queued or running scan whose lease ran out; return how many.

    Their runner stopped without finishing (or never got the scan), so their boards would
    otherwise show "running" forever. Three set-based statements, boards first: the same order
    a runner writes in (so PostgreSQL never sees a lock cycle), and a write before any read (so
    SQLite never has to upgrade a read snapshot that a runner's commit made stale).
    """
    boards = [JobBoard.id == board_id] if board_id is not None else []
    # 1. Mark the boards, keeping current_scan_id for a moment to find their scans.
    marked = await session.execute(
        update(JobBoard)
        .where(
            *boards,
            JobBoard.last_scan_status.in_(ACTIVE),
            or_(JobBoard.scan_lease_until.is_(None), JobBoard.scan_lease_until <= now),
        )
        .values(
            scan_lease_until=None,
            last_scan_status=ScanStatus.error.value,
            last_scan_error=INTERRUPTED,
            consecutive_failures=JobBoard.consecutive_failures + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if rowcount(marked) == 0:
        return 0
    # A board in error still naming a scan was marked just now: nothing else leaves it so.
    just_marked = (
        *boards,
        JobBoard.last_scan_status == ScanStatus.error.value,
        JobBoard.current_scan_id.is_not(None),
    )
    # 2. Their scans.
    await session.execute(
        update(ScanRun)
        .where(
            ScanRun.id.in_(select(JobBoard.current_scan_id).where(*just_marked)),
            ScanRun.status.in_(ACTIVE),
        )
        .values(status=ScanStatus.error.value, finished_at=now, error=INTERRUPTED)
        .execution_options(synchronize_session=False)
    )
    # 3. Release the boards.
    await session.execute(
        update(JobBoard)
        .where(*just_marked)
        .values(current_scan_id=None)
        .execution_options(synchronize_session=False)
    )
    return rowcount(marked)
