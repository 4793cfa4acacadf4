"""Helpers shared by the scan tests: a Greenhouse board on the local server, session factories."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app import migrations
from app.api.scans import get_dispatcher
from app.database import build_engine, get_db
from app.main import app
from app.services.scans import SessionFactory
from app.tasks.dispatch import Dispatcher
from tests.scrapers.local_server import LocalServer, Reply
from tests.support import SERVER_URL, TMP, admin_execute

TOKEN = "acme"
JOBS_PATH = f"/v1/boards/{TOKEN}/jobs"
GREENHOUSE = {"scraper_type": "greenhouse", "board_token": TOKEN}


def posting(n: int, title: str = "Backend Engineer", location: str = "Remote") -> dict[str, Any]:
    """One job as the Greenhouse job board API lists it."""
    return {
        "id": 5000 + n,
        "title": f"{title} {n}",
        "updated_at": "2024-03-01T09:00:00Z",
        "location": {"name": location},
        "absolute_url": f"https://boards.greenhouse.io/{TOKEN}/jobs/{5000 + n}",
        "content": "&lt;p&gt;Build Python services.&lt;/p&gt;",
        "departments": [{"id": 1, "name": "Engineering"}],
        "offices": [],
    }


def listing(*numbers: int, **kwargs: Any) -> Reply:
    """Greenhouse's answer listing the postings numbered `numbers`."""
    return Reply(
        json={"jobs": [posting(n) for n in numbers], "meta": {"total": len(numbers)}}, **kwargs
    )


def sessions_on(session: AsyncSession) -> SessionFactory:
    """Sessions on the test's connection: their commits stay inside its rolled-back transaction."""
    connection = session.bind

    def factory() -> AsyncSession:
        return AsyncSession(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )

    return factory


async def wait_until(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 20) -> None:
    """Poll `check` until it holds; fail the test naming `what` if it never does."""
    try:
        async with asyncio.timeout(timeout):
            # Polling: what is awaited happens in another task or process, with no event to wait on.
            while not await check():  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"gave up waiting for {what}") from None


@dataclass
class ScratchDatabase:
    """A migrated database of its own whose commits are real, for runners in other tasks or
    processes (the suite's database is shared through one rolled-back transaction)."""

    url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


@asynccontextmanager
async def scratch_database(prefix: str) -> AsyncIterator[ScratchDatabase]:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    if SERVER_URL:
        await admin_execute(f'CREATE DATABASE "{name}"')
        url = f"{SERVER_URL.rpartition('/')[0]}/{name}"
    else:
        url = f"sqlite+aiosqlite:///{TMP / (name + '.db')}"
    engine = build_engine(url)
    try:
        await asyncio.to_thread(migrations.upgrade, url)
        yield ScratchDatabase(
            url, engine, async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        )
    finally:
        await engine.dispose()
        if SERVER_URL:
            await admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def local_server() -> AsyncIterator[LocalServer]:
    server = LocalServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@asynccontextmanager
async def api_on(
    database: ScratchDatabase, dispatcher: Dispatcher
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app whose requests use `database` and queue scans with `dispatcher`."""

    async def scratch_session() -> AsyncIterator[AsyncSession]:
        async with database.sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    app.dependency_overrides[get_db] = scratch_session
    app.dependency_overrides[get_dispatcher] = lambda: dispatcher
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        app.dependency_overrides.pop(get_db, None)
        app.dependency_overrides.pop(get_dispatcher, None)


async def create_board(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    """A Greenhouse board created through the API."""
    body = {
        "name": "Acme",
        "url": f"https://boards.greenhouse.io/{TOKEN}",
        "scraper_config": GREENHOUSE,
        **fields,
    }
    response = await client.post("/api/boards", json=body)
    assert response.status_code == 201, response.text
    board: dict[str, Any] = response.json()
    return board


async def scan_status(client: httpx.AsyncClient, board_id: str) -> str:
    response = await client.get(f"/api/boards/{board_id}")
    assert response.status_code == 200, response.text
    status: str = response.json()["last_scan_status"]
    return status


async def wait_for_scan(
    client: httpx.AsyncClient, board_id: str, timeout: float = 20
) -> dict[str, Any]:
    """Poll the board until its scan ends; return the board."""

    async def finished() -> bool:
        return await scan_status(client, board_id) in ("success", "error")

    await wait_until(finished, f"the scan of board {board_id} to finish", timeout)
    board: dict[str, Any] = (await client.get(f"/api/boards/{board_id}")).json()
    return board
