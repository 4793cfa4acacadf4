"""Greenhouse boards, read from the public job board API (one request returns every job)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from app.config import settings
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
from app.scrapers.salary import salary_from_description
from app.scrapers.text import html_to_text, single_line


class GreenhouseScraper(Scraper):
    name = "greenhouse"

    async def scrape(self, request: ScrapeRequest, context: FetchContext) -> ScrapeResult:
        token = request.config.board_token or detect.greenhouse_token(request.url)
        if not token:
            raise BadConfig(
                "no Greenhouse board token: set scraper_config.board_token or use a "
                "boards.greenhouse.io/<token> URL"
            )
        url = f"{settings.greenhouse_api_url}/v1/boards/{quote(token, safe='')}/jobs"
        with not_found_as_board(f"Greenhouse board `{token}`", url):
            data = await context.fetcher.get_json(
                url, params={"content": "true"}, expect="Greenhouse's job list"
            )
        postings = dig(data, "jobs")
        if not isinstance(postings, list):
            raise BadResponse(
                f"expected an object with a `jobs` list from Greenhouse board `{token}`"
            )
        jobs = [job for item in postings if (job := _job(item, token, request.board_name))]
        return ScrapeResult(jobs=jobs, complete=True, pages_fetched=1)


def _job(item: Any, token: str, board_name: str) -> RawJob | None:
    title = single_line(dig(item, "title"))
    job_id = dig(item, "id")
    url = single_line(dig(item, "absolute_url"))
    if not url and job_id is not None:
        url = f"https://boards.greenhouse.io/{token}/jobs/{job_id}"
    if not title or not url:
        return None
    offices = [single_line(dig(office, "name")) for office in dig(item, "offices") or []]
    location = single_line(dig(item, "location", "name")) or "; ".join(filter(None, offices))
    departments = [single_line(dig(dept, "name")) for dept in dig(item, "departments") or []]
    description = html_to_text(dig(item, "content"), escaped=True)
    job = RawJob(
        title=title,
        url=url,
        company=single_line(dig(item, "company_name")) or board_name,
        location=location,
        description=description,
        external_id=str(job_id) if job_id is not None else None,
        posted_date=parse_date(dig(item, "first_published")) or parse_date(dig(item, "updated_at")),
        workplace_type=workplace_type(_metadata(item, "workplace", "remote"), location, title),
        employment_type=employment_type(_metadata(item, "employment type", "job type")),
        department=", ".join(filter(None, departments)) or None,
    )
    job.set_salary(salary_from_description(description))
    return job


def _metadata(item: Any, *names: str) -> str | None:
    """A custom field ("Employment Type": "Full-time") some boards add to each job."""
    for entry in dig(item, "metadata") or []:
        name = single_line(dig(entry, "name")).lower()
        value = dig(entry, "value")
        if any(wanted in name for wanted in names) and isinstance(value, str) and value:
            return value
    return None
