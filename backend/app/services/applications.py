"""Applications: logging them, moving them through their statuses, and the activity trail.

Every real change to an application adds an ApplicationLog row, so the person can see what
happened and when. Nothing here knows about HTTP.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.database import LIKE_ESCAPE, like_containing
from app.errors import NotFound
from app.models import (
    Application,
    ApplicationLog,
    ApplicationStatus,
    Job,
    JobBoard,
    JobScore,
)
from app.models.base import utcnow
from app.schemas.application import ApplicationCreate, ApplicationUpdate

# Once an application has ended, its follow-up reminder no longer comes due.
FOLLOW_UP_DONE = (
    ApplicationStatus.rejected,
    ApplicationStatus.withdrawn,
    ApplicationStatus.archived,
)


@dataclass(frozen=True, slots=True)
class ApplicationView:
    """An application with what it shows of its linked listing (None once that is gone)."""

    application: Application
    match_score: float | None
    board_name: str | None


def follow_up_due(now: datetime) -> ColumnElement[bool]:
    """Applications whose follow-up date has come and that are still open."""
    return (Application.follow_up_at <= now) & Application.status.not_in(FOLLOW_UP_DONE)


def _viewed() -> Select[Application, float, str]:
    # Outer joins: the score and board name are None once the listing is gone.
    return (
        select(Application, JobScore.match_score, JobBoard.name)
        .outerjoin(Job, Job.id == Application.job_id)
        .outerjoin(JobScore, JobScore.job_id == Job.id)
        .outerjoin(JobBoard, JobBoard.id == Job.board_id)
        .options(selectinload(Application.logs))
        # A long-lived session (CLI, tasks) may hold a row whose job_id the database has since
        # cleared; always read what is stored.
        .execution_options(populate_existing=True)
    )


async def list_applications(
    session: AsyncSession,
    *,
    status: ApplicationStatus | None = None,
    search: str | None = None,
    job_id: uuid.UUID | None = None,
    due: bool = False,
    page: int = 1,
    page_size: int = 100,
) -> tuple[list[ApplicationView], int]:
    """One page of applications (most recently changed first, or soonest follow-up first when
    `due`) and how many match in all."""
    filters: list[ColumnElement[bool]] = []
    if status is not None:
        filters.append(Application.status == status)
    if job_id is not None:
        filters.append(Application.job_id == job_id)
    # NUL cannot occur in stored text (and PostgreSQL refuses it in a query): drop it.
    search = (search or "").replace("\x00", "").strip()
    if search:
        pattern = like_containing(search)
        filters.append(
            or_(
                Application.title.ilike(pattern, escape=LIKE_ESCAPE),
                Application.company.ilike(pattern, escape=LIKE_ESCAPE),
                Application.notes.ilike(pattern, escape=LIKE_ESCAPE),
            )
        )
    if due:
        filters.append(follow_up_due(utcnow()))
        order: tuple[Any, ...] = (Application.follow_up_at.asc(), Application.id)
    else:
        order = (Application.updated_at.desc(), Application.id)

    total = await session.scalar(select(func.count()).select_from(Application).where(*filters))
    query = _viewed().where(*filters).order_by(*order)
    rows = await session.execute(query.limit(page_size).offset((page - 1) * page_size))
    views = [ApplicationView(app, score, board) for app, score, board in rows.all()]
    return views, total or 0


async def get_application(session: AsyncSession, application_id: uuid.UUID) -> ApplicationView:
    row = (await session.execute(_viewed().where(Application.id == application_id))).one_or_none()
    if row is None:
        raise NotFound(f"Application {application_id} not found")
    application, score, board = row
    return ApplicationView(application, score, board)


async def create_application(session: AsyncSession, data: ApplicationCreate) -> ApplicationView:
    """Log an application; one for a listing copies its title, company and URL and marks the
    listing read."""
    company, title, url = data.company or "", data.title or "", data.url or ""
    match_score: float | None = None
    board_name: str | None = None
    if data.job_id is not None:
        found = (
            await session.execute(
                select(Job, JobBoard.name)
                .join(JobBoard, JobBoard.id == Job.board_id)
                .where(Job.id == data.job_id)
            )
        ).one_or_none()
        if found is None:
            raise NotFound(f"Job {data.job_id} not found")
        job, board_name = found
        company, title, url = company or job.company, title or job.title, url or job.url
        match_score = job.match_score
        job.is_new = False

    now = utcnow()
    application = Application(
        job_id=data.job_id,
        company=company,
        title=title,
        url=url,
        status=data.status,
        notes=data.notes or "",
        applied_via=data.applied_via,
        applied_at=data.applied_at or now,
        follow_up_at=data.follow_up_at,
        created_at=now,
        updated_at=now,
    )
    details = f"Applied to {title} at {company}" if company else f"Applied to {title}"
    application.logs = [
        ApplicationLog(action="created", details=details, to_status=data.status, timestamp=now)
    ]
    session.add(application)
    await session.flush()
    return ApplicationView(application, match_score, board_name)


async def update_application(
    session: AsyncSession, application_id: uuid.UUID, changes: ApplicationUpdate
) -> ApplicationView:
    """Apply the fields given; a field set to the value it already has changes nothing."""
    view = await get_application(session, application_id)
    application = view.application
    given = changes.model_fields_set
    now = utcnow()
    logs: list[ApplicationLog] = []
    if changes.status is not None:
        logs.extend(_set_status(application, changes.status, now))
    if "notes" in given and (changes.notes or "") != application.notes:
        application.notes = changes.notes or ""
        logs.append(ApplicationLog(action="notes_updated", details="Notes updated", timestamp=now))
    if "follow_up_at" in given and changes.follow_up_at != application.follow_up_at:
        application.follow_up_at = changes.follow_up_at
        if changes.follow_up_at is None:
            logs.append(_log("follow_up_cleared", "Follow-up reminder cleared", now))
        else:
            logs.append(_log("follow_up_set", f"Follow up on {_moment(changes.follow_up_at)}", now))
    if changes.applied_at is not None and changes.applied_at != application.applied_at:
        application.applied_at = changes.applied_at
        logs.append(
            _log("applied_at_changed", f"Applied date set to {_moment(changes.applied_at)}", now)
        )
    await _record(session, application, logs, now)
    return view


async def archive_application(session: AsyncSession, application_id: uuid.UUID) -> ApplicationView:
    """Move an application to `archived` (logged like any status change)."""
    view = await get_application(session, application_id)
    now = utcnow()
    logs = _set_status(view.application, ApplicationStatus.archived, now)
    await _record(session, view.application, logs, now)
    return view


async def delete_application(session: AsyncSession, application_id: uuid.UUID) -> None:
    """Delete an application and its log."""
    deleted = await session.scalars(
        delete(Application).where(Application.id == application_id).returning(Application.id)
    )
    if deleted.first() is None:
        raise NotFound(f"Application {application_id} not found")


async def delete_applications(
    session: AsyncSession, application_ids: list[uuid.UUID]
) -> tuple[int, list[uuid.UUID]]:
    """Delete every application named that exists; returns how many went and the unknown ids."""
    wanted = list(dict.fromkeys(application_ids))
    result = await session.scalars(
        delete(Application).where(Application.id.in_(wanted)).returning(Application.id)
    )
    deleted = set(result.all())
    return len(deleted), [i for i in wanted if i not in deleted]


def _set_status(
    application: Application, status: ApplicationStatus, now: datetime
) -> list[ApplicationLog]:
    previous = application.status
    if status == previous:
        return []
    application.status = status
    return [
        ApplicationLog(
            action="status_changed",
            details=f"{previous} → {status}",
            from_status=previous,
            to_status=status,
            timestamp=now,
        )
    ]


def _log(action: str, details: str, now: datetime) -> ApplicationLog:
    return ApplicationLog(action=action, details=details, timestamp=now)


def _moment(value: datetime) -> str:
    """A date alone when it is midnight UTC (how dates are sent), else date and time."""
    if value.time() == time():
        return value.date().isoformat()
    return value.strftime("%Y-%m-%d %H:%M UTC")


async def _record(
    session: AsyncSession, application: Application, logs: list[ApplicationLog], now: datetime
) -> None:
    if not logs:
        return
    # Changes made together are logged a microsecond apart, so the trail reads back in order.
    for offset, log in enumerate(logs):
        log.timestamp = now + timedelta(microseconds=offset)
    application.updated_at = now
    application.logs.extend(logs)
    await session.flush()
