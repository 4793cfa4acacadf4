"""Job boards read with CSS selectors: over plain HTTP, or in a real browser when it is needed.

Each element matching `job_card` is one job; `title`, `company`, `location`, `link`, `salary`,
`posted_date` and `description` are looked up inside it. A page is fetched over HTTP unless the
board sets `render: true` or scrolls (`infinite_scroll`); `click` pagination over HTTP follows the
next-page link's href. The browser reads the rendered DOM with the same extraction code.

`complete` (which lets the scan close listings that vanished) is True only when the list ended
on its own: no pagination, no further next-page control, a page past the end (404, no cards,
or nothing new), or a scroll that loaded nothing more. A scan cut short by `max_pages`, or by a
later page failing, is partial: listings beyond the cut were not seen, so none may be closed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from app.scrapers.base import FetchContext, RawJob, Scraper, ScrapeRequest, ScrapeResult
from app.scrapers.base import workplace_type as guess_workplace
from app.scrapers.browser import Settle, Tab, browser_for, playwright_error, reason
from app.scrapers.config import PaginationType, ScraperConfig
from app.scrapers.dates import parse_date
from app.scrapers.errors import (
    BadConfig,
    BoardNotFound,
    PageNotFound,
    ScrapeError,
    SelectorMatchedNothing,
)
from app.scrapers.salary import parse_salary, salary_from_description
from app.scrapers.text import html_to_text, single_line


class GenericScraper(Scraper):
    name = "generic"

    def __init__(self, *, settle: Settle | None = None) -> None:
        self.settle = settle or Settle()

    async def scrape(self, request: ScrapeRequest, context: FetchContext) -> ScrapeResult:
        if "job_card" not in request.config.selectors:
            raise BadConfig("the generic scraper needs scraper_config.selectors.job_card")
        now = context.clock()
        config = request.config
        if not (config.render or config.pagination_type == PaginationType.infinite_scroll):
            return await scrape_over_http(request, context)
        async with browser_for(context).open_tab(context.fetcher) as tab:
            await open_first_page(tab, request)
            return await browse(tab, request, DomJobs(tab, request, now), self.settle)


@dataclass(frozen=True, slots=True)
class Cards:
    """The jobs on one page, and how many elements matched `job_card` (some may lack a title)."""

    matched: int
    jobs: list[RawJob]


def read_cards(html: str, *, page_url: str, request: ScrapeRequest, now: datetime) -> Cards:
    """Every job card in `html`; links are made absolute against the page's own URL."""
    selectors = request.config.selectors
    tree = LexborHTMLParser(html)
    base = tree.css_first("base[href]")
    base_url = urljoin(page_url, base.attributes.get("href") or "") if base else page_url
    cards = tree.css(selectors["job_card"])
    jobs = [job for card in cards if (job := _job(card, request, base_url, now))]
    return Cards(matched=len(cards), jobs=jobs)


def nothing_matched(config: ScraperConfig, cards: Cards | None) -> SelectorMatchedNothing:
    """Why page 1 gave no jobs, naming the selector to fix."""
    selectors = config.selectors
    if cards is None or not cards.matched or "title" not in selectors:
        return SelectorMatchedNothing(
            f"selector `{selectors['job_card']}` matched nothing on page 1"
        )
    return SelectorMatchedNothing(
        f"title selector `{selectors['title']}` matched nothing in the {cards.matched} "
        f"`{selectors['job_card']}` cards on page 1"
    )


def fallback_url(board_url: str, *parts: str) -> str:
    """A stable URL for a card without a link: the board's URL plus a digest of the card."""
    digest = hashlib.blake2s("\x1f".join(parts).encode(), digest_size=6).hexdigest()
    return urlunsplit(urlsplit(board_url)._replace(fragment=f"job-{digest}"))


def numbered_url(url: str, config: ScraperConfig, number: int) -> str:
    """`url` with its page parameter set for page `number` (1-based), other parameters kept."""
    value = str(config.url_page_start + (number - 1) * config.url_page_step)
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    if any(k == config.url_page_param for k, _ in query):
        query = [(k, value if k == config.url_page_param else v) for k, v in query]
    else:
        query.append((config.url_page_param, value))
    return urlunsplit(parts._replace(query=urlencode(query)))


def followable(href: str | None, base_url: str, *, fragments: bool = False) -> str | None:
    """The absolute http(s) URL an href leads to, or None for `#`, `javascript:` and the like.

    Pages are compared without fragments; job links keep theirs (`#/jobs/42` in hash-routed apps).
    """
    href = (href or "").strip()
    if not href or href == "#" or href.lower().startswith("javascript:"):
        return None
    if href.startswith("#") and not fragments:
        return None
    parts = urlsplit(urljoin(base_url, href))
    if parts.scheme not in ("http", "https"):
        return None
    return urlunsplit(parts if fragments else parts._replace(fragment=""))


