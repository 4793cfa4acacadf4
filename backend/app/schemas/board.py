"""Wire format of /api/boards: what a client sends to create or change a board, and what it gets."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, ValidationError, field_validator

from app.models import JobBoard
from app.schemas.common import RequestModel, ResponseModel
from app.scrapers.config import ScraperConfig

MAX_URL_LENGTH = 2048
MAX_KEYWORD_FILTERS = 50


def check_board_url(url: str) -> str:
    """Accept only absolute http(s) URLs with a host: a board is a page Hunter can fetch."""
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"must be at most {MAX_URL_LENGTH} characters")
    if any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in url):
        raise ValueError("must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a port that is not a number in 0-65535
    except ValueError:
        raise ValueError("is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError("must be an http:// or https:// URL")
    if not parts.hostname:
        raise ValueError("must include a host name, e.g. https://careers.example.com/jobs")
    return url


def dedupe_keywords(keywords: list[str]) -> list[str]:
    """Drop repeats that differ only in case, keeping the first spelling."""
    seen: set[str] = set()
    unique: list[str] = []
    for keyword in keywords:
        key = keyword.casefold()
        if key not in seen:
            seen.add(key)
            unique.append(keyword)
    return unique


BoardName = Annotated[str, Field(min_length=1, max_length=200)]
BoardUrl = Annotated[
    str,
    Field(examples=["https://boards.greenhouse.io/acme"]),
    AfterValidator(check_board_url),
]
ScanInterval = Annotated[
    int, Field(ge=5, le=10080, description="Minutes between scheduled scans (5 to 10080)")
]
Keyword = Annotated[str, Field(min_length=1, max_length=100)]
KeywordFilters = Annotated[
    list[Keyword],
    Field(
        max_length=MAX_KEYWORD_FILTERS,
        description="A job is kept if it matches at least one (whole words, any case); "
        "empty keeps every job. Repeats differing only in case are dropped.",
    ),
    AfterValidator(dedupe_keywords),
]


class BoardCreate(RequestModel):
    """A new board. Only `name` and `url` are required."""

    name: BoardName
    url: BoardUrl
    scan_interval_minutes: ScanInterval = 60
    enabled: bool = True
    keyword_filters: KeywordFilters = Field(default_factory=list)
    scraper_config: ScraperConfig = Field(default_factory=ScraperConfig)


class BoardUpdate(RequestModel):
    """Any subset of the create fields; fields left out keep their value.

    `scraper_config`, when given, replaces the whole config.
    """

    name: BoardName | None = None
    url: BoardUrl | None = None
    scan_interval_minutes: ScanInterval | None = None
    enabled: bool | None = None
    keyword_filters: KeywordFilters | None = None
    scraper_config: ScraperConfig | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Runs only for fields the client sent: leaving a field out keeps it, `null` is a mistake.
        if value is None:
            raise ValueError("must not be null (leave the field out to keep its value)")
        return value


def expand_scraper_config(stored: dict[str, Any]) -> dict[str, Any]:
    """The full config as clients see it: every key, defaults filled in."""
    try:
        return ScraperConfig.model_validate(stored).model_dump(mode="json")
    except ValidationError:
        # A row written before a rule was tightened: show it as stored rather than fail the list.
        return {"scraper_type": "auto", **stored}


class BoardResponse(ResponseModel):
    id: uuid.UUID
    name: str
    url: str
    scan_interval_minutes: int
    enabled: bool
    keyword_filters: list[str]
    scraper_config: dict[str, Any] = Field(
        description="Every ScraperConfig key, with defaults filled in"
    )
    last_scanned_at: datetime | None
    last_scan_status: str = Field(description="never, queued, running, success or error")
    last_scan_error: str | None
    jobs_found_last_scan: int
    consecutive_failures: int = Field(description="Scans in a row that ended in an error")
    job_count: int = Field(description="Open listings of this board (not closed on the source)")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_board(cls, board: JobBoard, *, job_count: int) -> BoardResponse:
        return cls(
            id=board.id,
            name=board.name,
            url=board.url,
            scan_interval_minutes=board.scan_interval_minutes,
            enabled=board.enabled,
            keyword_filters=list(board.keyword_filters),
            scraper_config=expand_scraper_config(board.scraper_config),
            last_scanned_at=board.last_scanned_at,
            last_scan_status=board.last_scan_status,
            last_scan_error=board.last_scan_error,
            jobs_found_last_scan=board.jobs_found_last_scan,
            consecutive_failures=board.consecutive_failures,
            job_count=job_count,
            created_at=board.created_at,
            updated_at=board.updated_at,
        )


class BoardList(ResponseModel):
    boards: list[BoardResponse]
    total: int


class DetectRequest(RequestModel):
    """A URL to classify, optionally with the config the person has so far."""

    url: BoardUrl
    scraper_config: ScraperConfig | None = None
    probe: bool = Field(
        default=False,
        description="Fetch the page once to look for schema.org JobPosting data",
    )


class DetectResponse(ResponseModel):
    """What `auto` would do with the URL."""

    scraper_type: str
    config: dict[str, Any]
    reason: str
    fallback: str | None
    probed: bool
    jobs_found: int | None
    probe_error: str | None
