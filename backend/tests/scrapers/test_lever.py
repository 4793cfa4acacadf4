"""The Lever scraper against a local server answering like the postings API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from app.config import settings
from app.scrapers.base import FetchContext, ScrapeRequest
from app.scrapers.config import ScraperConfig
from app.scrapers.errors import BoardNotFound
from app.scrapers.lever import EU_API_URL, LeverScraper, api_base
from tests.scrapers.local_server import LocalServer, Recorded, Reply

BOARD_URL = "https://jobs.lever.co/acme"


def posting(number: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"0c1e-{number:04d}",
        "text": f"Engineer {number}",
        "categories": {"location": "Berlin", "commitment": "Full-time", "team": "Platform"},
        "hostedUrl": f"https://jobs.lever.co/acme/0c1e-{number:04d}",
        "applyUrl": f"https://jobs.lever.co/acme/0c1e-{number:04d}/apply",
        "createdAt": 1705312800000,
        "descriptionPlain": f"Job {number}",
        "workplaceType": "onsite",
        **extra,
    }


def request(url: str = BOARD_URL, **config: object) -> ScrapeRequest:
    return ScrapeRequest(url=url, board_name="Acme", config=ScraperConfig.model_validate(config))


def pages_of(postings: list[dict[str, Any]]) -> Any:
    def answer(request: Recorded) -> Reply:
        skip, limit = int(request.query["skip"]), int(request.query["limit"])
        return Reply(json=postings[skip : skip + limit])

    return answer


async def test_pages_through_every_posting(
    ats_on_server: LocalServer, context: FetchContext
) -> None:
    postings = [posting(n) for n in range(150)]
    ats_on_server.route("GET", "/v0/postings/acme", pages_of(postings))

    result = await LeverScraper().scrape(request(), context)

    assert [job.title for job in result.jobs] == [f"Engineer {n}" for n in range(150)]
    assert result.complete is True
    assert result.pages_fetched == 2
    queries = [r.query for r in ats_on_server.requests]
    assert queries == [
        {"mode": "json", "skip": "0", "limit": "100"},
        {"mode": "json", "skip": "100", "limit": "100"},
    ]


async def test_an_exactly_full_last_page_is_followed_by_an_empty_one(
    ats_on_server: LocalServer, context: FetchContext
) -> None:
    ats_on_server.route("GET", "/v0/postings/acme", pages_of([posting(n) for n in range(100)]))

    result = await LeverScraper().scrape(request(), context)

    assert len(result.jobs) == 100
    assert result.complete is True
    assert result.pages_fetched == 2


async def test_reads_the_fields_a_person_sees(
    ats_on_server: LocalServer, context: FetchContext
) -> None:
    rich = posting(
        7,
        text="Staff Engineer — Données",
        categories={
            "location": "Paris",
            "allLocations": ["Paris", "Remote France"],
            "commitment": "Full-time",
            "team": "Data",
            "department": "Engineering",
        },
        descriptionPlain="We build things.\n\n\nWith care.",
        lists=[{"text": "What you'll do", "content": "<li>Ship &amp; iterate</li><li>Mentor</li>"}],
        additionalPlain="Equal opportunity employer.",
        workplaceType="hybrid",
        salaryRange={"currency": "EUR", "interval": "per-year-salary", "min": 70000, "max": 90000},
    )
    bare = {"id": "x-1", "text": "Contractor", "hostedUrl": "https://jobs.lever.co/acme/x-1"}
    ats_on_server.route("GET", "/v0/postings/acme", Reply(json=[rich, bare]))

    result = await LeverScraper().scrape(request(), context)

    job, minimal = result.jobs
    assert job.title == "Staff Engineer — Données"
    assert job.company == "Acme"
    assert job.url == "https://jobs.lever.co/acme/0c1e-0007"
    assert job.external_id == "0c1e-0007"
    assert job.location == "Paris; Remote France"
    assert job.department == "Engineering"
    assert job.employment_type == "Full-time"
    assert job.workplace_type == "hybrid"
    assert job.posted_date == datetime(2024, 1, 15, 10, tzinfo=UTC)
    assert job.description == (
        "We build things.\n\nWith care.\n\nWhat you'll do\n- Ship & iterate\n- Mentor\n\n"
        "Equal opportunity employer."
    )
    assert (job.salary_min, job.salary_max, job.salary_currency, job.salary_period) == (
        70000,
        90000,
        "EUR",
        "year",
    )
    assert minimal.location == ""
    assert minimal.workplace_type == "unknown"
    assert minimal.posted_date is None
    assert minimal.salary_min is None


async def test_hourly_ranges_stay_hourly(ats_on_server: LocalServer, context: FetchContext) -> None:
    hourly = posting(
        1, salaryRange={"currency": "USD", "interval": "per-hour-wage", "min": 45, "max": 55}
    )
    ats_on_server.route("GET", "/v0/postings/acme", Reply(json=[hourly]))

    (job,) = (await LeverScraper().scrape(request(), context)).jobs

    assert (job.salary_min, job.salary_max, job.salary_period) == (45, 55, "hour")


async def test_unknown_site_names_it(ats_on_server: LocalServer, context: FetchContext) -> None:
    ats_on_server.route(
        "GET", "/v0/postings/nope", Reply(status=404, json={"ok": False, "error": "Not found"})
    )

    with pytest.raises(BoardNotFound, match=r"^Lever site `nope` not found \(404\)$"):
        await LeverScraper().scrape(request("https://jobs.lever.co/nope"), context)


async def test_eu_sites_use_the_configured_host_when_it_is_not_the_public_one(
    ats_on_server: LocalServer, context: FetchContext
) -> None:
    ats_on_server.route("GET", "/v0/postings/acme", Reply(json=[posting(1)]))

    result = await LeverScraper().scrape(request("https://jobs.eu.lever.co/acme"), context)

    assert len(result.jobs) == 1


def test_eu_sites_use_the_eu_api_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "lever_api_url", "https://api.lever.co")

    assert api_base(request("https://jobs.eu.lever.co/acme")) == EU_API_URL
    assert api_base(request(BOARD_URL, lever_region="eu")) == EU_API_URL
    assert api_base(request(BOARD_URL)) == "https://api.lever.co"
    assert api_base(request("https://jobs.eu.lever.co/acme", lever_region="global")) == (
        "https://api.lever.co"
    )
