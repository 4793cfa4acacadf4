"""The interactive scraper in Chromium: a search app driven by actions, read from DOM or JSON."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from app.scrapers.base import FetchContext, ScrapeRequest
from app.scrapers.browser import Settle, SharedBrowser, find_browser
from app.scrapers.config import ScraperConfig
from app.scrapers.errors import BadResponse, ScrapeError
from app.scrapers.interactive import (
    ActionFailed,
    InteractiveScraper,
    NothingIntercepted,
    job_from_item,
    url_matches,
)
from tests.scrapers.conftest import NOW
from tests.scrapers.local_server import LocalServer, Recorded, Reply
from tests.scrapers.pages import read
from tests.support import require_service

scraper = InteractiveScraper(settle=Settle(quiet_s=0.5, timeout_s=5))

# The unfiltered list starts with jobs a "python" search leaves out.
JOBS = [
    {"id": 104, "title": "Office Manager", "team": "ops", "location": {"name": "Paris"}},
    {"id": 105, "title": "Go Developer", "team": "eng", "location": {"name": "Remote"}},
    {"id": 101, "title": "Python Developer", "team": "eng", "location": {"name": "Berlin"}},
    {"id": 102, "title": "Senior Python Engineer", "team": "eng", "location": {"name": "Remote"}},
    {"id": 103, "title": "Python Data Analyst", "team": "data", "location": {"name": "Lyon"}},
]
SEARCH = [
    {"action": "fill", "selector": "#q", "value": "python"},
    {"action": "click", "selector": "#go"},
]
INTERCEPT = {
    "intercept_patterns": ["**/api/jobs*"],
    "intercept_job_path": "data.jobs",
    "intercept_title_key": "title",
    "intercept_location_key": "location.name",
    "intercept_url_key": "links.apply",
}


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[SharedBrowser]:
    require_service(find_browser() is not None, "Chromium")
    shared = SharedBrowser()
    try:
        yield shared
    finally:
        await shared.close()


@pytest.fixture
def in_browser(context: FetchContext, browser: SharedBrowser) -> FetchContext:
    return FetchContext(fetcher=context.fetcher, browser=browser, clock=context.clock)


@pytest.fixture
def app(server: LocalServer) -> LocalServer:
    """The search app at /careers/search, backed by /api/jobs (two jobs a page)."""

    def jobs(r: Recorded) -> Reply:
        query, team, page = (
            r.query.get("q", "").lower(),
            r.query.get("team", ""),
            int(r.query["page"]),
        )
        found = [
            {**job, "links": {"apply": f"openings/{job['id']}"}}
            for job in JOBS
            if query in str(job["title"]).lower() and team in ("", job["team"])
        ]
        shown = found[(page - 1) * 2 : page * 2]
        return Reply(json={"data": {"jobs": shown, "has_more": len(found) > page * 2}})

    server.route("GET", "/careers/search", Reply(body=read("search_app.html")))
    server.route("GET", "/api/jobs", jobs)
    return server


def request(server: LocalServer, **config: Any) -> ScrapeRequest:
    config = {"scraper_type": "interactive", **config}
    return ScrapeRequest(
        url=f"{server.url}/careers/search",
        board_name="Acme",
        config=ScraperConfig.model_validate(config),
    )


async def test_searches_then_reads_the_rendered_cards_page_by_page(
    app: LocalServer, in_browser: FetchContext
) -> None:
    searched = {"action": "wait", "wait_selector": '#results[data-query="python"] .job'}
    config = {
        "selectors": {"job_card": ".job", "title": "h3", "location": ".loc", "next_page": "#next"},
        "pre_search_actions": [*SEARCH, searched],
        "pagination_type": "click",
    }

    result = await scraper.scrape(request(app, **config), in_browser)

    assert [(job.title, job.location) for job in result.jobs] == [
        ("Python Developer", "Berlin"),
        ("Senior Python Engineer", "Remote"),
        ("Python Data Analyst", "Lyon"),
    ]
    assert result.jobs[0].url == f"{app.url}/careers/openings/101"
    assert result.jobs[0].company == "Acme"
    assert (result.pages_fetched, result.complete) == (2, True)


async def test_reads_the_json_the_app_fetches_after_the_search(
    app: LocalServer, in_browser: FetchContext
) -> None:
    config = {
        **INTERCEPT,
        "intercept_id_key": "id",
        "pre_search_actions": SEARCH,
        "pagination_type": "click",
        "selectors": {"next_page": "#next"},
    }

    result = await scraper.scrape(request(app, **config), in_browser)

    # The unfiltered list the app loaded before the search is not part of the result.
    assert [job.external_id for job in result.jobs] == ["101", "102", "103"]
    python = result.jobs[0]
    assert (python.title, python.location) == ("Python Developer", "Berlin")
    assert python.url == f"{app.url}/careers/openings/101"
    assert python.company == "Acme"
    assert result.complete is True
    assert [r.query["page"] for r in app.hits("/api/jobs") if r.query.get("q")] == ["1", "2"]


async def test_every_kind_of_action_runs_in_order(
    app: LocalServer, in_browser: FetchContext
) -> None:
    actions = [
        {"action": "wait", "state": "load"},
        {"action": "select", "selector": "#team", "value": "eng"},
        {"action": "fill", "selector": "#q", "value": "python"},
        {"action": "scroll", "direction": "down", "times": 2},
        {"action": "delay", "ms": 10},
        {"action": "press", "selector": "#q", "key": "Enter"},
    ]

    result = await scraper.scrape(request(app, **INTERCEPT, pre_search_actions=actions), in_browser)

    assert [job.title for job in result.jobs] == ["Python Developer", "Senior Python Engineer"]
    assert app.hits("/api/jobs")[-1].query == {"q": "python", "team": "eng", "page": "1"}


async def test_a_failing_action_names_its_index_and_selector(
    app: LocalServer, in_browser: FetchContext, browser: SharedBrowser
) -> None:
    actions = [*SEARCH[:1], {"action": "click", "selector": "#missing", "timeout": 500}]

    with pytest.raises(ActionFailed) as raised:
        await scraper.scrape(request(app, **INTERCEPT, pre_search_actions=actions), in_browser)

    assert str(raised.value) == (
        "pre_search_actions[1] (click `#missing`) failed: no usable element matched within 0.5 s"
    )
    assert browser.open_contexts() == 0


async def test_patterns_that_match_no_response_list_the_calls_the_page_made(
    app: LocalServer, in_browser: FetchContext
) -> None:
    config = {**INTERCEPT, "intercept_patterns": ["**/graphql*"]}

    with pytest.raises(
        NothingIntercepted, match=r"no response matching `\*\*/graphql\*`"
    ) as raised:
        await scraper.scrape(request(app, **config), in_browser)

    assert f"the page called {app.url}/api/jobs" in str(raised.value)


async def test_a_wrong_job_path_says_where_it_looked(
    app: LocalServer, in_browser: FetchContext
) -> None:
    config = {**INTERCEPT, "intercept_job_path": "jobs"}

    with pytest.raises(BadResponse, match=r"`jobs` in the response from .*/api/jobs is not a list"):
        await scraper.scrape(request(app, **config), in_browser)


async def test_with_nothing_intercepted_the_rendered_cards_are_read_instead(
    app: LocalServer, in_browser: FetchContext
) -> None:
    searched = {"action": "wait", "wait_selector": '#results[data-query="python"] .job'}
    config = {
        **INTERCEPT,
        "intercept_patterns": ["**/graphql*"],  # the app calls /api/jobs: nothing matches
        "selectors": {"job_card": ".job", "title": "h3", "location": ".loc", "next_page": "#next"},
        "pre_search_actions": [*SEARCH, searched],
        "pagination_type": "click",
    }

    result = await scraper.scrape(request(app, **config), in_browser)

    assert [job.title for job in result.jobs] == [
        "Python Developer",
        "Senior Python Engineer",
        "Python Data Analyst",
    ]
    assert (result.pages_fetched, result.complete) == (2, True)
    [warning] = result.warnings
    assert warning.startswith("read the job cards on the page instead: no response matching")


async def test_when_the_page_shows_no_cards_either_both_failures_are_named(
    app: LocalServer, in_browser: FetchContext, browser: SharedBrowser
) -> None:
    config = {
        **INTERCEPT,
        "intercept_patterns": ["**/graphql*"],
        "selectors": {"job_card": ".no-such-card", "title": "h3"},
        "pre_search_actions": SEARCH,
    }

    with pytest.raises(ScrapeError) as raised:
        await scraper.scrape(request(app, **config), in_browser)

    message = str(raised.value)
    assert message.startswith("no response matching `**/graphql*`")
    assert "; reading the page instead: selector `.no-such-card` matched nothing" in message
    assert browser.open_contexts() == 0


def test_items_are_read_with_dotted_keys() -> None:
    config = ScraperConfig.model_validate(
        {
            "intercept_title_key": "posting.name",
            "intercept_location_key": "places",
            "intercept_url_key": "links.0.href",
            "intercept_company_key": "org.name",
            "intercept_description_key": "body",
            "intercept_id_key": "ref",
        }
    )
    item = {
        "posting": {"name": " Staff  Engineer "},
        "places": [{"name": "Berlin"}, "Remote"],
        "links": [{"href": "/o/7"}],
        "org": {"name": "Globex"},
        "body": "<p>Pay: $150,000 - $180,000 a year</p>",
        "ref": 7,
        "createdAt": "2024-03-01T10:00:00Z",
    }
    board = ScrapeRequest(url="https://acme.example/jobs", board_name="Acme")

    job = job_from_item(item, config, "https://acme.example/jobs?q=x", board, NOW)

    assert job is not None
    assert (job.title, job.location, job.company) == ("Staff Engineer", "Berlin; Remote", "Globex")
    assert (job.url, job.external_id) == ("https://acme.example/o/7", "7")
    assert (job.salary_min, job.salary_max, job.salary_currency) == (150000, 180000, "USD")
    assert job.posted_date == datetime(2024, 3, 1, 10, tzinfo=UTC)
    assert job_from_item({"posting": {}}, config, "https://acme.example", board, NOW) is None


def test_patterns_match_the_whole_url_or_its_path() -> None:
    url = "https://acme.example/api/v2/jobs?page=2"

    assert url_matches(url, ["**/api/v2/jobs*"])
    assert url_matches(url, ["/api/*/jobs?page=*"])
    assert not url_matches(url, ["**/graphql"])
