"""The event bus: carries batches of events from whoever publishes them to this process's
open `/ws` sockets (its subscribers).

An event is `{"type", "data", "ts"}`. Events are published in batches (one scan's outcome is one
batch), each event encoded once however many sockets it goes to. Publishing never raises: a
failure is logged, and the scan or request that published carries on. `InProcessBus` serves
embedded mode (the scans run in the API process); `event_bus_redis.RedisBus` the distributed one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import structlog
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_json

from app.models.base import utcnow

log = structlog.get_logger("hunter.events")


class Event(BaseModel):
    """One thing that happened, as every WebSocket client receives it."""

    model_config = ConfigDict(frozen=True)

    type: str
    data: dict[str, Any] = Field(default_factory=dict)
    ts: datetime = Field(default_factory=utcnow)


def encode_events(events: Iterable[Event]) -> list[bytes]:
    """Each event as the UTF-8 JSON `Event.model_dump_json()` gives, twice as fast for a scan's
    batch: its events share a type and the timestamp of the commit, so those are encoded once
    and only each event's `data` is encoded on its own."""
    encoded: list[bytes] = []
    type_: str | None = None
    ts: datetime | None = None
    for event in events:
        if event.type is not type_ or event.ts is not ts:
            type_, ts = event.type, event.ts
            head = b'{"type":' + to_json(type_) + b',"data":'
            tail = b',"ts":' + to_json(ts) + b"}"
        encoded.append(head + to_json(event.data) + tail)
    return encoded


class Batch:
    """Events published together, each encoded once (on first use) however many sockets it
    goes to. A relayed batch arrives encoded and is sent on as it came, never re-encoded."""

    __slots__ = ("_encoded", "_events", "_texts")

    def __init__(self, events: Sequence[Event] = (), *, texts: Sequence[str] | None = None) -> None:
        self._events = tuple(events) if texts is None else None
        self._texts = list(texts) if texts is not None else None
        self._encoded: list[bytes] | None = None

    @property
    def texts(self) -> list[str]:
        """Each event as the JSON text message a socket is sent."""
        if self._texts is None:
            self._texts = [encoded.decode() for encoded in self._encode()]
        return self._texts

    @property
    def events(self) -> tuple[Event, ...]:
        if self._events is None:
            self._events = tuple(Event.model_validate_json(text) for text in self._texts or ())
        return self._events

    def _encode(self) -> list[bytes]:
        if self._encoded is None:
            self._encoded = encode_events(self._events or ())
        return self._encoded

    def wire(self) -> bytes:
        """The batch as it goes through Redis: one event per line (JSON text has no raw newline,
        so the relay splits lines instead of decoding and re-encoding every event)."""
        if self._events is None:  # relayed: it arrived as text
            return "\n".join(self.texts).encode()
        return b"\n".join(self._encode())

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
