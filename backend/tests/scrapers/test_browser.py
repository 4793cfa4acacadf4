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
    server: LocalServer, browser: SharedBrowser
) -> None:
    server.route("GET", "/page", Reply(body="<title>Jobs</title>"))
    await browser.close()
    assert not browser.is_running
    launches = browser.launches

    async with browser.open_tab() as tab:
        await tab.open(f"{server.url}/page")
        assert await tab.page.title() == "Jobs"
    # A crash looks like this to Hunter: the browser disconnects by itself.
    await (await browser.browser()).close()
    async with browser.scan_context() as context:
        assert len(context.pages) == 0

    assert browser.launches == launches + 2
    assert browser.is_running


async def test_pages_that_fail_to_load_raise_scrape_errors(
    server: LocalServer, browser: SharedBrowser
) -> None:
    server.route("GET", "/broken", Reply(status=502, body="<h1>Bad gateway</h1>"))

    async with browser.open_tab() as tab:
        with pytest.raises(PageNotFound, match=r"/missing not found \(404\)"):
            await tab.open(f"{server.url}/missing")
        with pytest.raises(UpstreamFailed, match=r"refused the page: HTTP 502"):
            await tab.open(f"{server.url}/broken")
        with pytest.raises(UpstreamFailed, match=r"could not load http://127\.0\.0\.1"):
            await tab.open(f"http://127.0.0.1:{unused_port()}/jobs")
        with pytest.raises(BlockedUrl, match="only http and https"):
            await tab.open("file:///etc/passwd")
    assert browser.open_contexts() == 0


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
