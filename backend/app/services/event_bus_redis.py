"""The distributed event bus: any process (a Celery worker, an API process) PUBLISHes each batch
as one Redis message, one event per line, on its installation's channel; every API process
subscribes once and relays each batch to its own sockets, reconnecting with backoff when Redis
goes away."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from typing import Any
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff, NoBackoff

from app.services.event_bus import Batch, EventBus, log


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
