"""Real-time events: what Hunter announces, and the bus that carries it to every open `/ws` socket.

An event is `{"type", "data", "ts"}`. Events are published in batches (one scan's outcome is one
batch) and only after the commit that makes them true. Two buses, picked by `REDIS_URL` (SPEC §1):
- `InProcessBus` (embedded): scans run inside the API process, so publishing hands the batch
  straight to this process's sockets;
- `RedisBus` (distributed): any process (a Celery worker, an API process) PUBLISHes the batch as
  one JSON array to one Redis channel; every API process subscribes once and relays each batch to
  its own sockets. The relay reconnects with backoff when Redis goes away.
Publishing never raises: a failure is logged, and the scan or request that published carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import structlog
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff, NoBackoff
from sqlalchemy import select

from app.config import settings
from app.models import Job
from app.models.base import utcnow

if TYPE_CHECKING:
    from app.models import Application
    from app.services.scan_runner import ScanOutcome
    from app.services.scans import SessionFactory

log = structlog.get_logger("hunter.events")


class Event(BaseModel):
    """One thing that happened, as every WebSocket client receives it."""

    model_config = ConfigDict(frozen=True)

    type: str
    data: dict[str, Any] = Field(default_factory=dict)
    ts: datetime = Field(default_factory=utcnow)


_EVENT = TypeAdapter(Event)  # a little faster than model_dump_json, per event


class Batch:
    """Events published together, each encoded once (on first use) however many sockets it
    goes to. A relayed batch arrives encoded and is sent on as it came, never re-encoded."""

    __slots__ = ("_events", "_texts")

    def __init__(self, events: Sequence[Event] = (), *, texts: Sequence[str] | None = None) -> None:
        self._events = tuple(events) if texts is None else None
        self._texts = list(texts) if texts is not None else None

    @property
    def texts(self) -> list[str]:
        """Each event as the JSON text message a socket is sent."""
        if self._texts is None:
            self._texts = [_EVENT.dump_json(event).decode() for event in self._events or ()]
        return self._texts

    @property
    def events(self) -> tuple[Event, ...]:
        if self._events is None:
            self._events = tuple(Event.model_validate_json(text) for text in self._texts or ())
        return self._events

    def wire(self) -> str:
        """The batch as it goes through Redis: one event per line (JSON text has no raw newline,
        so the relay splits lines instead of decoding and re-encoding every event)."""
        return "\n".join(self.texts)

    @classmethod
    def from_wire(cls, raw: bytes | str) -> Batch | None:
        """The batch `wire()` made, or None for anything else found on the channel."""
        text = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
        lines = text.split("\n")
        if not all(line.startswith('{"type":') and line.endswith("}") for line in lines):
            return None
        return cls(texts=lines)


# Called synchronously on the event loop for every batch: it must not block (queue it and return).
Subscriber = Callable[[Batch], None]


class EventBus(ABC):
    """Publishes batches of events and hands the batches it carries to this process's
    subscribers (the open WebSocket connections)."""

    def __init__(self) -> None:
        self._subscribers: dict[int, Subscriber] = {}
        self._next_id = 0

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Receive every batch from now on; call the returned function to stop."""
        key = self._next_id
        self._next_id += 1
        self._subscribers[key] = subscriber

        def unsubscribe() -> None:
            self._subscribers.pop(key, None)

        return unsubscribe

    def deliver(self, batch: Batch) -> None:
        """Hand a batch to every local subscriber; one failing subscriber never stops the rest."""
        for subscriber in list(self._subscribers.values()):
            try:
                subscriber(batch)
            except Exception:
                log.exception("event_subscriber_failed")

    async def start(self) -> None:  # noqa: B027  (optional for subclasses)
        """Begin relaying (where this bus relays from elsewhere)."""

    async def stop(self) -> None:  # noqa: B027
        """Stop relaying and release connections."""

    async def publish(self, events: Sequence[Event]) -> None:
        """Publish `events` as one batch. Never raises: a failure is logged and dropped."""
        if not events:
            return
        try:
            await self._send(Batch(events))
        except Exception as exc:
            log.warning(
                "events_publish_failed", count=len(events), error=str(exc) or type(exc).__name__
            )

    @abstractmethod
    async def _send(self, batch: Batch) -> None: ...


