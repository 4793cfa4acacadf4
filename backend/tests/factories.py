"""Small factories for test data: each makes one row with sensible defaults, overridable."""

from __future__ import annotations

import hashlib
import itertools
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Application, ApplicationLog, Job, JobBoard, UserProfile
from app.models.base import utcnow

_sequence = itertools.count(1)


async def make_board(session: AsyncSession, **fields: Any) -> JobBoard:
    n = next(_sequence)
    values: dict[str, Any] = {
        "name": f"Board {n}",
        "url": f"https://careers.example{n}.com/jobs",
        "scraper_config": {"scraper_type": "auto"},
        "keyword_filters": [],
    }
    values.update(fields)
    board = JobBoard(**values)
    session.add(board)
    await session.flush()
    return board


async def make_job(session: AsyncSession, board: JobBoard | None = None, **fields: Any) -> Job:
    n = next(_sequence)
    if board is None:
        board = await make_board(session)
    url = fields.get("url", f"https://careers.example.com/jobs/{n}")
    now = utcnow()
    values: dict[str, Any] = {
        "board_id": board.id,
        "title": f"Software Engineer {n}",
        "company": "Example Corp",
        "location": "Remote",
        "url": url,
        "description": "Build and run services in Python.",
        "dedup_hash": hashlib.sha256(f"{url}#{n}".encode()).hexdigest(),
        "match_score": 50.0,
        "created_at": now,
        "first_seen_at": now,
        "last_seen_at": now,
    }
    values.update(fields)
    job = Job(**values)
    session.add(job)
    await session.flush()
    return job


async def make_profile(session: AsyncSession, **fields: Any) -> UserProfile:
    profile = UserProfile(**{"first_name": "Ada", "last_name": "Lovelace", **fields})
    session.add(profile)
    await session.flush()
    return profile


async def make_application(
    session: AsyncSession,
    job: Job | None = None,
    *,
    logged_at: datetime | None = None,
    **fields: Any,
) -> Application:
    values: dict[str, Any] = {"status": "applied", "notes": ""}
    if job is not None:
        values.update(job_id=job.id, company=job.company, title=job.title, url=job.url)
    else:
        values.update(company="Elsewhere Inc", title="Engineer", url="https://elsewhere.example/1")
    values.update(fields)
    application = Application(**values)
    session.add(application)
    await session.flush()
    session.add(
        ApplicationLog(
            application_id=application.id,
            action="created",
            details=f"Applied to {application.title} at {application.company}",
            to_status=application.status,
            timestamp=logged_at or utcnow(),
        )
    )
    await session.flush()
    return application
