"""The Ashby scraper against a local server answering like the posting API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from app.scrapers.ashby import AshbyScraper
from app.scrapers.base import FetchContext, ScrapeRequest
from app.scrapers.config import ScraperConfig
from app.scrapers.errors import BadResponse, BoardNotFound
from tests.scrapers.local_server import LocalServer, Reply

BOARD_URL = "https://jobs.ashbyhq.com/acme"

ANALYST: dict[str, Any] = {
    "id": "8f1d6a7e-1111-4c2b-9d55-2f6f0d1e2a01",
    "title": "Data Analyst",
    "department": "Finance",
    "team": "FP&A",
    "employmentType": "FullTime",
    "location": "New York",
    "secondaryLocations": [
        {"location": "Boston", "address": {"postalAddress": {"addressLocality": "Boston"}}},
        {"location": "New York"},
    ],
    "isRemote": False,
    "workplaceType": "Hybrid",
    "isListed": True,
    "publishedAt": "2024-02-01T16:30:00.000+00:00",
    "jobUrl": "https://jobs.ashbyhq.com/acme/8f1d6a7e-1111-4c2b-9d55-2f6f0d1e2a01",
    "applyUrl": "https://jobs.ashbyhq.com/acme/8f1d6a7e-1111-4c2b-9d55-2f6f0d1e2a01/application",
    "descriptionHtml": "<p>Numbers &amp; narratives.</p>",
    "descriptionPlain": "Numbers & narratives.",
    "compensation": {
        "compensationTierSummary": "$95K \u2013 $120K • Offers Equity",
        "scrapeableCompensationSalarySummary": "$95K - $120K",
        "summaryComponents": [
            {"compensationType": "EquityPercentage", "minValue": 0.01, "maxValue": 0.05},
            {
                "compensationType": "Salary",
                "interval": "1 YEAR",
                "currencyCode": "USD",
                "minValue": 95000,
                "maxValue": 120000,
            },
        ],
    },
}
SUPPORT: dict[str, Any] = {
    "id": "support-2",
    "title": "Support Specialist",
    "department": None,
    "team": "Customer",
    "employmentType": "PartTime",
    "location": "Remote",
    "secondaryLocations": [],
    "isRemote": True,
    "workplaceType": None,
    "publishedAt": "2024-03-05T08:00:00Z",
    "jobUrl": "https://jobs.ashbyhq.com/acme/support-2",
    "descriptionHtml": "<p>Help people</p><ul><li>Chat</li><li>Email</li></ul>",
    "compensation": {"compensationTierSummary": "€25 \u2013 €30 per hour"},
}


def request(url: str = BOARD_URL, **config: object) -> ScrapeRequest:
    return ScrapeRequest(url=url, board_name="Acme", config=ScraperConfig.model_validate(config))


async def test_reads_listed_jobs_with_compensation(
    ats_on_server: LocalServer, context: FetchContext
) -> None:
    unlisted = {**SUPPORT, "id": "secret", "title": "Secret", "isListed": False}
    ats_on_server.route(
        "GET",
        "/posting-api/job-board/acme",
        Reply(json={"apiVersion": "1", "jobs": [ANALYST, SUPPORT, unlisted]}),
    )

    result = await AshbyScraper().scrape(request(), context)

    assert ats_on_server.requests[0].query == {"includeCompensation": "true"}
    assert result.complete is True
    analyst, support = result.jobs
    assert analyst.title == "Data Analyst"
    assert analyst.company == "Acme"
    assert analyst.location == "New York; Boston"
    assert analyst.workplace_type == "hybrid"
    assert analyst.employment_type == "Full-time"
    assert analyst.department == "Finance"
    assert analyst.description == "Numbers & narratives."
    assert analyst.posted_date == datetime(2024, 2, 1, 16, 30, tzinfo=UTC)
    assert analyst.external_id == "8f1d6a7e-1111-4c2b-9d55-2f6f0d1e2a01"
    assert (analyst.salary_min, analyst.salary_max) == (95000, 120000)
    assert (analyst.salary_currency, analyst.salary_period) == ("USD", "year")

    assert support.workplace_type == "remote"
    assert support.employment_type == "Part-time"
    assert support.department == "Customer"
    assert support.description == "Help people\n\n- Chat\n- Email"
    assert (support.salary_min, support.salary_max) == (25, 30)
    assert (support.salary_currency, support.salary_period) == ("EUR", "hour")


async def test_board_name_from_config(ats_on_server: LocalServer, context: FetchContext) -> None:
    ats_on_server.route("GET", "/posting-api/job-board/acme-labs", Reply(json={"jobs": []}))

    result = await AshbyScraper().scrape(
        request("https://acme.example/careers", board_name="acme-labs"), context
    )

    assert result.jobs == []


async def test_unknown_board_names_it(ats_on_server: LocalServer, context: FetchContext) -> None:
    with pytest.raises(BoardNotFound, match=r"^Ashby job board `acme` not found \(404\)$"):
        await AshbyScraper().scrape(request(), context)


async def test_malformed_json_is_a_bad_response(
    ats_on_server: LocalServer, context: FetchContext
) -> None:
    ats_on_server.route(
        "GET", "/posting-api/job-board/acme", Reply(body='{"jobs": [', content_type="text/json")
    )

    with pytest.raises(BadResponse, match="expected Ashby's job board"):
        await AshbyScraper().scrape(request(), context)
