"""Embedded mode end to end: scans requested through the API run inside the API process.

Each test has a scratch database of its own, because the runner commits from its own sessions.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from app.config import settings
from app.main import app
from app.models import ScanRun
from app.services import scans
from app.services.scan_leases import QueuedScan
from app.tasks.dispatch import CeleryDispatcher, EmbeddedDispatcher, create_dispatcher
from tests.scrapers.local_server import LocalServer
from tests.tasks.support import (
    JOBS_PATH,
    ScratchDatabase,
    api_on,
    create_board,
    listing,
    scan_status,
    wait_for_scan,
    wait_until,
)


async def test_a_scan_requested_through_the_api_runs_in_the_background(
    scratch: ScratchDatabase, greenhouse: LocalServer
) -> None:
    greenhouse.route("GET", JOBS_PATH, listing(1, 2, 3))
    runner = EmbeddedDispatcher(scratch.sessions, schedule=False)
    await runner.start()
    try:
        async with api_on(scratch, runner) as client:
            board = await create_board(client, enabled=False)
            response = await client.post(f"/api/boards/{board['id']}/scan")
            assert response.status_code == 202
            task_id = response.json()["task_id"]

            finished = await wait_for_scan(client, board["id"])
            jobs = (await client.get("/api/jobs", params={"board_id": board["id"]})).json()
            history = (await client.get(f"/api/boards/{board['id']}/scans")).json()["scans"]
    finally:
        await runner.stop()

    assert finished["last_scan_status"] == "success", finished["last_scan_error"]
    assert finished["jobs_found_last_scan"] == 3
    assert finished["last_scanned_at"] is not None
    assert jobs["total"] == 3
    assert sorted(job["title"] for job in jobs["jobs"]) == [
        "Backend Engineer 1",
        "Backend Engineer 2",
        "Backend Engineer 3",
    ]
    assert {job["company"] for job in jobs["jobs"]} == {"Acme"}
    assert [(scan["id"], scan["status"]) for scan in history] == [(task_id, "success")]
    assert (history[0]["jobs_found"], history[0]["jobs_new"]) == (3, 3)


async def test_the_scheduler_scans_enabled_boards_that_are_due(
    scratch: ScratchDatabase, greenhouse: LocalServer
) -> None:
    greenhouse.route("GET", JOBS_PATH, listing(1))
    runner = EmbeddedDispatcher(scratch.sessions, schedule=True)
    async with api_on(scratch, runner) as client:
        enabled = await create_board(client)
        disabled = await create_board(client, name="Paused", enabled=False)
        await runner.start()
        try:
            scanned = await wait_for_scan(client, enabled["id"])
            history = (await client.get(f"/api/boards/{enabled['id']}/scans")).json()["scans"]
            paused = await scan_status(client, disabled["id"])
        finally:
            await runner.stop()

    assert scanned["last_scan_status"] == "success"
    assert history[0]["trigger"] == "schedule"
    assert paused == "never"


async def test_two_deliveries_of_one_scan_scrape_once(
    scratch: ScratchDatabase, greenhouse: LocalServer
) -> None:
    greenhouse.route("GET", JOBS_PATH, listing(1, 2))
    runner = EmbeddedDispatcher(scratch.sessions, schedule=False, concurrency=2)
    async with api_on(scratch, runner) as client:
        board = await create_board(client)
        async with scratch.sessions() as session, session.begin():
            queued = (await scans.request_scan(session, uuid.UUID(board["id"]))).queued
        await runner.start()
        try:
            await runner.dispatch([queued, queued])
            finished = await wait_for_scan(client, board["id"])
            await wait_until(lambda: _idle(runner), "both deliveries to end")
        finally:
            await runner.stop()

    assert finished["last_scan_status"] == "success"
    assert len(greenhouse.hits(JOBS_PATH)) == 1
    async with scratch.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ScanRun)) == 1


async def _idle(runner: EmbeddedDispatcher) -> bool:
    return runner.in_flight == 0


async def test_scans_never_exceed_the_concurrency_limit(
    scratch: ScratchDatabase, greenhouse: LocalServer
) -> None:
    tokens = ("acme", "globex", "initech")
    for token in tokens:
        greenhouse.route("GET", f"/v1/boards/{token}/jobs", listing(1, delay=0.1))
    runner = EmbeddedDispatcher(scratch.sessions, schedule=False, concurrency=1)
    await runner.start()
    try:
        async with api_on(scratch, runner) as client:
            boards = [
                await create_board(
                    client,
                    name=token,
                    scraper_config={"scraper_type": "greenhouse", "board_token": token},
                )
                for token in tokens
            ]
            for board in boards:
                assert (await client.post(f"/api/boards/{board['id']}/scan")).status_code == 202
            finished = [await wait_for_scan(client, board["id"]) for board in boards]
    finally:
        await runner.stop()

    assert [board["last_scan_status"] for board in finished] == ["success"] * 3
    assert greenhouse.max_in_flight == 1


async def test_shutdown_queues_an_unfinished_scan_for_the_next_start(
    scratch: ScratchDatabase, greenhouse: LocalServer
) -> None:
    greenhouse.route("GET", JOBS_PATH, listing(1, hang=True))
    runner = EmbeddedDispatcher(scratch.sessions, schedule=False, grace_s=0.1)
    await runner.start()
    async with api_on(scratch, runner) as client:
        board = await create_board(client)
        requested = (await client.post(f"/api/boards/{board['id']}/scan")).json()

        async def scraping() -> bool:
            return bool(greenhouse.requests)

        await wait_until(scraping, "the scan to reach Greenhouse")
        await runner.stop()
        stopped = (await client.get(f"/api/boards/{board['id']}")).json()
        history = (await client.get(f"/api/boards/{board['id']}/scans")).json()["scans"]

        greenhouse.route("GET", JOBS_PATH, listing(1))
        restarted = EmbeddedDispatcher(scratch.sessions, schedule=False)
        await restarted.start()
        try:
            resumed = await wait_for_scan(client, board["id"])
        finally:
            await restarted.stop()
        after = (await client.get(f"/api/boards/{board['id']}/scans")).json()["scans"]

    assert runner.in_flight == 0
    assert (stopped["last_scan_status"], stopped["last_scan_error"]) == ("queued", None)
    assert [(scan["id"], scan["status"]) for scan in history] == [(requested["task_id"], "queued")]
    assert resumed["last_scan_status"] == "success"
    assert [(scan["id"], scan["status"]) for scan in after] == [(requested["task_id"], "success")]


async def test_scans_queued_before_a_restart_run_on_start(
    scratch: ScratchDatabase, greenhouse: LocalServer
) -> None:
    greenhouse.route("GET", JOBS_PATH, listing(1))
    runner = EmbeddedDispatcher(scratch.sessions, schedule=False)
    async with api_on(scratch, runner) as client:
        board = await create_board(client)
        async with scratch.sessions() as session, session.begin():
            queued: QueuedScan = (await scans.request_scan(session, uuid.UUID(board["id"]))).queued
        await runner.start()
        try:
            finished = await wait_for_scan(client, board["id"])
        finally:
            await runner.stop()
        history = (await client.get(f"/api/boards/{board['id']}/scans")).json()["scans"]

    assert finished["last_scan_status"] == "success"
    assert [scan["id"] for scan in history] == [str(queued.scan_id)]


async def test_the_app_runs_scans_itself_unless_redis_is_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with app.router.lifespan_context(app):
        dispatcher = app.state.dispatcher
        assert isinstance(dispatcher, EmbeddedDispatcher)
    assert dispatcher.in_flight == 0

    monkeypatch.setattr(settings, "redis_url", "redis://127.0.0.1:6379/15")
    assert isinstance(create_dispatcher(), CeleryDispatcher)