class InProcessBus(EventBus):
    """Embedded mode: the publisher and the sockets share this process."""

    async def _send(self, batch: Batch) -> None:
        self.deliver(batch)


def channel_for(redis_url: str) -> str:
    """The Redis channel of one installation. Pub/sub ignores Redis database numbers, so the
    number in REDIS_URL is part of the name: installations sharing a server stay apart."""
    path = urlsplit(redis_url).path.strip("/")
    return f"hunter:events:{path if path.isdigit() else '0'}"


class RedisBus(EventBus):
    """Distributed mode: publish to Redis; `start()` relays the channel to local subscribers."""

    def __init__(
        self,
        url: str,
        *,
        channel: str | None = None,
        client_name: str | None = None,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        health_check_s: int = 30,
    ) -> None:
        super().__init__()
        self.url = url
        self.channel = channel or channel_for(url)
        self.client_name = client_name or f"hunter-relay-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.health_check_s = health_check_s
        self.subscribed = asyncio.Event()
        self.subscriptions = 0  # how many times the relay has (re)subscribed
        self._relay: asyncio.Task[None] | None = None
        self._publisher: Redis | None = None
        self._publisher_loop: asyncio.AbstractEventLoop | None = None

    async def _send(self, batch: Batch) -> None:
        await self._client().publish(self.channel, batch.wire())

    def _client(self) -> Redis:
        # A client belongs to the loop it was made on; a worker keeps one loop for its life.
        loop = asyncio.get_running_loop()
        if self._publisher is None or self._publisher_loop is not loop:
            self._publisher = Redis.from_url(
                self.url,
                socket_connect_timeout=2,
                socket_timeout=5,
                # A short retry only: a scan waiting to announce must not hang while Redis is down.
                retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
            )
            self._publisher_loop = loop
        return self._publisher

    async def start(self) -> None:
        if self._relay is None:
            self._relay = asyncio.create_task(self._relay_forever(), name="event-relay")

    async def stop(self) -> None:
        if self._relay is not None:
            self._relay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._relay
            self._relay = None
        if self._publisher is not None:
            with contextlib.suppress(Exception):
                await self._publisher.aclose()
            self._publisher = None

    async def _relay_forever(self) -> None:
        delay = self.backoff_s
        while True:
            try:
                await self._relay_until_disconnected()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.subscribed.is_set():
                    delay = self.backoff_s  # it was working: try again soon
                self.subscribed.clear()
                log.warning(
                    "event_relay_disconnected",
                    error=str(exc) or type(exc).__name__,
                    retry_in_s=delay,
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_backoff_s)

    async def _relay_until_disconnected(self) -> None:
        # No retries inside redis-py: this loop owns reconnecting, with its own backoff and log.
        client = Redis.from_url(
            self.url,
            client_name=self.client_name,
            socket_connect_timeout=5,
            health_check_interval=self.health_check_s,
            retry=Retry(NoBackoff(), 0),
        )
        pubsub: Any = client.pubsub()  # redis-py leaves PubSub partly untyped
        try:
            await pubsub.subscribe(self.channel)
            await self._await_confirmation(pubsub)
            self.subscriptions += 1
            self.subscribed.set()
            log.info("event_relay_subscribed", channel=self.channel)
            while True:
                message = await pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=self.health_check_s
                )
                if message is not None and message.get("type") == "message":
                    self._relay_message(message["data"])
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
            with contextlib.suppress(Exception):
                await client.aclose()

    async def _await_confirmation(self, pubsub: Any) -> None:
        """Wait until Redis confirms the subscription: only then is no later batch missed."""
        async with asyncio.timeout(10):
            while True:
                message = await pubsub.get_message(timeout=1.0)
                if message is not None and message.get("type") == "subscribe":
                    return

    def _relay_message(self, raw: bytes | str) -> None:
        batch = Batch.from_wire(raw)
        if batch is None:
            log.warning("event_relay_bad_message", channel=self.channel, size=len(raw))
            return
        self.deliver(batch)


