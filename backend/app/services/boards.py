"""Boards: listing, creating, changing and deleting the job boards Hunter watches.

Shared by the API, the CLI and the scan scheduler, so nothing here knows about HTTP.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput, NotFound
from app.models import Job, JobBoard
from app.schemas.board import BoardCreate, BoardUpdate
from app.scrapers.config import ScraperConfig, ScraperConfigError, check_config_for_board


async def list_boards(session: AsyncSession, *, enabled: bool | None = None) -> list[JobBoard]:
    """Every board (or only the enabled or disabled ones), by name regardless of case."""
    query = select(JobBoard).order_by(func.lower(JobBoard.name), JobBoard.created_at, JobBoard.id)
    if enabled is not None:
        query = query.where(JobBoard.enabled == enabled)
    return list((await session.scalars(query)).all())


async def get_board(session: AsyncSession, board_id: uuid.UUID) -> JobBoard:
    board = await session.get(JobBoard, board_id)
    if board is None:
        raise NotFound(f"Board {board_id} not found")
    return board


async def open_job_counts(
    session: AsyncSession, board_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """How many open (not closed) listings each board has, in one grouped query."""
    if not board_ids:
        return {}
    query = (
        select(Job.board_id, func.count())
        .where(Job.closed_at.is_(None), Job.board_id.in_(board_ids))
        .group_by(Job.board_id)
    )
    rows = (await session.execute(query)).all()
    return dict(rows)


async def create_board(session: AsyncSession, data: BoardCreate) -> JobBoard:
    _check_config(data.scraper_config, data.url)
    board = JobBoard(
        name=data.name,
        url=data.url,
        scan_interval_minutes=data.scan_interval_minutes,
        enabled=data.enabled,
        keyword_filters=list(data.keyword_filters),
        scraper_config=stored_scraper_config(data.scraper_config),
    )
    session.add(board)
    await session.flush()
    return board


async def update_board(
    session: AsyncSession, board_id: uuid.UUID, data: BoardUpdate
) -> tuple[JobBoard, bool]:
    """Change the fields `data` carries; the others keep their value. Also says whether the
    board's keyword filters changed: they are keywords its listings are scored on (SPEC §5)."""
    board = await get_board(session, board_id)
    filters_before = list(board.keyword_filters or ())
    sent = data.model_fields_set
    if "url" in sent or "scraper_config" in sent:
        # A new URL can take away what the config relied on (a greenhouse token read from the
        # URL, say), so the config that will be in force is checked against the URL that will be.
        url = data.url if data.url is not None else board.url
        config = data.scraper_config if data.scraper_config is not None else _current_config(board)
        _check_config(config, url)
        board.url = url
        board.scraper_config = stored_scraper_config(config)
    if data.name is not None:
        board.name = data.name
    if data.scan_interval_minutes is not None:
        board.scan_interval_minutes = data.scan_interval_minutes
    if data.enabled is not None:
        board.enabled = data.enabled
    if data.keyword_filters is not None:
        board.keyword_filters = list(data.keyword_filters)
    await session.flush()
    return board, sorted(board.keyword_filters or ()) != sorted(filters_before)


async def delete_board(session: AsyncSession, board_id: uuid.UUID) -> None:
    """Delete a board with its jobs and scan history; applications keep their own copy."""
    board = await get_board(session, board_id)
    # The foreign keys do the rest: jobs and scan runs cascade, applications' job_id goes NULL.
    await session.delete(board)
    await session.flush()


def stored_scraper_config(config: ScraperConfig) -> dict[str, Any]:
    """The config as stored: only what differs from the defaults, plus the scraper type."""
    compact = config.model_dump(mode="json", exclude_defaults=True)
    return {"scraper_type": config.scraper_type.value, **compact}


def _current_config(board: JobBoard) -> ScraperConfig:
    try:
        return ScraperConfig.model_validate(board.scraper_config)
    except ValidationError:
        raise _config_error(
            "scraper_config",
            "the stored config is no longer valid; send a new scraper_config with this change",
        ) from None


def _check_config(config: ScraperConfig, url: str) -> None:
    try:
        check_config_for_board(config, url)
    except ScraperConfigError as exc:
        raise _config_error(exc.field, exc.message) from None


def _config_error(field: str, message: str) -> InvalidInput:
    # Same shape as a request-validation error, so clients show both the same way.
    return InvalidInput(
        f"Invalid request: {field}: {message}",
        extra={"errors": [{"field": field, "message": message}]},
    )
