"""Ashby job boards, read from the public posting API (one request returns every job)."""

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
from app.scrapers.salary import Salary, parse_salary, structured_salary
from app.scrapers.text import clean_text, html_to_text, single_line


class AshbyScraper(Scraper):
    name = "ashby"

    async def scrape(self, request: ScrapeRequest, context: FetchContext) -> ScrapeResult:
        board = request.config.board_name or detect.ashby_board(request.url)
        if not board:
            raise BadConfig(
                "no Ashby job board: set scraper_config.board_name or use a "
                "jobs.ashbyhq.com/<board> URL"
            )
        url = f"{settings.ashby_api_url}/posting-api/job-board/{quote(board, safe='')}"
        with not_found_as_board(f"Ashby job board `{board}`", url):
            data = await context.fetcher.get_json(
                url, params={"includeCompensation": "true"}, expect="Ashby's job board"
            )
        postings = dig(data, "jobs")
        if not isinstance(postings, list):
            raise BadResponse(f"expected an object with a `jobs` list from Ashby board `{board}`")
        jobs = [
            job
            for item in postings
            # Unlisted jobs are reachable by link only; the board does not advertise them.
            if dig(item, "isListed") is not False and (job := _job(item, request.board_name))
        ]
        return ScrapeResult(jobs=jobs, complete=True, pages_fetched=1)


def _job(item: Any, board_name: str) -> RawJob | None:
    title = single_line(dig(item, "title"))
    url = single_line(dig(item, "jobUrl")) or single_line(dig(item, "applyUrl"))
    if not title or not url:
        return None
    places = [single_line(dig(item, "location"))]
    places += [
        single_line(dig(extra, "location")) for extra in dig(item, "secondaryLocations") or []
    ]
    location = "; ".join(dict.fromkeys(place for place in places if place))
    remote = "remote" if dig(item, "isRemote") is True else None
    external_id = dig(item, "id")
    job = RawJob(
        title=title,
        url=url,
        company=board_name,
        location=location,
        description=clean_text(dig(item, "descriptionPlain"))
        or html_to_text(dig(item, "descriptionHtml")),
        external_id=str(external_id) if external_id else None,
        posted_date=parse_date(dig(item, "publishedAt")),
        workplace_type=workplace_type(single_line(dig(item, "workplaceType")), remote, location),
        employment_type=employment_type(single_line(dig(item, "employmentType")) or None),
        department=single_line(dig(item, "department")) or single_line(dig(item, "team")) or None,
    )
    job.set_salary(_salary(dig(item, "compensation")))
    return job


def _salary(compensation: Any) -> Salary | None:
    """The base salary: the structured summary component if present, else the summary text."""
    for component in dig(compensation, "summaryComponents") or []:
        if single_line(dig(component, "compensationType")).lower() != "salary":
            continue
        salary = structured_salary(
            dig(component, "minValue"),
            dig(component, "maxValue"),
            single_line(dig(component, "currencyCode")),
            single_line(dig(component, "interval")),
        )
        if salary is not None:
            return salary
    return parse_salary(
        single_line(dig(compensation, "scrapeableCompensationSalarySummary"))
        or single_line(dig(compensation, "compensationTierSummary"))
    )
