"""What the `hunter` CLI's data commands do: the same services the API uses, one session each."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from app.database import async_session_factory, engine
from app.services import boards as board_service
from app.services import jobs as job_service
from app.services import portability

_T = TypeVar("_T")


def _run(work: Callable[[AsyncSession], Awaitable[_T]]) -> _T:
    """Run `work` in one committed transaction, then release the engine's connections."""

    async def main() -> _T:
        try:
            async with async_session_factory() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def export_document() -> bytes:
    async def export(session: AsyncSession) -> bytes:
        return (await portability.export_document(session)).content

    return _run(export)


def import_document(raw: bytes) -> dict[str, int | bool]:
    document = portability.parse_document(raw)

    async def load(session: AsyncSession) -> dict[str, int | bool]:
        counts = await portability.import_document(session, document)
        return counts.model_dump()

    return _run(load)


def print_boards() -> None:
    async def fetch(session: AsyncSession) -> Table:
        found = await board_service.list_boards(session)
        counts = await board_service.open_job_counts(session, [b.id for b in found])
        table = Table("name", "type", "enabled", "every", "last scan", "open jobs", "url")
        for board in found:
            last = board.last_scan_status
            if board.last_scanned_at is not None:
                last += f" {board.last_scanned_at:%Y-%m-%d %H:%M}"
            table.add_row(
                board.name,
                str(board.scraper_config.get("scraper_type", "auto")),
                "yes" if board.enabled else "no",
                f"{board.scan_interval_minutes} min",
                last,
                str(counts.get(board.id, 0)),
                board.url,
            )
        return table

    Console().print(_run(fetch))


def print_jobs(*, search: str | None, min_score: int | None, limit: int) -> None:
    async def fetch(session: AsyncSession) -> tuple[Table, int]:
        filters = job_service.JobFilters(search=search, min_score=min_score)
        sort: job_service.JobSort = "relevance" if search else "match_score"
        found = await job_service.list_jobs(session, filters, sort=sort, page_size=limit)
        table = Table("score", "title", "company", "location", "board", "url")
        for listing in found.listings:
            job = listing.job
            table.add_row(
                f"{job.match_score:.0f}",
                job.title,
                job.company,
                job.location,
                listing.board_name,
                job.url,
            )
        return table, found.total

    table, total = _run(fetch)
    console = Console()
    console.print(table)
    console.print(f"{total} matching listings")
