"""ASGI middleware: the API token check and the one-line-per-request log."""

from __future__ import annotations

import hmac
import time
from typing import Any
from urllib.parse import parse_qs

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import error_response

log = structlog.get_logger("hunter.request")

# Paths that need no token: the health probe, and the API docs (they reveal no data).
PUBLIC_PATHS = frozenset(
    {"/api/health", "/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc"}
)


def _is_protected(path: str) -> bool:
    if path in PUBLIC_PATHS:
        return False
    return path.startswith(("/api", "/ws", "/uploads"))


def presented_token(scope: Scope) -> str | None:
    """The token a client sent: `Authorization: Bearer`, or `?token=` for WebSocket clients."""
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    for name, value in headers:
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and credentials:
                return credentials.strip()
    raw_query: bytes = scope.get("query_string", b"")
    query = parse_qs(raw_query.decode("latin-1"))
    tokens: list[str] = query.get("token", [])
    return tokens[0] if tokens else None


class TokenAuthMiddleware:
    """With API_TOKEN set, every /api, /ws and uploaded-file request must present it."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not _is_protected(scope["path"]):
            await self.app(scope, receive, send)
            return
        given = presented_token(scope)
        if given is not None and hmac.compare_digest(given.encode(), self.token):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            # Close before accepting: the client sees the handshake refused (HTTP 403).
            await send({"type": "websocket.close", "code": 1008, "reason": "missing or bad token"})
            return
        detail = (
            "Missing API token: send Authorization: Bearer <API_TOKEN>"
            if given is None
            else "Invalid API token"
        )
        response = error_response(401, "unauthorized", detail)
        await response(scope, receive, send)


class RequestLogMiddleware:
    """One log line per HTTP request: method, path, status and duration (never the query)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 500}

        async def send_with_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status["code"],
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )
