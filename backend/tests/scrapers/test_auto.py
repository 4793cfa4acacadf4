"""`auto` picks the ATS scraper from the URL, else JSON-LD, else the browser with selectors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.scrapers.auto import AutoScraper, describe
from app.scrapers.base import FetchContext, ScrapeRequest
from app.scrapers.browser import SharedBrowser, find_browser
from app.scrapers.config import ScraperConfig
from app.scrapers.errors import BadConfig
from app.scrapers.http import Fetcher
from tests.scrapers.conftest import NOW
from tests.scrapers.local_server import LocalServer, Reply
from tests.scrapers.pages import SELECTORS, board, numbered
from tests.support import require_service

POSTING = {"@context": "https://schema.org", "@type": "JobPosting", "title": "Site Reliability"}
JSONLD_PAGE = f'<script type="application/ld+json">{json.dumps(POSTING)}</script><p>Jobs</p>'


class ToLocalServer(httpx.AsyncBaseTransport):
    """Sends every request to the local server, keeping its Host header (like /etc/hosts)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self.port)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
async def everywhere(server: LocalServer) -> AsyncIterator[FetchContext]:
    """A fetch context whose requests to any host reach the local server."""
    client = httpx.AsyncClient(transport=ToLocalServer(server.port))
    async with client, Fetcher(client, backoff_base_s=0.005, timeout_s=5) as fetcher:
        yield FetchContext(fetcher=fetcher, clock=lambda: NOW)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[SharedBrowser]:
    require_service(find_browser() is not None, "Chromium")
    shared = SharedBrowser()
    try:
        yield shared
    finally:
        await shared.close()


def request(url: str, **config: Any) -> ScrapeRequest:
    return ScrapeRequest(url=url, board_name="Acme", config=ScraperConfig.model_validate(config))


@pytest.mark.parametrize(
    ("url", "method", "host", "path", "reply"),
    [
        (
            "https://boards.greenhouse.io/acme",
            "GET",
            "boards-api.greenhouse.io",
            "/v1/boards/acme/jobs",
            {"jobs": [{"id": 1, "title": "Picked", "absolute_url": "https://x.example/1"}]},
        ),
        (
            "https://jobs.lever.co/acme",
            "GET",
            "api.lever.co",
            "/v0/postings/acme",
            [{"id": "a1", "text": "Picked", "hostedUrl": "https://jobs.lever.co/acme/a1"}],
        ),
        (
            "https://jobs.ashbyhq.com/acme",
            "GET",
            "api.ashbyhq.com",
            "/posting-api/job-board/acme",
            {"jobs": [{"id": "b2", "title": "Picked", "jobUrl": "https://jobs.ashbyhq.com/b2"}]},
        ),
        (
            "https://acme.wd5.myworkdayjobs.com/en-US/External",
            "POST",
            "acme.wd5.myworkdayjobs.com",
            "/wday/cxs/acme/External/jobs",
            {"total": 0, "jobPostings": []},
        ),
    ],
)
async def test_picks_the_ats_scraper_from_the_url(
    server: LocalServer,
    everywhere: FetchContext,
    url: str,
    method: str,
    host: str,
    path: str,
    reply: Any,
) -> None:
    server.route(method, path, Reply(json=reply))

    result = await AutoScraper().scrape(request(url), everywhere)

    assert [hit.host for hit in server.hits(path, method)] == [host]
    assert [job.title for job in result.jobs] == ([] if method == "POST" else ["Picked"])


async def test_reads_json_ld_from_any_other_page(
    server: LocalServer, context: FetchContext
) -> None:
    server.route("GET", "/careers", Reply(body=JSONLD_PAGE))

    result = await AutoScraper().scrape(request(f"{server.url}/careers"), context)

    assert [job.title for job in result.jobs] == ["Site Reliability"]


async def test_without_json_ld_reads_the_page_in_a_browser_with_the_selectors(
    server: LocalServer, context: FetchContext, browser: SharedBrowser
) -> None:
    server.route("GET", "/careers", Reply(body=board(*numbered(2))))
    scan = FetchContext(fetcher=context.fetcher, browser=browser, clock=context.clock)

    result = await AutoScraper().scrape(request(f"{server.url}/careers", selectors=SELECTORS), scan)

    assert [job.title for job in result.jobs] == ["Engineer 1", "Engineer 2"]
    assert browser.open_contexts() == 0


async def test_without_json_ld_or_selectors_the_person_is_told_what_to_configure(
    server: LocalServer, context: FetchContext
) -> None:
    server.route("GET", "/careers", Reply(body=board(*numbered(2))))

    with pytest.raises(
        BadConfig, match=r"no schema.org JobPosting .* set scraper_config.selectors"
    ):
        await AutoScraper().scrape(request(f"{server.url}/careers"), context)


@pytest.mark.parametrize(
    ("url", "scraper_type", "derived"),
    [
        ("https://boards.greenhouse.io/acme", "greenhouse", {"board_token": "acme"}),
        (
            "https://job-boards.greenhouse.io/embed/job_board?for=acme",
            "greenhouse",
            {"board_token": "acme"},
        ),
        ("https://jobs.lever.co/acme", "lever", {"site_slug": "acme"}),
        ("https://jobs.eu.lever.co/acme", "lever", {"site_slug": "acme", "lever_region": "eu"}),
        ("https://jobs.ashbyhq.com/acme", "ashby", {"board_name": "acme"}),
        (
            "https://acme.wd5.myworkdayjobs.com/en-US/External",
            "workday",
            {"workday_tenant": "acme", "workday_site": "External"},
        ),
    ],
)
async def test_describe_names_the_ats_and_its_identity_without_fetching(
    url: str, scraper_type: str, derived: dict[str, str]
) -> None:
    answer = await describe(url, ScraperConfig(max_pages=3))

    assert answer["scraper_type"] == scraper_type
    assert answer["config"] == {"scraper_type": scraper_type, "max_pages": 3, **derived}
    assert answer["probed"] is False
    assert answer["fallback"] is None


async def test_describe_says_what_a_workday_url_leaves_out() -> None:
    answer = await describe("https://acme.wd5.myworkdayjobs.com/")

    assert answer["scraper_type"] == "workday"
    assert "set workday_tenant and workday_site" in answer["reason"]


async def test_describe_any_other_page_without_probing(server: LocalServer) -> None:
    answer = await describe(f"{server.url}/careers")

    assert (answer["scraper_type"], answer["fallback"]) == ("jsonld", "interactive")
    assert "needs selectors" in answer["reason"]
    assert server.requests == []


async def test_describe_probes_the_page_when_asked(
    server: LocalServer, context: FetchContext
) -> None:
    server.route("GET", "/with", Reply(body=JSONLD_PAGE))
    server.route("GET", "/without", Reply(body=board(*numbered(1))))
    with_selectors = ScraperConfig.model_validate({"selectors": SELECTORS})

    found = await describe(f"{server.url}/with", probe=True, context=context)
    missing = await describe(f"{server.url}/without", with_selectors, probe=True, context=context)
    gone = await describe(f"{server.url}/gone", probe=True, context=context)

    assert (found["scraper_type"], found["jobs_found"]) == ("jsonld", 1)
    assert found["config"] == {"scraper_type": "jsonld"}
    assert (missing["scraper_type"], missing["jobs_found"]) == ("interactive", 0)
    assert missing["config"]["selectors"] == SELECTORS
    assert gone["probe_error"] is not None
    assert "not found (404)" in gone["probe_error"]
