"""/api/jobs endpoints: browse, search and triage the jobs found on boards."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Query

from app.api.deps import SessionDep
from app.schemas.job import (
    HideRequest,
    JobListParams,
    JobListResponse,
    JobResponse,
    MarkReadRequest,
    MarkReadResponse,
    RecentJobsParams,
)
from app.services import jobs
from app.services.jobs import JobFilters, JobPage

router = APIRouter(tags=["jobs"])


def _page_response(page: JobPage) -> JobListResponse:
    return JobListResponse(
        jobs=[JobResponse.from_listing(listing) for listing in page.listings],
        total=page.total,
        page=page.page,
        page_size=page.page_size,
        pages=page.pages,
    )


@router.get("/jobs", response_model=JobListResponse)
async def list_jobs(
    session: SessionDep, params: Annotated[JobListParams, Query()]
) -> JobListResponse:
    """List jobs, newest first unless `sort_by` says otherwise, one page at a time.

    Hidden jobs and jobs that have disappeared from their board are left out unless asked for.
    `search` is full text over title, company and description: words must all appear,
    `"quoted phrase"` must appear as written, `-word` excludes, `this OR that` accepts either.
    `C++`, `C#` and `.NET` are words. Jobs with the same sort value are ordered by id, so
    paging is stable; jobs without a posted date or salary come last when sorting by them.
    """
    filters = JobFilters(
        search=params.search,
        board_id=params.board_id,
        min_score=params.min_score,
        max_score=params.max_score,
        location=params.location,
        is_new=params.is_new,
        is_hidden=params.is_hidden,
        include_hidden=params.include_hidden,
        include_closed=params.include_closed,
        posted_days=params.posted_days,
    )
    page = await jobs.list_jobs(
        session,
        filters,
        sort=params.sort_by,
        order=params.sort_order,
        page=params.page,
        page_size=params.page_size,
    )
    return _page_response(page)


@router.get("/jobs/recent", response_model=JobListResponse)
async def list_recent_jobs(
    session: SessionDep, params: Annotated[RecentJobsParams, Query()]
) -> JobListResponse:
    """Visible jobs found within the last `days` days, newest first."""
    page = await jobs.list_jobs(
        session,
        JobFilters(created_days=params.days),
        page=params.page,
        page_size=params.page_size,
    )
    return _page_response(page)


@router.post("/jobs/mark-read", response_model=MarkReadResponse)
async def mark_jobs_read(session: SessionDep, body: MarkReadRequest) -> MarkReadResponse:
    """Mark many jobs read: `{"ids": [...]}` (up to 1000), or `{"all": true}` for every job,
    or `{"all": true, "board_id": ...}` for every job of one board. Unknown ids are skipped."""
    updated = await jobs.mark_many_read(session, ids=body.ids, board_id=body.board_id)
    return MarkReadResponse(updated=updated)


@router.get("/jobs/{job_id}", response_model=JobResponse)
async def get_job(session: SessionDep, job_id: uuid.UUID) -> JobResponse:
    """One job, including hidden and closed ones."""
    return JobResponse.from_listing(await jobs.get_job(session, job_id))


@router.patch("/jobs/{job_id}/hide", response_model=JobResponse)
async def hide_job(
    session: SessionDep,
    job_id: uuid.UUID,
    body: Annotated[HideRequest | None, Body()] = None,
) -> JobResponse:
    """Hide or unhide a job: `{"is_hidden": true|false}` sets it, no body toggles it."""
    hidden = body.is_hidden if body is not None else None
    return JobResponse.from_listing(await jobs.set_hidden(session, job_id, hidden))


@router.patch("/jobs/{job_id}/read", response_model=JobResponse)
async def read_job(session: SessionDep, job_id: uuid.UUID) -> JobResponse:
    """Mark a job read (clears `is_new`)."""
    return JobResponse.from_listing(await jobs.mark_read(session, job_id))
