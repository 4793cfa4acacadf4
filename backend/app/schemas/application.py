"""Wire format of /api/applications and the dashboard."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Self
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from app.models import Application, ApplicationStatus, AppliedVia
from app.schemas.common import RequestModel, ResponseModel

MAX_NOTES_LENGTH = 20_000
MAX_BULK_DELETE = 1000


def parse_moment(value: Any) -> Any:
    """Read an ISO date ("2026-05-01", meaning 00:00 UTC) or an ISO datetime."""
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f"must be an ISO date (YYYY-MM-DD) or datetime (YYYY-MM-DDTHH:MM:SS), "
                f"got {value[:40]!r}"
            ) from None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time())
    return value


def as_utc(value: dt.datetime) -> dt.datetime:
    """Naive datetimes are UTC; aware ones are converted to UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError("is out of range") from None


Moment = Annotated[
    dt.datetime,
    BeforeValidator(parse_moment),
    AfterValidator(as_utc),
    Field(examples=["2026-05-01", "2026-05-01T09:30:00Z"]),
]


def check_url(url: str) -> str:
    """An application's link, if given, must be an absolute http(s) URL."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        raise ValueError("is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http:// or https:// URL")
    if any(char.isspace() for char in url):
        raise ValueError("must not contain spaces")
    return url


def no_nul(text: str) -> str:
    # PostgreSQL cannot store NUL in text; refuse it here rather than fail on save.
    if "\x00" in text:
        raise ValueError("must not contain NUL characters")
    return text


ApplicationUrl = Annotated[
    str, Field(max_length=2048), AfterValidator(no_nul), AfterValidator(check_url)
]
Notes = Annotated[str, Field(max_length=MAX_NOTES_LENGTH), AfterValidator(no_nul)]
Company = Annotated[str, Field(max_length=300), AfterValidator(no_nul)]
Title = Annotated[str, Field(max_length=500), AfterValidator(no_nul)]


class ApplicationCreate(RequestModel):
    """A new application: for a listing Hunter found (`job_id`), or one found elsewhere
    (`company` and `title`)."""

    job_id: uuid.UUID | None = None
    status: ApplicationStatus = ApplicationStatus.applied
    notes: Notes | None = None
    applied_via: AppliedVia = AppliedVia.manual
    company: Company | None = None
    title: Title | None = None
    url: ApplicationUrl | None = None
    applied_at: Moment | None = Field(default=None, description="Defaults to now")
    follow_up_at: Moment | None = Field(default=None, description="When to follow up")

    @model_validator(mode="after")
    def _needs_company_and_title_without_job(self) -> Self:
        if self.job_id is None:
            missing = [name for name in ("company", "title") if not getattr(self, name)]
            if missing:
                verb = "is" if len(missing) == 1 else "are"
                raise ValueError(f"{' and '.join(missing)} {verb} required when no job_id is given")
        return self


class ApplicationUpdate(RequestModel):
    """Any subset of the fields; each real change is recorded in the application's log."""

    status: ApplicationStatus | None = None
    notes: Notes | None = None
    follow_up_at: Moment | None = Field(default=None, description="null clears the reminder")
    applied_at: Moment | None = None

    @model_validator(mode="after")
    def _no_null_for_required(self) -> Self:
        for name in ("status", "applied_at"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class BulkDeleteRequest(RequestModel):
    ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_BULK_DELETE)


class BulkDeleteResponse(ResponseModel):
    deleted: int
    not_found: list[uuid.UUID]


class ApplicationLogResponse(ResponseModel):
    id: uuid.UUID
    action: str
    details: str
    from_status: ApplicationStatus | None
    to_status: ApplicationStatus | None
    timestamp: dt.datetime


class ApplicationResponse(ResponseModel):
    id: uuid.UUID
    job_id: uuid.UUID | None
    status: ApplicationStatus
    notes: str
    applied_via: AppliedVia
    created_at: dt.datetime
    updated_at: dt.datetime
    logs: list[ApplicationLogResponse] = Field(description="Oldest first")
    job_title: str = Field(description="The application's own copy of the listing's title")
    job_company: str
    job_url: str
    match_score: float | None = Field(description="The linked listing's score; null if it is gone")
    company: str
    title: str
    url: str
    applied_at: dt.datetime
    follow_up_at: dt.datetime | None
    board_name: str | None = Field(description="Board of the linked listing; null if it is gone")

    @classmethod
    def from_application(
        cls, application: Application, *, match_score: float | None, board_name: str | None
    ) -> Self:
        return cls(
            id=application.id,
            job_id=application.job_id,
            status=ApplicationStatus(application.status),
            notes=application.notes,
            applied_via=AppliedVia(application.applied_via),
            created_at=application.created_at,
            updated_at=application.updated_at,
            logs=[ApplicationLogResponse.model_validate(log) for log in application.logs],
            job_title=application.title,
            job_company=application.company,
            job_url=application.url,
            match_score=match_score,
            company=application.company,
            title=application.title,
            url=application.url,
            applied_at=application.applied_at,
            follow_up_at=application.follow_up_at,
            board_name=board_name,
        )


class ApplicationList(ResponseModel):
    applications: list[ApplicationResponse]
    total: int
    page: int
    page_size: int


class BoardStats(ResponseModel):
    total: int
    enabled: int
    failing: int = Field(description="Enabled boards whose last scan failed")


class BoardJobCount(ResponseModel):
    board: str = Field(description="The board's name")
    board_id: uuid.UUID
    count: int = Field(description="Open listings on the board")


class DayCount(ResponseModel):
    date: dt.date
    count: int


class WeekCount(ResponseModel):
    week_start: dt.date = Field(description="The Monday the week starts on")
    count: int


class ActivityItem(ResponseModel):
    action: str
    details: str
    timestamp: dt.datetime
    application_id: uuid.UUID
    company: str
    title: str


class DashboardStats(ResponseModel):
    active_boards: int = Field(description="Enabled boards")
    total_jobs: int = Field(description="Open listings (hidden ones included)")
    new_jobs: int = Field(description="Open, visible listings not yet read")
    total_applications: int
    applications_by_status: dict[ApplicationStatus, int] = Field(
        description="Every status, zeros included"
    )
    jobs_by_board: list[BoardJobCount] = Field(description="Largest first")
    applications_over_time: list[DayCount] = Field(
        description="Applications per day (by applied date, UTC) for the last 30 days"
    )
    recent_activity: list[ActivityItem] = Field(description="Latest log entries, newest first")
    boards: BoardStats
    jobs_this_week: int = Field(description="Listings first seen in the last 7 days")
    high_match_jobs: int = Field(description="Open, visible listings scoring at least 70")
    response_rate: float | None = Field(
        description="Share (0-1) of the applications not archived that got an answer: "
        "interviewing, offered or rejected, or withdrawn after one of those; null when there "
        "are none"
    )
    applications_per_week: list[WeekCount] = Field(description="The last 12 weeks, oldest first")
    jobs_found_per_day: list[DayCount] = Field(description="The last 30 days (UTC), oldest first")
    follow_ups_due: int = Field(description="Open applications whose follow-up date has come")
