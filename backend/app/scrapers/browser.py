"""One Chromium per process, a fresh context per scan, and the page helpers browser scrapers use.

Chromium is Debian's (`BROWSER_EXECUTABLE` or `chromium` on PATH), driven by Playwright; Hunter
never downloads browsers. It starts on first use, is relaunched when it crashed, and every page
and context is closed in `finally` under a timeout, so a hung browser cannot hang a scan.
Playwright failures surface as `ScrapeError`s like every other scraper failure.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import structlog

from app.config import settings
from app.scrapers.base import FetchContext
from app.scrapers.errors import (
    BlockedUrl,
    FetchTimeout,
    ScrapeError,
    UpstreamFailed,
)

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Page, Playwright, Request, Response
    from playwright.async_api import Error as PlaywrightError
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    from app.scrapers.http import Fetcher

# Looked for on PATH, in this order, when BROWSER_EXECUTABLE is not set.
BROWSER_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

log = structlog.get_logger("hunter.scrapers.browser")

LAUNCH_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
# Browser scans that hold a context at once; the rest wait. Each holds a renderer (~50-100 MB),
# so this, not SCAN_CONCURRENCY, bounds the browser's memory when many HTTP scans run at once.
MAX_OPEN_CONTEXTS = 2


class BrowserUnavailable(ScrapeError):
    """No usable Chromium: none is installed, or it would not start."""


class BrowserFailed(ScrapeError):
    """The browser broke while reading a page (crashed, or a page script wedged it)."""


def playwright_error() -> type[PlaywrightError]:
    """Playwright's base error, for `except` clauses (evaluated only once something is raised).

    Playwright is imported when a browser is first needed, never at start-up: it would add
    ~6 MB to a process (the API, say) that may never open a browser.
    """
    import playwright.async_api as api

    return api.Error


def playwright_timeout() -> type[PlaywrightTimeout]:
    """Playwright's timeout error, imported on first use like `playwright_error`."""
    import playwright.async_api as api

    return api.TimeoutError


def display(url: str) -> str:
    """The URL without its query string, for messages."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def reason(exc: BaseException) -> str:
    """The first line of a Playwright error, without its call log."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


class SharedBrowser:
    """The process's Chromium; scans take a fresh context with `scan_context()` or `open_tab()`."""

    def __init__(
        self,
        *,
        executable: str | None = None,
        headless: bool | None = None,
        user_agent: str | None = None,
        close_timeout_s: float = 10.0,
        max_contexts: int = MAX_OPEN_CONTEXTS,
    ) -> None:
        self.executable = executable
        self.headless = settings.playwright_headless if headless is None else headless
        self.user_agent = user_agent or settings.scraper_user_agent
        self.close_timeout_s = close_timeout_s
        self.launches = 0
        self.max_contexts = max_contexts
        self._lock = asyncio.Lock()
        self._turns: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._suspect = False  # a close hung: relaunch before the next scan

    @property
    def is_running(self) -> bool:
        return self._browser is not None and self._browser.is_connected()

    def open_contexts(self) -> int:
        """Contexts currently open (each scan holds one while it runs)."""
        return len(self._browser.contexts) if self.is_running and self._browser else 0

    async def browser(self) -> Browser:
        """The running Chromium, launched now if it is not running (or crashed)."""
        async with self._lock:
            loop = asyncio.get_running_loop()
            if self._browser is not None and self._loop is not loop:
                # Playwright objects belong to the loop that made them; that loop is gone.
                log.warning("browser_abandoned", reason="event loop changed")
                self._browser = self._playwright = None
            if self.is_running and not self._suspect and self._browser is not None:
                return self._browser
            await self._shut_down()
            self._browser = await self._launch()
            self._loop, self._suspect = loop, False
            return self._browser

    @asynccontextmanager
    async def scan_context(self) -> AsyncIterator[BrowserContext]:
        """A fresh context (cookies, storage, cache) for one scan, closed when the scan ends.

        Waits its turn while `max_contexts` other scans hold one.
        """
        async with self._turn():
            try:
                context = await (await self.browser()).new_context(user_agent=self.user_agent)
            except playwright_error():
                self._suspect = True  # the browser died between the check and its use: retry once
                try:
                    context = await (await self.browser()).new_context(user_agent=self.user_agent)
                except playwright_error() as exc:
                    raise BrowserFailed(
                        f"Chromium could not open a context: {reason(exc)}"
                    ) from None
            context.set_default_timeout(settings.scraper_timeout_s * 1000)
            try:
                yield context
            finally:
                await self._close(context.close(), "context")

    def _turn(self) -> asyncio.Semaphore:
        """The semaphore scans take turns on, made per event loop (like Playwright's objects)."""
        loop = asyncio.get_running_loop()
        if self._turns is None or self._turns[0] is not loop:
            self._turns = (loop, asyncio.Semaphore(self.max_contexts))
        return self._turns[1]

    @asynccontextmanager
    async def open_tab(self, fetcher: Fetcher) -> AsyncIterator[Tab]:
        """One page in a fresh context; Playwright errors inside become `ScrapeError`s. The
        scan's `fetcher` paces its page loads: its per-host cap and retries apply to them."""
        async with self.scan_context() as context:
            try:
                page = await context.new_page()
            except playwright_error() as exc:
                raise BrowserFailed(f"Chromium could not open a page: {reason(exc)}") from None
            tab = Tab(page, fetcher)
            try:
                yield tab
            except playwright_timeout() as exc:
                raise FetchTimeout(
                    f"the page at {display(tab.url)} did not respond in time: {reason(exc)}"
                ) from None
            except playwright_error() as exc:
                raise BrowserFailed(
                    f"the browser failed while reading {display(tab.url)}: {reason(exc)}"
                ) from None
            finally:
                await self._close(page.close(), "page")

    async def close(self) -> None:
        """Close Chromium and its driver (on shutdown); the next scan launches a new one."""
        async with self._lock:
            await self._shut_down()

    async def _launch(self) -> Browser:
        executable = self.executable or find_browser()
        if not executable:
            raise BrowserUnavailable(
                "no Chromium found for browser-based scraping: install chromium "
                "(apt install chromium) or set BROWSER_EXECUTABLE to its path"
            )
        from playwright.async_api import async_playwright

        try:
            playwright = await async_playwright().start()
        except Exception as exc:  # the driver itself is missing or broken
            raise BrowserUnavailable(f"Playwright's driver would not start: {exc}") from None
        try:
            browser = await playwright.chromium.launch(
                executable_path=executable, headless=self.headless, args=list(LAUNCH_ARGS)
            )
        except playwright_error() as exc:
            await self._close(playwright.stop(), "playwright")
            raise BrowserUnavailable(
                f"Chromium at {executable} would not start ({reason(exc)}); install chromium "
                "or set BROWSER_EXECUTABLE to a working browser"
            ) from None
        self._playwright = playwright
        self.launches += 1
        log.info("browser_launched", executable=executable, version=browser.version)
        return browser

    async def _shut_down(self) -> None:
        browser, playwright = self._browser, self._playwright
        self._browser = self._playwright = None
        if browser is not None:
            await self._close(browser.close(), "browser")
        if playwright is not None:
            await self._close(playwright.stop(), "playwright")

    async def _close(self, closing: Awaitable[None], what: str) -> None:
        try:
            async with asyncio.timeout(self.close_timeout_s):
                await closing
        except TimeoutError:
            log.warning("browser_close_timed_out", what=what)
            self._suspect = True
        except Exception as exc:
            # Usually already gone with a crashed browser; closing must never fail a scan.
            log.info("browser_close_failed", what=what, reason=reason(exc))


def find_browser() -> str | None:
    """The Chromium Hunter would launch: BROWSER_EXECUTABLE, else the first one on PATH."""
    if settings.browser_executable:
        return shutil.which(settings.browser_executable)
    for name in BROWSER_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


_process_browser: SharedBrowser | None = None


def shared_browser() -> SharedBrowser:
    """The process-wide browser (close it with `await shared_browser().close()` on shutdown)."""
    global _process_browser
    if _process_browser is None:
        _process_browser = SharedBrowser()
    return _process_browser


def browser_for(context: FetchContext) -> SharedBrowser:
    """The scan's browser, or the process-wide one when the scan was given none."""
    return context.browser or shared_browser()


@dataclass(frozen=True, slots=True)
class _Loaded:
    """What a page load's document answered (an `http.Answer`)."""

    status: int
    url: str
    headers: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Settle:
    """How long to wait for a page to show something new after loading, clicking or scrolling.

    Waiting stops as soon as something new appears, once the page's network has been quiet for
    `quiet_s`, or after `timeout_s` at most (for pages that keep polling forever).
    """

    quiet_s: float = 1.5
    timeout_s: float = 10.0
    poll_s: float = 0.15


