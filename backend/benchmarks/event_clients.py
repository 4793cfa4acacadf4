"""The WebSocket clients of the events benchmark, run in child processes: each process opens
its share of the sockets and reports, for every scan announced, what each socket received."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
import zlib
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.queues import Queue
from typing import Any


@dataclass
class ClientResult:
    started: int
    new_jobs: int
    completed: int
    last_received: float  # wall clock, when scan_completed (the batch's last event) arrived
    committed: float  # the events' ts: right after the commit
    compressed: bool  # whether the server agreed to permessage-deflate


@dataclass(frozen=True)
class ClientPlan:
    host: str
    port: int
    count: int
    board_ids: tuple[str, ...]  # one scan per round, announced one after the other


NEW_JOB_PREFIX = b'{"type":"new_job"'


class CountingClient(asyncio.Protocol):
    """A WebSocket client that reads frames off the wire itself, the way a browser does in C++:
    200 sockets of a full Python client library in one process spend more CPU parsing 100,000
    messages than the server spends sending them, and on a shared machine that would be measured
    as delay. It still checks what matters: each event is one whole text frame, `new_job`s are
    counted by their first bytes, and the other events are parsed."""

    def __init__(self, plan: ClientPlan) -> None:
        self.plan = plan
        self.buffer = bytearray()
        self.upgraded: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        loop = asyncio.get_running_loop()
        self.rounds = [loop.create_future() for _ in plan.board_ids]
        self.round = 0
        self.transport: asyncio.Transport | None = None
        self.inflater: Any = None  # set when the server agreed to permessage-deflate
        self.started = self.new_jobs = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            (
                f"GET /ws HTTP/1.1\r\nHost: {self.plan.host}:{self.plan.port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                # Offered as browsers offer it; `hunter serve` declines it.
                "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
            ).encode()
        )

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded.done():
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = bytes(self.buffer[:head_end]).decode("latin-1").lower()
            del self.buffer[: head_end + 4]
            if not head.startswith("http/1.1 101"):
                self.upgraded.set_exception(RuntimeError(head.partition("\r\n")[0]))
                return
            if "permessage-deflate" in head:
                self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            self.upgraded.set_result(None)
        self._read_frames()

    def _read_frames(self) -> None:
        buffer, pos, size = self.buffer, 0, len(self.buffer)
        while size - pos >= 2 and self.round < len(self.rounds):
            first, length, head = buffer[pos], buffer[pos + 1] & 0x7F, 2
            if length == 126:
                if size - pos < 4:
                    break
                length, head = int.from_bytes(buffer[pos + 2 : pos + 4], "big"), 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, head = int.from_bytes(buffer[pos + 2 : pos + 10], "big"), 10
            end = pos + head + length
            if end > size:
                break
            self._frame(first, pos + head, end)
            pos = end
        del buffer[:pos]

    def _frame(self, first: int, start: int, end: int) -> None:
        opcode = first & 0x0F
        if opcode == 0x9:  # ping: answer (masked with a zero key, as a client must mask)
            payload = bytes(self.buffer[start:end])
            assert self.transport is not None
            self.transport.write(bytes([0x8A, 0x80 | len(payload)]) + b"\0\0\0\0" + payload)
            return
        if opcode != 0x1 or not first & 0x80:
            self._fail(f"expected one whole text frame per event, got {first:#04x}")
            return
        if first & 0x40:  # compressed
            text = self.inflater.decompress(bytes(self.buffer[start:end]) + b"\0\0\xff\xff")
            if text.startswith(NEW_JOB_PREFIX):
                self.new_jobs += 1
            else:
                self._event(json.loads(text))
        elif self.buffer.startswith(NEW_JOB_PREFIX, start):
            self.new_jobs += 1
        else:
            self._event(json.loads(self.buffer[start:end]))

    def _event(self, message: dict[str, Any]) -> None:
        if message["data"].get("board_id") != self.plan.board_ids[self.round]:
            return
        if message["type"] == "scan_started":
            self.started += 1
        elif message["type"] in ("scan_completed", "scan_error"):
            ok = message["type"] == "scan_completed"
            committed = datetime.fromisoformat(message["ts"]).timestamp()
            result = ClientResult(
                self.started, self.new_jobs, int(ok), time.time(), committed, bool(self.inflater)
            )
            self.rounds[self.round].set_result(result)
            self.round += 1
            self.started = self.new_jobs = 0

    def _fail(self, why: str) -> None:
        for round_ in self.rounds:
            if not round_.done():
                round_.set_exception(RuntimeError(why))

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(f"the server closed the connection ({exc})")
        if not self.upgraded.done():
            self.upgraded.set_exception(RuntimeError("closed during the handshake"))


def client_process(plan: ClientPlan, ready: Queue[int], results: Queue[list[ClientResult]]) -> None:
    """A child process's life: connect `plan.count` sockets, say so on `ready`, then put one
    list of results on `results` per scan."""
    asyncio.run(_clients(plan, ready, results))


async def _clients(plan: ClientPlan, ready: Queue[int], results: Queue[list[ClientResult]]) -> None:
    loop = asyncio.get_running_loop()
    clients: list[CountingClient] = []
    for _ in range(plan.count):
        _, client = await loop.create_connection(lambda: CountingClient(plan), plan.host, plan.port)
        await client.upgraded
        clients.append(client)
    ready.put(plan.count)
    for round_ in range(len(plan.board_ids)):
        async with asyncio.timeout(120):
            outcomes = await asyncio.gather(*(client.rounds[round_] for client in clients))
        results.put(list(outcomes))
    for client in clients:
        if client.transport is not None:
            client.transport.close()
