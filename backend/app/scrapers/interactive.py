"""JavaScript-heavy boards: a real browser runs the board's `pre_search_actions`, then reads jobs.

Jobs come from the site's own JSON API when `intercept_patterns` is set, or else from the rendered
page with the `generic` selectors. Intercepted responses are those whose URL matches a glob and
whose request the page made once the actions began (so a search's results are read, not the
unfiltered list the app loaded first); with no actions, those of the first page load count.
Each is read at `intercept_job_path`. When no intercepted response gives jobs and
`selectors.job_card` is set too, the rendered page is read instead (the DOM fallback), with a
warning saying why. Pagination and `complete` work as in `generic`.

"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from app.config import settings
from app.scrapers.base import FetchContext, RawJob, Scraper, ScrapeRequest, ScrapeResult
from app.scrapers.base import workplace_type as guess_workplace
from app.scrapers.browser import (
    Settle,
    Tab,
    browser_for,
    display,
    playwright_error,
    playwright_timeout,
    reason,
)
from app.scrapers.config import ActionType, PreSearchAction, ScraperConfig
from app.scrapers.dates import parse_date
from app.scrapers.errors import BadConfig, BadResponse, ScrapeError
from app.scrapers.generic import (
    DomJobs,
    browse,
    fallback_url,
    followable,
    open_first_page,
)
from app.scrapers.salary import parse_salary, salary_from_description
from app.scrapers.text import html_to_text, single_line

if TYPE_CHECKING:
    from playwright.async_api import Request, Response

# Where APIs commonly put a posting date (there is no intercept key for it).
_DATE_KEYS = (
    *("posted_date", "postedDate", "datePosted", "publishedAt", "published_at"),
    *("createdAt", "created_at", "updatedAt", "updated_at"),
)
_NAME_KEYS = ("name", "title", "label", "text", "value")
READ_WAIT_S = 2.0


class ActionFailed(ScrapeError):
    """A pre-search action could not be done (its element never appeared, ...)."""

    def __init__(self, index: int, action: PreSearchAction, why: str) -> None:
        target = action.selector or action.wait_selector or action.key or action.state
        what = f"{action.action.value} `{target}`" if target else action.action.value
        super().__init__(f"pre_search_actions[{index}] ({what}) failed: {why}")
        self.index = index


class NothingIntercepted(ScrapeError):
    """No response matched `intercept_patterns` while the page loaded."""


class InteractiveScraper(Scraper):
    name = "interactive"

    def __init__(self, *, settle: Settle | None = None) -> None:
        self.settle = settle or Settle()

    async def scrape(self, request: ScrapeRequest, context: FetchContext) -> ScrapeResult:
        config = request.config
        if not config.intercept_patterns and "job_card" not in config.selectors:
            raise BadConfig(
                "the interactive scraper needs scraper_config.selectors.job_card to read the "
                "page, or intercept_patterns to read the site's JSON responses"
            )
        now = context.clock()
        async with browser_for(context).open_tab(context.fetcher) as tab:
            interceptor = Interceptor(tab, request, now) if config.intercept_patterns else None
            source = interceptor or DomJobs(tab, request, now)
            await open_first_page(tab, request)

            async def search() -> None:
                await run_actions(tab, config.pre_search_actions)

            if interceptor is not None and config.pre_search_actions:
                interceptor.actions_begin()
            try:
                await search()
                try:
                    return await browse(tab, request, source, self.settle, after_navigation=search)
                except (NothingIntercepted, BadResponse) as failed:
                    # Only page 1 raises these: no response gave jobs. With job cards to read,
                    # the page the search left open is read instead.
                    if interceptor is None or "job_card" not in config.selectors:
                        raise
                    dom = DomJobs(tab, request, now)
                    return await _read_the_page_instead(
                        tab, request, dom, self.settle, failed, search
                    )
            finally:
                if interceptor is not None:
                    await interceptor.aclose()


async def _read_the_page_instead(
    tab: Tab,
    request: ScrapeRequest,
    dom: DomJobs,
    settle: Settle,
    failed: ScrapeError,
    search: Callable[[], Awaitable[None]],
) -> ScrapeResult:
    """The DOM fallback of a scan whose intercepted responses gave no jobs: the rendered job
    cards, page after page, with the interception's failure kept as a warning (or, when the
    page shows no cards either, named in the error)."""
    try:
        result = await browse(tab, request, dom, settle, after_navigation=search)
    except ScrapeError as exc:
        raise ScrapeError(f"{failed.message}; reading the page instead: {exc.message}") from exc
    result.warnings.append(f"read the job cards on the page instead: {failed.message}")
    return result


async def run_actions(tab: Tab, actions: list[PreSearchAction]) -> None:
    """Run the actions in order; the first that fails stops the scan, saying which one."""
    for index, action in enumerate(actions):
        timeout_ms = float(action.timeout or settings.scraper_timeout_s * 1000)
        try:
            await _run(tab, action, timeout_ms)
        except playwright_timeout():
            waited = f"{timeout_ms / 1000:g} s"
            why = (
                f"no usable element matched within {waited}"
                if action.selector or action.wait_selector
                else f"timed out after {waited}"
            )
            raise ActionFailed(index, action, why) from None
        except playwright_error() as exc:
            raise ActionFailed(index, action, reason(exc)) from None


async def _run(tab: Tab, action: PreSearchAction, timeout_ms: float) -> None:
    page, selector = tab.page, action.selector
    match action.action:
        case ActionType.fill:
            await page.fill(selector or "", action.value or "", timeout=timeout_ms)
        case ActionType.click:
            await page.click(selector or "", timeout=timeout_ms)
        case ActionType.select:
            await page.select_option(selector or "", action.value, timeout=timeout_ms)
        case ActionType.press if selector:
            await page.press(selector, action.key or "", timeout=timeout_ms)
        case ActionType.press:
            await page.keyboard.press(action.key or "")
        case ActionType.scroll:
            await tab.scroll(action.direction or "down", action.times or 1, selector)
        case ActionType.delay:
            await asyncio.sleep((action.ms or 0) / 1000)
        case ActionType.wait:
            if action.state:
                await page.wait_for_load_state(action.state, timeout=timeout_ms)
            if target := action.wait_selector or selector:
                await page.wait_for_selector(target, state="visible", timeout=timeout_ms)


def url_matches(url: str, patterns: list[str]) -> bool:
    """Whether a response URL matches a glob, written for the whole URL or for its path."""
    parts = urlsplit(url)
    path = f"{parts.path}?{parts.query}" if parts.query else parts.path
    return any(fnmatchcase(url, p) or fnmatchcase(path, p) for p in patterns)


class Interceptor:
    """Jobs from the JSON responses the page receives whose URL matches `intercept_patterns`."""

    def __init__(self, tab: Tab, request: ScrapeRequest, now: datetime) -> None:
        self.tab, self.request, self.now = tab, request, now
        self.config = request.config
        self.matched = 0  # responses read
        self.lists = 0  # of those, responses with a job list at the path
        self.items = 0  # items in those lists
        self.ignored = 0  # responses to requests made before the actions began
        self.problems: list[str] = []
        self.other_calls: list[str] = []  # API calls that did not match, to help fix patterns
        self._jobs: list[RawJob] = []
        self._reading: set[asyncio.Task[None]] = set()
        self._early: set[Request] = set()
        self._acting = False
        tab.page.on("request", self._on_request)
        tab.page.on("response", self._on_response)

    def actions_begin(self) -> None:
        """From now on, only responses to requests the page makes after this point count."""
        self._acting = True
        self.ignored += self.matched
        self.matched = self.lists = self.items = 0
        self.problems.clear()
        self._jobs.clear()

    async def jobs(self) -> list[RawJob]:
        if self._reading:
            # Briefly: a body still streaming is read by a later poll.
            await asyncio.wait(set(self._reading), timeout=READ_WAIT_S)
        return list(self._jobs)

    async def aclose(self) -> None:
        """Stop reading bodies still in flight (the page is about to close)."""
        for task in self._reading:
            task.cancel()
        await asyncio.gather(*self._reading, return_exceptions=True)

    def nothing_found(self) -> ScrapeError | None:
        if not self.matched:
            patterns = ", ".join(f"`{p}`" for p in self.config.intercept_patterns)
            early = (
                f" ({self.ignored} came from the first page load, before pre_search_actions "
                "ran, and were not used)"
                if self.ignored
                else ""
            )
            seen = (
                f"; the page called {', '.join(self.other_calls[:5])}" if self.other_calls else ""
            )
            return NothingIntercepted(
                f"no response matching {patterns} arrived while loading "
                f"{display(self.request.url)}{early}{seen}"
            )
        if self.problems and not self.lists:
            return BadResponse(self.problems[0])
        if self.items:
            return BadResponse(
                f"none of the {self.items} items intercepted at `{self._path_name()}` has a "
                f"`{self.config.intercept_title_key or 'title'}` value (intercept_title_key)"
            )
        return None  # the site answered with an empty list: the board has no jobs

    def _on_request(self, request: Request) -> None:
        if not self._acting and url_matches(request.url, self.config.intercept_patterns):
            self._early.add(request)

    def _on_response(self, response: Response) -> None:
        if not url_matches(response.url, self.config.intercept_patterns):
            if response.request.resource_type in ("xhr", "fetch"):
                self.other_calls.append(display(response.url))
            return
        if response.request.method in ("OPTIONS", "HEAD"):
            return
        task = asyncio.get_running_loop().create_task(self._read(response))
        self._reading.add(task)
        task.add_done_callback(self._reading.discard)

    async def _read(self, response: Response) -> None:
        source = display(response.url)
        try:
            body: bytes | None = await response.body()
        except playwright_error() as exc:
            body, failure = None, f"could not read the response from {source}: {reason(exc)}"
        if self._acting and response.request in self._early:
            self.ignored += 1
            return
        self.matched += 1
        if body is None:
            self.problems.append(failure)
            return
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            self.problems.append(f"the response from {source} is not JSON")
            return
        items = _at_path(data, self.config.intercept_job_path or "")
        if not isinstance(items, list):
            self.problems.append(
                f"`{self._path_name()}` in the response from {source} is not a list of jobs; "
                "set intercept_job_path to the list's dotted path"
            )
            return
        self.lists += 1
        self.items += len(items)
        page_url = self.tab.url
        for item in items:
            if job := job_from_item(item, self.config, page_url, self.request, self.now):
                self._jobs.append(job)

    def _path_name(self) -> str:
        return self.config.intercept_job_path or "(top level)"


def job_from_item(
    item: Any, config: ScraperConfig, page_url: str, request: ScrapeRequest, now: datetime
) -> RawJob | None:
    """A job from one item of an intercepted list, using the configured (dotted) keys."""
    title = single_line(_text(_at_path(item, config.intercept_title_key or "title")))
    if not title:
        return None
    location = single_line(_text(_at_path(item, config.intercept_location_key or "location")))
    company = single_line(_text(_at_path(item, config.intercept_company_key))) or request.board_name
    description = html_to_text(
        _text(_at_path(item, config.intercept_description_key or "description"))
    )
    external_id = single_line(_text(_at_path(item, config.intercept_id_key or "id"))) or None
    link = _text(_at_path(item, config.intercept_url_key or "url"))
    url = followable(link, page_url, fragments=True) or fallback_url(
        request.url, external_id or title, company, location
    )
    posted = next(
        (d for key in _DATE_KEYS if (d := parse_date(_at_path(item, key), now=now))), None
    )
    salary_text = _text(_at_path(item, "salary"))
    job = RawJob(
        title=title,
        url=url,
        company=company,
        location=location,
        description=description,
        external_id=external_id,
        posted_date=posted,
        workplace_type=guess_workplace(location, title),
    )
    job.set_salary(parse_salary(salary_text) or salary_from_description(description))
    return job


def _at_path(data: Any, path: str | None) -> Any:
    """The value at a dotted path (`data.jobs`, `results.0.items`); empty path = `data` itself."""
    if path is None:
        return None
    for step in (part for part in path.split(".") if part):
        if isinstance(data, dict):
            data = data.get(step)
        elif isinstance(data, list) and step.lstrip("-").isdigit():
            index = int(step)
            data = data[index] if -len(data) <= index < len(data) else None
        else:
            return None
    return data


def _text(value: Any) -> str:
    """A field as text: strings and numbers as is, `{name: ...}` objects by name, lists joined."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, dict):
        return next((text for key in _NAME_KEYS if (text := _text(value.get(key)))), "")
    if isinstance(value, list):
        return "; ".join(text for item in value if (text := _text(item)))
    return ""
