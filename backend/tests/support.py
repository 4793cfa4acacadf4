"""The test environment: one fresh database per run, SQLite by default or PostgreSQL when asked.

Select the database with TEST_DATABASE_URL, e.g.
`TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres`; the suite creates its
own uniquely named database on that server and drops it afterwards.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import pytest

TMP = Path(tempfile.mkdtemp(prefix="hunter-tests-"))
SERVER_URL = os.environ.get("TEST_DATABASE_URL", "")


def _test_database_url() -> str:
    if not SERVER_URL:
        return f"sqlite+aiosqlite:///{TMP / 'test.db'}"
    if not SERVER_URL.startswith(("postgresql", "postgres")):
        raise RuntimeError("TEST_DATABASE_URL must be a PostgreSQL URL (SQLite is the default)")
    base, _, _ = SERVER_URL.rpartition("/")
    return f"{base}/hunter_test_{uuid.uuid4().hex[:12]}"


TEST_DATABASE_URL = _test_database_url()
TEST_REDIS_URL = os.environ.get("HUNTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

# Settings are read once at import: point them at the test database before any app import.
os.environ.update(
    {
        "DATABASE_URL": TEST_DATABASE_URL,
        "DATA_DIR": str(TMP / "data"),
        "UPLOAD_DIR": str(TMP / "uploads"),
        "HOST": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "HUNTER_ENV_FILE": "",
    }
)
for _name in ("API_TOKEN", "REDIS_URL", "RESEND_API_KEY", "SMTP_HOST", "ANTHROPIC_API_KEY"):
    os.environ.pop(_name, None)


def services_required() -> bool:
    """In CI a missing service (Redis, Chromium, ...) fails the run instead of skipping tests."""
    return os.environ.get("HUNTER_REQUIRE_SERVICES") == "1" or os.environ.get("CI") == "true"


def require_service(available: bool, what: str) -> None:
    """Skip a test whose peer is missing on a developer's machine; fail it in CI."""
    if available:
        return
    if services_required():
        pytest.fail(f"{what} is required in CI but is not available")
    pytest.skip(f"{what} is not available")


async def admin_execute(statement: str, server_url: str | None = None) -> None:
    """Run one statement on the PostgreSQL server itself (CREATE/DROP DATABASE)."""
    import asyncpg

    url = (server_url or SERVER_URL).replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def database_name() -> str:
    return TEST_DATABASE_URL.rpartition("/")[2]
