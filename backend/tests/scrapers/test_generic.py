"""The selector scraper against boards served by a local server, over HTTP and in Chromium."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from app.scrapers.base import FetchContext, ScrapeRequest
from app.scrapers.browser import Settle, SharedBrowser, find_browser
from app.scrapers.config import ScraperConfig
from app.scrapers.errors import BoardNotFound, SelectorMatchedNothing
from app.scrapers.generic import GenericScraper, numbered_url
from tests.scrapers.local_server import LocalServer, Recorded, Reply
from tests.scrapers.pages import SELECTORS, board, card, numbered, read
from tests.support import require_service

scraper = GenericScraper(settle=Settle(quiet_s=0.5, timeout_s=5))


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


def request(url: str, **config: Any) -> ScrapeRequest:
    settings = {"scraper_type": "generic", "selectors": SELECTORS, **config}
    return ScrapeRequest(url=url, board_name="Acme", config=ScraperConfig.model_validate(settings))


def by_query(pages: dict[int, str], param: str = "page") -> Callable[[Recorded], Reply]:
    """Serve `pages[n]` for `?param=n`; numbers without a page get an empty board."""
    return lambda r: Reply(body=pages.get(int(r.query.get(param, "1")), board()))


async def test_reads_each_card_and_pages_through_the_url_parameter(
    server: LocalServer, context: FetchContext
) -> None:
    first = board(
        card(
            "Backend Engineer",
            "/jobs/1",
            location="Berlin, Germany",
            company="Acme GmbH",
            salary="€60.000 - €80.000 per year",
            posted="2024-03-01",
            description="<p>Build <b>APIs</b></p><ul><li>Go</li></ul>",
        ),
        card("Support Lead", None, location="Remote (EU)"),
    )
    second = board(card("Data Engineer", "openings/3", location="Hybrid - Paris"))
    server.route("GET", "/careers/openings", by_query({1: first, 2: second}))
    url = f"{server.url}/careers/openings?team=eng"

    result = await scraper.scrape(request(url, pagination_type="url_param"), context)

    assert result.complete is True
    assert result.pages_fetched == 3
    assert [r.query for r in server.hits("/careers/openings")] == [
        {"team": "eng", "page": str(n)} for n in (1, 2, 3)
    ]
    backend, support, data = result.jobs
    assert backend.title == "Backend Engineer"
    assert backend.url == f"{server.url}/jobs/1"
    assert backend.company == "Acme GmbH"
    assert backend.location == "Berlin, Germany"
    assert backend.description == "Build APIs\n\n- Go"
    assert backend.posted_date == datetime(2024, 3, 1, tzinfo=UTC)
    assert (backend.salary_min, backend.salary_max) == (60000, 80000)
    assert (backend.salary_currency, backend.salary_period) == ("EUR", "year")
    assert support.company == "Acme"
    assert support.workplace_type == "remote"
    assert support.url.startswith(f"{url}#job-")
    assert data.url == f"{server.url}/careers/openings/3"
    assert data.workplace_type == "hybrid"

    again = await scraper.scrape(request(url, pagination_type="url_param"), context)
    assert [job.url for job in again.jobs] == [job.url for job in result.jobs]


async def test_an_offset_parameter_steps_by_the_page_size(
    server: LocalServer, context: FetchContext
) -> None:
    pages = {0: board(*numbered(2)), 2: board(*numbered(2, first=3))}
    server.route(
        "GET",
        "/jobs",
        lambda r: (
            Reply(body=pages[int(r.query["start"])])
            if int(r.query["start"]) in pages
            else Reply(status=404)
        ),
    )
    config = {"url_page_param": "start", "url_page_start": 0, "url_page_step": 2}

    result = await scraper.scrape(
        request(f"{server.url}/jobs", pagination_type="url_param", **config), context
    )

    assert [job.title for job in result.jobs] == [f"Engineer {n}" for n in range(1, 5)]
    assert [r.query["start"] for r in server.hits("/jobs")] == ["0", "2", "4"]
    assert result.complete is True


async def test_follows_next_links_until_the_list_ends(
    server: LocalServer, context: FetchContext
) -> None:
    server.route("GET", "/board/one", Reply(body=board(*numbered(2), next_href="two")))
    # The last page links back to the first: a loop, not a new page.
    server.route("GET", "/board/two", Reply(body=board(*numbered(1, first=3), next_href="one")))

    result = await scraper.scrape(
        request(f"{server.url}/board/one", pagination_type="click"), context
    )

    assert [job.title for job in result.jobs] == ["Engineer 1", "Engineer 2", "Engineer 3"]
    assert (result.pages_fetched, result.complete) == (2, True)
    assert len(server.hits("/board/one")) == 1


async def test_a_next_link_that_never_ends_stops_at_max_pages(
    server: LocalServer, context: FetchContext
) -> None:
    def endless(r: Recorded) -> Reply:
        n = int(r.query.get("n", "1"))
        return Reply(body=board(*numbered(1, first=n), next_href=f"?n={n + 1}"))

    server.route("GET", "/endless", endless)

    result = await scraper.scrape(
        request(f"{server.url}/endless", pagination_type="click", max_pages=3), context
    )

    assert len(server.hits("/endless")) == 3
    assert [job.title for job in result.jobs] == ["Engineer 1", "Engineer 2", "Engineer 3"]
    assert result.complete is False
    assert result.warnings == ["stopped after max_pages (3); later pages were not read"]


async def test_a_page_that_adds_nothing_new_ends_the_scan(
    server: LocalServer, context: FetchContext
) -> None:
    # Like many sites, this one ignores an out-of-range page number and repeats page 1.
    server.route("GET", "/jobs", Reply(body=board(*numbered(2))))

    result = await scraper.scrape(
        request(f"{server.url}/jobs", pagination_type="url_param"), context
    )

    assert [job.title for job in result.jobs] == ["Engineer 1", "Engineer 2"]
    assert (result.pages_fetched, result.complete) == (2, True)


async def test_a_later_page_failing_keeps_what_was_read(
    server: LocalServer, context: FetchContext
) -> None:
    def flaky(r: Recorded) -> Reply:
        return Reply(status=500) if r.query["page"] == "2" else Reply(body=board(*numbered(2)))

    server.route("GET", "/jobs", flaky)

    result = await scraper.scrape(
        request(f"{server.url}/jobs", pagination_type="url_param"), context
    )

    assert len(result.jobs) == 2
    assert result.complete is False
    assert "page 2 could not be read" in result.warnings[0]


async def test_a_selector_that_matches_nothing_says_which(
    server: LocalServer, context: FetchContext
) -> None:
    server.route("GET", "/redesigned", Reply(body="<html><body><div class='vacancy'>x</div>"))

    with pytest.raises(SelectorMatchedNothing) as raised:
        await scraper.scrape(request(f"{server.url}/redesigned"), context)

    assert str(raised.value) == "selector `.job-card` matched nothing on page 1"


async def test_cards_without_titles_name_the_title_selector(
    server: LocalServer, context: FetchContext
) -> None:
    server.route("GET", "/jobs", Reply(body=board('<li class="job-card">Apply now</li>')))

    with pytest.raises(SelectorMatchedNothing, match=r"title selector `\.title` matched nothing"):
        await scraper.scrape(request(f"{server.url}/jobs"), context)


async def test_a_missing_board_page_is_not_found(
    server: LocalServer, context: FetchContext
) -> None:
    with pytest.raises(BoardNotFound, match=r"career page .*/gone not found \(404\)"):
        await scraper.scrape(request(f"{server.url}/gone"), context)


async def test_a_next_button_cannot_be_followed_over_http(
    server: LocalServer, context: FetchContext
) -> None:
    page = board(*numbered(2)).replace("</ul>", '</ul><button class="more">More</button>')
    server.route("GET", "/jobs", Reply(body=page))
    selectors = {**SELECTORS, "next_page": "button.more"}

    result = await scraper.scrape(
        request(f"{server.url}/jobs", pagination_type="click", selectors=selectors), context
    )

    assert len(result.jobs) == 2
    assert result.complete is False
    assert "set render: true" in result.warnings[0]


def test_the_page_parameter_is_replaced_or_added() -> None:
    config = ScraperConfig(url_page_param="p", url_page_start=0, url_page_step=20)

    assert numbered_url("https://a.example/jobs?p=7&q=go", config, 3) == (
        "https://a.example/jobs?p=40&q=go"
    )
    assert numbered_url("https://a.example/jobs", config, 1) == "https://a.example/jobs?p=0"


async def test_render_reads_cards_drawn_by_javascript_and_clicks_next(
    server: LocalServer, in_browser: FetchContext
) -> None:
    server.route("GET", "/careers/app", Reply(body=read("paged_app.html")))
    selectors = {**SELECTORS, "next_page": "button.next"}

    result = await scraper.scrape(
        request(
            f"{server.url}/careers/app", render=True, pagination_type="click", selectors=selectors
        ),
        in_browser,
    )

    assert [(job.title, job.url) for job in result.jobs] == [
        ("Frontend Engineer", f"{server.url}/jobs/f1"),
        ("Designer", f"{server.url}/jobs/d1"),
        ("QA Engineer", f"{server.url}/careers/qa/1"),
    ]
    assert (result.pages_fetched, result.complete) == (2, True)


async def test_render_pages_through_the_url_parameter(
    server: LocalServer, in_browser: FetchContext
) -> None:
    pages = {1: board(*numbered(2)), 2: board(*numbered(2, first=3))}
    server.route(
        "GET",
        "/jobs",
        lambda r: (
            Reply(body=pages[int(r.query["page"])])
            if int(r.query["page"]) in pages
            else Reply(status=404)
        ),
    )

    result = await scraper.scrape(
        request(f"{server.url}/jobs", render=True, pagination_type="url_param"), in_browser
    )

    assert len(result.jobs) == 4, result.warnings
    assert (result.pages_fetched, result.complete) == (2, True), result.warnings


@pytest.mark.parametrize(("max_pages", "complete"), [(10, True), (2, False)])
async def test_infinite_scroll_loads_cards_until_the_list_ends(
    server: LocalServer, in_browser: FetchContext, max_pages: int, complete: bool
) -> None:
    feed = [
        {"title": f"Engineer {n}", "url": f"/jobs/{n}", "location": "Remote"} for n in range(20)
    ]
    server.route("GET", "/careers", Reply(body=read("infinite.html")))
    server.route(
        "GET", "/api/feed", lambda r: Reply(json={"jobs": feed[int(r.query["offset"]) :][:3]})
    )
    selectors = {"job_card": "article.card", "title": ".title", "location": ".location"}

    result = await scraper.scrape(
        request(
            f"{server.url}/careers",
            pagination_type="infinite_scroll",
            selectors=selectors,
            max_pages=max_pages,
        ),
        in_browser,
    )

    titles = [job.title for job in result.jobs]
    assert titles == [f"Engineer {n}" for n in range(len(titles))]  # in order, none skipped
    if complete:
        assert len(titles) == len(feed)
    else:
        # The first batch and one scroll's worth; the page may answer one scroll gesture with
        # a second fetch (its listener fires again as the wheel lands), never with more.
        assert 6 <= len(titles) <= 9
    assert result.jobs[0].url == f"{server.url}/jobs/0"
    assert result.complete is complete


async def test_a_load_more_button_is_clicked_until_it_goes_away(
    server: LocalServer, in_browser: FetchContext
) -> None:
    server.route("GET", "/careers", Reply(body=read("load_more.html")))
    selectors = {**SELECTORS, "load_more": "#more"}

    result = await scraper.scrape(
        request(f"{server.url}/careers", pagination_type="infinite_scroll", selectors=selectors),
        in_browser,
    )

    assert [job.title for job in result.jobs] == [
        "Analyst",
        "Architect",
        "Auditor",
        "Author",
        "Baker",
    ]
    assert result.jobs[-1].url == f"{server.url}/jobs/baker"
    assert (result.pages_fetched, result.complete) == (3, True)
