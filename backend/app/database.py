"""The async engine, the session factory and the request-scoped session dependency."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from fastapi import Request
from sqlalchemy import MetaData, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from app.config import settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# SQLite connections: one per running scan (waiting its turn to write) and a few for the API
# beside them. Only the first five are kept open; the others close when they are handed back.
SQLITE_POOL_SIZE = 5
SQLITE_MAX_OVERFLOW = 10


def _sqlite_pragmas(cache_kib: int) -> Callable[[Any, Any], None]:
    def set_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets the API read while a scan writes; the busy timeout makes writers queue.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute(f"PRAGMA cache_size=-{cache_kib}")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()
        dbapi_connection.isolation_level = None

    return set_pragmas


# Execution option naming how a SQLite transaction begins (ignored by PostgreSQL).
SQLITE_BEGIN = "sqlite_begin"


def _begin_sqlite_transaction(connection: Any) -> None:
    # A deferred transaction that reads, then writes fails at once ("database is locked") when
    # another connection committed in between; busy_timeout cannot help there. So writers take
    # the write lock up front (IMMEDIATE) and wait their turn, while readers stay deferred and
    # never block anyone.
    mode = connection.get_execution_options().get(SQLITE_BEGIN, "IMMEDIATE")
    connection.exec_driver_sql(f"BEGIN {mode}")


def build_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Create an engine for `url`, with the connection settings each backend needs."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        connections = 1  # an in-memory database is one connection, shared
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            kwargs.setdefault("pool_size", SQLITE_POOL_SIZE)
            kwargs.setdefault("max_overflow", SQLITE_MAX_OVERFLOW)
            # Last in, first out: a quiet server keeps reusing its one warm connection rather
            # than cycling through all it opened during a burst of scans, warming each cache.
            kwargs.setdefault("pool_use_lifo", True)
            connections = kwargs["pool_size"]
        engine = create_async_engine(url, **kwargs)
        # The connections kept open share SQLITE_CACHE_MB, so an idle server holds no more; a
        # burst's extra connections get a share each too, freed when they close.
        cache_kib = settings.sqlite_cache_mb * 1024 // connections
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas(cache_kib))
        # The sqlite3 driver opens transactions lazily and behind SQLAlchemy's back, which breaks
        # SAVEPOINTs; take transaction control away from it and emit BEGIN ourselves.
        event.listen(engine.sync_engine, "begin", _begin_sqlite_transaction)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    engine = create_async_engine(url, **kwargs)
    event.listen(engine.sync_engine, "connect", _tsvectors_as_bytes)
    return engine


def _tsvectors_as_bytes(dbapi_connection: Any, _record: Any) -> None:
    """Search vectors travel in PostgreSQL's binary form, opaque to Python: a scan's vectors
    computed on one connection (app/services/search_vectors.py) go back in on another without
    being printed as text and parsed again."""
    dbapi_connection.run_async(
        lambda connection: connection.set_type_codec(
            "tsvector", schema="pg_catalog", encoder=bytes, decoder=bytes, format="binary"
        )
    )


# The escape character of the LIKE patterns below.
LIKE_ESCAPE = "\\"


def like_containing(text: str) -> str:
    """A LIKE pattern (with ESCAPE LIKE_ESCAPE) matching `text` anywhere, its own % and _ taken
    literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def reading(engine: AsyncEngine) -> AsyncEngine:
    """The same engine for work that only reads: its SQLite transactions wait for no writer."""
    return engine.execution_options(**{SQLITE_BEGIN: "DEFERRED"})


def session_factories(
    engine: AsyncEngine,
) -> tuple[async_sessionmaker[AsyncSession], async_sessionmaker[AsyncSession]]:
    """Sessions for work that writes, and for work that only reads (deferred on SQLite)."""
    reader = reading(engine)
    return (
        async_sessionmaker(engine, expire_on_commit=False, autoflush=False),
        async_sessionmaker(reader, expire_on_commit=False, autoflush=False),
    )


engine = build_engine(settings.effective_database_url)
async_session_factory, read_session_factory = session_factories(engine)

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request: committed when the handler succeeds, rolled back otherwise."""
    reads_only = request.method in READ_ONLY_METHODS
    factory = read_session_factory if reads_only else async_session_factory
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
