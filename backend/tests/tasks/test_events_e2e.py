"""Real-time events end to end: a scan requested through the API reaches WebSocket clients.

Embedded: the scan runs in this process and publishes on the in-process bus. Distributed: a real
`hunter worker` process publishes to real Redis, and this process (the API) relays to its sockets,
also after its Redis connection is dropped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from app.services.event_bus_redis import RedisBus
from app.services.events import InProcessBus
from app.tasks.dispatch import CeleryDispatcher, EmbeddedDispatcher
from tests.api.test_websocket import events_until, process_bus, served, wait_for
from tests.scrapers.local_server import LocalServer, Reply
from tests.services.test_events import kill_connection
from tests.support import TEST_REDIS_URL
from tests.tasks import test_celery_e2e as celery_e2e
from tests.tasks.support import JOBS_PATH, ScratchDatabase, api_on, create_board, listing

# The worker and its queue, as the Celery end-to-end tests start them (one worker per module).
queue = celery_e2e.queue
worker = celery_e2e.worker
dispatcher = celery_e2e.dispatcher

Message = dict[str, Any]


def scan_ended(board_id: str) -> Any:
    def check(message: Message) -> bool:
        return message["type"] in ("scan_completed", "scan_error") and (
            message["data"].get("board_id") == board_id
        )

    return check


async def scan_events(
    socket_: ClientConnection, board_id: str, timeout: float = 30
) -> list[Message]:
    """This board's events, up to the end of its scan (other boards' events are left out)."""
    seen = await events_until(socket_, scan_ended(board_id), timeout)
    return [
        m
        for m in seen
        if m["data"].get("board_id") == board_id and m["type"] != "application_updated"
    ]


async def request_scan(client: httpx.AsyncClient, **board_fields: Any) -> tuple[str, str]:
    board = await create_board(client, enabled=False, **board_fields)
    response = await client.post(f"/api/boards/{board['id']}/scan")
    assert response.status_code == 202, response.text
    return board["id"], response.json()["task_id"]


# --- embedded ----------------------------------------------------------------------------------


@pytest.fixture
async def embedded(scratch: ScratchDatabase) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """The API in embedded mode: HTTP client, and the ws:// origin of the same app served."""
    runner = EmbeddedDispatcher(scratch.sessions, schedule=False)
    with process_bus(InProcessBus()):
        await runner.start()
        try:
            async with api_on(scratch, runner) as client, served() as origin:
                yield client, origin
        finally:
            await runner.stop()


async def test_a_scan_reaches_every_connected_client_in_order(
    embedded: tuple[httpx.AsyncClient, str], greenhouse: LocalServer
) -> None:
    client, origin = embedded
    greenhouse.route("GET", JOBS_PATH, listing(1, 2, 3))
    async with connect(f"{origin}/ws") as first, connect(f"{origin}/ws") as second:
        board_id, scan_id = await request_scan(client)
        received = [await scan_events(first, board_id), await scan_events(second, board_id)]
    jobs = (await client.get("/api/jobs", params={"board_id": board_id})).json()["jobs"]

    for seen in received:
        assert [m["type"] for m in seen] == ["scan_started", *["new_job"] * 3, "scan_completed"]
        started, *new_jobs, completed = seen
        assert started["data"] == {"board_id": board_id, "board_name": "Acme", "scan_id": scan_id}
        assert {m["data"]["id"] for m in new_jobs} == {job["id"] for job in jobs}
        assert {m["data"]["title"] for m in new_jobs} == {
            "Backend Engineer 1",
            "Backend Engineer 2",
            "Backend Engineer 3",
        }
        assert all(
            set(m["data"]) >= {"id", "title", "company", "location", "url", "match_score"}
            for m in new_jobs
        )
        assert new_jobs[0]["data"]["board_name"] == "Acme"
        assert {k: completed["data"][k] for k in ("scan_id", "found", "new", "closed")} == {
            "scan_id": scan_id,
            "found": 3,
            "new": 3,
            "closed": 0,
        }


async def test_a_failed_scan_tells_clients_why(
    embedded: tuple[httpx.AsyncClient, str], greenhouse: LocalServer
) -> None:
    client, origin = embedded
    greenhouse.route("GET", JOBS_PATH, Reply(status=404, json={"error": "not found"}))
    async with connect(f"{origin}/ws") as socket_:
        board_id, _ = await request_scan(client)
        seen = await scan_events(socket_, board_id)
    board = (await client.get(f"/api/boards/{board_id}")).json()

    assert [m["type"] for m in seen] == ["scan_started", "scan_error"]
    assert seen[-1]["data"]["error"] == board["last_scan_error"]
    assert "acme" in seen[-1]["data"]["error"]


# --- distributed -------------------------------------------------------------------------------


@pytest.fixture
async def distributed(
    scratch: ScratchDatabase, dispatcher: CeleryDispatcher
) -> AsyncIterator[tuple[httpx.AsyncClient, str, RedisBus]]:
    """The API in distributed mode: scans go to the worker, events come back through Redis."""
    relay = RedisBus(TEST_REDIS_URL, backoff_s=0.05)
    with process_bus(relay):
        await relay.start()
        try:
            await wait_for(relay.subscribed.is_set, "the relay to subscribe")
            async with api_on(scratch, dispatcher) as client, served() as origin:
                yield client, origin, relay
        finally:
            await relay.stop()


async def test_a_workers_scan_reaches_the_socket_through_redis(
    distributed: tuple[httpx.AsyncClient, str, RedisBus],
    greenhouse: LocalServer,
    worker: celery_e2e.Worker,
) -> None:
    client, origin, _ = distributed
    greenhouse.route("GET", JOBS_PATH, listing(1, 2))
    async with connect(f"{origin}/ws") as socket_:
        board_id, scan_id = await request_scan(client)
        try:
            seen = await scan_events(socket_, board_id, timeout=celery_e2e.SCAN_TIMEOUT_S)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nworker output:\n{worker.output()}") from None

    assert [m["type"] for m in seen] == ["scan_started", "new_job", "new_job", "scan_completed"]
    assert seen[-1]["data"]["scan_id"] == scan_id
    assert (seen[-1]["data"]["found"], seen[-1]["data"]["new"]) == (2, 2)


async def test_the_relay_survives_losing_redis_without_restarting_the_api(
    distributed: tuple[httpx.AsyncClient, str, RedisBus],
    greenhouse: LocalServer,
    worker: celery_e2e.Worker,
) -> None:
    import redis.asyncio as aioredis

    client, origin, relay = distributed
    greenhouse.route("GET", JOBS_PATH, listing(5))
    admin = aioredis.Redis.from_url(TEST_REDIS_URL)
    try:
        async with connect(f"{origin}/ws") as socket_:
            # What a Redis restart does to the API: its subscription connection is dropped.
            await kill_connection(admin, relay.client_name)
            await wait_for(lambda: relay.subscriptions >= 2, "the relay to resubscribe")
            board_id, _ = await request_scan(client, name="After the restart")
            try:
                seen = await scan_events(socket_, board_id, timeout=celery_e2e.SCAN_TIMEOUT_S)
            except AssertionError as exc:
                raise AssertionError(f"{exc}\nworker output:\n{worker.output()}") from None
    finally:
        await admin.aclose()

    assert [m["type"] for m in seen] == ["scan_started", "new_job", "scan_completed"]
    assert seen[0]["data"]["board_name"] == "After the restart"
