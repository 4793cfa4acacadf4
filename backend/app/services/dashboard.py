"""The dashboard: every figure comes from six statements of counts, never one query per row,
status or day. Each count is a range of an index (see the indexes on Job and Application), so
the dashboard stays fast with 100,000 listings and never reads the listings' descriptions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, TextClause, bindparam, exists, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.models import (
    Application,
    ApplicationLog,
    ApplicationStatus,
    Job,
    JobBoard,
    JobScore,
    ScanStatus,
)
from app.models.base import UTCDateTime, utcnow
from app.models.job import SCORED_VISIBLE, VISIBLE
from app.schemas.application import (
    ActivityItem,
    BoardJobCount,
    BoardStats,
    DashboardStats,
    DayCount,
    WeekCount,
)
from app.services.applications import follow_up_due

# A listing scoring at least this is worth the person's attention.
HIGH_MATCH_SCORE = 70
# An application that reached one of these got an answer from the employer.
RESPONDED = (ApplicationStatus.interviewing, ApplicationStatus.offered, ApplicationStatus.rejected)
DAYS_SHOWN = 30
WEEKS_SHOWN = 12
RECENT_ACTIVITY = 20

DailyCounts = Select[*tuple[Any, ...]]


async def dashboard(session: AsyncSession, now: datetime | None = None) -> DashboardStats:
    now = now or utcnow()
    today = now.astimezone(UTC).date()
    days = [today - timedelta(days=n) for n in range(DAYS_SHOWN - 1, -1, -1)]
    this_monday = today - timedelta(days=today.weekday())
    weeks = [this_monday - timedelta(weeks=n) for n in range(WEEKS_SHOWN - 1, -1, -1)]

    board_stats, jobs_by_board = await _boards(session)
    counts = await _counts(session, now)
    by_status = await _applications_by_status(session)
    jobs_per_day = await _count_per_day(session, JOBS_FOUND_PER_DAY, today)
    applied_per_day = await _count_per_day(session, APPLIED_PER_DAY, today)
    return DashboardStats(
        active_boards=board_stats.enabled,
        total_jobs=sum(item.count for item in jobs_by_board),
        new_jobs=counts.new_jobs,
        total_applications=sum(by_status.values()),
        applications_by_status=by_status,
        jobs_by_board=jobs_by_board,
        applications_over_time=_day_series(days, applied_per_day),
        recent_activity=await _recent_activity(session),
        boards=board_stats,
        jobs_this_week=counts.jobs_this_week,
        high_match_jobs=counts.high_match_jobs,
        response_rate=_response_rate(by_status, counts.answered_before),
        applications_per_week=[
            WeekCount(
                week_start=monday,
                count=sum(applied_per_day.get(monday + timedelta(days=n), 0) for n in range(7)),
            )
            for monday in weeks
        ],
        jobs_found_per_day=_day_series(days, jobs_per_day),
        follow_ups_due=counts.follow_ups_due,
    )


async def _boards(session: AsyncSession) -> tuple[BoardStats, list[BoardJobCount]]:
    """Board counts, and open listings per board (boards with none left out), largest first."""
    # One index range count per board: cheaper than grouping every open listing.
    open_jobs = (
        select(func.count())
        .where(Job.board_id == JobBoard.id, Job.closed_at.is_(None))
        .correlate(JobBoard)
        .scalar_subquery()
    )
    rows = (
        await session.execute(
            select(
                JobBoard.id, JobBoard.name, JobBoard.enabled, JobBoard.last_scan_status, open_jobs
            )
        )
    ).all()
    stats = BoardStats(
        total=len(rows),
        enabled=sum(1 for row in rows if row.enabled),
        failing=sum(1 for row in rows if row.enabled and row.last_scan_status == ScanStatus.error),
    )
    counts = [
        BoardJobCount(board=name, board_id=board_id, count=count)
        for board_id, name, _, _, count in rows
        if count
    ]
    counts.sort(key=lambda item: (-item.count, item.board.casefold()))
    return stats, counts


@dataclass(frozen=True, slots=True)
class _Counts:
    new_jobs: int
    high_match_jobs: int
    jobs_this_week: int
    follow_ups_due: int
    # Withdrawn after the employer answered (an interview, say): a response too.
    answered_before: int


async def _counts(session: AsyncSession, now: datetime) -> _Counts:
    """The single-number figures, in one statement of indexed counts."""

    def count(model: type[Any], *where: ColumnElement[bool] | TextClause) -> ColumnElement[int]:
        return select(func.count()).select_from(model).where(*where).scalar_subquery()

    had_answer = exists().where(
        ApplicationLog.application_id == Application.id, ApplicationLog.to_status.in_(RESPONDED)
    )
    # VISIBLE is the partial indexes' own predicate, written the same way so they are used.
    row = (
        await session.execute(
            select(
                count(Job, VISIBLE, Job.is_new == true()),
                count(JobScore, SCORED_VISIBLE, JobScore.match_score >= HIGH_MATCH_SCORE),
                count(Job, Job.first_seen_at >= now - timedelta(days=7)),
                count(Application, follow_up_due(now)),
                count(
                    Application,
                    Application.status == ApplicationStatus.withdrawn,
                    had_answer,
                ),
            )
        )
    ).one()
    return _Counts(*row)


async def _applications_by_status(session: AsyncSession) -> dict[ApplicationStatus, int]:
    """Applications per status, zeros included."""
    rows = await session.execute(
        select(Application.status, func.count()).group_by(Application.status)
    )
    by_status = dict.fromkeys(ApplicationStatus, 0)
    for status, count in rows:
        if status in by_status:
            by_status[ApplicationStatus(status)] = count
    return by_status


def _response_rate(by_status: dict[ApplicationStatus, int], answered_before: int) -> float | None:
    """Share of the applications not archived that got an answer, or None if there are none."""
    considered = sum(n for status, n in by_status.items() if status != ApplicationStatus.archived)
    answered = sum(by_status[status] for status in RESPONDED) + answered_before
    return round(answered / considered, 3) if considered else None


async def _recent_activity(session: AsyncSession) -> list[ActivityItem]:
    rows = await session.execute(
        select(
            ApplicationLog.action,
            ApplicationLog.details,
            ApplicationLog.timestamp,
            ApplicationLog.application_id,
            Application.company,
            Application.title,
        )
        .join(Application, Application.id == ApplicationLog.application_id)
        .order_by(ApplicationLog.timestamp.desc())
        .limit(RECENT_ACTIVITY)
    )
    return [ActivityItem.model_validate(row, from_attributes=True) for row in rows]


def _daily_counts(moment: InstrumentedAttribute[datetime], days: int) -> DailyCounts:
    """One statement counting the rows whose `moment` falls on each of `days` consecutive UTC
    days, starting at the `edge_0` parameter: an indexed range count per day, far cheaper than
    grouping tens of thousands of rows by a computed day, and the same SQL on both backends."""
    edges = [bindparam(f"edge_{n}", type_=UTCDateTime()) for n in range(days + 1)]
    return select(
        *(
            select(func.count()).where(moment >= edges[n], moment < edges[n + 1]).scalar_subquery()
            for n in range(days)
        )
    )


# Built once: only the dates change from one request to the next, so SQLAlchemy compiles each
# statement once and reuses it.
JOBS_FOUND_PER_DAY = _daily_counts(Job.first_seen_at, DAYS_SHOWN)
APPLIED_PER_DAY = _daily_counts(Application.applied_at, 7 * WEEKS_SHOWN)


async def _count_per_day(
    session: AsyncSession, statement: DailyCounts, last: date
) -> dict[date, int]:
    """Rows per UTC day, for the days `statement` counts, ending with `last`."""
    days = len(statement.selected_columns)
    first = last - timedelta(days=days - 1)
    edges = {f"edge_{n}": _midnight(first + timedelta(days=n)) for n in range(days + 1)}
    counts = (await session.execute(statement, edges)).one()
    return {first + timedelta(days=n): count for n, count in enumerate(counts)}


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _day_series(days: Iterable[date], counts: dict[date, int]) -> list[DayCount]:
    return [DayCount(date=day, count=counts.get(day, 0)) for day in days]
