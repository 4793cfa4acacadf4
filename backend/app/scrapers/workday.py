"""Workday career sites, read through the CXS API that their own job search page uses.

The list endpoint is paged by offset and gives titles, paths and "Posted 3 Days Ago"; each job's
detail endpoint adds the description and exact dates. Details are fetched concurrently (bounded
by the fetcher's per-host cap); a detail that fails keeps the listing with what the list gave.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from app.scrapers import detect
from app.scrapers.base import (
    FetchContext,
    RawJob,
    Scraper,
    ScrapeRequest,
    ScrapeResult,
    dig,
    employment_type,
    workplace_type,
)
from app.scrapers.dates import parse_date
from app.scrapers.errors import (
    BadConfig,
    BadResponse,
    BlockedUrl,
    ScrapeError,
    not_found_as_board,
)
from app.scrapers.http import Fetcher
from app.scrapers.salary import salary_from_description
from app.scrapers.text import html_to_text, single_line

PAGE_SIZE = 20
MAX_PAGES = 100  # 2,000 jobs; Workday itself stops paging around there
MAX_DETAIL_FAILURES = 10


class WorkdayScraper(Scraper):
    name = "workday"

    async def scrape(self, request: ScrapeRequest, context: FetchContext) -> ScrapeResult:
        parts = urlsplit(request.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise BlockedUrl(f"`{request.url}` is not an http(s) Workday URL")
        origin = f"{parts.scheme}://{parts.netloc}"
        detected = detect.workday_site(request.url)
        tenant = request.config.workday_tenant or (detected.tenant if detected else None)
        site = request.config.workday_site or (detected.site if detected else None)
        if not tenant or not site:
            raise BadConfig(
                "no Workday tenant/site: set scraper_config.workday_tenant and workday_site or "
                "use a <tenant>.wdN.myworkdayjobs.com/<site> URL"
            )
        api = f"{origin}/wday/cxs/{quote(tenant, safe='')}/{quote(site, safe='')}"
        board = _Board(
            api=api,
            public=f"{origin}/{site}",
            label=f"{tenant}/{site}",
            name=request.board_name,
            now=context.clock(),
        )
        listings, pages, complete = await _list(
            context.fetcher, board, request.config.search_text or ""
        )
        loader = _DetailLoader(context.fetcher, board)
        details = await asyncio.gather(*(loader.load(listing) for listing in listings))
        pairs = zip(listings, details, strict=True)
        jobs = [job for listing, detail in pairs if (job := _job(board, listing, detail))]
        warnings = []
        failed = sum(detail is None for detail in details)
        if failed:
            warnings.append(f"{failed} of {len(listings)} Workday job details could not be loaded")
        if not complete:
            warnings.append(f"stopped after {pages} pages of Workday results")
        return ScrapeResult(jobs=jobs, complete=complete, pages_fetched=pages, warnings=warnings)


@dataclass(frozen=True, slots=True)
class _Board:
    api: str  # {origin}/wday/cxs/{tenant}/{site}
    public: str  # {origin}/{site}, where job pages live
    label: str  # tenant/site, for messages
    name: str  # the board's name in Hunter, the company when Workday names none
    now: datetime


async def _list(fetcher: Fetcher, board: _Board, search_text: str) -> tuple[list[Any], int, bool]:
    """Every listing (up to the page cap), pages fetched, and whether the list is complete."""
    listings: list[Any] = []
    seen: set[str] = set()
    total: int | None = None
    for page in range(MAX_PAGES):
        body = {
            "appliedFacets": {},
            "limit": PAGE_SIZE,
            "offset": page * PAGE_SIZE,
            "searchText": search_text,
        }
        with not_found_as_board(f"Workday site `{board.label}`", board.api):
            data = await fetcher.post_json(f"{board.api}/jobs", body, expect="Workday job list")
        postings = dig(data, "jobPostings")
        if not isinstance(postings, list):
            raise BadResponse(
                f"expected an object with a `jobPostings` list from Workday site `{board.label}`"
            )
        # Workday reports `total` on the first page only (later pages say 0).
        if total is None and isinstance(dig(data, "total"), int):
            total = dig(data, "total")
        fresh = [p for p in postings if _path(p) and _path(p) not in seen]
        for posting in fresh:
            seen.add(_path(posting))
            listings.append(posting)
        if postings and not fresh:
            return listings, page + 1, False  # the host ignores `offset`: the rest is unknown
        done = (page + 1) * PAGE_SIZE >= total if total else len(postings) < PAGE_SIZE
        if not postings or done:
            return listings, page + 1, True
    return listings, MAX_PAGES, False


class _DetailLoader:
    """Loads job details, and stops trying once too many have failed.

    When a tenant is down, each failed detail costs its retries; without a breaker a large
    board would keep a scan busy for many minutes only to keep the listings it already has.
    """

    def __init__(self, fetcher: Fetcher, board: _Board) -> None:
        self.fetcher, self.board = fetcher, board
        self.failures = 0
        # Queue here rather than in the fetcher, so the breaker is checked when a turn comes.
        self.turns = asyncio.Semaphore(fetcher.max_per_host)

    async def load(self, listing: Any) -> Any:
        """The listing's detail document, or None if it could not be loaded."""
        async with self.turns:
            if self.failures >= MAX_DETAIL_FAILURES:
                return None
            try:
                data = await self.fetcher.get_json(
                    f"{self.board.api}{_path(listing)}", expect="a Workday job"
                )
            except ScrapeError:
                self.failures += 1
                return None
        return data if isinstance(dig(data, "jobPostingInfo"), dict) else None


def _path(posting: Any) -> str:
    path = dig(posting, "externalPath")
    return path if isinstance(path, str) and path.startswith("/") else ""


def _job(board: _Board, listing: Any, detail: Any) -> RawJob | None:
    info = dig(detail, "jobPostingInfo")
    title = single_line(dig(info, "title")) or single_line(dig(listing, "title"))
    path = _path(listing)
    if not title or not path:
        return None
    places = [single_line(dig(info, "location"))]
    places += [single_line(place) for place in dig(info, "additionalLocations") or []]
    location = "; ".join(dict.fromkeys(p for p in places if p)) or single_line(
        dig(listing, "locationsText")
    )
    description = html_to_text(dig(info, "jobDescription"))
    posted = parse_date(dig(info, "startDate"), now=board.now) or parse_date(
        dig(info, "postedOn") or dig(listing, "postedOn"), now=board.now
    )
    job = RawJob(
        title=title,
        url=single_line(dig(info, "externalUrl")) or f"{board.public}{path}",
        company=single_line(dig(detail, "hiringOrganization", "name")) or board.name,
        location=location,
        description=description,
        # The path is known with or without the detail, so the id stays stable either way.
        external_id=path,
        posted_date=posted,
        workplace_type=workplace_type(single_line(dig(info, "remoteType")), location, title),
        employment_type=employment_type(
            single_line(dig(info, "timeType")) or single_line(dig(listing, "timeType")) or None
        ),
    )
    job.set_salary(salary_from_description(description))
    return job
