"""Scans as units of work: requesting one, the minutely schedule check, and scan history.

Which scan may touch a board is decided by its lease (`app.services.scan_leases`); running a scan
is `app.services.scan_runner`; handing scans to a runner is `app.tasks.dispatch`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Interval, func, literal, literal_column, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.errors import Conflict, NotFound
from app.models import JobBoard, ScanRun, ScanStatus
from app.models.base import UTCDateTime, utcnow
from app.services.boards import get_board
from app.services.scan_leases import (
    LEASES,
    LeasePolicy,
    QueuedScan,
    interrupt_expired,
    lease_is_free,
    load_board,
    record_failure,
    rowcount,
)

SessionFactory = Callable[[], AsyncSession]
Trigger = Literal["manual", "schedule", "cli"]


@dataclass(frozen=True)
class ScanRequest:
    """The answer to "scan this board": the new scan, or the one already queued or running."""

    scan: ScanRun
    board: JobBoard
    created: bool

    @property
    def queued(self) -> QueuedScan:
        return QueuedScan(board_id=self.board.id, scan_id=self.scan.id)


# --- requesting --------------------------------------------------------------------------------


async def request_scan(
    session: AsyncSession,
    board_id: uuid.UUID,
    *,
    trigger: Trigger = "manual",
    now: datetime | None = None,
    leases: LeasePolicy = LEASES,
) -> ScanRequest:
    """Queue a scan of the board, or return the scan already queued or running for it.

    Disabled boards can be scanned on request. The caller dispatches a created scan only after
    committing, so a runner never looks for a scan that is not saved yet.
    """
    now = now or utcnow()
    # Writes first, reads after: see `interrupt_expired` on why (SQLite snapshots).
    await interrupt_expired(session, now, board_id=board_id)
    scan = await _claim(session, board_id, trigger, now, leases)
    board = await load_board(session, board_id)
    if board is None:
        raise NotFound(f"Board {board_id} not found")
    if scan is not None:
        return ScanRequest(scan=scan, board=board, created=True)
    existing = await session.get(ScanRun, board.current_scan_id) if board.current_scan_id else None
    if existing is None:
        raise Conflict(f"Board '{board.name}' changed while its scan was being queued; try again")
    return ScanRequest(scan=existing, board=board, created=False)


async def _claim(
    session: AsyncSession, board_id: uuid.UUID, trigger: Trigger, now: datetime, leases: LeasePolicy
) -> ScanRun | None:
    """Take the board's lease for a new queued scan; None when another scan holds it."""
    scan_id = uuid.uuid4()
    claimed = await session.execute(
        update(JobBoard)
        .where(JobBoard.id == board_id, lease_is_free(now))
        .values(
            current_scan_id=scan_id,
            scan_lease_until=now + leases.queued,
            last_scan_status=ScanStatus.queued.value,
        )
        .execution_options(synchronize_session=False)
    )
    if rowcount(claimed) == 0:
        return None
    scan = ScanRun(
        id=scan_id,
        board_id=board_id,
        status=ScanStatus.queued.value,
        trigger=trigger,
        created_at=now,
    )
    session.add(scan)
    await session.flush()
    return scan


async def abandon_scan(
    session_factory: SessionFactory, scan: QueuedScan, message: str, *, now: datetime | None = None
) -> None:
    """Record that a queued scan could not be handed to a runner (the broker was down, say)."""
    async with session_factory() as session, session.begin():
        await record_failure(session, scan, message, now=now or utcnow())


# --- scheduling ---------------------------------------------------------------------------------


def _interval_elapsed(dialect: str, now: datetime) -> ColumnElement[bool]:
    """`last_scanned_at + scan_interval_minutes <= now`, in each backend's date arithmetic."""
    if dialect == "postgresql":
        minute = literal_column("INTERVAL '1 minute'", Interval())
        return JobBoard.last_scanned_at + JobBoard.scan_interval_minutes * minute <= now
    # SQLite stores the datetimes as text; julianday() reads that text as (fractional) days.
    return func.julianday(JobBoard.last_scanned_at) + (
        JobBoard.scan_interval_minutes / 1440.0
    ) <= func.julianday(literal(now, UTCDateTime()))


async def due_board_ids(session: AsyncSession, now: datetime) -> list[uuid.UUID]:
    """Enabled boards never scanned or whose interval has elapsed, with no scan in progress.

    Longest-waiting first, so a backlog drains fairly. One query, whatever the number of boards.
    """
    dialect = session.get_bind().dialect.name
    query = (
        select(JobBoard.id)
        .where(
            JobBoard.enabled.is_(True),
            lease_is_free(now),
            or_(JobBoard.last_scanned_at.is_(None), _interval_elapsed(dialect, now)),
        )
        .order_by(JobBoard.last_scanned_at.asc().nulls_first(), JobBoard.created_at, JobBoard.id)
    )
    return list((await session.scalars(query)).all())


async def check_scan_schedules(
    session_factory: SessionFactory, *, now: datetime | None = None, leases: LeasePolicy = LEASES
) -> list[QueuedScan]:
    """The minutely schedule check: recover lapsed leases, then queue every due board.

    Commits before returning the scans, which the caller then dispatches.
    """
    now = now or utcnow()
    async with session_factory() as session, session.begin():
        await interrupt_expired(session, now)
        queued: list[QueuedScan] = []
        for board_id in await due_board_ids(session, now):
            scan = await _claim(session, board_id, "schedule", now, leases)
            if scan is not None:
                queued.append(QueuedScan(board_id=board_id, scan_id=scan.id))
    return queued


async def waiting_scans(session: AsyncSession) -> list[QueuedScan]:
    """Scans still queued with their board's lease: to hand to a runner again after a restart."""
    query = (
        select(ScanRun.board_id, ScanRun.id)
        .join(JobBoard, JobBoard.current_scan_id == ScanRun.id)
        .where(
            ScanRun.status == ScanStatus.queued.value,
            JobBoard.last_scan_status == ScanStatus.queued.value,
        )
        .order_by(ScanRun.created_at)
    )
    rows = (await session.execute(query)).all()
    return [QueuedScan(board_id=board_id, scan_id=scan_id) for board_id, scan_id in rows]


# --- reading -----------------------------------------------------------------------------------


async def list_scans(
    session: AsyncSession, board_id: uuid.UUID, *, limit: int = 20
) -> tuple[list[ScanRun], int]:
    """The board's most recent scans, newest first, and how many it has had in all."""
    await get_board(session, board_id)
    query = (
        select(ScanRun)
        .where(ScanRun.board_id == board_id)
        .order_by(ScanRun.created_at.desc(), ScanRun.id.desc())
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    scans = list((await session.scalars(query)).all())
    total = await session.scalar(
        select(func.count()).select_from(ScanRun).where(ScanRun.board_id == board_id)
    )
    return scans, int(total or 0)


async def resolve_board(session: AsyncSession, reference: str) -> JobBoard:
    """A board named by its id or by its name (any case), as a person types it on the CLI."""
    try:
        return await get_board(session, uuid.UUID(reference))
    except ValueError:
        pass
    query = select(JobBoard).where(func.lower(JobBoard.name) == reference.strip().lower())
    matches = list((await session.scalars(query)).all())
    if not matches:
        raise NotFound(f"No board named '{reference}' (`hunter boards` lists them)")
    if len(matches) > 1:
        raise Conflict(f"{len(matches)} boards are named '{reference}'; use the board's id")
    return matches[0]
