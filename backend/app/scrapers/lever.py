"""Lever sites, read from the public postings API page by page (global or EU host)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from app.config import Settings, settings
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
from app.scrapers.errors import BadConfig, BadResponse, not_found_as_board
from app.scrapers.salary import Salary, parse_salary, structured_salary
from app.scrapers.text import clean_text, html_to_text, single_line

PAGE_SIZE = 100
MAX_PAGES = 50
EU_API_URL = "https://api.eu.lever.co"


def api_base(request: ScrapeRequest) -> str:
    """The postings API host for this board: the EU host for EU sites on the public API."""
    region = request.config.lever_region
    is_eu = region == "eu" or (region is None and detect.lever_is_eu(request.url))
    public = Settings.model_fields["lever_api_url"].default
    if is_eu and settings.lever_api_url == public:
        return EU_API_URL
    # A configured (non-public) host is used as is: it is a proxy or a test server.
    return settings.lever_api_url


class LeverScraper(Scraper):
    name = "lever"

    async def scrape(self, request: ScrapeRequest, context: FetchContext) -> ScrapeResult:
        site = request.config.site_slug or detect.lever_site(request.url)
        if not site:
            raise BadConfig(
                "no Lever site: set scraper_config.site_slug or use a jobs.lever.co/<site> URL"
            )
        url = f"{api_base(request)}/v0/postings/{quote(site, safe='')}"
        jobs: list[RawJob] = []
        seen: set[str] = set()
        complete = False
        pages = 0
        while pages < MAX_PAGES:
            params: dict[str, str | int] = {
                "mode": "json",
                "skip": pages * PAGE_SIZE,
                "limit": PAGE_SIZE,
            }
            with not_found_as_board(f"Lever site `{site}`", url):
                page = await context.fetcher.get_json(url, params=params, expect="Lever postings")
            pages += 1
            if not isinstance(page, list):
                raise BadResponse(f"expected a JSON list of postings from Lever site `{site}`")
            fresh = [item for item in page if _id(item) not in seen]
            for item in fresh:
                seen.add(_id(item))
                if job := _job(item, request.board_name):
                    jobs.append(job)
            if page and not fresh:
                break  # the host ignores `skip`: what lies beyond is unknown
            if len(page) < PAGE_SIZE:
                complete = True
                break
        warnings = [] if complete else [f"stopped after {pages} pages of Lever postings"]
        return ScrapeResult(jobs=jobs, complete=complete, pages_fetched=pages, warnings=warnings)


def _id(item: Any) -> str:
    return str(dig(item, "id") or id(item))


def _job(item: Any, board_name: str) -> RawJob | None:
    title = single_line(dig(item, "text"))
    url = single_line(dig(item, "hostedUrl")) or single_line(dig(item, "applyUrl"))
    if not title or not url:
        return None
    all_locations = [single_line(place) for place in dig(item, "categories", "allLocations") or []]
    location = "; ".join(filter(None, all_locations)) or single_line(
        dig(item, "categories", "location")
    )
    external_id = dig(item, "id")
    job = RawJob(
        title=title,
        url=url,
        company=board_name,
        location=location,
        description=_description(item),
        external_id=str(external_id) if external_id else None,
        posted_date=parse_date(dig(item, "createdAt")),
        workplace_type=workplace_type(single_line(dig(item, "workplaceType")), location),
        employment_type=employment_type(single_line(dig(item, "categories", "commitment"))),
        department=single_line(dig(item, "categories", "department"))
        or single_line(dig(item, "categories", "team"))
        or None,
    )
    job.set_salary(_salary(item))
    return job


def _description(item: Any) -> str:
    parts = [clean_text(dig(item, "descriptionPlain")) or html_to_text(dig(item, "description"))]
    for section in dig(item, "lists") or []:
        heading = single_line(dig(section, "text"))
        body = html_to_text(dig(section, "content"))
        if heading or body:
            parts.append(f"{heading}\n{body}".strip())
    parts.append(clean_text(dig(item, "additionalPlain")) or html_to_text(dig(item, "additional")))
    return "\n\n".join(part for part in parts if part)


def _salary(item: Any) -> Salary | None:
    pay = dig(item, "salaryRange")
    return structured_salary(
        dig(pay, "min"),
        dig(pay, "max"),
        single_line(dig(pay, "currency")),
        single_line(dig(pay, "interval")),
    ) or parse_salary(single_line(dig(item, "salaryDescriptionPlain")))
