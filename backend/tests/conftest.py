"""Test set-up: one fresh database per run (SQLite by default, PostgreSQL when asked), migrated
with Alembic, and one rolled-back transaction per test so tests never see each other's data.

Select the database with TEST_DATABASE_URL, e.g.
`TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres`; the suite creates its
own uniquely named database on that server and drops it afterwards.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="hunter-tests-"))
_SERVER_URL = os.environ.get("TEST_DATABASE_URL", "")


def _test_database_url() -> str:
    if not _SERVER_URL:
        return f"sqlite+aiosqlite:///{_TMP / 'test.db'}"
    if not _SERVER_URL.startswith(("postgresql", "postgres")):
        raise RuntimeError("TEST_DATABASE_URL must be a PostgreSQL URL (SQLite is the default)")
    base, _, _ = _SERVER_URL.rpartition("/")
    return f"{base}/hunter_test_{uuid.uuid4().hex[:12]}"


TEST_DATABASE_URL = _test_database_url()

# Settings are read once at import: point them at the test database before any app import.
os.environ.update(
    {
        "DATABASE_URL": TEST_DATABASE_URL,
        "DATA_DIR": str(_TMP / "data"),
        "UPLOAD_DIR": str(_TMP / "uploads"),
        "HOST": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
)
for _name in ("API_TOKEN", "REDIS_URL", "RESEND_API_KEY", "SMTP_HOST", "ANTHROPIC_API_KEY"):
    os.environ.pop(_name, None)

import httpx  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402

from app import migrations  # noqa: E402
from app.database import engine, get_db  # noqa: E402
from app.main import app  # noqa: E402


async def _admin_execute(statement: str) -> None:
    import asyncpg

    url = _SERVER_URL.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _database_name() -> str:
    return TEST_DATABASE_URL.rpartition("/")[2]


@pytest.fixture(scope="session", autouse=True)
def database() -> Iterator[str]:
    """Create and migrate the run's database; drop it at the end."""
    if _SERVER_URL:
        asyncio.run(_admin_execute(f'CREATE DATABASE "{_database_name()}"'))
    migrations.upgrade(TEST_DATABASE_URL)
    yield TEST_DATABASE_URL
    if _SERVER_URL:
        asyncio.run(_admin_execute(f'DROP DATABASE IF EXISTS "{_database_name()}" WITH (FORCE)'))


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
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise

    app.dependency_overrides[get_db] = _test_db
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
    finally:
        app.dependency_overrides.pop(get_db, None)