# --- the process's bus -------------------------------------------------------------------------

_bus: EventBus | None = None


def create_bus() -> EventBus:
    """The bus this process's configuration calls for."""
    return RedisBus(settings.redis_url) if settings.distributed else InProcessBus()


def get_bus() -> EventBus:
    """This process's bus (made on first use; the API starts it in its lifespan)."""
    global _bus
    if _bus is None:
        _bus = create_bus()
    return _bus


def set_bus(bus: EventBus | None) -> None:
    """Replace this process's bus (None: make a fresh one on next use)."""
    global _bus
    _bus = bus


# --- what Hunter announces ---------------------------------------------------------------------

# Ids per query when loading a scan's new listings; beyond any real scan, under bind-param limits.
NEW_JOBS_PER_QUERY = 10_000


async def publish_scan_started(board_id: uuid.UUID, board_name: str, scan_id: uuid.UUID) -> None:
    data = {"board_id": str(board_id), "board_name": board_name, "scan_id": str(scan_id)}
    await get_bus().publish([Event(type="scan_started", data=data)])


async def publish_scan_outcome(outcome: ScanOutcome, session_factory: SessionFactory) -> None:
    """`new_job` for each new listing then `scan_completed`, or `scan_error`: one batch.

    Call right after the commit that recorded the outcome; never raises."""
    if outcome.status == "skipped":
        return
    committed_at = utcnow()
    scan = {
        "board_id": str(outcome.board_id),
        "board_name": outcome.board_name,
        "scan_id": str(outcome.scan_id),
    }
    if outcome.status == "error":
        error = Event(type="scan_error", data={**scan, "error": outcome.message}, ts=committed_at)
        await get_bus().publish([error])
        return
    try:
        events = await new_job_events(
            session_factory, outcome.new_job_ids, outcome.board_name, ts=committed_at
        )
    except Exception:
        log.exception("new_job_events_unreadable", scan_id=str(outcome.scan_id))
        events = []
    counts = {
        "found": outcome.found,
        "new": outcome.new,
        "updated": outcome.updated,
        "closed": outcome.closed,
        "duration_ms": outcome.duration_ms,
    }
    events.append(Event(type="scan_completed", data={**scan, **counts}, ts=committed_at))
    await get_bus().publish(events)


async def new_job_events(
    session_factory: SessionFactory,
    job_ids: Sequence[uuid.UUID],
    board_name: str,
    *,
    ts: datetime | None = None,
) -> list[Event]:
    """One `new_job` event per listing, in the order given (one query per 10,000 ids)."""
    query = select(
        Job.id, Job.board_id, Job.title, Job.company, Job.location, Job.url, Job.match_score
    )
    rows: dict[uuid.UUID, dict[str, Any]] = {}
    async with session_factory() as session:
        for start in range(0, len(job_ids), NEW_JOBS_PER_QUERY):
            chunk = job_ids[start : start + NEW_JOBS_PER_QUERY]
            result = await session.execute(query.where(Job.id.in_(chunk)))
            for job_id, board_id, title, company, location, url, score in result:
                rows[job_id] = {
                    "id": str(job_id),
                    "board_id": str(board_id),
                    "title": title,
                    "company": company,
                    "location": location,
                    "url": url,
                    "match_score": score,
                    "board_name": board_name,
                }
    stamp = ts or utcnow()
    return [Event(type="new_job", data=rows[i], ts=stamp) for i in job_ids if i in rows]


def application_updated(application: Application) -> Event:
    """The event announcing an application's current state (build it before the commit, from
    the row in hand; publish it after)."""
    return Event(
        type="application_updated",
        data={
            "id": str(application.id),
            "status": application.status,
            "job_id": str(application.job_id) if application.job_id else None,
            "title": application.title,
            "company": application.company,
        },
    )


async def publish(events: Sequence[Event]) -> None:
    """Publish on this process's bus (for FastAPI background tasks: they run after the commit)."""
    await get_bus().publish(events)
