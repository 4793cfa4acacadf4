"""A local HTTP server speaking the Anthropic Messages API (`POST /v1/messages`).

The real SDK is pointed at it through ANTHROPIC_BASE_URL. Like the real API it checks the
API key (`x-api-key`, or `Authorization: Bearer` as this SDK sends it), the `anthropic-version`
header and the body's required fields, echoes the requested
model, and counts tokens (roughly). Tests script what it answers next: a normal message, an API
error (500, 529 overloaded, 429, 401, ...), a stall that outlasts any timeout, or a body that is
not JSON. Scripted answers are served in order and the last one repeats.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pydantic import SecretStr

from app.config import settings
from tests.scrapers.local_server import LocalServer, Recorded, Reply

MESSAGES_PATH = "/v1/messages"
API_KEY = "sk-ant-test-0123456789abcdef"
# Not the default, so tests show the configured model is the one used.
MODEL = "claude-sonnet-4-6"
DEFAULT_ANSWER = "I have spent six years building Python services, and I would love to do so here."

Script = Callable[[Recorded], Reply]
_ids = itertools.count(1)


def message_body(request: Recorded, text: str, *, stop_reason: str = "end_turn") -> dict[str, Any]:
    """A Messages API response, as the real API shapes it."""
    return {
        "id": f"msg_01Fake{next(_ids):012d}",
        "type": "message",
        "role": "assistant",
        "model": request.json()["model"],
        "content": [{"type": "text", "text": text}] if text else [],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": max(1, len(request.body) // 4),
            "output_tokens": max(1, len(text.split()) * 4 // 3),
        },
    }


def presented_key(request: Recorded) -> str | None:
    """The API key a request carries: `x-api-key`, or `Authorization: Bearer` (newer SDKs)."""
    if "x-api-key" in request.headers:
        return request.headers["x-api-key"]
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    return credential if scheme.lower() == "bearer" and credential else None


def error_reply(status: int, error_type: str, message: str, **headers: str) -> Reply:
    return Reply(
        status=status,
        json={
            "type": "error",
            "error": {"type": error_type, "message": message},
            "request_id": f"req_01Fake{next(_ids):012d}",
        },
        headers={"request-id": f"req_01Fake{next(_ids):012d}", **headers},
    )


def _answering(text: str, stop_reason: str = "end_turn") -> Script:
    return lambda request: Reply(json=message_body(request, text, stop_reason=stop_reason))


class FakeAnthropic:
    """The scripted Messages API; `url` goes into ANTHROPIC_BASE_URL."""

    def __init__(self, api_key: str = API_KEY) -> None:
        self.api_key = api_key
        self._server = LocalServer()
        self._script: list[Script] = []
        self._served = 0

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def requests(self) -> list[Recorded]:
        """Every request to the Messages endpoint, oldest first."""
        return self._server.hits(MESSAGES_PATH, "POST")

    def last_body(self) -> dict[str, Any]:
        body: dict[str, Any] = self.requests[-1].json()
        return body

    def reset(self) -> None:
        self._server.reset()
        self._server.route("POST", MESSAGES_PATH, self._handle)
        self._script = [_answering(DEFAULT_ANSWER)]
        self._served = 0

    # What to answer next; each call replaces the script.

    def answer(self, *texts: str, stop_reason: str = "end_turn") -> None:
        """Answer with these texts in turn (an empty text is an answer with no content)."""
        self._script = [_answering(text, stop_reason) for text in texts]

    def fail(self, status: int, error_type: str, message: str, **headers: str) -> None:
        self._script = [lambda _: error_reply(status, error_type, message, **headers)]

    def then_answer(self, text: str) -> None:
        """After the scripted failures, answer normally."""
        self._script.append(_answering(text))

    def overloaded(self) -> None:
        self.fail(529, "overloaded_error", "Overloaded")

    def rate_limited(self) -> None:
        self.fail(429, "rate_limit_error", "Number of request tokens has exceeded your limit.")

    def stall(self) -> None:
        """Accept requests and never answer (until the test ends)."""
        self._script = [lambda _: Reply(hang=True)]

    def malformed(self) -> None:
        """Answer 200 with a body that is not JSON at all (a proxy's error page)."""
        self._script = [
            lambda _: Reply(body="<html>upstream proxy error</html>", content_type="text/html")
        ]

    def misshapen(self) -> None:
        """Answer 200 with JSON that is not a message."""
        self._script = [lambda _: Reply(json={"status": "ok", "result": None})]

    def _handle(self, request: Recorded) -> Reply:
        if presented_key(request) != self.api_key:
            return error_reply(401, "authentication_error", "invalid x-api-key")
        if "anthropic-version" not in request.headers:
            return error_reply(400, "invalid_request_error", "anthropic-version header is required")
        try:
            body = json.loads(request.body)
        except ValueError:
            return error_reply(400, "invalid_request_error", "request body is not valid JSON")
        missing = [key for key in ("model", "max_tokens", "messages") if key not in body]
        if missing:
            return error_reply(400, "invalid_request_error", f"{missing[0]}: Field required")
        script = self._script[min(self._served, len(self._script) - 1)]
        self._served += 1
        return script(request)

    async def start(self) -> None:
        await self._server.start()
        self.reset()

    async def stop(self) -> None:
        await self._server.stop()


@contextlib.asynccontextmanager
async def running_fake_anthropic() -> AsyncIterator[FakeAnthropic]:
    server = FakeAnthropic()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def point_settings_at(
    server: FakeAnthropic, monkeypatch: pytest.MonkeyPatch, *, timeout_s: float = 10.0
) -> None:
    """Configure the assistant to use the fake server, its key and MODEL (undone after the test)."""
    monkeypatch.setattr(settings, "anthropic_api_key", SecretStr(server.api_key))
    monkeypatch.setattr(settings, "anthropic_base_url", server.url)
    monkeypatch.setattr(settings, "anthropic_timeout_s", timeout_s)
    monkeypatch.setattr(settings, "anthropic_model", MODEL)
