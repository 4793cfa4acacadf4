"""Browser scan benchmark (issue 3): a JavaScript app of 10 pages (each renders its list from a
JSON API) scanned in real Chromium by `generic` with `render: true` (URL paging) and by
`interactive` (reading the JSON responses, clicking the app's next button). Targets: at most
1.5 s per page; browser memory flat across consecutive scans (each scan's context is closed).

The browser is launched before the first scan (a launch is paid once per process, not per
scan), then one warm-up scan runs: Chromium's first page load starts its renderer and network
processes and fills its code caches, growth a second scan does not repeat. The warm-up is
reported but left out of the verdicts, which judge the `--scans` scans after it. Seconds per
page count every page load, including the empty 11th page that tells the scraper the list has
ended, divided by the 10 pages of jobs. Memory is summed over the Playwright driver and every
Chromium process under it, read after each scan once its processes are settled: RSS (which
counts pages the processes share once per process, so it overstates) and PSS (shared pages
split between their users; flatness is judged on it). After each scan the browser is also asked
how many contexts and pages are still open: a scan that left one behind would grow the browser
by a renderer per scan.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from dataclasses import dataclass

import psutil

from app.logging import configure_logging
from app.scrapers.base import FetchContext, ScrapeRequest
from app.scrapers.browser import SharedBrowser
from app.scrapers.config import PaginationType, ScraperConfig, ScraperType
from app.scrapers.http import Fetcher
from app.scrapers.registry import get_scraper
from benchmarks.board_server import SELECTORS, career_sites
from benchmarks.harness import print_table, verdict

PAGES = 10
PER_PAGE = 10
PER_PAGE_TARGET_S = 1.5
FLAT_BOUND_MB = 30.0  # growth from the first measured scan to the last that still counts as flat
WARM_UP_SCANS = 1


@dataclass
class Memory:
    """The browser's processes: summed RSS (counts shared pages once per process) and PSS."""

    rss_mb: float
    pss_mb: float
    processes: frozenset[int]


def browser_memory() -> Memory:
    """The Playwright driver and every Chromium process under it (children of this process)."""
    rss = pss = 0
    seen: set[int] = set()
    for child in psutil.Process().children():
        try:
            if "playwright" not in " ".join(child.cmdline()):
                continue
            tree = [child, *child.children(recursive=True)]
        except psutil.Error:
            continue
        for process in tree:
            try:
                info = process.memory_full_info()
            except psutil.Error:
                continue  # a renderer that exited while being read; the others still count
            rss, pss = rss + info.rss, pss + info.pss
            seen.add(process.pid)
    return Memory(rss / 2**20, pss / 2**20, frozenset(seen))


async def settled_browser_memory(every_s: float = 0.25, at_most_s: float = 5.0) -> Memory:
    """The browser's memory once the same processes answer twice in a row: a closed context's
    renderer exits a moment after the scan, and the reading should not depend on when."""
    memory = browser_memory()
    deadline = time.monotonic() + at_most_s
    while time.monotonic() < deadline:
        await asyncio.sleep(every_s)
        previous, memory = memory, browser_memory()
        if memory.processes == previous.processes:
            break
    return memory


@dataclass
class AfterScan:
    """One scan: seconds per page, the browser's memory after it and what it left open."""

    per_page_s: float
    memory: Memory
    open_contexts: int
    open_pages: int


@dataclass
class Figures:
    launched: Memory
    warm_up: list[AfterScan]
    measured: list[AfterScan]


def variants(url: str) -> dict[str, ScraperConfig]:
    """The ways a JavaScript board is read: URL paging in `generic`, a next button in
    `interactive` reading the app's JSON responses."""
    return {
        "generic, render: true, url_param": ScraperConfig(
            scraper_type=ScraperType.generic,
            selectors=SELECTORS,
            render=True,
            pagination_type=PaginationType.url_param,
            max_pages=PAGES + 5,
        ),
        "interactive, intercepted JSON, click next": ScraperConfig(
            scraper_type=ScraperType.interactive,
            selectors={**SELECTORS, "next_page": "button.next"},
            pagination_type=PaginationType.click,
            max_pages=PAGES + 5,
            intercept_patterns=["*/api/jobs/*"],
            intercept_job_path="jobs",
        ),
    }