class Harvest:
    """Jobs gathered across pages, each once; `add` says how many were new."""

    def __init__(self) -> None:
        self.jobs: list[RawJob] = []
        self._keys: set[tuple[str, str, str]] = set()

    def add(self, jobs: list[RawJob]) -> int:
        before = len(self.jobs)
        for job in jobs:
            key = (job.url, job.external_id or "", job.title)
            if key not in self._keys:
                self._keys.add(key)
                self.jobs.append(job)
        return len(self.jobs) - before


def cut_short(config: ScraperConfig) -> str:
    return f"stopped after max_pages ({config.max_pages}); later pages were not read"


async def scrape_over_http(request: ScrapeRequest, context: FetchContext) -> ScrapeResult:
    """Read the board's pages with plain HTTP requests (no JavaScript runs)."""
    config, now = request.config, context.clock()
    paging = config.pagination_type
    paged = paging == PaginationType.url_param
    url = numbered_url(request.url, config, 1) if paged else request.url
    try:
        page = await context.fetcher.get_page(url)
    except PageNotFound as exc:
        raise _board_not_found(request, exc) from None
    cards = read_cards(page.text, page_url=page.url, request=request, now=now)
    if not cards.jobs:
        raise nothing_matched(config, cards)
    harvest = Harvest()
    harvest.add(cards.jobs)
    visited = {followable(url, url), followable(page.url, page.url)}
    pages, complete, warnings = 1, True, []
    while paging is not None:
        if paging == PaginationType.url_param:
            next_url: str | None = numbered_url(request.url, config, pages + 1)
            problem: str | None = None
        else:
            next_url, problem = _next_link(page.text, page.url, config)
        if problem:
            complete = False
            warnings.append(problem)
        if next_url is None or next_url in visited:
            break
        if pages >= config.max_pages:
            complete = False
            warnings.append(cut_short(config))
            break
        try:
            page = await context.fetcher.get_page(next_url)
        except PageNotFound:
            break  # asked past the last page
        except ScrapeError as exc:
            complete = False
            warnings.append(f"page {pages + 1} could not be read: {exc}")
            break
        pages += 1
        visited.update((next_url, followable(page.url, page.url)))
        if not harvest.add(read_cards(page.text, page_url=page.url, request=request, now=now).jobs):
            break
    return ScrapeResult(
        jobs=harvest.jobs, complete=complete, pages_fetched=pages, warnings=warnings
    )


def _next_link(html: str, page_url: str, config: ScraperConfig) -> tuple[str | None, str | None]:
    """The next page's URL (None at the end), and a warning when it cannot be followed."""
    selector = config.selectors.get("next_page")
    if not selector:
        raise BadConfig("click pagination needs scraper_config.selectors.next_page")
    node = LexborHTMLParser(html).css_first(selector)
    if node is None or _disabled(node):
        return None, None
    url = _href(node, base_url=page_url, fragments=False)
    if url is None:
        return None, (
            f"the next-page control `{selector}` is not a link Hunter can follow over HTTP; "
            "set render: true to have a browser click it"
        )
    return url, None


def _disabled(node: LexborNode) -> bool:
    attributes, classes = node.attributes, (node.attributes.get("class") or "").split()
    return (
        "disabled" in attributes
        or "disabled" in classes
        or (attributes.get("aria-disabled") == "true")
    )


def _board_not_found(request: ScrapeRequest, exc: PageNotFound) -> BoardNotFound:
    return BoardNotFound(
        f"career page {request.url} not found ({exc.status})", url=request.url, status=exc.status
    )


# -- in a browser ---------------------------------------------------------------------------


class JobSource(Protocol):
    """Where a browser scan reads jobs: the rendered DOM, or intercepted JSON responses."""

    async def jobs(self) -> list[RawJob]:
        """Every job the page shows so far."""
        ...

    def nothing_found(self) -> ScrapeError | None:
        """Why page 1 showed no jobs; None when the board is genuinely empty."""
        ...


class DomJobs:
    """Jobs read from the rendered page with the generic selectors."""

    def __init__(self, tab: Tab, request: ScrapeRequest, now: datetime) -> None:
        self.tab, self.request, self.now = tab, request, now
        self.last: Cards | None = None

    async def jobs(self) -> list[RawJob]:
        try:
            html = await self.tab.page.content()
        except playwright_error():
            return []  # the page is navigating; the next poll reads the new one
        self.last = read_cards(html, page_url=self.tab.url, request=self.request, now=self.now)
        return self.last.jobs

    def nothing_found(self) -> ScrapeError | None:
        return nothing_matched(self.request.config, self.last)


async def open_first_page(tab: Tab, request: ScrapeRequest) -> None:
    config = request.config
    paged = config.pagination_type == PaginationType.url_param
    try:
        await tab.open(numbered_url(request.url, config, 1) if paged else request.url)
    except PageNotFound as exc:
        raise _board_not_found(request, exc) from None


