"""Search vectors of new jobs, computed on connections of their own beside the insert
(PostgreSQL).

Parsing descriptions into tsvectors is most of the database's work when a scan stores new
listings (~0.25 ms per 2 KB description). Left to the insert trigger, it runs in the scan's own
connection, one row after another, while the database's other cores idle. For scans with many
new listings the scanner asks `VectorSource` for each chunk's vectors (the same
`jobs_search_vector` the trigger uses, migration 005), which it shares out between connections
of its own, so that one chunk is parsed while the previous one is inserted, and inserts them with
the rows.

The vectors are a pure function of the text: those connections need no transaction and see
nothing of the scan's.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from sqlalchemy import Column, MetaData, Table, Text, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from app.models import Job

JOBS = Job.metadata.tables["jobs"]
# The jobs table as PostgreSQL has it, with the vector column the model leaves out (SQLite has
# none): only for inserts that bring their vectors.
JOBS_WITH_VECTOR = Table(
    "jobs",
    MetaData(),
    *(column._copy() for column in JOBS.columns),
    Column("description_tsv", TSVECTOR),
)
# Parallel computing pays from this many new listings on (below, the trigger does it).
MIN_LISTINGS = 2_000
# Connections parsing at once. Parsing costs about twice what inserting the rows does, so with
# one it set the pace of the whole scan (~5.6 s of 20,000 listings' 6.5); with two, the
# database's cores share it out with the insert.
CONNECTIONS = 2

_VECTORS = text(
    """SELECT jobs_search_vector(t, c, d)
    FROM unnest(:titles, :companies, :descriptions) WITH ORDINALITY AS u(t, c, d, n)
    ORDER BY n"""
).bindparams(
    bindparam("titles", type_=ARRAY(Text)),
    bindparam("companies", type_=ARRAY(Text)),
    bindparam("descriptions", type_=ARRAY(Text)),
)


class VectorSource:
    """Computes search vectors for rows of job values on connections of its own."""

    def __init__(self, connections: Sequence[AsyncConnection]) -> None:
        self.connections = connections

    async def vectors(self, rows: Sequence[dict[str, Any]]) -> list[bytes]:
        """Each row's vector (from its title, company and description), in order (binary).
        The rows are shared out between the connections, which parse their parts at once."""
        if not rows:
            return []
        share = -(-len(rows) // len(self.connections))
        parts = [rows[start : start + share] for start in range(0, len(rows), share)]
        # (Few rows may make fewer parts than connections.) Every part is let finish before a
        # failure is raised, so no connection is closed in the middle of a statement.
        outcomes = await asyncio.gather(
            *(
                self._vectors(connection, part)
                for connection, part in zip(self.connections, parts, strict=False)
            ),
            return_exceptions=True,
        )
        vectors: list[bytes] = []
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
            vectors.extend(outcome)
        return vectors

    @staticmethod
    async def _vectors(connection: AsyncConnection, rows: Sequence[dict[str, Any]]) -> list[bytes]:
        result = await connection.execute(
            _VECTORS,
            {
                "titles": [row["title"] for row in rows],
                "companies": [row["company"] for row in rows],
                "descriptions": [row["description"] for row in rows],
            },
        )
        return list(result.scalars())


@asynccontextmanager
async def vector_source(session: AsyncSession, listings: int) -> AsyncIterator[VectorSource | None]:
    """A VectorSource for storing `listings` new listings through `session`, or None where the
    insert trigger should compute vectors itself (SQLite, or too few listings to pay)."""
    bind = session.bind
    engine = bind.engine if isinstance(bind, AsyncConnection) else bind
    if (
        not isinstance(engine, AsyncEngine)
        or engine.dialect.name != "postgresql"
        or listings < MIN_LISTINGS
    ):
        yield None
        return
    async with AsyncExitStack() as stack:
        connections = [
            await (await stack.enter_async_context(engine.connect())).execution_options(
                isolation_level="AUTOCOMMIT"
            )
            for _ in range(CONNECTIONS)
        ]
        yield VectorSource(connections)
