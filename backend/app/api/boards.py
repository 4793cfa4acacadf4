"""/api/boards endpoints."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import RescorerDep, SessionDep
from app.models import JobBoard
from app.schemas.board import (
    BoardCreate,
    BoardList,
    BoardResponse,
    BoardUpdate,
    DetectRequest,
    DetectResponse,
)
from app.scrapers import auto
from app.services import boards

router = APIRouter(tags=["boards"])


@router.get("/boards", response_model=BoardList)
async def list_boards(
    session: SessionDep,
    enabled: Annotated[
        bool | None, Query(description="Only enabled (true) or only disabled (false) boards")
    ] = None,
) -> BoardList:
    """Every board, sorted by name (ignoring case), with how many open listings each has."""
    found = await boards.list_boards(session, enabled=enabled)
    counts = await boards.open_job_counts(session, [board.id for board in found])
    return BoardList(
        boards=[BoardResponse.from_board(b, job_count=counts.get(b.id, 0)) for b in found],
        total=len(found),
    )


@router.post("/boards/detect", response_model=DetectResponse)
async def detect_scraper(body: DetectRequest) -> DetectResponse:
    """Which scraper `auto` would pick for a URL, and the config it derives (an ATS board
    token, Workday tenant and site, ...), ready to save with the board.

    Nothing is fetched unless `probe` is true; then the page is read once to count its
    schema.org JobPosting entries, and a failure is reported in `probe_error`.
    """
    answer = await auto.describe(body.url, body.scraper_config, probe=body.probe)
    return DetectResponse.model_validate(answer)


@router.post("/boards", response_model=BoardResponse, status_code=status.HTTP_201_CREATED)
async def create_board(body: BoardCreate, session: SessionDep) -> BoardResponse:
    """Add a board to watch. Only `name` and `url` are required.

    `scraper_config` is checked against the URL: for example a `greenhouse` board needs a
    `board_token` unless the URL is a boards.greenhouse.io page. A new board is scanned at the
    next schedule check.
    """
    board = await boards.create_board(session, body)
    return BoardResponse.from_board(board, job_count=0)


@router.get("/boards/{board_id}", response_model=BoardResponse)
async def get_board(board_id: uuid.UUID, session: SessionDep) -> BoardResponse:
    """One board, with its last scan's outcome and how many open listings it has."""
    board = await boards.get_board(session, board_id)
    return await _respond(session, board)


@router.put("/boards/{board_id}", response_model=BoardResponse)
@router.patch("/boards/{board_id}", response_model=BoardResponse)
async def update_board(
    board_id: uuid.UUID,
    body: BoardUpdate,
    session: SessionDep,
    background: BackgroundTasks,
    rescore: RescorerDep,
) -> BoardResponse:
    """Change any of the create fields; fields left out keep their value (PUT and PATCH alike).

    A `scraper_config` sent replaces the whole config. Changing the URL or the config checks the
    config against the URL again. New `keyword_filters` rescore the open listings in the
    background: the board's filters are among the keywords its listings are scored on.
    """
    board, filters_changed = await boards.update_board(session, board_id, body)
    if filters_changed:
        background.add_task(rescore)  # after the response, so after the commit
    return await _respond(session, board)


@router.delete("/boards/{board_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_board(board_id: uuid.UUID, session: SessionDep) -> Response:
    """Delete a board with its listings and scan history.

    Applications made to its listings are kept, with their own copy of the title, company and URL.
    """
    await boards.delete_board(session, board_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _respond(session: AsyncSession, board: JobBoard) -> BoardResponse:
    counts = await boards.open_job_counts(session, [board.id])
    return BoardResponse.from_board(board, job_count=counts.get(board.id, 0))