async def browse(
    tab: Tab,
    request: ScrapeRequest,
    source: JobSource,
    settle: Settle,
    *,
    after_navigation: Callable[[], Awaitable[None]] | None = None,
) -> ScrapeResult:
    """Read page 1 (already open) and the pages after it, as the board's pagination says."""
    config = request.config
    harvest = Harvest()

    async def found_new() -> bool:
        return harvest.add(await source.jobs()) > 0

    if not await tab.wait_for(found_new, settle):
        if (error := source.nothing_found()) is not None:
            raise error
        return ScrapeResult(jobs=[], complete=True, pages_fetched=1)
    pages, complete, warnings = 1, True, []
    visited = {followable(tab.url, tab.url)}
    while (paging := config.pagination_type) is not None:
        if pages >= config.max_pages:
            complete = not await _more_to_load(tab, config)
            if not complete:
                warnings.append(cut_short(config))
            break
        try:
            moved = await _turn_page(tab, request, pages + 1, visited)
            if moved and paging == PaginationType.url_param and after_navigation is not None:
                await after_navigation()
        except PageNotFound:
            break  # asked past the last page
        except (ScrapeError, playwright_error()) as exc:
            complete = False  # keep what the earlier pages gave
            warnings.append(f"page {pages + 1} could not be read: {reason(exc)}")
            break
        if not moved:
            break
        pages += 1
        if not await tab.wait_for(found_new, settle):
            break
    return ScrapeResult(
        jobs=harvest.jobs, complete=complete, pages_fetched=pages, warnings=warnings
    )


async def _more_to_load(tab: Tab, config: ScraperConfig) -> bool:
    """Whether the page offers more after the last page read (unknowable for URL paging)."""
    selectors = config.selectors
    if config.pagination_type == PaginationType.click:
        return await tab.usable(selectors["next_page"])
    if config.pagination_type == PaginationType.infinite_scroll and "load_more" in selectors:
        return await tab.usable(selectors["load_more"])
    return True


async def _turn_page(
    tab: Tab, request: ScrapeRequest, number: int, visited: set[str | None]
) -> bool:
    """Go to page `number`; False when there is no way forward (the list has ended)."""
    config = request.config
    selectors = config.selectors
    if config.pagination_type == PaginationType.url_param:
        await tab.open(numbered_url(request.url, config, number))
        return True
    if config.pagination_type == PaginationType.click:
        selector = selectors.get("next_page")
        if not selector:
            raise BadConfig("click pagination needs scraper_config.selectors.next_page")
        if not await tab.usable(selector):
            return False
        control = tab.page.locator(selector).first
        target = followable(await control.get_attribute("href"), tab.url)
        if target is None:
            await control.click()
            return True
        if target in visited:
            return False
        visited.add(target)
        await tab.open(target)
        return True
    await tab.scroll_to_end(selectors.get("job_card"))
    if "load_more" in selectors:
        if not await tab.usable(selectors["load_more"]):
            return False
        await tab.page.locator(selectors["load_more"]).first.click()
    return True


# -- one card -------------------------------------------------------------------------------


def _job(card: LexborNode, request: ScrapeRequest, base_url: str, now: datetime) -> RawJob | None:
    selectors = request.config.selectors

    def find(name: str) -> LexborNode | None:
        selector = selectors.get(name)
        return card.css_first(selector) if selector else None

    title_node, link_node = find("title"), find("link")
    if "title" in selectors:
        title = _text(title_node)
    else:
        title = _text(link_node) or next(iter(html_to_text(card.html).splitlines()), "")
    if not title:
        return None
    location = _text(find("location"))
    company = _text(find("company")) or request.board_name
    description_node = find("description")
    description = html_to_text(description_node.html) if description_node else ""
    url = _href(link_node, title_node, card, base_url=base_url) or fallback_url(
        request.url, title, company, location
    )
    date_node = find("posted_date")
    date_value = date_node.attributes.get("datetime") if date_node else None
    salary_text = _text(find("salary"))
    job = RawJob(
        title=title,
        url=url,
        company=company,
        location=location,
        description=description,
        posted_date=parse_date(date_value or _text(date_node), now=now),
        workplace_type=guess_workplace(location, title),
    )
    salary = parse_salary(salary_text) if salary_text else salary_from_description(description)
    job.set_salary(salary)
    return job


def _text(node: LexborNode | None) -> str:
    return single_line(node.text(deep=True, separator=" ")) if node is not None else ""


def _href(*candidates: LexborNode | None, base_url: str, fragments: bool = True) -> str | None:
    """The first usable link on (or inside) the candidates: link, title, then the card."""
    for node in candidates:
        if node is None:
            continue
        inner = node.css_first("a[href]")
        hrefs = [node.attributes.get(name) for name in ("href", "data-href", "data-url")]
        for href in [*hrefs, inner.attributes.get("href") if inner is not None else None]:
            if url := followable(href, base_url, fragments=fragments):
                return url
    return None
