"""The export document: a versioned file format holding everything the person owns.

It mirrors the tables (one record per row, every column), not the API's shapes, so it can
change only with a new `version`. Import validates a whole document against these models
before anything is written; limits follow the column sizes so no value can fail in the database.
Timestamps have no default: "now" would make two imports of one file disagree.
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from app.errors import AppError
from app.models import ApplicationStatus, AppliedVia, ScanStatus, WorkplaceType
from app.scrapers.config import ScraperConfig, ScraperConfigError, check_config_for_board
from app.services import resume_storage

FORMAT = "hunter-export"
VERSION = 1

INT32_MAX = 2**31 - 1


def _as_utc(moment: datetime) -> datetime:
    """Read a timestamp without an offset as UTC, and bring every other one to UTC."""
    offset = moment.utcoffset()
    if not offset:  # naive, or already UTC: the cheap path for the common case
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("is outside the range of representable dates") from None


Timestamp = Annotated[datetime, AfterValidator(_as_utc)]
Count = Annotated[int, Field(ge=0, le=INT32_MAX)]
# "YYYY-MM" or "present" on the wire; kept lenient so any stored value survives a round trip.
YearMonth = Annotated[str, Field(max_length=7)]


class Record(BaseModel):
    """Base of every record: unknown keys are rejected so a typo is reported, not dropped."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, use_enum_values=True)


def _find_repeat(ids: list[Any]) -> Any | None:
    seen: set[Any] = set()
    for value in ids:
        if value in seen:
            return value
        seen.add(value)
    return None


class EducationRecord(Record):
    id: uuid.UUID
    school: str = Field(max_length=300)
    degree: str | None = Field(default=None, max_length=200)
    field_of_study: str | None = Field(default=None, max_length=200)
    gpa: str | None = Field(default=None, max_length=20)
    graduation_year: Annotated[int, Field(ge=1, le=9999)] | None = None
    created_at: Timestamp
    updated_at: Timestamp


class WorkExperienceRecord(Record):
    id: uuid.UUID
    company: str = Field(max_length=300)
    title: str = Field(max_length=300)
    start_date: YearMonth | None = None
    end_date: YearMonth | None = None
    description: str | None = None
    created_at: Timestamp
    updated_at: Timestamp


class ResumeRecord(Record):
    """The resume file itself, so an export restores it on another machine.

    On import the bytes decide the type (PDF or DOCX), whatever `content_type` says.
    """

    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(default="", max_length=100)
    data_base64: str = Field(description="The file's bytes, base64-encoded (standard alphabet)")
    _data: bytes = PrivateAttr(default=b"")

    @model_validator(mode="after")
    def _decode(self) -> ResumeRecord:
        try:
            self._data = base64.b64decode(self.data_base64, validate=True)
        except ValueError:
            raise ValueError("data_base64 is not valid base64") from None
        try:
            found = resume_storage.detect_content_type(self._data)
        except AppError as exc:
            raise ValueError(exc.message) from None
        self.content_type = found
        self.filename = resume_storage.safe_filename(self.filename, found)
        return self

    @property
    def data(self) -> bytes:
        return self._data


class ProfileRecord(Record):
    id: uuid.UUID
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=50)
    linkedin_url: str | None = Field(default=None, max_length=2048)
    website_url: str | None = Field(default=None, max_length=2048)
    github_url: str | None = Field(default=None, max_length=2048)
    city: str | None = Field(default=None, max_length=200)
    region: str | None = Field(default=None, max_length=200)
    country: str | None = Field(default=None, max_length=200)
    us_citizen: bool | None = None
    sponsorship_needed: bool | None = None
    veteran_status: str | None = Field(default=None, max_length=100)
    disability_status: str | None = Field(default=None, max_length=100)
    gender: str | None = Field(default=None, max_length=100)
    ethnicity: str | None = Field(default=None, max_length=100)
    cover_letter_template: str | None = None
    desired_title: str | None = Field(default=None, max_length=200)
    desired_locations: str | None = Field(default=None, max_length=1000)
    remote_preference: Literal["remote", "hybrid", "onsite", "any"] = "any"
    min_salary: Annotated[int, Field(ge=0, le=INT32_MAX)] | None = None
    skills: list[str] = Field(default_factory=list)
    summary: str | None = None
    created_at: Timestamp
    updated_at: Timestamp
    education: list[EducationRecord] = Field(default_factory=list)
    work_experience: list[WorkExperienceRecord] = Field(default_factory=list)
    resume: ResumeRecord | None = None

    @model_validator(mode="after")
    def _ids_unique(self) -> ProfileRecord:
        for name in ("education", "work_experience"):
            repeated = _find_repeat([item.id for item in getattr(self, name)])
            if repeated is not None:
                raise ValueError(f"{name} lists id {repeated} more than once")
        return self


