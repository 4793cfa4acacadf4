"""The event buses: in-process fan-out, the Redis bridge (against real Redis), and the events a
scan announces."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncSession

from app.services import events
from app.services.event_bus_redis import RedisBus, channel_for
from app.services.events import Batch, Event, EventBus, InProcessBus
from app.services.scan_runner import ScanOutcome
from tests.factories import make_board, make_job
from tests.scrapers.local_server import unused_port
from tests.support import TEST_REDIS_URL, require_service
from tests.tasks.support import sessions_on


class Inbox:
    """A subscriber that keeps what it is given and lets a test wait for it."""

    def __init__(self) -> None:
        self.batches: list[Batch] = []
        self._arrived = asyncio.Event()

    def __call__(self, batch: Batch) -> None:
        self.batches.append(batch)
        self._arrived.set()

    @property
    def types(self) -> list[list[str]]:
        return [[event.type for event in batch.events] for batch in self.batches]

    async def wait(self, count: int = 1, timeout: float = 10) -> list[Batch]:
        async with asyncio.timeout(timeout):
            while len(self.batches) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return self.batches


def started(scan: int = 1) -> Event:
    return Event(type="scan_started", data={"board_name": "Acme", "n": scan})


# --- in process --------------------------------------------------------------------------------


async def test_the_in_process_bus_hands_each_batch_to_every_subscriber() -> None:
    bus = InProcessBus()
    first, second, gone = Inbox(), Inbox(), Inbox()
    bus.subscribe(first)
    bus.subscribe(second)
    bus.subscribe(gone)()  # subscribed, then unsubscribed at once

    await bus.publish([started(1), Event(type="new_job", data={"id": "x"})])
    await bus.publish([])  # nothing to say: nothing delivered

    assert first.types == second.types == [["scan_started", "new_job"]]
    assert gone.batches == []
    assert first.batches[0] is second.batches[0]  # one batch, encoded once for everyone


async def test_a_failing_subscriber_does_not_stop_the_others() -> None:
    bus = InProcessBus()
    inbox = Inbox()

    def broken(_: Batch) -> None:
        raise RuntimeError("boom")

    bus.subscribe(broken)
    bus.subscribe(inbox)
    await bus.publish([started()])

    assert inbox.types == [["scan_started"]]


def test_an_event_is_sent_as_type_data_and_timestamp() -> None:
    event = Event(type="new_job", data={"id": "42", "title": "Line one\nline two"})

    [text] = Batch([event]).texts

    assert list(json.loads(text)) == ["type", "data", "ts"]
    assert Event.model_validate_json(text) == event
    assert event.ts.tzinfo is not None


def test_a_batch_reads_the_same_as_each_event_encoded_on_its_own() -> None:
    committed_at = datetime(2026, 3, 1, 9, 30, 15, 120000, tzinfo=UTC)
    data: list[dict[str, Any]] = [
        {"title": "Ingénieur « backend » 🚀", "url": 'https://x.test/?a=1&b="2"', "score": 64.5},
        {"title": None, "tags": ["python", "k8s"], "nested": {"n": 1, "ok": True}},
        {"id": uuid.uuid4(), "at": committed_at, "notes": "tab\there\r\nand \\ slash"},
    ]
    # A scan's batch shares one timestamp; other batches mix types and timestamps.
    events = [Event(type="new_job", data=item, ts=committed_at) for item in data]
    events += [
        Event(type="scan_completed", data={"new": 3}, ts=committed_at),
        Event(type="scan_started", data={}, ts=datetime(2026, 3, 1, 9, 31, tzinfo=UTC)),
        Event(type="scan_started", data={"board_name": "Acme"}),
    ]

    assert Batch(events).texts == [event.model_dump_json() for event in events]


def test_a_batch_crosses_redis_unchanged() -> None:
    batch = Batch([started(1), Event(type="new_job", data={"notes": "a\nb", "n": [1, 2]})])

    relayed = Batch.from_wire(batch.wire())

    assert relayed is not None
    assert relayed.texts == batch.texts
    assert relayed.events == batch.events
    assert Batch.from_wire(b"not a batch") is None
    assert Batch.from_wire(b'[{"type": "x"}]') is None


def test_each_redis_database_number_has_a_channel_of_its_own() -> None:
    assert channel_for("redis://localhost:6379/3") == "hunter:events:3"
    assert channel_for("redis://localhost:6379") == "hunter:events:0"
    assert channel_for("redis://localhost:6379/") == channel_for("redis://localhost:6379/0")


# --- over Redis --------------------------------------------------------------------------------


async def _redis_available() -> bool:
    client = aioredis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=2)
    try:
        return bool(await client.ping())
    except Exception:
        return False
    finally:
        await client.aclose()


@pytest.fixture
async def redis_client() -> AsyncIterator[aioredis.Redis]:
    require_service(await _redis_available(), f"Redis at {TEST_REDIS_URL}")
    client = aioredis.Redis.from_url(TEST_REDIS_URL)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def relay(redis_client: aioredis.Redis) -> AsyncIterator[RedisBus]:
    """An API process's bus on a channel of the test's own (parallel runs share the server)."""
    bus = RedisBus(TEST_REDIS_URL, channel=f"hunter:test:{uuid.uuid4().hex}", backoff_s=0.05)
    await bus.start()
    try:
        await asyncio.wait_for(bus.subscribed.wait(), 10)
        yield bus
    finally:
        await bus.stop()


async def kill_connection(client: aioredis.Redis, name: str) -> None:
    """Drop one client's connection on the server, as a Redis restart would (only that client:
    other test runs share this server)."""
    listed: list[dict[str, Any]] = await client.client_list(_type="pubsub")
    ids = [entry["id"] for entry in listed if entry.get("name") == name]
    assert ids, f"no pub/sub connection named {name}"
    for client_id in ids:
        await client.client_kill_filter(_id=client_id)


async def test_a_batch_published_by_another_process_reaches_the_relays_subscribers(
    relay: RedisBus,
) -> None:
    inbox = Inbox()
    relay.subscribe(inbox)
    worker = RedisBus(TEST_REDIS_URL, channel=relay.channel)  # what a Celery worker holds
    try:
        await worker.publish([started(1), Event(type="new_job", data={"id": "7"})])
        await worker.publish([Event(type="scan_completed", data={"new": 1})])
        batches = await inbox.wait(2)
    finally:
        await worker.stop()

    assert inbox.types == [["scan_started", "new_job"], ["scan_completed"]]
    assert batches[0].events[1].data == {"id": "7"}


async def test_the_relay_reconnects_after_losing_redis_and_relays_later_batches(
    relay: RedisBus, redis_client: aioredis.Redis
) -> None:
    inbox = Inbox()
    relay.subscribe(inbox)

    await kill_connection(redis_client, relay.client_name)
    async with asyncio.timeout(10):
        while relay.subscriptions < 2:  # noqa: ASYNC110  (the relay's own task reconnects)
            await asyncio.sleep(0.02)
    await relay.publish([started(2)])
    await inbox.wait(1)

    assert relay.subscribed.is_set()
    assert inbox.types == [["scan_started"]]


async def test_garbage_on_the_channel_is_skipped(
    relay: RedisBus, redis_client: aioredis.Redis
) -> None:
    inbox = Inbox()
    relay.subscribe(inbox)

    await redis_client.publish(relay.channel, "not a batch of events")
    await redis_client.publish(relay.channel, '[{"no": "type"}]')
    await relay.publish([started()])
    await inbox.wait(1)

    assert inbox.types == [["scan_started"]]


async def test_publishing_while_redis_is_unreachable_does_not_fail_the_publisher() -> None:
    bus = RedisBus(f"redis://127.0.0.1:{unused_port()}/0")
    inbox = Inbox()
    bus.subscribe(inbox)
    try:
        await bus.publish([started()])  # logged, not raised
    finally:
        await bus.stop()

    assert inbox.batches == []


# --- what a scan announces ---------------------------------------------------------------------


@pytest.fixture
def captured() -> Iterator[Inbox]:
    bus = InProcessBus()
    inbox = Inbox()
    bus.subscribe(inbox)
    events.set_bus(bus)
    yield inbox
    events.set_bus(None)


async def test_a_successful_scan_announces_its_new_listings_then_its_counts(
    session: AsyncSession, captured: Inbox
) -> None:
    board = await make_board(session, name="Acme")
    jobs = [await make_job(session, board, title=f"Engineer {n}", match_score=n) for n in (80, 40)]
    outcome = ScanOutcome(
        board.id,
        uuid.uuid4(),
        "success",
        "Acme",
        found=5,
        new=2,
        updated=1,
        closed=1,
        new_job_ids=[job.id for job in jobs],
        duration_ms=1234,
    )

    await events.publish_scan_outcome(outcome, sessions_on(session))

    [batch] = captured.batches
    assert [e.type for e in batch.events] == ["new_job", "new_job", "scan_completed"]
    assert batch.events[0].data == {
        "id": str(jobs[0].id),
        "board_id": str(board.id),
        "title": "Engineer 80",
        "company": jobs[0].company,
        "location": jobs[0].location,
        "url": jobs[0].url,
        "match_score": 80,
        "board_name": "Acme",
    }
    assert batch.events[2].data == {
        "board_id": str(board.id),
        "board_name": "Acme",
        "scan_id": str(outcome.scan_id),
        "found": 5,
        "new": 2,
        "updated": 1,
        "closed": 1,
        "duration_ms": 1234,
    }


async def test_a_failed_scan_announces_its_error_in_words(
    session: AsyncSession, captured: Inbox
) -> None:
    board_id, scan_id = uuid.uuid4(), uuid.uuid4()
    failed = ScanOutcome(
        board_id, scan_id, "error", "Acme", message="Greenhouse board `acme` not found (404)"
    )
    skipped = ScanOutcome(board_id, uuid.uuid4(), "skipped", "Acme")

    await events.publish_scan_outcome(failed, sessions_on(session))
    await events.publish_scan_outcome(skipped, sessions_on(session))

    assert captured.types == [["scan_error"]]
    assert captured.batches[0].events[0].data == {
        "board_id": str(board_id),
        "board_name": "Acme",
        "scan_id": str(scan_id),
        "error": "Greenhouse board `acme` not found (404)",
    }


async def test_the_process_bus_follows_the_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.config import settings

    events.set_bus(None)
    embedded = events.get_bus()
    monkeypatch.setattr(settings, "redis_url", "redis://127.0.0.1:6379/4")
    events.set_bus(None)
    distributed = events.get_bus()
    events.set_bus(None)

    assert isinstance(embedded, InProcessBus)
    assert isinstance(distributed, RedisBus)
    assert distributed.channel == "hunter:events:4"
    assert isinstance(embedded, EventBus)