async def measure(config: ScraperConfig, url: str, scans: int) -> Figures:
    """Warm the browser up, then scan the app `scans` times in it, timing each and reading the
    browser's memory and open contexts after it."""
    request = ScrapeRequest(url=url, board_name="Acme", config=config)
    scraper = get_scraper(config.scraper_type)
    browser = SharedBrowser()
    after: list[AfterScan] = []
    async with Fetcher() as fetcher:
        context = FetchContext(fetcher=fetcher, browser=browser)
        try:
            chromium = await browser.browser()
            launched = await settled_browser_memory()
            for _ in range(WARM_UP_SCANS + scans):
                started = time.perf_counter()
                result = await scraper.scrape(request, context)
                seconds = time.perf_counter() - started
                if len(result.jobs) != PAGES * PER_PAGE:
                    raise RuntimeError(f"the scan found {len(result.jobs)} jobs: {result}")
                after.append(
                    AfterScan(
                        seconds / PAGES,
                        await settled_browser_memory(),
                        browser.open_contexts(),
                        sum(len(c.pages) for c in chromium.contexts),
                    )
                )
        finally:
            await browser.close()
    return Figures(launched, after[:WARM_UP_SCANS], after[WARM_UP_SCANS:])


def run(scans: int) -> None:
    configure_logging("WARNING")
    load = os.getloadavg()[0]
    print(f"\n[browser] load average {load:.1f} on {os.cpu_count()} CPUs at start")
    verdicts = []
    with career_sites(1, pages=PAGES, per_page=PER_PAGE) as served:
        url = f"http://{served.hosts[0]}/app/acme"
        for name, config in variants(url).items():
            figures = asyncio.run(measure(config, url, scans))
            labels = [f"warm-up {n}" for n in range(1, WARM_UP_SCANS + 1)]
            labels += [f"scan {n}" for n in range(1, scans + 1)]
            rows = [
                (
                    label,
                    f"{scan.per_page_s:.2f}",
                    f"{scan.memory.rss_mb:.0f}",
                    f"{scan.memory.pss_mb:.0f}",
                    f"{scan.open_contexts} / {scan.open_pages}",
                )
                for label, scan in zip(labels, figures.warm_up + figures.measured, strict=True)
            ]
            launched = figures.launched
            print_table(
                f"[browser] {name}: {PAGES} pages per scan (browser just launched: "
                f"RSS {launched.rss_mb:.0f} MB, PSS {launched.pss_mb:.0f} MB)",
                rows,
                (
                    "scan",
                    "s/page",
                    "browser RSS sum (MB)",
                    "browser PSS sum (MB)",
                    "open contexts / pages after",
                ),
            )
            median = statistics.median(scan.per_page_s for scan in figures.measured)
            first, last = figures.measured[0].memory, figures.measured[-1].memory
            left_open = max(scan.open_contexts + scan.open_pages for scan in figures.measured)
            verdicts += [
                (
                    f"{name}: s/page (median)",
                    f"{median:.2f}",
                    f"<= {PER_PAGE_TARGET_S}",
                    verdict(median, PER_PAGE_TARGET_S),
                ),
                (
                    f"{name}: growth scan 1 -> {scans}, RSS / PSS (MB)",
                    f"{last.rss_mb - first.rss_mb:+.0f} / {last.pss_mb - first.pss_mb:+.0f}",
                    f"<= {FLAT_BOUND_MB:g}",
                    verdict(last.pss_mb - first.pss_mb, FLAT_BOUND_MB),
                ),
                (
                    f"{name}: contexts + pages open after a scan (most)",
                    f"{left_open}",
                    "0",
                    verdict(left_open, 0),
                ),
            ]
    print_table("[browser] verdicts", verdicts, ("measure", "measured", "target", ""))
