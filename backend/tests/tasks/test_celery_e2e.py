"""Distributed mode end to end: a real `hunter worker` process, real Redis, a real database.

The API runs in the test process against a scratch database (commits are real, so the worker
sees them); the worker is started with the same DATABASE_URL, the test Redis and the fake
Greenhouse. Each run uses a queue of its own, so parallel runs sharing one Redis never take each
other's scans.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis

from app.config import Settings, settings
from app.tasks.celery_app import CHECK_SCHEDULES_TASK, celery_app, make_celery
from app.tasks.dispatch import CeleryDispatcher
from tests.scrapers.local_server import LocalServer
from tests.support import TEST_REDIS_URL, TMP, require_service
from tests.tasks.support import (
    JOBS_PATH,
    ScratchDatabase,
    api_on,
    create_board,
    listing,
    scan_status,
    wait_until,
)

BACKEND_DIR = Path(__file__).resolve().parents[2]
# A loaded CI machine can take a while to start Python and import the app in the worker.
SCAN_TIMEOUT_S = 90


def _redis_available() -> bool:
    client = redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log: Path
    queue: str

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@pytest.fixture(scope="module")
def queue() -> Iterator[str]:
    require_service(_redis_available(), f"Redis at {TEST_REDIS_URL}")
    name = f"hunter-test-{uuid.uuid4().hex[:10]}"
    yield name
    client = redis.Redis.from_url(TEST_REDIS_URL)
    try:
        client.delete(name, f"_kombu.binding.{name}")
    finally:
        client.close()


@pytest.fixture(scope="module")
async def worker(
    queue: str, _scratch: ScratchDatabase, _server: LocalServer
) -> AsyncIterator[Worker]:
    """`hunter worker --pool solo` on the scratch database, consuming and publishing to `queue`."""
    log = TMP / f"{queue}.log"
    env = {
        **os.environ,
        "DATABASE_URL": _scratch.url,
        "REDIS_URL": TEST_REDIS_URL,
        "GREENHOUSE_API_URL": _server.url,
        "LOG_LEVEL": "INFO",
        "HUNTER_ENV_FILE": "",
    }
    command = [sys.executable, "-m", "app", "worker", "--pool", "solo"]
    # Celery reads settings given after the options; this one names the queue for both sides.
    command += ["--without-heartbeat", "--without-mingle", "--without-gossip"]
    command += [f"task.default_queue={queue}"]
    with log.open("wb") as sink:
        process = subprocess.Popen(  # noqa: ASYNC220  (starting is quick; waiting is done below)
            command, cwd=BACKEND_DIR, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        yield Worker(process, log, queue)
    finally:
        process.terminate()  # warm shutdown: finish the current task, close the loop and engine
        try:
            await asyncio.to_thread(process.wait, 15)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)


@pytest.fixture
async def dispatcher(queue: str, scratch: ScratchDatabase) -> AsyncIterator[CeleryDispatcher]:
    """What the API process uses in distributed mode, publishing to the test's queue."""
    publisher = make_celery(TEST_REDIS_URL)
    publisher.conf.task_default_queue = queue
    try:
        yield CeleryDispatcher(publisher, scratch.sessions)
    finally:
        publisher.close()


async def wait_for_scan(client: httpx.AsyncClient, board_id: str, worker: Worker) -> None:
    async def finished() -> bool:
        assert worker.process.poll() is None, f"the worker exited:\n{worker.output()}"
        return await scan_status(client, board_id) in ("success", "error")

    try:
        await wait_until(finished, "the worker to scan the board", SCAN_TIMEOUT_S)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nworker output:\n{worker.output()}") from None


