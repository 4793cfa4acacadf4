"""The scraper plug-in interface: what a scraper is given, and the raw jobs it hands back.

A scraper turns one board (its URL, name and validated `ScraperConfig`) into `RawJob`s using the
shared `FetchContext`. It knows nothing of the database: normalising, filtering, deduplicating
and storing are the scan pipeline's job.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from app.scrapers.config import ScraperConfig
from app.scrapers.http import Fetcher
from app.scrapers.salary import Salary, SalaryPeriod

if TYPE_CHECKING:
    from app.scrapers.browser import SharedBrowser

WorkplaceType = Literal["remote", "hybrid", "onsite", "unknown"]

__all__ = [
    "FetchContext",
    "RawJob",
    "SalaryPeriod",
    "ScrapeRequest",
    "ScrapeResult",
    "Scraper",
    "WorkplaceType",
    "dig",
    "employment_type",
    "workplace_type",
]


@dataclass(slots=True, kw_only=True)
class RawJob:
    """One listing as a source describes it, already in plain text and typed values."""

    title: str
    url: str
    company: str | None = None
    location: str = ""
    description: str = ""
    external_id: str | None = None
    posted_date: datetime | None = None
    salary_min: float | None = None
    salary_max: float | None = None
    salary_currency: str | None = None
    salary_period: SalaryPeriod | None = None
    workplace_type: WorkplaceType = "unknown"
    employment_type: str | None = None
    department: str | None = None

    def set_salary(self, salary: Salary | None) -> None:
        if salary is None:
            return
        self.salary_min, self.salary_max = salary.min, salary.max
        self.salary_currency, self.salary_period = salary.currency, salary.period


@dataclass(frozen=True, slots=True)
class ScrapeRequest:
    """The board to scrape."""

    url: str
    board_name: str
    config: ScraperConfig = field(default_factory=ScraperConfig)


@dataclass(slots=True)
class ScrapeResult:
    """What a scrape found.

    `complete` is True only when the source returned its whole list, so listings missing from
    it may be closed; `warnings` are partial failures worth showing (details that did not load).
    """

    jobs: list[RawJob]
    complete: bool
    pages_fetched: int = 0
    warnings: list[str] = field(default_factory=list)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class FetchContext:
    """What scrapers share within a process: the HTTP fetcher, the browser, and a clock.

    Without a `browser`, browser-based scrapers use the process-wide one
    (`app.scrapers.browser.shared_browser()`).
    """

    fetcher: Fetcher
    browser: SharedBrowser | None = None
    clock: Callable[[], datetime] = _utcnow


class Scraper(ABC):
    """One way of reading a board; registered by `name` (a `ScraperType` value)."""

    name: ClassVar[str]

    @abstractmethod
    async def scrape(self, request: ScrapeRequest, context: FetchContext) -> ScrapeResult:
        """Fetch the board and return its jobs, or raise a `ScrapeError` saying why not."""


def dig(data: Any, *path: str | int) -> Any:
    """The value at `path` in parsed JSON, or None wherever the shape differs from expected."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(data, list) or not -len(data) <= step < len(data):
                return None
        elif not isinstance(data, dict):
            return None
        data = data[step] if isinstance(step, int) else data.get(step)
    return data


_REMOTE = re.compile(r"\b(remote|telecommute|work from home|wfh|anywhere)\b", re.IGNORECASE)
_HYBRID = re.compile(r"\bhybrid\b", re.IGNORECASE)
_ONSITE = re.compile(r"\b(on[- ]?site|in[- ]office|office[- ]based)\b", re.IGNORECASE)


def workplace_type(*hints: str | None) -> WorkplaceType:
    """The workplace type named by an ATS field ("OnSite", "remote") or mentioned in text.

    Hints are tried in order, so pass the most explicit source first (a workplace field before
    the location text).
    """
    for hint in hints:
        if not hint:
            continue
        if _HYBRID.search(hint):
            return "hybrid"
        if _REMOTE.search(hint):
            return "remote"
        if _ONSITE.search(hint) or hint.strip().lower() in ("onsite", "in_office", "office"):
            return "onsite"
    return "unknown"


_EMPLOYMENT_TYPES = {
    "fulltime": "Full-time",
    "parttime": "Part-time",
    "contract": "Contract",
    "contractor": "Contract",
    "temporary": "Temporary",
    "temp": "Temporary",
    "intern": "Internship",
    "internship": "Internship",
    "volunteer": "Volunteer",
    "perdiem": "Per diem",
    "seasonal": "Seasonal",
}


def employment_type(value: str | list[str] | None) -> str | None:
    """One spelling for employment types: "FULL_TIME", "FullTime", "Full time" → "Full-time"."""
    if value is None:
        return None
    values = value if isinstance(value, list) else [value]
    names: list[str] = []
    for raw in values:
        if not isinstance(raw, str) or not raw.strip():
            continue
        key = re.sub(r"[^a-z]", "", raw.lower())
        name = _EMPLOYMENT_TYPES.get(key, raw.strip())
        if name not in names:
            names.append(name)
    return ", ".join(names) or None
