"""Fixtures for scraper tests: one scripted local HTTP server, a fast fetcher, ATS hosts on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from app.config import settings
from app.scrapers.base import FetchContext
from app.scrapers.http import Fetcher
from tests.scrapers.local_server import LocalServer

NOW = datetime(2024, 3, 10, 15, 30, tzinfo=UTC)


@pytest.fixture(scope="session")
async def _local_server() -> AsyncIterator[LocalServer]:
    server = LocalServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def server(_local_server: LocalServer) -> LocalServer:
    """The local server with no routes and no recorded requests."""
    _local_server.reset()
    return _local_server


@pytest.fixture
def ats_on_server(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> LocalServer:
    """Point the Greenhouse, Lever and Ashby API settings at the local server."""
    for name in ("greenhouse_api_url", "lever_api_url", "ashby_api_url"):
        monkeypatch.setattr(settings, name, server.url)
    return server


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    """A fetcher with millisecond backoff, so retry tests stay quick."""
    async with Fetcher(backoff_base_s=0.005, timeout_s=5, max_per_host=2) as shared:
        yield shared


@pytest.fixture
def context(fetcher: Fetcher) -> FetchContext:
    return FetchContext(fetcher=fetcher, clock=lambda: NOW)
