"""Wire format of scans: the answer to a scan request, and a board's scan history."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from app.schemas.common import ResponseModel


class ScanRequested(ResponseModel):
    """`POST /api/boards/{id}/scan`: the scan that was queued, or the one already under way."""

    task_id: uuid.UUID = Field(description="The scan's id (as in the board's scan history)")
    message: str
    status: str = Field(description="The scan's status now: queued or running")


class ScanRunResponse(ResponseModel):
    """One scan of a board."""

    id: uuid.UUID
    status: str = Field(description="queued, running, success or error")
    trigger: str = Field(description="manual (API), schedule, or cli")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    jobs_found: int = Field(description="Listings the scan kept (after the keyword filters)")
    jobs_new: int
    jobs_updated: int
    jobs_closed: int = Field(description="Listings gone from the source, closed by this scan")
    error: str | None
    duration_ms: int | None


class ScanHistory(ResponseModel):
    scans: list[ScanRunResponse] = Field(description="Newest first")
    total: int = Field(description="Scans of this board in all")
