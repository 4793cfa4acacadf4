"""Browser scan benchmark (issue 3): a JavaScript app of 10 pages (each renders its list from a
JSON API) scanned in real Chromium by `generic` with `render: true` (URL paging) and by
`interactive` (reading the JSON responses, clicking the app's next button). Targets: at most
1.5 s per page; browser memory flat across consecutive scans (each scan's context is closed).

The browser is launched before the first timed scan (a launch is paid once per process, not per
scan). Seconds per page count every page load, including the empty 11th page that tells the
scraper the list has ended, divided by the 10 pages of jobs. Memory is summed over the
Playwright driver and every Chromium process under it, read after each scan: RSS (which counts
pages the processes share once per process, so it overstates) and PSS (shared pages split
between their users; flatness is judged on it).
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
FLAT_BOUND_MB = 30.0  # growth from the first scan to the last that still counts as flat


@dataclass
class Memory:
    """The browser's processes: summed RSS (counts shared pages once per process) and PSS."""

    rss_mb: float
    pss_mb: float


def browser_memory() -> Memory:
    """The Playwright driver and every Chromium process under it (children of this process)."""
    rss = pss = 0
    for child in psutil.Process().children():
        try:
            if "playwright" not in " ".join(child.cmdline()):
                continue
            for process in [child, *child.children(recursive=True)]:
                info = process.memory_full_info()
                rss, pss = rss + info.rss, pss + info.pss
        except psutil.Error:
            continue  # a renderer that exited while being read
    return Memory(rss / 2**20, pss / 2**20)


@dataclass
class Figures:
    per_page_s: list[float]
    memory: list[Memory]  # after each scan
    launched: Memory


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
    """Scan the app `scans` times in one browser, timing each and reading memory after it."""
    request = ScrapeRequest(url=url, board_name="Acme", config=config)
    scraper = get_scraper(config.scraper_type)
    browser = SharedBrowser()
    per_page, memory = [], []
    async with Fetcher() as fetcher:
        context = FetchContext(fetcher=fetcher, browser=browser)
        try:
            await browser.browser()
            launched = browser_memory()
            for _ in range(scans):
                started = time.perf_counter()
                result = await scraper.scrape(request, context)
                per_page.append((time.perf_counter() - started) / PAGES)
                if len(result.jobs) != PAGES * PER_PAGE:
                    raise RuntimeError(f"the scan found {len(result.jobs)} jobs: {result}")
                memory.append(browser_memory())
        finally:
            await browser.close()
    return Figures(per_page, memory, launched)


def run(scans: int) -> None:
    configure_logging("WARNING")
    load = os.getloadavg()[0]
    print(f"\n[browser] load average {load:.1f} on {os.cpu_count()} CPUs at start")
    verdicts = []
    with career_sites(1, pages=PAGES, per_page=PER_PAGE) as served:
        url = f"http://{served.hosts[0]}/app/acme"
        for name, config in variants(url).items():
            figures = asyncio.run(measure(config, url, scans))
            rows = [
                (f"scan {n}", f"{seconds:.2f}", f"{m.rss_mb:.0f}", f"{m.pss_mb:.0f}")
                for n, (seconds, m) in enumerate(
                    zip(figures.per_page_s, figures.memory, strict=True), start=1
                )
            ]
            launched = figures.launched
            print_table(
                f"[browser] {name}: {PAGES} pages per scan (browser just launched: "
                f"RSS {launched.rss_mb:.0f} MB, PSS {launched.pss_mb:.0f} MB)",
                rows,
                ("scan", "s/page", "browser RSS sum (MB)", "browser PSS sum (MB)"),
            )
            median = statistics.median(figures.per_page_s)
            first, last = figures.memory[0], figures.memory[-1]
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
            ]
    print_table("[browser] verdicts", verdicts, ("measure", "measured", "target", ""))
