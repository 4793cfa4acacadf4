"""Celery tasks adapting the scan services: run one scan, run the schedule check.

Each worker process keeps ONE event loop, ONE database engine and ONE HTTP fetcher for its whole
life, made when the process starts (or on its first task with `--pool=solo`) and closed when it
stops. Tasks run their coroutine on that loop; `asyncio.run` per task would throw away the
connection pool and the fetcher every time, and break objects bound to the previous loop.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog
from celery.signals import worker_process_init, worker_process_shutdown, worker_shutdown
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import settings
from app.database import build_engine, session_factories
from app.services import events, scans
from app.services.scan_runner import ScanRuntime, run_scan
from app.tasks.celery_app import CHECK_SCHEDULES_TASK, SCAN_TASK, celery_app
from app.tasks.dispatch import CeleryDispatcher

log = structlog.get_logger("hunter.worker")

_T = TypeVar("_T")


@dataclass
class _WorkerProcess:
    loop: asyncio.AbstractEventLoop
    engine: AsyncEngine
    session_factory: scans.SessionFactory
    runtime: ScanRuntime

    def run(self, work: Coroutine[Any, Any, _T]) -> _T:
        return self.loop.run_until_complete(work)


_process: _WorkerProcess | None = None


def worker_process() -> _WorkerProcess:
    """This process's loop, engine and fetcher, made on first use."""
    global _process
    if _process is None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        engine = build_engine(settings.effective_database_url)
        _process = _WorkerProcess(
            loop=loop,
            engine=engine,
            session_factory=session_factories(engine)[0],
            runtime=ScanRuntime(),
        )
    return _process


def close_worker_process() -> None:
    global _process
    if _process is None:
        return
    process, _process = _process, None
    try:
        process.run(process.runtime.aclose())
        process.run(events.get_bus().stop())
        process.run(process.engine.dispose())
    finally:
        process.loop.close()


def _on_process_init(**_: Any) -> None:
    # A forked pool child: build its own loop and engine rather than share the parent's.
    global _process
    _process = None
    worker_process()


def _on_shutdown(**_: Any) -> None:
    close_worker_process()


worker_process_init.connect(_on_process_init)
worker_process_shutdown.connect(_on_shutdown)
worker_shutdown.connect(_on_shutdown)


@celery_app.task(name=SCAN_TASK)  # type: ignore[untyped-decorator]
def scan_board_task(board_id: str, scan_id: str) -> dict[str, Any]:
    """Run one queued scan; a redelivered or superseded scan ends at once as `skipped`."""
    process = worker_process()
    outcome = process.run(
        run_scan(
            uuid.UUID(board_id),
            uuid.UUID(scan_id),
            session_factory=process.session_factory,
            context=process.runtime.context,
        )
    )
    return {"status": outcome.status, "found": outcome.found, "new": outcome.new}


@celery_app.task(name=CHECK_SCHEDULES_TASK)  # type: ignore[untyped-decorator]
def check_scan_schedules() -> int:
    """Queue every board that is due (beat sends this every minute); return how many."""
    process = worker_process()

    async def check() -> int:
        queued = await scans.check_scan_schedules(process.session_factory)
        await CeleryDispatcher(celery_app, process.session_factory).dispatch(queued)
        return len(queued)

    count = process.run(check())
    if count:
        log.info("scans_scheduled", count=count)
    return count