class BoardRecord(Record):
    id: uuid.UUID
    name: str = Field(min_length=1, max_length=200)
    url: str = Field(min_length=1, max_length=2048)
    enabled: bool = True
    scan_interval_minutes: Annotated[int, Field(ge=5, le=10080)] = 60
    keyword_filters: list[Annotated[str, Field(max_length=100)]] = Field(
        default_factory=list, max_length=50
    )
    scraper_config: ScraperConfig = Field(default_factory=ScraperConfig)
    last_scanned_at: Timestamp | None = None
    last_scan_status: ScanStatus = ScanStatus.never
    last_scan_error: str | None = None
    jobs_found_last_scan: Count = 0
    consecutive_failures: Count = 0
    current_scan_id: uuid.UUID | None = None
    scan_lease_until: Timestamp | None = None
    alerted_failing_at: Timestamp | None = None
    alerted_empty_at: Timestamp | None = None
    created_at: Timestamp
    updated_at: Timestamp

    @field_validator("url")
    @classmethod
    def _http_only(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http:// or https:// URL")
        return url

    @model_validator(mode="after")
    def _config_fits_url(self) -> BoardRecord:
        try:
            check_config_for_board(self.scraper_config, self.url)
        except ScraperConfigError as exc:
            raise ValueError(str(exc)) from None
        return self

    def stored_config(self) -> dict[str, Any]:
        """The config as a board row keeps it: only the keys the document set."""
        return self.scraper_config.model_dump(mode="json", exclude_unset=True)


class JobRecord(Record):
    id: uuid.UUID
    board_id: uuid.UUID
    title: str = Field(max_length=500)
    company: str = Field(default="", max_length=300)
    location: str = Field(default="", max_length=500)
    url: str = Field(default="", max_length=2048)
    description: str = ""
    salary_min: float | None = None
    salary_max: float | None = None
    salary_currency: str | None = Field(default=None, max_length=8)
    salary_period: str | None = Field(default=None, max_length=16)
    match_score: Annotated[float, Field(ge=0, le=100)] = 0.0
    match_details: dict[str, Any] = Field(default_factory=dict)
    dedup_hash: str = Field(min_length=1, max_length=64)
    content_hash: str | None = Field(default=None, max_length=64)
    external_id: str | None = Field(default=None, max_length=300)
    posted_date: Timestamp | None = None
    first_seen_at: Timestamp
    last_seen_at: Timestamp
    closed_at: Timestamp | None = None
    workplace_type: WorkplaceType = WorkplaceType.unknown
    employment_type: str | None = Field(default=None, max_length=100)
    department: str | None = Field(default=None, max_length=300)
    is_new: bool = True
    is_hidden: bool = False
    created_at: Timestamp
    updated_at: Timestamp


class ApplicationLogRecord(Record):
    id: uuid.UUID
    application_id: uuid.UUID | None = Field(
        default=None, description="The enclosing application's id; may be left out"
    )
    action: str = Field(min_length=1, max_length=50)
    details: str = ""
    from_status: ApplicationStatus | None = None
    to_status: ApplicationStatus | None = None
    timestamp: Timestamp


class ApplicationRecord(Record):
    id: uuid.UUID
    job_id: uuid.UUID | None = None
    company: str = Field(default="", max_length=300)
    title: str = Field(default="", max_length=500)
    url: str = Field(default="", max_length=2048)
    status: ApplicationStatus = ApplicationStatus.applied
    notes: str = ""
    applied_via: AppliedVia = AppliedVia.manual
    applied_at: Timestamp
    follow_up_at: Timestamp | None = None
    created_at: Timestamp
    updated_at: Timestamp
    logs: list[ApplicationLogRecord] = Field(default_factory=list)

    @model_validator(mode="after")
    def _logs_belong_here(self) -> ApplicationRecord:
        for log in self.logs:
            if log.application_id is not None and log.application_id != self.id:
                raise ValueError(
                    f"log {log.id} belongs to application {log.application_id}, "
                    f"which is not the application {self.id} that lists it"
                )
        return self


class ExportDocument(Record):
    """Everything the person owns: profile, boards, jobs and applications with their logs."""

    format: Literal["hunter-export"]
    version: Literal[1]
    exported_at: Timestamp
    profile: ProfileRecord | None = None
    boards: list[BoardRecord] = Field(default_factory=list)
    jobs: list[JobRecord] = Field(default_factory=list)
    applications: list[ApplicationRecord] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ids_unique(self) -> ExportDocument:
        # A repeated id would make one upsert touch the same row twice.
        checks: list[tuple[str, list[Any]]] = [
            ("boards list board id", [board.id for board in self.boards]),
            ("jobs list job id", [job.id for job in self.jobs]),
            ("jobs list dedup_hash", [job.dedup_hash for job in self.jobs]),
            ("applications list application id", [app.id for app in self.applications]),
            (
                "applications list log id",
                [log.id for app in self.applications for log in app.logs],
            ),
        ]
        for what, values in checks:
            repeated = _find_repeat(values)
            if repeated is not None:
                raise ValueError(f"{what} {repeated} more than once")
        return self


class ImportCounts(BaseModel):
    profile: bool = Field(description="Whether the document carried a profile")
    boards: int
    jobs: int = Field(description="Jobs written; a job already stored under another id is merged")
    applications: int
    application_logs: int


class ImportResponse(BaseModel):
    imported: ImportCounts
