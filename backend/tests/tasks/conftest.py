"""Fixtures for the end-to-end scan tests: a scratch database and a fake Greenhouse."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete

from app.config import settings
from app.models import JobBoard
from tests.scrapers.local_server import LocalServer
from tests.tasks.support import ScratchDatabase, local_server, scratch_database


@pytest.fixture(scope="module")
async def _server() -> AsyncIterator[LocalServer]:
    async with local_server() as server:
        yield server


@pytest.fixture
def greenhouse(_server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> LocalServer:
    """The local server, answering as the Greenhouse job board API (routes set by each test)."""
    _server.reset()
    monkeypatch.setattr(settings, "greenhouse_api_url", _server.url)
    return _server


@pytest.fixture(scope="module")
async def _scratch() -> AsyncIterator[ScratchDatabase]:
    async with scratch_database("hunter_scans") as database:
        yield database


@pytest.fixture
async def scratch(_scratch: ScratchDatabase) -> AsyncIterator[ScratchDatabase]:
    """A migrated database whose commits are real (runners use their own sessions); the
    module's tests share it, each starting without boards, jobs or scans."""
    yield _scratch
    async with _scratch.sessions() as session, session.begin():
        # Jobs and scan runs go with their boards (ON DELETE CASCADE).
        await session.execute(delete(JobBoard))
