"""Celery tasks adapting the scan services: run one scan, run the schedule check.

Each worker process keeps ONE event loop, ONE database engine and ONE HTTP fetcher for its whole
life, made when the process starts (or on its first task with `--pool=solo`) and closed when it
stops. Tasks run their coroutine on that loop; `asyncio.run` per task would throw away the
connection pool and the fetcher every time, and break objects bound to the previous loop.

Shutdown (SIGTERM = Celery's warm shutdown, which would wait for a scan however long it takes):
the process running a scan gives it SHUTDOWN_GRACE_SECONDS, then cancels it in its loop. The
cancelled scan is queued again in the database and its message rejected back onto the queue, so
exactly one message still names it: the next worker resumes it, and the board's lease keeps any
second delivery from running it twice. Then the fetcher, browser, event bus and engine close.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, TypeVar

import structlog
from billiard.process import current_process  # type: ignore[import-untyped]
from celery.exceptions import Reject
from celery.signals import (
    task_prerun,
    worker_process_init,
    worker_process_shutdown,
    worker_shutdown,
    worker_shutting_down,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import settings
from app.database import build_engine, session_factories
from app.services import events, scans
from app.services.scan_runner import ScanOutcome, ScanRuntime, run_scan
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
    tasks_running: int = 0
    _scans: set[asyncio.Task[ScanOutcome]] = field(default_factory=set)

    def run(self, work: Coroutine[Any, Any, _T]) -> _T:
        self.tasks_running += 1
        try:
            return self.loop.run_until_complete(work)
        finally:
            self.tasks_running -= 1

    def notice_shutdown(self) -> None:
        """The worker is stopping. Safe to call from a signal handler, while a task runs."""
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._begin_grace)

    def _begin_grace(self) -> None:
        # Only the scans running now: once they end, Celery takes no more tasks here. (A pool
        # child sent SIGTERM on its own, its main process carrying on, keeps working after.)
        running = set(self._scans)
        if running:
            grace_s = settings.shutdown_grace_seconds
            log.info("worker_stopping", scans_running=len(running), grace_s=grace_s)
            self.loop.call_later(grace_s, self._stop_scans, running)

    @staticmethod
    def _stop_scans(scans: set[asyncio.Task[ScanOutcome]]) -> None:
        for scan in scans:
            scan.cancel()  # a no-op for those that have finished

    async def scan(self, board_id: uuid.UUID, scan_id: uuid.UUID) -> ScanOutcome:
        """Run one scan, cancellable by the end of the shutdown grace period."""
        scan = asyncio.ensure_future(
            run_scan(
                board_id,
                scan_id,
                session_factory=self.session_factory,
                context=self.runtime.context,
                requeue_on_cancel=True,
            )
        )
        self._scans.add(scan)
        try:
            return await scan
        finally:
            self._scans.discard(scan)


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
    # A forked pool child: build its own loop and engine rather than share the parent's. (The
    # solo pool sends this signal too, in the main process, which keeps Celery's own SIGTERM.)
    global _process, _pool_child
    _process = None
    _pool_child = current_process().name != "MainProcess"
    worker_process()


_pool_child = False
_idle_sigterm: Any = signal.SIG_DFL


def _take_over_sigterm(**_: Any) -> None:
    """In a pool child, about to run a task: SIGTERM from now on means "stop within the grace
    period". Installed here because billiard sets its own handler after `worker_process_init`."""
    global _idle_sigterm
    if _pool_child and signal.getsignal(signal.SIGTERM) is not _on_pool_child_sigterm:
        _idle_sigterm = signal.signal(signal.SIGTERM, _on_pool_child_sigterm)


def _on_pool_child_sigterm(signum: int, frame: FrameType | None) -> None:
    # Sent by the main process when warm shutdown begins (below), or by a service manager to the
    # whole process group. A child busy with a task gets the grace period; an idle one stops at
    # once, as billiard makes it (a cold shutdown terminates the pool this way).
    if _process is not None and _process.tasks_running:
        _process.notice_shutdown()
    elif callable(_idle_sigterm):
        _idle_sigterm(signum, frame)
    else:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)


def _on_worker_shutting_down(**_: Any) -> None:
    """Warm shutdown began (in the main process, inside its signal handler)."""
    from celery.worker import state

    # Solo pool: the scan runs right here, in this process's loop.
    if _process is not None:
        _process.notice_shutdown()
    # Prefork: scans run in pool children, which Celery does not tell about a warm shutdown.
    busy = {request.worker_pid for request in list(state.active_requests)}
    for pid in busy - {None, os.getpid()}:
        with contextlib.suppress(ProcessLookupError):  # it finished meanwhile
            os.kill(pid, signal.SIGTERM)


def _on_shutdown(**_: Any) -> None:
    close_worker_process()


worker_process_init.connect(_on_process_init)
task_prerun.connect(_take_over_sigterm)
worker_shutting_down.connect(_on_worker_shutting_down)
worker_process_shutdown.connect(_on_shutdown)
worker_shutdown.connect(_on_shutdown)


@celery_app.task(name=SCAN_TASK)  # type: ignore[untyped-decorator]
def scan_board_task(board_id: str, scan_id: str) -> dict[str, Any]:
    """Run one queued scan; a redelivered or superseded scan ends at once as `skipped`.

    Stopped by a shutdown, the scan is queued again and its message rejected back onto the queue.
    """
    process = worker_process()
    try:
        outcome = process.run(process.scan(uuid.UUID(board_id), uuid.UUID(scan_id)))
    except asyncio.CancelledError:
        log.info("scan_returned_to_queue", board_id=board_id, scan_id=scan_id)
        reason = "the worker is shutting down; another worker resumes the scan"
        raise Reject(reason, requeue=True) from None
    return {"status": outcome.status, "found": outcome.found, "new": outcome.new}


@celery_app.task(name=CHECK_SCHEDULES_TASK)  # type: ignore[untyped-decorator]
def check_scan_schedules() -> int:
    """Queue every board that is due (beat sends this every SCHEDULE_CHECK_SECONDS); return how
    many."""
    process = worker_process()

    async def check() -> int:
        queued = await scans.check_scan_schedules(process.session_factory)
        await CeleryDispatcher(celery_app, process.session_factory).dispatch(queued)
        return len(queued)

    count = process.run(check())
    if count:
        log.info("scans_scheduled", count=count)
    return count
