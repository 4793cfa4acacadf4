"""The engine's SQLite connections: how many, which one a request gets, how much cache each has.

These run on a SQLite file of their own whichever database the suite uses: PostgreSQL keeps
its own pool and caches in the server.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import QueuePool

from app.config import settings
from app.database import SQLITE_MAX_OVERFLOW, SQLITE_POOL_SIZE, build_engine, reading
from tests.support import TMP


@pytest.fixture
async def sqlite_engine() -> AsyncIterator[AsyncEngine]:
    engine = build_engine(f"sqlite+aiosqlite:///{TMP / f'pool-{uuid.uuid4().hex[:8]}.db'}")
    try:
        yield engine
    finally:
        await engine.dispose()


async def driver_connection(connection: AsyncConnection) -> object:
    """The sqlite3 connection underneath, which owns the page cache."""
    return (await connection.get_raw_connection()).driver_connection


async def test_the_connections_kept_open_share_the_cache_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings, "sqlite_cache_mb", 48)
    engine = build_engine(f"sqlite+aiosqlite:///{TMP / f'cache-{uuid.uuid4().hex[:8]}.db'}")
    try:
        async with engine.connect() as connection:
            kib = -(await connection.execute(text("PRAGMA cache_size"))).scalar_one()
    finally:
        await engine.dispose()
    # The connections an idle server keeps open hold no more than the setting between them.
    assert kib == 48 * 1024 // SQLITE_POOL_SIZE


async def test_after_a_burst_the_next_request_gets_the_warmest_connection(
    sqlite_engine: AsyncEngine,
) -> None:
    # A burst of scans opens several connections at once; they come back one after another.
    burst = [await sqlite_engine.connect() for _ in range(3)]
    opened = [await driver_connection(connection) for connection in burst]
    for connection in burst:
        await connection.close()
    # A quiet server then reuses the one handed back last (its cache is warm), every time,
    # rather than cycling through all three and warming each one's cache.
    for _ in range(3):
        async with sqlite_engine.connect() as connection:
            assert await driver_connection(connection) is opened[-1]


async def test_a_burst_beyond_the_pool_is_served_and_then_closed(
    sqlite_engine: AsyncEngine,
) -> None:
    async with sqlite_engine.connect():
        pass  # the file exists and is in WAL mode, as migrations leave it
    # Readers, as the API's requests are: they wait for no writer and no writer waits for them.
    readers = reading(sqlite_engine)
    wanted = SQLITE_POOL_SIZE + SQLITE_MAX_OVERFLOW
    connections = await asyncio.gather(*(readers.connect() for _ in range(wanted)))
    try:
        for connection in connections:
            assert (await connection.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        for connection in connections:
            await connection.close()
    pool = sqlite_engine.pool
    assert isinstance(pool, QueuePool)
    assert pool.checkedin() == SQLITE_POOL_SIZE
