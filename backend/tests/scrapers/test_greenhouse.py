"""The Greenhouse scraper against a local server answering like the job board API."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.scrapers.base import FetchContext, ScrapeRequest
from app.scrapers.config import ScraperConfig
from app.scrapers.errors import BadConfig, BadResponse, BoardNotFound, UpstreamFailed
from app.scrapers.greenhouse import GreenhouseScraper
from tests.scrapers.local_server import LocalServer, Reply

BOARD_URL = "https://boards.greenhouse.io/acme"

ENGINEER = {
    "id": 4012345,
    "internal_job_id": 3011111,
    "title": "Senior Backend Engineer ",
    "updated_at": "2024-02-20T14:12:03-05:00",
    "requisition_id": "ENG-101",
    "location": {"name": "Remote - US"},
    "absolute_url": "https://boards.greenhouse.io/acme/jobs/4012345",
    "metadata": [
        {"id": 1, "name": "Employment Type", "value": "Full-time", "value_type": "single_select"}
    ],
    "content": (
        "&lt;p&gt;Build the platform at Acme &amp;amp; Co.&lt;/p&gt;"
        "&lt;h3&gt;You will&lt;/h3&gt;&lt;ul&gt;&lt;li&gt;Design APIs&lt;/li&gt;"
        "&lt;li&gt;Own Python services&lt;/li&gt;&lt;/ul&gt;"
        "&lt;p&gt;Base pay range: $150,000 - $180,000 USD per year&lt;/p&gt;"
    ),
    "departments": [{"id": 10, "name": "Engineering", "child_ids": [], "parent_id": None}],
    "offices": [{"id": 20, "name": "Remote", "location": "United States"}],
}
DESIGNER = {
    "id": 4012346,
    "title": "Diseñadora de producto",
    "updated_at": "2024-03-01T09:00:00Z",
    "first_published": "2024-01-15T10:00:00Z",
    "location": {"name": ""},
    "absolute_url": "https://boards.greenhouse.io/acme/jobs/4012346",
    "content": "&lt;p&gt;Diseño &amp;eacute;l&amp;eacute;gant&lt;/p&gt;",
    "departments": [],
    "offices": [{"id": 21, "name": "Madrid"}, {"id": 22, "name": "Lisboa"}],
}


def request(url: str = BOARD_URL, **config: object) -> ScrapeRequest:
    return ScrapeRequest(url=url, board_name="Acme", config=ScraperConfig.model_validate(config))


async def test_reads_every_job_on_the_board(
    ats_on_server: LocalServer, context: FetchContext
) -> None:
    ats_on_server.route(
        "GET",
        "/v1/boards/acme/jobs",
        Reply(json={"jobs": [ENGINEER, DESIGNER, {"id": 1}], "meta": {"total": 3}}),
    )

    result = await GreenhouseScraper().scrape(request(), context)

    assert result.complete is True
    assert result.pages_fetched == 1
    assert ats_on_server.requests[0].query == {"content": "true"}
    engineer, designer = result.jobs
    assert engineer.title == "Senior Backend Engineer"
    assert engineer.company == "Acme"
    assert engineer.url == "https://boards.greenhouse.io/acme/jobs/4012345"
    assert engineer.external_id == "4012345"
    assert engineer.location == "Remote - US"
    assert engineer.workplace_type == "remote"
    assert engineer.department == "Engineering"
    assert engineer.employment_type == "Full-time"
    assert engineer.posted_date == datetime(2024, 2, 20, 19, 12, 3, tzinfo=UTC)
    assert engineer.description.startswith("Build the platform at Acme & Co.\n\nYou will\n\n")
    assert "- Design APIs\n- Own Python services" in engineer.description
    assert (engineer.salary_min, engineer.salary_max) == (150_000, 180_000)
    assert (engineer.salary_currency, engineer.salary_period) == ("USD", "year")

    assert designer.title == "Diseñadora de producto"
    assert designer.location == "Madrid; Lisboa"
    assert designer.description == "Diseño élégant"
    assert designer.posted_date == datetime(2024, 1, 15, 10, tzinfo=UTC)
    assert designer.department is None
    assert designer.salary_min is None


async def test_token_from_config_wins_over_the_url(
    ats_on_server: LocalServer, context: FetchContext
) -> None:
    ats_on_server.route("GET", "/v1/boards/acme-eu/jobs", Reply(json={"jobs": []}))

    result = await GreenhouseScraper().scrape(
        request("https://careers.acme.example/jobs", board_token="acme-eu"), context
    )

    assert result.jobs == []
    assert result.complete is True


async def test_unknown_board_names_the_token(
    ats_on_server: LocalServer, context: FetchContext
) -> None:
    ats_on_server.route("GET", "/v1/boards/acme/jobs", Reply(status=404, json={"status": 404}))

    with pytest.raises(BoardNotFound) as caught:
        await GreenhouseScraper().scrape(request(), context)

    assert str(caught.value) == "Greenhouse board `acme` not found (404)"


async def test_a_board_that_keeps_failing_says_so(
    ats_on_server: LocalServer, context: FetchContext
) -> None:
    ats_on_server.route("GET", "/v1/boards/acme/jobs", Reply(status=503))

    with pytest.raises(UpstreamFailed, match="gave up after 3 tries: HTTP 503"):
        await GreenhouseScraper().scrape(request(), context)


async def test_an_answer_without_a_job_list_is_a_bad_response(
    ats_on_server: LocalServer, context: FetchContext
) -> None:
    ats_on_server.route("GET", "/v1/boards/acme/jobs", Reply(json={"error": "oops"}))

    with pytest.raises(BadResponse, match="`jobs` list from Greenhouse board `acme`"):
        await GreenhouseScraper().scrape(request(), context)


async def test_without_a_token_the_person_is_told_what_to_set(context: FetchContext) -> None:
    with pytest.raises(BadConfig, match=r"scraper_config\.board_token"):
        await GreenhouseScraper().scrape(request("https://acme.example/careers"), context)
