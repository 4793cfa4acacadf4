"""`/ws` with real WebSocket clients against the app served by uvicorn on 127.0.0.1.

The helpers at the top (`served`, `bus`, `next_event`, ...) are shared with the end-to-end
event tests in tests/tasks/test_events_e2e.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from app.api import websocket as ws_endpoint
from app.config import settings
from app.main import app, create_app
from app.services.events import Event, EventBus, InProcessBus, set_bus
from tests.factories import make_application

Message = dict[str, Any]


class _QuietServer(uvicorn.Server):
    """Leaves signal handling to pytest."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@asynccontextmanager
async def served(application: FastAPI = app) -> AsyncIterator[str]:
    """Serve `application` with uvicorn on a free port (no lifespan); yield its ws:// origin."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        application, lifespan="off", log_level="warning", timeout_graceful_shutdown=1
    )
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:  # noqa: ASYNC110  (uvicorn offers no event to wait on)
                await asyncio.sleep(0.01)
        yield f"ws://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@contextlib.contextmanager
def process_bus(bus: EventBus) -> Iterator[EventBus]:
    """Make `bus` this process's bus for the duration."""
    set_bus(bus)
    try:
        yield bus
    finally:
        set_bus(None)


async def next_event(
    socket_: ClientConnection,
    wanted: Callable[[Message], bool] = lambda _: True,
    timeout: float = 10,
) -> Message:
    """The next message `wanted` accepts (others are skipped); fail if none comes in time."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                message: Message = json.loads(await socket_.recv())
                if wanted(message):
                    return message
    except TimeoutError:
        raise AssertionError("no matching event arrived") from None


async def events_until(
    socket_: ClientConnection, last: Callable[[Message], bool], timeout: float = 10
) -> list[Message]:
    """Every message up to and including the first one `last` accepts."""
    seen: list[Message] = []
    try:
        async with asyncio.timeout(timeout):
            while True:
                seen.append(json.loads(await socket_.recv()))
                if last(seen[-1]):
                    return seen
    except TimeoutError:
        raise AssertionError(f"gave up waiting; received {[m['type'] for m in seen]}") from None


async def wait_for(check: Callable[[], bool], what: str, timeout: float = 10) -> None:
    try:
        async with asyncio.timeout(timeout):
            while not check():  # noqa: ASYNC110  (state changes in the server's tasks)
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"gave up waiting for {what}") from None


async def small_socket(origin: str) -> socket.socket:
    """A connected socket with a small receive buffer, so that a client that stops reading
    pushes back on the server at once (loopback buffers can otherwise hold tens of MB)."""
    host, _, port = origin.removeprefix("ws://").partition(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    return sock


async def drain(socket_: ClientConnection, timeout: float = 20) -> None:
    """Read until the connection closes (raising ConnectionClosed)."""
    async with asyncio.timeout(timeout):
        while True:
            await socket_.recv()


@pytest.fixture
def bus() -> Iterator[EventBus]:
    with process_bus(InProcessBus()) as installed:
        yield installed


@pytest.fixture
async def origin(bus: EventBus) -> AsyncIterator[str]:
    async with served() as url:
        yield url


# --- the tests ---------------------------------------------------------------------------------


async def test_a_ping_gets_a_pong(origin: str) -> None:
    async with connect(f"{origin}/ws") as socket_:
        await socket_.send(json.dumps({"type": "ping"}))
        reply = json.loads(await socket_.recv())
    assert reply["type"] == "pong"


@pytest.mark.parametrize(
    "sent",
    ["not json", "[1, 2]", '{"kind": "ping"}', '{"type": 5}', '{"type": "dance"}', b"\x00\x01"],
)
async def test_a_malformed_message_is_answered_with_an_error_and_the_socket_stays_open(
    origin: str, sent: str | bytes
) -> None:
    async with connect(f"{origin}/ws") as socket_:
        await socket_.send(sent)
        error = json.loads(await socket_.recv())
        await socket_.send('{"type": "ping"}')
        reply = json.loads(await socket_.recv())
    assert error["type"] == "error"
    assert error["data"]["detail"]
    assert reply["type"] == "pong"


async def test_every_connected_client_receives_a_published_event(
    origin: str, bus: EventBus
) -> None:
    async with connect(f"{origin}/ws") as first, connect(f"{origin}/ws") as second:
        await wait_for(lambda: bus.subscriber_count == 2, "both clients to subscribe")
        await bus.publish([Event(type="scan_started", data={"board_name": "Acme"})])
        received = [await next_event(first), await next_event(second)]

    for message in received:
        assert set(message) == {"type", "data", "ts"}
        assert message["type"] == "scan_started"
        assert message["data"] == {"board_name": "Acme"}


async def test_a_closed_client_is_no_longer_sent_anything(origin: str, bus: EventBus) -> None:
    async with connect(f"{origin}/ws"):
        await wait_for(lambda: bus.subscriber_count == 1, "the client to subscribe")
    await wait_for(lambda: bus.subscriber_count == 0, "the server to forget the client")


async def test_a_client_that_never_reads_delays_no_one_and_is_dropped(
    origin: str, bus: EventBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ws_endpoint, "QUEUE_LIMIT", 4)
    bulky = "x" * 256_000
    batches = 60  # ~15 MB: more than the socket buffers and the slow client's queue hold
    async with (
        connect(
            f"{origin}/ws",
            sock=await small_socket(origin),
            max_queue=1,
            max_size=None,
            compression=None,  # the padding would otherwise shrink to almost nothing
        ) as slow,
        connect(f"{origin}/ws", max_size=None) as fast,
    ):
        await wait_for(lambda: bus.subscriber_count == 2, "both clients to subscribe")
        received = 0
        for n in range(batches):
            await bus.publish([Event(type="bulk", data={"n": n, "padding": bulky})])
            message = await next_event(fast)
            assert message["data"]["n"] == n
            received += 1
        await wait_for(lambda: bus.subscriber_count == 1, "the slow client to be dropped")
        # The slow client, reading at last, finds what was queued for it and then the close.
        with pytest.raises(ConnectionClosed) as closed:
            await drain(slow)

    assert received == batches
    # Closed with "try again later", unless the close frame itself could not get through in time.
    assert closed.value.rcvd is None or closed.value.rcvd.code == ws_endpoint.TOO_SLOW


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    secret = "s3cret-token-for-tests"
    monkeypatch.setattr(settings, "api_token", SecretStr(secret))
    return secret


async def test_with_api_token_set_a_socket_needs_the_token(bus: EventBus, token: str) -> None:
    async with served(create_app()) as origin:
        refused = []
        for url in (f"{origin}/ws", f"{origin}/ws?token=wrong-token"):
            with pytest.raises(InvalidStatus) as rejected:
                async with connect(url):
                    pass
            refused.append(rejected.value.response.status_code)
        async with connect(f"{origin}/ws?token={token}") as socket_:
            await socket_.send('{"type": "ping"}')
            reply = json.loads(await socket_.recv())

    assert refused == [403, 403]
    assert reply["type"] == "pong"


async def test_changing_an_application_announces_it_after_the_commit(
    origin: str, client: httpx.AsyncClient, session: AsyncSession, bus: EventBus
) -> None:
    application = await make_application(session, company="Acme", title="Backend Engineer")
    target = f"/api/applications/{application.id}"
    async with connect(f"{origin}/ws") as socket_:
        await wait_for(lambda: bus.subscriber_count == 1, "the client to subscribe")
        rejected = await client.patch(target, json={"status": "ghosted"})
        unknown = await client.patch(f"/api/applications/{uuid.uuid4()}", json={"notes": "x"})
        changed = await client.patch(target, json={"status": "interviewing"})
        archived = await client.post(f"{target}/archive")
        created = await client.post(
            "/api/applications", json={"company": "Globex", "title": "SRE", "url": ""}
        )
        announced = [await next_event(socket_) for _ in range(3)]

    assert (rejected.status_code, unknown.status_code) == (422, 404)
    assert (changed.status_code, archived.status_code, created.status_code) == (200, 200, 201)
    # The refused changes announced nothing: the first event is the accepted change.
    assert [event["type"] for event in announced] == ["application_updated"] * 3
    assert [event["data"]["status"] for event in announced] == [
        "interviewing",
        "archived",
        "applied",
    ]
    assert announced[0]["data"] == {
        "id": str(application.id),
        "status": "interviewing",
        "job_id": str(application.job_id) if application.job_id else None,
        "title": "Backend Engineer",
        "company": "Acme",
    }
    assert announced[2]["data"]["id"] == created.json()["id"]
