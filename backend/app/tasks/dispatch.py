"""Handing queued scans to whatever runs them: the API process itself, or Celery workers.

One interface, two implementations, picked by `REDIS_URL` (SPEC §1):
- `EmbeddedDispatcher` runs scans as asyncio tasks inside the API process (at most
  `SCAN_CONCURRENCY` at once) and runs the schedule check every SCHEDULE_CHECK_SECONDS;
- `CeleryDispatcher` sends each scan to the workers; Celery beat runs the schedule check.
Both run the same `run_scan` and `check_scan_schedules`.
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING

import structlog

from app.config import settings
from app.services import scans
from app.services.scan_leases import LEASES, LeasePolicy, QueuedScan
from app.services.scan_runner import ScanRuntime, run_scan
from app.services.scans import SessionFactory

if TYPE_CHECKING:
    from celery import Celery

log = structlog.get_logger("hunter.dispatch")


def _default_session_factory() -> SessionFactory:
    from app.database import async_session_factory

    return async_session_factory


class Dispatcher(ABC):
    """Starts with the process, takes queued scans, stops with the process."""

    def __init__(self, session_factory: SessionFactory | None = None) -> None:
        self.session_factory = session_factory or _default_session_factory()

    async def start(self) -> None:  # noqa: B027  (optional for subclasses)
        """Begin accepting scans (and, where this process runs it, the schedule check)."""

    async def stop(self) -> None:  # noqa: B027
        """Stop cleanly: no new scans; running ones finish within the grace period or are queued
        again for the next runner."""

    @abstractmethod
    async def submit(self, scan: QueuedScan) -> None:
        """Hand one committed, queued scan to a runner; raise if it cannot be handed over."""

    async def dispatch(self, queued: Sequence[QueuedScan]) -> None:
        """Hand over each scan; one that cannot be is recorded as failed, never left queued."""
        for scan in queued:
            try:
                await self.submit(scan)
            except Exception as exc:
                log.exception("scan_dispatch_failed", scan_id=str(scan.scan_id))
                reason = str(exc) or type(exc).__name__
                await scans.abandon_scan(
                    self.session_factory, scan, f"could not hand the scan to a runner: {reason}"
                )


class EmbeddedDispatcher(Dispatcher):
    """Scans as asyncio tasks in this process, bounded; plus the minutely schedule check."""

    def __init__(
        self,
        session_factory: SessionFactory | None = None,
        *,
        concurrency: int | None = None,
        schedule: bool = True,
        schedule_every_s: float | None = None,
        grace_s: float | None = None,
        leases: LeasePolicy = LEASES,
    ) -> None:
        super().__init__(session_factory)
        self.concurrency = concurrency or settings.scan_concurrency
        self.schedule = schedule
        self.schedule_every_s = schedule_every_s or settings.schedule_check_seconds
        self.grace_s = settings.shutdown_grace_seconds if grace_s is None else grace_s
        self.leases = leases
        self._slots = asyncio.Semaphore(self.concurrency)
        self._runtime: ScanRuntime | None = None
        self._scans: set[asyncio.Task[None]] = set()
        self._scheduler: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def in_flight(self) -> int:
        """Scans running or waiting for a slot."""
        return len(self._scans)

    async def start(self) -> None:
        self._stopping = False
        self._runtime = ScanRuntime()
        # Scans queued before a restart were never run: their tasks died with the old process.
        try:
            async with self.session_factory() as session:
                waiting = await scans.waiting_scans(session)
        except Exception:
            log.exception("waiting_scans_unreadable")  # they will lapse and be rescheduled
            waiting = []
        await self.dispatch(waiting)
        if self.schedule:
            self._scheduler = asyncio.create_task(self._schedule_loop(), name="scan-scheduler")
        log.info("embedded_runner_started", concurrency=self.concurrency, schedule=self.schedule)

    async def submit(self, scan: QueuedScan) -> None:
        if self._stopping:
            # Shutting down: the scan stays queued in the database and the next start runs it
            # (`waiting_scans`), rather than being recorded as failed.
            log.info("scan_left_queued", scan_id=str(scan.scan_id), reason="shutting down")
            return
        if self._runtime is None:
            raise RuntimeError("the embedded scan runner is not running")
        task = asyncio.create_task(self._run(scan), name=f"scan-{scan.scan_id}")
        self._scans.add(task)
        task.add_done_callback(self._scans.discard)

    async def check_schedules(self) -> list[QueuedScan]:
        """Run one schedule check now and dispatch what it queued."""
        queued = await scans.check_scan_schedules(self.session_factory, leases=self.leases)
        await self.dispatch(queued)
        return queued

    async def stop(self) -> None:
        self._stopping = True
        if self._scheduler is not None:
            self._scheduler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._scheduler
            self._scheduler = None
        if self._scans:
            # SHUTDOWN_GRACE_SECONDS for running scans to finish; the rest are cancelled, which
            # queues them again (those still waiting for a slot never left the queue): the next
            # start resumes them all.
            log.info("embedded_runner_stopping", in_flight=self.in_flight, grace_s=self.grace_s)
            _, pending = await asyncio.wait(set(self._scans), timeout=self.grace_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            if pending:
                log.info("scans_left_for_next_start", count=len(pending))
        if self._runtime is not None:
            await self._runtime.aclose()
            self._runtime = None
        log.info("embedded_runner_stopped")

    async def _run(self, scan: QueuedScan) -> None:
        async with self._slots:
            if self._runtime is None:
                return
            try:
                await run_scan(
                    scan.board_id,
                    scan.scan_id,
                    session_factory=self.session_factory,
                    context=self._runtime.context,
                    leases=self.leases,
                    requeue_on_cancel=True,
                )
            except Exception:
                # run_scan records its own failures; this is the database itself failing.
                log.exception("scan_runner_failed", scan_id=str(scan.scan_id))

    async def _schedule_loop(self) -> None:
        while True:
            try:
                await self.check_schedules()
            except Exception:
                log.exception("schedule_check_failed")
            await asyncio.sleep(self.schedule_every_s)


class CeleryDispatcher(Dispatcher):
    """Each scan becomes one Celery message; a worker runs it, beat runs the schedule check."""

    def __init__(
        self, celery: Celery | None = None, session_factory: SessionFactory | None = None
    ) -> None:
        super().__init__(session_factory)
        if celery is None:
            from app.tasks.celery_app import celery_app

            celery = celery_app
        self.celery = celery

    async def stop(self) -> None:
        # The broker connections this process opened to publish (a worker's are Celery's own).
        await asyncio.to_thread(self.celery.close)

    async def submit(self, scan: QueuedScan) -> None:
        from app.tasks.celery_app import SCAN_TASK

        # Publishing is blocking network I/O: keep it off the event loop. The scan's id doubles
        # as the task id, so logs on both sides name the same thing.
        await asyncio.to_thread(
            self.celery.send_task,
            SCAN_TASK,
            args=[str(scan.board_id), str(scan.scan_id)],
            task_id=str(scan.scan_id),
        )


def create_dispatcher() -> Dispatcher:
    """The dispatcher this process's configuration calls for."""
    return CeleryDispatcher() if settings.distributed else EmbeddedDispatcher()
