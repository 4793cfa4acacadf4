"""Rescoring after a profile change, run in the background of the process that saved it."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import structlog

from app.database import async_session_factory
from app.services.rescoring import rescore_open_jobs

if TYPE_CHECKING:
    from app.services.scans import SessionFactory

log = structlog.get_logger(__name__)


async def rescore_in_background(session_factory: SessionFactory | None = None) -> None:
    """Rescore every open listing in one transaction (of a session from `session_factory`,
    by default the application's); a failure is logged, never raised."""
    started = time.perf_counter()
    try:
        async with (session_factory or async_session_factory)() as session, session.begin():
            count = await rescore_open_jobs(session)
    except Exception:
        log.exception("rescore_failed")
        return
    log.info("rescored", jobs=count, seconds=round(time.perf_counter() - started, 2))