async def test_a_scan_requested_through_the_api_is_run_by_a_worker(
    scratch: ScratchDatabase,
    greenhouse: LocalServer,
    worker: Worker,
    dispatcher: CeleryDispatcher,
) -> None:
    greenhouse.route("GET", JOBS_PATH, listing(1, 2))
    async with api_on(scratch, dispatcher) as client:
        board = await create_board(client, enabled=False)

        response = await client.post(f"/api/boards/{board['id']}/scan")
        await wait_for_scan(client, board["id"], worker)

        shown = (await client.get(f"/api/boards/{board['id']}")).json()
        history = (await client.get(f"/api/boards/{board['id']}/scans")).json()["scans"]
        jobs = (await client.get("/api/jobs", params={"board_id": board["id"]})).json()

    assert response.status_code == 202
    assert shown["last_scan_status"] == "success", shown["last_scan_error"]
    assert shown["jobs_found_last_scan"] == 2
    assert [(scan["id"], scan["status"]) for scan in history] == [
        (response.json()["task_id"], "success")
    ]
    assert sorted(job["title"] for job in jobs["jobs"]) == [
        "Backend Engineer 1",
        "Backend Engineer 2",
    ]


async def test_the_schedule_check_queues_due_boards_for_the_worker(
    scratch: ScratchDatabase,
    greenhouse: LocalServer,
    worker: Worker,
    dispatcher: CeleryDispatcher,
) -> None:
    greenhouse.route("GET", JOBS_PATH, listing(7))
    async with api_on(scratch, dispatcher) as client:
        due = await create_board(client)
        paused = await create_board(client, name="Paused", enabled=False)

        # What beat sends every minute.
        await asyncio.to_thread(dispatcher.celery.send_task, CHECK_SCHEDULES_TASK)
        await wait_for_scan(client, due["id"], worker)

        history = (await client.get(f"/api/boards/{due['id']}/scans")).json()["scans"]
        jobs = (await client.get("/api/jobs", params={"board_id": due["id"]})).json()
        untouched = await scan_status(client, paused["id"])

    assert [(scan["status"], scan["trigger"]) for scan in history] == [("success", "schedule")]
    assert [job["title"] for job in jobs["jobs"]] == ["Backend Engineer 7"]
    assert untouched == "never"


async def test_beat_queues_a_due_board_for_the_worker(
    scratch: ScratchDatabase,
    greenhouse: LocalServer,
    worker: Worker,
    dispatcher: CeleryDispatcher,
) -> None:
    """A real `hunter beat` (checking every second here) queues the due board; the worker
    scans it."""
    greenhouse.route("GET", JOBS_PATH, listing(8))
    async with api_on(scratch, dispatcher) as client:
        due = await create_board(client, name="Due for beat")
        log = TMP / f"{worker.queue}-beat.log"
        env = {
            **os.environ,
            "DATABASE_URL": scratch.url,
            "REDIS_URL": TEST_REDIS_URL,
            "SCHEDULE_CHECK_SECONDS": "1",
            "HUNTER_ENV_FILE": "",
        }
        command = [sys.executable, "-m", "app", "beat", f"task.default_queue={worker.queue}"]
        with log.open("wb") as sink:
            beat = subprocess.Popen(  # noqa: ASYNC220  (starting is quick)
                command, cwd=BACKEND_DIR, env=env, stdout=sink, stderr=subprocess.STDOUT
            )
        try:
            await wait_for_scan(client, due["id"], worker)
        except AssertionError as exc:
            beat_output = log.read_text(errors="replace")[-4000:]
            raise AssertionError(f"{exc}\nbeat output:\n{beat_output}") from None
        finally:
            beat.terminate()
            await asyncio.to_thread(beat.wait, 15)
        history = (await client.get(f"/api/boards/{due['id']}/scans")).json()["scans"]

    assert [(scan["status"], scan["trigger"]) for scan in history] == [("success", "schedule")]


def test_beat_checks_the_schedule_as_often_as_configured() -> None:
    entries = celery_app.conf.beat_schedule.values()
    assert [(entry["task"], entry["schedule"]) for entry in entries] == [
        (CHECK_SCHEDULES_TASK, settings.schedule_check_seconds)
    ]
    assert Settings().schedule_check_seconds == 60
