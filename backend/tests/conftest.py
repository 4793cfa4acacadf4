"""Fixtures: the run's migrated database, a rolled-back session per test, an HTTP client.

The database is chosen in tests/support.py (SQLite by default, TEST_DATABASE_URL for PostgreSQL).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

# isort: off
# tests.support points the settings at the test database: it must be imported before any app module.
from tests.support import SERVER_URL, TEST_DATABASE_URL, TMP, admin_execute, database_name

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app import migrations
from app.database import engine, get_db
from app.api.deps import get_rescorer
from app.main import app
from app.services.rescoring import rescore_open_jobs
# isort: on


@pytest.fixture(scope="session", autouse=True)
def database() -> Iterator[str]:
    """Create and migrate the run's database; drop it at the end."""
    if SERVER_URL:
        asyncio.run(admin_execute(f'CREATE DATABASE "{database_name()}"'))
    migrations.upgrade(TEST_DATABASE_URL)
    yield TEST_DATABASE_URL
    if SERVER_URL:
        asyncio.run(admin_execute(f'DROP DATABASE IF EXISTS "{database_name()}" WITH (FORCE)'))


@pytest.fixture
async def scratch_url() -> AsyncIterator[str]:
    """A database of its own, so migrating (or not) does not touch the suite's database."""
    name = f"hunter_migrate_{uuid.uuid4().hex[:10]}"
    if not SERVER_URL:
        yield f"sqlite+aiosqlite:///{TMP / (name + '.db')}"
        return
    await admin_execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{SERVER_URL.rpartition('/')[0]}/{name}"
    finally:
        await admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def session() -> AsyncIterator[AsyncSession]:
    """A session inside a transaction that is rolled back after the test.

    Code under test may commit: with `create_savepoint` its commits only release savepoints.
    """
    async with engine.connect() as connection:
        transaction = await connection.begin()
        db = AsyncSession(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            yield db
        finally:
            await db.close()
            await transaction.rollback()


@pytest.fixture
async def client(session: AsyncSession) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process, sharing the test's session."""

    async def _test_db() -> AsyncIterator[AsyncSession]:
        # Keep the test's set-up data when a request fails and rolls back.
        await session.commit()
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise

    async def _rescore_in_test_session() -> None:
        await rescore_open_jobs(session)

    app.dependency_overrides[get_db] = _test_db
    app.dependency_overrides[get_rescorer] = lambda: _rescore_in_test_session
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
    finally:
        app.dependency_overrides.pop(get_db, None)
        app.dependency_overrides.pop(get_rescorer, None)