class Tab:
    """A page plus what scrapers do with it: open URLs, scroll, wait until it settles."""

    def __init__(self, page: Page, fetcher: Fetcher) -> None:
        self.page = page
        self.fetcher = fetcher
        self._in_flight: dict[Request, float] = {}
        self._last_activity = time.monotonic()
        self._document: _Loaded | None = None  # what the last navigation's document answered
        page.on("response", self._responded)
        page.on("request", self._started)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)

    @property
    def url(self) -> str:
        return self.page.url

    async def open(self, url: str) -> str:
        """Load `url` (within its host's cap, and after a 429 or 5xx answer again, as the
        fetcher retries HTTP requests); raise the typed error for a refused, missing or failing
        page."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BlockedUrl(f"refusing to open `{url}`: only http and https URLs can be scraped")

        async def attempt() -> _Loaded:
            self._document = None
            try:
                response = await self.page.goto(url, wait_until="load")
            except playwright_timeout():
                raise FetchTimeout(
                    f"{parts.netloc} did not finish loading {display(url)} within "
                    f"{settings.scraper_timeout_s:g} s"
                ) from None
            except playwright_error() as exc:
                # Chromium fails the navigation itself on an error status with an empty body.
                # Other failures are not retried: Chromium is still showing its error page, and
                # navigating again over it can leave the page impossible to close.
                if self._document is None or self._document.status < 400:
                    raise UpstreamFailed(f"could not load {display(url)}: {reason(exc)}") from None
                return self._document
            if response is None:  # a navigation within the page (same document)
                return _Loaded(200, self.page.url, {})
            return _Loaded(response.status, response.url, response.headers)

        await self.fetcher.politely(url, attempt)
        return self.page.url

    async def wait_for(self, check: Callable[[], Awaitable[bool]], settle: Settle) -> bool:
        """Poll `check` until it holds (True), or the page settles without it (False)."""
        start = time.monotonic()
        while True:
            if await check():
                return True
            now = time.monotonic()
            if now - start >= settle.timeout_s:
                return False
            if (
                now - start >= settle.quiet_s
                and self._quiet_for(settle.timeout_s) >= settle.quiet_s
            ):
                return False
            await asyncio.sleep(settle.poll_s)

    async def scroll_to_end(self, card_selector: str | None = None) -> None:
        """Scroll to the bottom the ways infinite lists listen for (scroll, wheel, observers)."""
        await self.page.evaluate(
            """(card) => {
                const cards = card ? document.querySelectorAll(card) : [];
                if (cards.length) cards[cards.length - 1].scrollIntoView({block: "end"});
                const root = document.scrollingElement || document.body;
                window.scrollTo(0, root.scrollHeight);
            }""",
            card_selector,
        )
        await self.page.mouse.wheel(0, 4000)

    async def scroll(self, direction: str, times: int, selector: str | None = None) -> None:
        """Scroll the window (or the element `selector`) by a screenful, `times` times."""
        sign = -1 if direction == "up" else 1
        for _ in range(times):
            await self.page.evaluate(
                """([sign, selector]) => {
                    const box = selector ? document.querySelector(selector) : null;
                    if (selector && !box) throw new Error(`nothing matched ${selector}`);
                    const target = box || window;
                    target.scrollBy(0, sign * (box ? box.clientHeight : window.innerHeight));
                }""",
                [sign, selector],
            )
            await asyncio.sleep(0.1)  # let scroll listeners run between steps

    async def usable(self, selector: str) -> bool:
        """Whether the first element matching `selector` is visible and not disabled."""
        found = self.page.locator(selector).first
        if not await found.count() or not await found.is_visible():
            return False
        disabled = await found.evaluate(
            "(el) => el.disabled === true || el.getAttribute('aria-disabled') === 'true'"
        )
        return not disabled

    def _quiet_for(self, stale_after_s: float) -> float:
        now = time.monotonic()
        # A request open longer than a whole settle timeout is a long poll, not page loading.
        if any(now - started < stale_after_s for started in self._in_flight.values()):
            return 0.0
        return now - self._last_activity

    def _responded(self, response: Response) -> None:
        request = response.request
        try:
            in_main_frame = request.frame == self.page.main_frame
        except playwright_error():
            return  # a service worker's request has no frame
        if in_main_frame and request.is_navigation_request():
            self._document = _Loaded(response.status, response.url, response.headers)

    def _started(self, request: Request) -> None:
        self._in_flight[request] = self._last_activity = time.monotonic()

    def _ended(self, request: Request) -> None:
        self._in_flight.pop(request, None)
        self._last_activity = time.monotonic()
