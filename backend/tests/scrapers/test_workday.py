"""The Workday scraper against a local server answering like a tenant's CXS API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from app.scrapers import workday
from app.scrapers.base import FetchContext, ScrapeRequest
from app.scrapers.config import ScraperConfig
from app.scrapers.errors import BadConfig, BoardNotFound
from app.scrapers.workday import WorkdayScraper
from tests.scrapers.local_server import LocalServer, Recorded, Reply

API = "/wday/cxs/acme/External"


def listing(number: int) -> dict[str, Any]:
    return {
        "title": f"Engineer {number}",
        "externalPath": f"/job/Berlin-Germany/Engineer-{number}_R{number:04d}",
        "locationsText": "Berlin, Germany",
        "postedOn": "Posted 3 Days Ago",
        "bulletFields": [f"R{number:04d}"],
    }


def detail(number: int, **info: Any) -> dict[str, Any]:
    return {
        "jobPostingInfo": {
            "id": f"abc{number}",
            "title": f"Engineer {number}",
            "jobDescription": f"<p>Build <b>things</b> #{number}</p>",
            "location": "Berlin, Germany",
            "postedOn": "Posted 3 Days Ago",
            "startDate": "2024-03-07",
            "timeType": "Full time",
            "jobReqId": f"R{number:04d}",
            "externalUrl": f"https://acme.wd3.myworkdayjobs.com/External/job/x_R{number:04d}",
            **info,
        },
        "hiringOrganization": {"name": "Acme GmbH", "url": ""},
    }


def list_pages(listings: list[dict[str, Any]], *, ignore_offset: bool = False) -> Any:
    def answer(request: Recorded) -> Reply:
        body = request.json()
        offset = 0 if ignore_offset else body["offset"]
        page = listings[offset : offset + body["limit"]]
        # Like Workday: the total is only given on the first page.
        return Reply(json={"total": len(listings) if offset == 0 else 0, "jobPostings": page})

    return answer


def request(server: LocalServer, **config: object) -> ScrapeRequest:
    config = {"workday_tenant": "acme", "workday_site": "External", **config}
    return ScrapeRequest(
        url=f"{server.url}/en-US/External",
        board_name="Acme",
        config=ScraperConfig.model_validate(config),
    )


def serve_details(server: LocalServer, numbers: range) -> None:
    for number in numbers:
        path = listing(number)["externalPath"]
        server.route("GET", f"{API}{path}", Reply(json=detail(number), delay=0.01))


async def test_pages_the_list_and_reads_each_job(
    server: LocalServer, context: FetchContext
) -> None:
    listings = [listing(n) for n in range(45)]
    server.route("POST", f"{API}/jobs", list_pages(listings))
    serve_details(server, range(45))

    result = await WorkdayScraper().scrape(request(server, search_text="python"), context)

    bodies = [r.json() for r in server.hits(f"{API}/jobs")]
    assert [b["offset"] for b in bodies] == [0, 20, 40]
    assert bodies[0] == {"appliedFacets": {}, "limit": 20, "offset": 0, "searchText": "python"}
    assert result.complete is True
    assert result.pages_fetched == 3
    assert result.warnings == []
    assert len(result.jobs) == 45
    job = result.jobs[7]
    assert job.title == "Engineer 7"
    assert job.company == "Acme GmbH"
    assert job.url == "https://acme.wd3.myworkdayjobs.com/External/job/x_R0007"
    assert job.description == "Build things #7"
    assert job.location == "Berlin, Germany"
    assert job.employment_type == "Full-time"
    assert job.posted_date == datetime(2024, 3, 7, tzinfo=UTC)
    assert job.external_id == "/job/Berlin-Germany/Engineer-7_R0007"
    # Details are fetched concurrently, but never past the per-host cap.
    assert server.max_in_flight <= context.fetcher.max_per_host


async def test_a_failed_detail_keeps_the_listing(
    server: LocalServer, context: FetchContext
) -> None:
    server.route("POST", f"{API}/jobs", list_pages([listing(1), listing(2)]))
    serve_details(server, range(1, 2))
    server.route("GET", f"{API}{listing(2)['externalPath']}", Reply(status=500))

    result = await WorkdayScraper().scrape(request(server), context)

    first, second = result.jobs
    assert first.description == "Build things #1"
    assert second.title == "Engineer 2"
    assert second.description == ""
    assert second.company == "Acme"
    assert second.location == "Berlin, Germany"
    assert second.url == f"{server.url}/External/job/Berlin-Germany/Engineer-2_R0002"
    # "Posted 3 Days Ago", counted back from the scan's clock (2024-03-10).
    assert second.posted_date == datetime(2024, 3, 7, tzinfo=UTC)
    assert result.warnings == ["1 of 2 Workday job details could not be loaded"]
    assert result.complete is True


async def test_remote_type_and_missing_fields(server: LocalServer, context: FetchContext) -> None:
    sparse = {"title": "Nurse (m/w/d)", "externalPath": "/job/Remote/Nurse_R9"}
    server.route("POST", f"{API}/jobs", Reply(json={"total": 1, "jobPostings": [sparse]}))
    server.route(
        "GET",
        f"{API}/job/Remote/Nurse_R9",
        Reply(
            json={
                "jobPostingInfo": {
                    "title": "Nurse (m/w/d)",
                    "remoteType": "Hybrid",
                    "jobDescription": "Pay: €3.500 - €4.200 per month",
                    "postedOn": "Posted 30+ Days Ago",
                }
            }
        ),
    )

    (job,) = (await WorkdayScraper().scrape(request(server), context)).jobs

    assert job.workplace_type == "hybrid"
    assert job.company == "Acme"
    assert job.posted_date == datetime(2024, 2, 9, tzinfo=UTC)
    assert (job.salary_min, job.salary_max, job.salary_currency, job.salary_period) == (
        3500,
        4200,
        "EUR",
        "month",
    )


async def test_stops_at_the_page_cap_and_says_the_list_is_partial(
    server: LocalServer, context: FetchContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workday, "MAX_PAGES", 2)
    server.route("POST", f"{API}/jobs", list_pages([listing(n) for n in range(100)]))
    serve_details(server, range(40))

    result = await WorkdayScraper().scrape(request(server), context)

    assert len(result.jobs) == 40
    assert result.complete is False
    assert result.warnings == ["stopped after 2 pages of Workday results"]


async def test_a_host_that_ignores_the_offset_does_not_loop(
    server: LocalServer, context: FetchContext
) -> None:
    server.route(
        "POST", f"{API}/jobs", list_pages([listing(n) for n in range(30)], ignore_offset=True)
    )
    serve_details(server, range(20))

    result = await WorkdayScraper().scrape(request(server), context)

    assert len(result.jobs) == 20
    assert result.complete is False
    assert len(server.hits(f"{API}/jobs")) == 2


async def test_unknown_site_names_tenant_and_site(
    server: LocalServer, context: FetchContext
) -> None:
    with pytest.raises(BoardNotFound, match=r"^Workday site `acme/External` not found \(404\)$"):
        await WorkdayScraper().scrape(request(server), context)


async def test_tenant_and_site_come_from_a_workday_url(context: FetchContext) -> None:
    plain = ScrapeRequest(url="https://careers.acme.example/jobs", board_name="Acme")

    with pytest.raises(BadConfig, match="workday_tenant"):
        await WorkdayScraper().scrape(plain, context)


async def test_stops_asking_for_details_once_too_many_fail(
    server: LocalServer, context: FetchContext
) -> None:
    server.route("POST", f"{API}/jobs", list_pages([listing(n) for n in range(60)]))

    result = await WorkdayScraper().scrape(request(server), context)

    assert len(result.jobs) == 60
    assert result.warnings == ["60 of 60 Workday job details could not be loaded"]
    detail_requests = len(server.requests) - len(server.hits(f"{API}/jobs"))
    assert detail_requests < 60
