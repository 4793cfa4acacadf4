"""Graceful shutdown in distributed mode: SIGTERM to a real `hunter worker` mid-scan, to
`hunter beat`, and to a `hunter serve` publishing to Redis.

A scan that ends within SHUTDOWN_GRACE_SECONDS is finished and its message acknowledged; one
that does not is stopped, queued again and its one message put back on the queue, so the next
worker resumes it and stores each listing once. Each process exits by itself, with status 0.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from redis import asyncio as aioredis

from app.services.health import ping_redis
from app.tasks.celery_app import make_celery
from app.tasks.dispatch import CeleryDispatcher
from tests.scrapers.local_server import LocalServer
from tests.support import TEST_REDIS_URL, TMP, require_service
from tests.tasks.processes import (
    START_TIMEOUT_S,
    assert_handed_back,
    board_state,
    hunter,
    job_titles,
    request_scan,
    scraping,
    serving,
)
from tests.tasks.support import (
    JOBS_PATH,
    ScratchDatabase,
    api_on,
    create_board,
    listing,
    wait_for_scan,
    wait_until,
)


@pytest.fixture
async def queue() -> AsyncIterator[str]:
    """A queue of the test's own on the test Redis (parallel runs share the server)."""
    try:
        await ping_redis(TEST_REDIS_URL)
        available = True
    except Exception:
        available = False
    require_service(available, f"Redis at {TEST_REDIS_URL}")
    name = f"hunter-test-{uuid.uuid4().hex[:10]}"
    yield name
    client = aioredis.Redis.from_url(TEST_REDIS_URL)
    try:
        await client.delete(name, f"_kombu.binding.{name}")
    finally:
        await client.aclose()


async def waiting_messages(queue: str) -> int:
    client = aioredis.Redis.from_url(TEST_REDIS_URL)
    try:
        return int(await client.llen(queue))
    finally:
        await client.aclose()


@pytest.fixture
def publisher(queue: str) -> Iterator[Any]:
    """What the API process publishes scans with in distributed mode, on the test's queue."""
    celery = make_celery(TEST_REDIS_URL)
    celery.conf.task_default_queue = queue
    try:
        yield celery
    finally:
        celery.close()


def worker(
    database: ScratchDatabase, greenhouse: LocalServer, queue: str, grace_s: float, pool: str
) -> Any:
    """A real `hunter worker` taking scans from `queue`."""
    return hunter(
        "worker",
        "--pool",
        pool,
        "--concurrency",
        "1",
        "--without-heartbeat",
        "--without-mingle",
        "--without-gossip",
        f"task.default_queue={queue}",
        database=database,
        greenhouse=greenhouse,
        grace_s=grace_s,
        REDIS_URL=TEST_REDIS_URL,
    )


async def test_worker_stopped_mid_scan_lets_it_finish_within_the_grace_period(
    scratch: ScratchDatabase, greenhouse: LocalServer, queue: str, publisher: Any
) -> None:
    greenhouse.route("GET", JOBS_PATH, listing(1, 2, delay=1.5))
    async with (
        worker(scratch, greenhouse, queue, grace_s=60, pool="solo") as running,
        api_on(scratch, CeleryDispatcher(publisher, scratch.sessions)) as client,
    ):
        board = await create_board(client, enabled=False)
        scan_id = await request_scan(client, board["id"])
        await scraping(greenhouse)
        code = await running.stop()

    stored, scans = await board_state(scratch, board["id"])
    assert code == 0, running.output()
    assert (stored.last_scan_status, stored.current_scan_id) == ("success", None)
    assert [(str(scan.id), scan.status, scan.jobs_new) for scan in scans] == [
        (scan_id, "success", 2)
    ]
    assert await waiting_messages(queue) == 0  # acknowledged: never run again


@pytest.mark.parametrize("pool", ["solo", "prefork"])
async def test_worker_stopped_mid_scan_hands_it_to_the_next_worker(
    scratch: ScratchDatabase, greenhouse: LocalServer, queue: str, publisher: Any, pool: str
) -> None:
    greenhouse.route("GET", JOBS_PATH, listing(1, 2))
    async with api_on(scratch, CeleryDispatcher(publisher, scratch.sessions)) as client:
        board = await create_board(client, enabled=False)
        async with worker(scratch, greenhouse, queue, grace_s=1, pool=pool) as first_worker:
            first = await request_scan(client, board["id"])
            assert (await wait_for_scan(client, board["id"], 60))["last_scan_status"] == "success"
            greenhouse.route("GET", JOBS_PATH, listing(1, 2, 3, hang=True))
            second = await request_scan(client, board["id"])
            await scraping(greenhouse, requests=2)
            code = await first_worker.stop()
        assert code == 0, first_worker.output()
        stopped, scans = await board_state(scratch, board["id"])
        assert_handed_back(stopped, scans, second)
        assert await waiting_messages(queue) == 1  # the scan's one message, back on the queue

        greenhouse.route("GET", JOBS_PATH, listing(1, 2, 3))
        async with worker(scratch, greenhouse, queue, grace_s=1, pool=pool) as next_worker:
            resumed = await wait_for_scan(client, board["id"], START_TIMEOUT_S)
            assert await next_worker.stop() == 0, next_worker.output()

    _, scans = await board_state(scratch, board["id"])
    assert resumed["last_scan_status"] == "success", resumed["last_scan_error"]
    assert [(str(scan.id), scan.status, scan.jobs_new) for scan in scans] == [
        (first, "success", 2),
        (second, "success", 1),
    ]
    assert await job_titles(scratch, board["id"]) == [f"Backend Engineer {n}" for n in (1, 2, 3)]
    assert await waiting_messages(queue) == 0


async def test_beat_exits_at_once_on_sigterm(
    scratch: ScratchDatabase, greenhouse: LocalServer, queue: str
) -> None:
    async with hunter(
        "beat",
        f"task.default_queue={queue}",
        database=scratch,
        greenhouse=greenhouse,
        grace_s=0,
        REDIS_URL=TEST_REDIS_URL,
        DATA_DIR=str(TMP / f"beat-{queue}"),
    ) as beat:

        async def started() -> bool:
            beat.check_running()
            return "beat: Starting" in beat.output()

        await wait_until(started, "`hunter beat` to start", START_TIMEOUT_S)
        assert await beat.stop() == 0, beat.output()


async def test_serve_in_distributed_mode_closes_its_redis_connections_and_exits(
    scratch: ScratchDatabase, greenhouse: LocalServer, queue: str
) -> None:
    async with serving(scratch, greenhouse, grace_s=1, REDIS_URL=TEST_REDIS_URL) as (
        server,
        client,
    ):
        health = (await client.get("/api/health")).json()
        await client.aclose()
        code = await server.stop()

    assert health["broker"] == "ok", health
    assert code == 0, server.output()
    assert "hunter_stopped" in server.output()
