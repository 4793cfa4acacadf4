"""/api/boards/{id}/scan and /api/boards/{id}/scans: run a scan now, and see past scans."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, status

from app.api.deps import SessionDep
from app.schemas.scan import ScanHistory, ScanRequested, ScanRunResponse
from app.services import scans
from app.tasks.dispatch import Dispatcher

router = APIRouter(tags=["scans"])


def get_dispatcher(request: Request) -> Dispatcher:
    """The process's scan dispatcher, made by the app's lifespan."""
    dispatcher: Dispatcher = request.app.state.dispatcher
    return dispatcher


DispatcherDep = Annotated[Dispatcher, Depends(get_dispatcher)]


@router.post(
    "/boards/{board_id}/scan",
    response_model=ScanRequested,
    status_code=status.HTTP_202_ACCEPTED,
)
async def scan_board(
    board_id: uuid.UUID,
    session: SessionDep,
    dispatcher: DispatcherDep,
    background: BackgroundTasks,
) -> ScanRequested:
    """Scan the board now, disabled or not. Answers at once; the scan runs in the background.

    `task_id` is the scan's id: follow it in `GET /api/boards/{id}/scans`, or watch the board's
    `last_scan_status`. While the board already has a scan queued or running, no second scan
    starts: the answer carries that scan's `task_id` instead.
    """
    requested = await scans.request_scan(session, board_id, trigger="manual")
    name = requested.board.name
    if not requested.created:
        return ScanRequested(
            task_id=requested.scan.id,
            status=requested.scan.status,
            message=f"A scan of '{name}' is already {requested.scan.status}; no new scan started",
        )
    # Background tasks run after the response, so after the session's commit: a runner never
    # looks for a scan that is not saved yet.
    background.add_task(dispatcher.dispatch, [requested.queued])
    return ScanRequested(
        task_id=requested.scan.id,
        status=requested.scan.status,
        message=f"Scan of '{name}' queued",
    )


@router.get("/boards/{board_id}/scans", response_model=ScanHistory)
async def list_board_scans(
    board_id: uuid.UUID,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100, description="How many scans (1-100)")] = 20,
) -> ScanHistory:
    """The board's scan history, newest first: status, what triggered it, counts, error, timing."""
    found, total = await scans.list_scans(session, board_id, limit=limit)
    return ScanHistory(scans=[ScanRunResponse.model_validate(scan) for scan in found], total=total)
