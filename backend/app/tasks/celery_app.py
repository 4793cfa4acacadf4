"""The Celery application of distributed mode: Redis broker, JSON messages, one task at a time.

Start workers with `hunter worker` (or `celery -A app.tasks.celery_app worker`) and one scheduler
with `hunter beat` (or `celery -A app.tasks.celery_app beat`). Any Celery setting can be given on
the command line after the options, e.g. `... worker task.default_queue=hunter-staging`.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.signals import setup_logging

from app.config import settings

SCAN_TASK = "hunter.scan_board"
CHECK_SCHEDULES_TASK = "hunter.check_scan_schedules"
DEFAULT_QUEUE = "hunter"


def make_celery(broker_url: str) -> Celery:
    """A Celery app with Hunter's settings, publishing to and consuming from `broker_url`."""
    app = Celery("hunter", broker=broker_url or None, include=["app.tasks.scan_tasks"])
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        # A scan's message is acknowledged when the scan ends, so a worker that dies mid-scan
        # leaves it to be redelivered; the board's lease keeps a redelivery from running twice.
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        task_default_queue=DEFAULT_QUEUE,
        broker_connection_retry_on_startup=True,
        timezone="UTC",
        enable_utc=True,
        beat_schedule={
            "check-scan-schedules": {
                "task": CHECK_SCHEDULES_TASK,
                "schedule": settings.schedule_check_seconds,
            }
        },
    )
    return app


celery_app = make_celery(settings.redis_url)


def _use_hunter_logging(**_: Any) -> None:
    # Connecting here stops Celery from replacing the root logger's handlers with its own.
    from app.logging import configure_logging

    configure_logging()


setup_logging.connect(_use_hunter_logging)
