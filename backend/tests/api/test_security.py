"""API token, CORS and the request log, as a person deploying Hunter would meet them."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from app.config import LogFormat, settings
from app.logging import configure_logging
from app.main import create_app

TOKEN = "correct-horse-battery-staple"


@pytest.fixture
async def guarded(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    """A client for an app built with API_TOKEN set."""
    monkeypatch.setattr(settings, "api_token", SecretStr(TOKEN))
    app = create_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_api_needs_the_token_when_one_is_set(guarded: httpx.AsyncClient) -> None:
    for path in ("/api/profile", "/api/boards", "/api/jobs", "/api/profile/resume", "/api/export"):
        missing = await guarded.get(path)
        assert missing.status_code == 401, path
        assert missing.json()["error"] == "unauthorized"
        assert "API_TOKEN" in missing.json()["detail"]
        wrong = await guarded.get(path, headers={"Authorization": "Bearer nope-nope-nope"})
        assert wrong.status_code == 401, path


async def test_the_right_token_is_let_through(guarded: httpx.AsyncClient) -> None:
    response = await guarded.get("/api/health", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    # An unknown path behind the guard is still refused before routing reveals anything.
    assert (await guarded.get("/api/does-not-exist")).status_code == 401


async def test_health_needs_no_token(guarded: httpx.AsyncClient) -> None:
    response = await guarded.get("/api/health")
    assert response.status_code == 200
    assert set(response.json()) >= {"database", "broker", "browser"}


async def test_query_token_is_accepted_for_socket_clients(guarded: httpx.AsyncClient) -> None:
    # WebSocket clients cannot set headers; the same check applies to ?token= on any path.
    assert (await guarded.get("/api/boards", params={"token": TOKEN})).status_code != 401


async def test_without_a_token_the_api_is_open_on_loopback(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/boards")).status_code != 401


async def test_cors_allows_configured_origins_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "cors_origins", ["http://localhost:5173"])
    app = create_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        preflight = {"Access-Control-Request-Method": "GET"}
        allowed = await http.options(
            "/api/health", headers={"Origin": "http://localhost:5173", **preflight}
        )
        assert allowed.headers.get("access-control-allow-origin") == "http://localhost:5173"
        denied = await http.options(
            "/api/health", headers={"Origin": "https://evil.example", **preflight}
        )
        assert "access-control-allow-origin" not in denied.headers


async def test_each_request_is_logged_once_without_secrets(
    guarded: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(level="INFO", fmt=LogFormat.json)
    try:
        await guarded.get("/api/health", params={"token": TOKEN})
        await guarded.get("/api/boards", headers={"Authorization": f"Bearer {TOKEN}"})
        logging.getLogger("test").info("password=%s", "x", extra={})
    finally:
        configure_logging(level="WARNING")
    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    requests = [line for line in lines if line.get("event") == "request"]
    assert [(r["method"], r["path"], r["status"]) for r in requests] == [
        ("GET", "/api/health", 200),
        ("GET", "/api/boards", 200),
    ]
    assert all(isinstance(r["duration_ms"], float) for r in requests)
    assert TOKEN not in json.dumps(lines)
