"""`/ws`: Hunter's real-time events, pushed to every connected client.

Each client gets a bounded queue of batches and a sender task of its own: publishing only queues
(it never waits on a socket), so a slow or dead client delays no one. A client whose queue
overflows is closed; it reconnects when it can keep up again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import structlog
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from app.services.events import Batch, Event, get_bus

router = APIRouter(tags=["events"])
log = structlog.get_logger("hunter.ws")

# Batches a client may have waiting; a scan's outcome is one batch, however many listings it found.
QUEUE_LIMIT = 256
CLOSE_TIMEOUT_S = 2.0
TOO_SLOW = 1013  # "try again later"
MAX_CLIENT_MESSAGE = 4096


class _Client:
    """One connected socket: what waits to be sent to it, and whether it fell behind."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.queue: asyncio.Queue[Batch] = asyncio.Queue(QUEUE_LIMIT)
        self.overflowed = asyncio.Event()

    def offer(self, batch: Batch) -> None:
        """Queue a batch without waiting (called by the bus for every batch)."""
        if self.overflowed.is_set():
            return
        try:
            self.queue.put_nowait(batch)
        except asyncio.QueueFull:
            self.overflowed.set()

    def reply(self, type_: str, **data: Any) -> None:
        self.offer(Batch([Event(type=type_, data=data)]))

    async def send_forever(self) -> None:
        while True:
            batch = await self.queue.get()
            for text in batch.texts:
                await self.websocket.send_text(text)

    async def receive_forever(self) -> None:
        """Answer pings; tell the client about messages Hunter does not understand."""
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                self.reply("error", detail='send JSON text messages, e.g. {"type": "ping"}')
                continue
            kind = _message_type(text)
            if kind == "ping":
                self.reply("pong")
            elif kind is None:
                self.reply("error", detail="a message must be a JSON object with a `type`")
            else:
                self.reply("error", detail=f"unknown message type `{kind[:50]}`; try `ping`")


def _message_type(text: str) -> str | None:
    if len(text) > MAX_CLIENT_MESSAGE:
        return None
    try:
        message = json.loads(text)
    except ValueError:
        return None
    kind = message.get("type") if isinstance(message, dict) else None
    return kind if isinstance(kind, str) else None


@router.websocket("/ws")
async def events_socket(websocket: WebSocket) -> None:
    """Real-time events as JSON messages `{"type", "data", "ts"}`: `scan_started`,
    `scan_completed`, `scan_error`, `new_job`, `application_updated`.

    Send `{"type": "ping"}` to get `{"type": "pong"}`. With API_TOKEN set, connect with
    `?token=<API_TOKEN>`. A client that falls too far behind is closed with code 1013.
    """
    await websocket.accept()
    client = _Client(websocket)
    unsubscribe = get_bus().subscribe(client.offer)
    tasks = {
        asyncio.create_task(client.send_forever()),
        asyncio.create_task(client.receive_forever()),
    }
    overflow = asyncio.create_task(client.overflowed.wait())
    try:
        await asyncio.wait({*tasks, overflow}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        unsubscribe()
        for task in (*tasks, overflow):
            task.cancel()
        outcomes = await asyncio.gather(*tasks, overflow, return_exceptions=True)
    for outcome in outcomes:
        # A client going away mid-send is how most connections end; anything else is a bug.
        if isinstance(outcome, Exception) and not isinstance(
            outcome, WebSocketDisconnect | RuntimeError | OSError
        ):
            log.error("websocket_failed", error=repr(outcome))
    if client.overflowed.is_set():
        log.warning("websocket_client_too_slow", queued=QUEUE_LIMIT)
    if (
        websocket.application_state == WebSocketState.CONNECTED
        and websocket.client_state == WebSocketState.CONNECTED
    ):
        reason = "too slow: events were piling up" if client.overflowed.is_set() else ""
        code = TOO_SLOW if client.overflowed.is_set() else 1000
        # A client that stopped reading may never take the close frame: do not wait forever.
        with contextlib.suppress(Exception):
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await websocket.close(code, reason)
