"""A real HTTP server on 127.0.0.1 that tests script to answer like an ATS, or to misbehave.

Each test registers routes with `server.route(method, path, *replies)`: replies are served in
order and the last one repeats, so `route("GET", "/x", Reply(503), Reply(json=...))` fails once
and then succeeds. A reply may also be a function of the request (for paging). The server keeps
every request it saw (with its arrival time) and the most requests it ever had in flight at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import socket
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import uvicorn

_NO_JSON = object()


@dataclass
class Reply:
    """One scripted answer. `hang=True` never answers (until the test ends)."""

    status: int = 200
    json: Any = _NO_JSON
    body: str | bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None
    delay: float = 0.0
    hang: bool = False

    def encoded(self) -> tuple[bytes, str]:
        if self.json is not _NO_JSON:
            return json.dumps(self.json).encode(), "application/json"
        body = self.body.encode() if isinstance(self.body, str) else self.body
        return body, "text/html; charset=utf-8"


@dataclass
class Recorded:
    """A request as the server received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    host: str
    at: float  # time.monotonic() on arrival

    def json(self) -> Any:
        return json.loads(self.body)


Responder = Reply | Callable[[Recorded], Reply | Awaitable[Reply]]


class LocalServer:
    """The scripted server; `url` is its `http://127.0.0.1:<port>` origin."""

    def __init__(self) -> None:
        self.url = ""
        self.port = 0
        self.requests: list[Recorded] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._routes: dict[tuple[str, str], list[Responder]] = {}
        self._release = asyncio.Event()
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    def route(self, method: str, path: str, *replies: Responder) -> None:
        """Answer `method path` with `replies` in turn (the last one repeats)."""
        self._routes[(method.upper(), path)] = list(replies) or [Reply()]

    def hits(self, path: str, method: str | None = None) -> list[Recorded]:
        return [
            r for r in self.requests if r.path == path and (method is None or r.method == method)
        ]

    def reset(self) -> None:
        """Forget routes and records, and let any hanging handler finish."""
        self._release.set()
        self._release = asyncio.Event()
        self._routes.clear()
        self.requests.clear()
        self.in_flight = self.max_in_flight = 0

    async def start(self) -> None:
        # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets that say they are TCP,
        # and without it every response waits ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            self._app,
            interface="asgi3",
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = _QuietServer(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        for _ in range(500):
            if self._server.started:
                return
            await asyncio.sleep(0.01)
        raise RuntimeError("the local test server did not start")

    async def stop(self) -> None:
        self._release.set()
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task

    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        request = Recorded(
            method=scope["method"],
            path=scope["path"],
            query=dict(parse_qsl(scope["query_string"].decode())),
            headers=headers,
            body=body,
            host=headers.get("host", ""),
            at=time.monotonic(),
        )
        self.requests.append(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            reply = await self._reply(request)
            if reply.hang:
                await self._release.wait()
            if reply.delay:
                await asyncio.sleep(reply.delay)
        finally:
            self.in_flight -= 1
        payload, default_type = reply.encoded()
        response_headers = [
            (b"content-type", (reply.content_type or default_type).encode()),
            (b"content-length", str(len(payload)).encode()),
            *((k.lower().encode(), v.encode()) for k, v in reply.headers.items()),
        ]
        await send(
            {"type": "http.response.start", "status": reply.status, "headers": response_headers}
        )
        await send({"type": "http.response.body", "body": payload})

    async def _reply(self, request: Recorded) -> Reply:
        replies = self._routes.get((request.method, request.path))
        if replies is None:
            return Reply(status=404, json={"error": f"no route for {request.path}"})
        earlier = sum(
            1 for r in self.requests if r.method == request.method and r.path == request.path
        )
        responder = replies[min(earlier - 1, len(replies) - 1)]
        if isinstance(responder, Reply):
            return responder
        produced = responder(request)
        return await produced if inspect.isawaitable(produced) else produced


class _QuietServer(uvicorn.Server):
    """Leaves signal handling to pytest."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def unused_port() -> int:
    """A port nothing listens on (for connection-refused tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
