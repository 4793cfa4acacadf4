"""Wire format of /api/jobs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, model_validator

from app.schemas.common import RequestModel, ResponseModel
from app.services.jobs import JobListing, JobSort, SortOrder

SEARCH_MAX_LENGTH = 500


class JobListParams(BaseModel):
    """Query parameters of `GET /api/jobs`."""

    search: str | None = Field(
        default=None,
        max_length=SEARCH_MAX_LENGTH,
        description='Full text: words (all must match), "a phrase", -excluded, this OR that.',
    )
    board_id: uuid.UUID | None = None
    min_score: float | None = Field(default=None, ge=0, le=100)
    max_score: float | None = Field(default=None, ge=0, le=100)
    location: str | None = Field(
        default=None, max_length=500, description="Case-insensitive substring of the location."
    )
    is_new: bool | None = None
    is_hidden: bool | None = Field(
        default=None, description="true: only hidden jobs; false or absent: only visible ones."
    )
    include_hidden: bool = Field(default=False, description="List hidden and visible jobs.")
    include_closed: bool = Field(
        default=False, description="Also list jobs that have disappeared from their board."
    )
    posted_days: int | None = Field(
        default=None, ge=1, le=365, description="Posted within this many days."
    )
    sort_by: JobSort = Field(
        default="created_at",
        description="`relevance` needs `search`; without it jobs sort by `created_at`.",
    )
    sort_order: SortOrder = "desc"
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=25, ge=1, le=100)


class RecentJobsParams(BaseModel):
    """Query parameters of `GET /api/jobs/recent`."""

    days: int = Field(default=7, ge=1, le=365, description="Found within this many days.")
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=25, ge=1, le=100)


class JobResponse(ResponseModel):
    id: uuid.UUID
    board_id: uuid.UUID
    title: str
    company: str
    location: str
    url: str
    posted_date: datetime | None
    salary_min: float | None
    salary_max: float | None
    salary_currency: str | None
    description: str
    match_score: float
    is_new: bool
    is_hidden: bool
    created_at: datetime
    updated_at: datetime
    board_name: str
    application_status: str | None = Field(
        description="Status of the most recently updated application for this job, if any."
    )
    salary_period: str | None
    match_details: dict[str, Any] = Field(description="Why the job scored what it did.")
    workplace_type: str
    employment_type: str | None
    department: str | None
    external_id: str | None
    first_seen_at: datetime
    last_seen_at: datetime
    closed_at: datetime | None = Field(
        description="When the listing disappeared from its board; null while it is open."
    )

    @classmethod
    def from_listing(cls, listing: JobListing) -> JobResponse:
        job = listing.job
        return cls(
            id=job.id,
            board_id=job.board_id,
            title=job.title,
            company=job.company,
            location=job.location,
            url=job.url,
            posted_date=job.posted_date,
            salary_min=job.salary_min,
            salary_max=job.salary_max,
            salary_currency=job.salary_currency,
            description=job.description,
            match_score=job.match_score,
            is_new=job.is_new,
            is_hidden=job.is_hidden,
            created_at=job.created_at,
            updated_at=job.updated_at,
            board_name=listing.board_name,
            application_status=listing.application_status,
            salary_period=job.salary_period,
            match_details=job.match_details,
            workplace_type=job.workplace_type,
            employment_type=job.employment_type,
            department=job.department,
            external_id=job.external_id,
            first_seen_at=job.first_seen_at,
            last_seen_at=job.last_seen_at,
            closed_at=job.closed_at,
        )


class JobListResponse(ResponseModel):
    jobs: list[JobResponse]
    total: int = Field(description="Jobs matching the filters, over all pages.")
    page: int
    page_size: int
    pages: int = Field(description="Number of pages (0 when nothing matches).")


class HideRequest(RequestModel):
    """Optional body of `PATCH /api/jobs/{id}/hide`: no body (or no `is_hidden`) toggles."""

    is_hidden: bool | None = None


class MarkReadRequest(RequestModel):
    """Either `ids`, or `all: true` (optionally limited to one `board_id`)."""

    ids: list[uuid.UUID] | None = Field(default=None, max_length=1000)
    all: bool = False
    board_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _one_selection(self) -> MarkReadRequest:
        if self.ids is not None and self.all:
            raise ValueError("give either `ids` or `all`, not both")
        if self.ids is None and not self.all:
            raise ValueError("give `ids` (a list of job ids) or `all: true`")
        if self.board_id is not None and not self.all:
            raise ValueError("`board_id` only applies together with `all: true`")
        return self


class MarkReadResponse(ResponseModel):
    updated: int = Field(description="Jobs that were new and are now marked read.")
