"""Real-time events: what Hunter announces (scans, new listings, applications), published on
this process's bus only after the commit that makes them true. The bus is picked by `REDIS_URL`
(SPEC §1): in-process when embedded, Redis pub/sub when distributed (`event_bus*.py`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from app.config import settings
from app.models import Job, JobScore
from app.models.base import utcnow
from app.services.event_bus import Batch, Event, EventBus, InProcessBus, encode_events, log

if TYPE_CHECKING:
    from app.models import Application
    from app.services.scan_runner import ScanOutcome
    from app.services.scans import SessionFactory

# The bus and its parts are imported from here by the API, the tasks and the tests (the Redis
# bus from `event_bus_redis`, only where Redis is used).
__all__ = [
    "Batch",
    "Event",
    "EventBus",
    "InProcessBus",
    "application_updated",
    "create_bus",
    "encode_events",
    "get_bus",
    "new_job_events",
    "publish",
    "publish_scan_outcome",
    "publish_scan_started",
    "set_bus",
]


# --- the process's bus -------------------------------------------------------------------------

_bus: EventBus | None = None


def create_bus() -> EventBus:
    """The bus this process's configuration calls for."""
    if not settings.distributed:
        return InProcessBus()
    # Imported here: an embedded server never talks to Redis, and its client is a few MB.
    from app.services.event_bus_redis import RedisBus

    return RedisBus(settings.redis_url)


def get_bus() -> EventBus:
    """This process's bus (made on first use; the API starts it in its lifespan)."""
    global _bus
    if _bus is None:
        _bus = create_bus()
    return _bus


def set_bus(bus: EventBus | None) -> None:
    """Replace this process's bus (None: make a fresh one on next use)."""
    global _bus
    _bus = bus


# --- what Hunter announces ---------------------------------------------------------------------

# Ids per query when loading a scan's new listings; beyond any real scan, under bind-param limits.
NEW_JOBS_PER_QUERY = 10_000


async def publish_scan_started(board_id: uuid.UUID, board_name: str, scan_id: uuid.UUID) -> None:
    data = {"board_id": str(board_id), "board_name": board_name, "scan_id": str(scan_id)}
    await get_bus().publish([Event(type="scan_started", data=data)])


async def publish_scan_outcome(outcome: ScanOutcome, session_factory: SessionFactory) -> None:
    """`new_job` for each new listing then `scan_completed`, or `scan_error`: one batch.

    Call right after the commit that recorded the outcome; never raises."""
    if outcome.status == "skipped":
        return
    committed_at = utcnow()
    scan = {
        "board_id": str(outcome.board_id),
        "board_name": outcome.board_name,
        "scan_id": str(outcome.scan_id),
    }
    if outcome.status == "error":
        error = Event(type="scan_error", data={**scan, "error": outcome.message}, ts=committed_at)
        await get_bus().publish([error])
        return
    try:
        events = await new_job_events(
            session_factory, outcome.new_job_ids, outcome.board_name, ts=committed_at
        )
    except Exception:
        log.exception("new_job_events_unreadable", scan_id=str(outcome.scan_id))
        events = []
    counts = {
        "found": outcome.found,
        "new": outcome.new,
        "updated": outcome.updated,
        "closed": outcome.closed,
        "duration_ms": outcome.duration_ms,
    }
    events.append(Event(type="scan_completed", data={**scan, **counts}, ts=committed_at))
    await get_bus().publish(events)


async def new_job_events(
    session_factory: SessionFactory,
    job_ids: Sequence[uuid.UUID],
    board_name: str,
    *,
    ts: datetime | None = None,
) -> list[Event]:
    """One `new_job` event per listing, in the order given (one query per 10,000 ids)."""
    query = select(
        Job.id, Job.board_id, Job.title, Job.company, Job.location, Job.url, JobScore.match_score
    ).join(JobScore, JobScore.job_id == Job.id)
    rows: dict[uuid.UUID, dict[str, Any]] = {}
    async with session_factory() as session:
        for start in range(0, len(job_ids), NEW_JOBS_PER_QUERY):
            chunk = job_ids[start : start + NEW_JOBS_PER_QUERY]
            result = await session.execute(query.where(Job.id.in_(chunk)))
            for job_id, board_id, title, company, location, url, score in result:
                rows[job_id] = {
                    "id": str(job_id),
                    "board_id": str(board_id),
                    "title": title,
                    "company": company,
                    "location": location,
                    "url": url,
                    "match_score": score,
                    "board_name": board_name,
                }
    stamp = ts or utcnow()
    return [Event(type="new_job", data=rows[i], ts=stamp) for i in job_ids if i in rows]


def application_updated(application: Application) -> Event:
    """The event announcing an application's current state (build it before the commit, from
    the row in hand; publish it after)."""
    return Event(
        type="application_updated",
        data={
            "id": str(application.id),
            "status": application.status,
            "job_id": str(application.job_id) if application.job_id else None,
            "title": application.title,
            "company": application.company,
        },
    )


async def publish(events: Sequence[Event]) -> None:
    """Publish on this process's bus (for FastAPI background tasks: they run after the commit)."""
    await get_bus().publish(events)
