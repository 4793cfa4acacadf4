"""A local HTTP server answering like the Resend API (`POST /emails`).

Hunter is pointed at it through RESEND_API_URL. Like the real API it checks the bearer key and
the body's required fields (422 `validation_error` otherwise) and answers `{"id": ...}`. Tests
script failures: `fail(500, ...)` then `then_accept()` fails once and then accepts; the last
scripted answer repeats.
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

EMAILS_PATH = "/emails"
API_KEY = "re_test_0123456789abcdef"

Script = Callable[[Recorded], Reply]
_ids = itertools.count(1)


def error_reply(status: int, name: str, message: str) -> Reply:
    """An error as Resend shapes it."""
    return Reply(status=status, json={"statusCode": status, "name": name, "message": message})


def _accept(_: Recorded) -> Reply:
    return Reply(json={"id": f"49a3999c-0ce1-4ea6-ab68-{next(_ids):012d}"})


class FakeResend:
    """The scripted Resend API; `url` goes into RESEND_API_URL."""

    def __init__(self, api_key: str = API_KEY) -> None:
        self.api_key = api_key
        self._server = LocalServer()
        self._script: list[Script] = [_accept]
        self._served = 0

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def requests(self) -> list[Recorded]:
        """Every request to `POST /emails`, oldest first."""
        return self._server.hits(EMAILS_PATH, "POST")

    @property
    def accepted(self) -> list[dict[str, Any]]:
        """The bodies of the emails it accepted."""
        return list(self._accepted)

    def reset(self) -> None:
        self._server.reset()
        self._server.route("POST", EMAILS_PATH, self._handle)
        self._script = [_accept]
        self._served = 0
        self._accepted: list[dict[str, Any]] = []

    def fail(self, status: int, message: str, name: str = "application_error") -> None:
        """Answer every (valid) request with this error, until told otherwise."""
        self._script = [lambda _: error_reply(status, name, message)]

    def then_accept(self) -> None:
        """After the scripted failures, accept."""
        self._script.append(_accept)

    def _handle(self, request: Recorded) -> Reply:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or key != self.api_key:
            return error_reply(401, "missing_api_key", "Missing or invalid API key")
        try:
            body = json.loads(request.body)
        except ValueError:
            return error_reply(422, "validation_error", "The body is not valid JSON")
        missing = [name for name in ("from", "to", "subject") if not body.get(name)]
        if missing:
            return error_reply(422, "validation_error", f"The `{missing[0]}` field is missing.")
        if not body.get("html") and not body.get("text"):
            return error_reply(422, "validation_error", "Either `html` or `text` is required.")
        script = self._script[min(self._served, len(self._script) - 1)]
        self._served += 1
        reply = script(request)
        if reply.status == 200:
            self._accepted.append(body)
        return reply

    async def start(self) -> None:
        await self._server.start()
        self.reset()

    async def stop(self) -> None:
        await self._server.stop()


@contextlib.asynccontextmanager
async def running_fake_resend() -> AsyncIterator[FakeResend]:
    server = FakeResend()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def point_settings_at(server: FakeResend, monkeypatch: pytest.MonkeyPatch) -> None:
    """Send mail through the fake (undone after the test)."""
    monkeypatch.setattr(settings, "resend_api_key", SecretStr(server.api_key))
    monkeypatch.setattr(settings, "resend_api_url", server.url)
