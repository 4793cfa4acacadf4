"""The shared Chromium: launched once and lazily, a fresh context per scan, always cleaned up."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest

from app.config import settings
from app.scrapers.base import FetchContext, ScrapeRequest
from app.scrapers.browser import BrowserUnavailable, SharedBrowser, find_browser
from app.scrapers.config import ScraperConfig
from app.scrapers.errors import BlockedUrl, PageNotFound, SelectorMatchedNothing, UpstreamFailed
from app.scrapers.generic import GenericScraper
from app.scrapers.http import Fetcher
from tests.scrapers.local_server import LocalServer, Reply, unused_port
from tests.scrapers.pages import SELECTORS, board, numbered
from tests.support import require_service


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[SharedBrowser]:
    require_service(find_browser() is not None, "Chromium")
    shared = SharedBrowser()
    try:
        yield shared
    finally:
        await shared.close()


def rendered(url: str, **config: object) -> ScrapeRequest:
    settings_ = {"scraper_type": "generic", "selectors": SELECTORS, "render": True, **config}
    return ScrapeRequest(url=url, board_name="Acme", config=ScraperConfig.model_validate(settings_))


async def test_scans_share_one_browser_and_leave_no_context_open(
    server: LocalServer, context: FetchContext, browser: SharedBrowser
) -> None:
    server.route("GET", "/jobs", Reply(body=board(*numbered(2))))
    server.route("GET", "/empty", Reply(body=board()))
    scan = FetchContext(fetcher=context.fetcher, browser=browser, clock=context.clock)
    launches = browser.launches

    for _ in range(4):
        result = await GenericScraper().scrape(rendered(f"{server.url}/jobs"), scan)
        assert len(result.jobs) == 2
    with pytest.raises(SelectorMatchedNothing):
        await GenericScraper().scrape(rendered(f"{server.url}/empty"), scan)

    assert browser.open_contexts() == 0
    assert browser.launches == max(launches, 1)
    assert server.hits("/jobs")[0].headers["user-agent"] == settings.scraper_user_agent


async def test_browser_scans_beyond_the_cap_wait_their_turn(
    server: LocalServer, context: FetchContext
) -> None:
    require_service(find_browser() is not None, "Chromium")
    server.route("GET", "/jobs", Reply(body=board(*numbered(2)), delay=0.3))
    one_at_a_time = SharedBrowser(max_contexts=1)
    scan = FetchContext(fetcher=context.fetcher, browser=one_at_a_time, clock=context.clock)
    try:
        results = await asyncio.gather(
            *(GenericScraper().scrape(rendered(f"{server.url}/jobs"), scan) for _ in range(3))
        )
    finally:
        await one_at_a_time.close()

    assert [len(result.jobs) for result in results] == [2, 2, 2]
    assert server.max_in_flight == 1  # each scan's page loaded once the previous one closed


def test_the_api_starts_without_loading_playwright() -> None:
    # Playwright costs the API process memory it only needs once a browser scan runs.
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, app.main; print('playwright' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "False"


async def test_the_browser_starts_again_after_being_closed_or_crashing(
    server: LocalServer, browser: SharedBrowser, fetcher: Fetcher
) -> None:
    server.route("GET", "/page", Reply(body="<title>Jobs</title>"))
    await browser.close()
    assert not browser.is_running
    launches = browser.launches

    async with browser.open_tab(fetcher) as tab:
        await tab.open(f"{server.url}/page")
        assert await tab.page.title() == "Jobs"
    # A crash looks like this to Hunter: the browser disconnects by itself.
    await (await browser.browser()).close()
    async with browser.scan_context() as context:
        assert len(context.pages) == 0

    assert browser.launches == launches + 2
    assert browser.is_running


async def test_pages_that_fail_to_load_raise_scrape_errors(
    server: LocalServer, browser: SharedBrowser, fetcher: Fetcher
) -> None:
    server.route("GET", "/broken", Reply(status=502, body="<h1>Bad gateway</h1>"))
    server.route("GET", "/private", Reply(status=403, body="<h1>Forbidden</h1>"))

    async with browser.open_tab(fetcher) as tab:
        with pytest.raises(PageNotFound, match=r"/missing not found \(404\)"):
            await tab.open(f"{server.url}/missing")
        with pytest.raises(UpstreamFailed, match=r"refused the request: HTTP 403"):
            await tab.open(f"{server.url}/private")
        with pytest.raises(UpstreamFailed, match=r"gave up after 3 tries: HTTP 502 from"):
            await tab.open(f"{server.url}/broken")
        with pytest.raises(UpstreamFailed, match=r"could not load http://127\.0\.0\.1"):
            await tab.open(f"http://127.0.0.1:{unused_port()}/jobs")
        with pytest.raises(BlockedUrl, match="only http and https"):
            await tab.open("file:///etc/passwd")
    assert len(server.hits("/broken")) == 3
    assert browser.open_contexts() == 0


async def test_page_loads_are_retried_honouring_retry_after(
    server: LocalServer, browser: SharedBrowser, fetcher: Fetcher
) -> None:
    answers = iter(
        [
            Reply(status=429, headers={"Retry-After": "1"}, body="slow down"),
            Reply(status=503, body="busy"),
            Reply(body="<title>Jobs</title>"),
        ]
    )
    server.route("GET", "/jobs", lambda _: next(answers))

    async with browser.open_tab(fetcher) as tab:
        await tab.open(f"{server.url}/jobs")
        assert await tab.page.title() == "Jobs"

    first, second, _ = (hit.at for hit in server.hits("/jobs"))
    assert second - first >= 1.0  # as Retry-After asked


async def test_page_loads_keep_to_the_per_host_cap(server: LocalServer, fetcher: Fetcher) -> None:
    require_service(find_browser() is not None, "Chromium")
    server.route("GET", "/slow", Reply(body="<title>Slow</title>", delay=0.3))
    roomy = SharedBrowser(max_contexts=4)  # more pages at once than the host allows

    async def load() -> None:
        async with roomy.open_tab(fetcher) as tab:
            await tab.open(f"{server.url}/slow")

    try:
        await asyncio.gather(*(load() for _ in range(4)))
    finally:
        await roomy.close()

    # Two at a time (Chromium's own favicon requests aside): each pair waits for the one
    # before to be answered, 0.3 s later.
    arrivals = sorted(hit.at for hit in server.hits("/slow"))
    assert fetcher.max_per_host == len(arrivals) // 2 == 2
    assert arrivals[2] - arrivals[0] >= 0.25
    assert arrivals[3] - arrivals[1] >= 0.25


async def test_without_chromium_the_error_says_how_to_get_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings, "browser_executable", "no-such-chromium")

    with pytest.raises(BrowserUnavailable, match=r"install chromium .*or set BROWSER_EXECUTABLE"):
        async with SharedBrowser().scan_context():
            pass


async def test_a_browser_that_will_not_start_is_unavailable() -> None:
    with pytest.raises(BrowserUnavailable, match="would not start"):
        async with SharedBrowser(executable="/bin/false").scan_context():
            pass
