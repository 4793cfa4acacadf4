"""The JSON-LD scraper against career pages served by a local server."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from app.scrapers.base import FetchContext, ScrapeRequest
from app.scrapers.errors import BoardNotFound, NoJobPostings
from app.scrapers.jsonld import JsonLdScraper, find_job_postings
from tests.scrapers.local_server import LocalServer, Reply

BACKEND = {
    "@context": "https://schema.org/",
    "@type": "JobPosting",
    "title": "Backend Developer",
    "description": "<p>Work on <strong>APIs</strong> &amp; data.</p><ul><li>Go</li></ul>",
    "identifier": {"@type": "PropertyValue", "name": "Acme", "value": "BE-42"},
    "datePosted": "2024-02-28",
    "validThrough": "2024-04-30T00:00",
    "employmentType": ["FULL_TIME", "CONTRACTOR"],
    "hiringOrganization": {"@type": "Organization", "name": "Acme Widgets"},
    "jobLocation": [
        {
            "@type": "Place",
            "address": {
                "@type": "PostalAddress",
                "addressLocality": "Toronto",
                "addressRegion": "ON",
                "addressCountry": {"@type": "Country", "name": "CA"},
            },
        },
        {"@type": "Place", "address": {"addressLocality": "Montréal", "addressCountry": "CA"}},
    ],
    "baseSalary": {
        "@type": "MonetaryAmount",
        "currency": "CAD",
        "value": {
            "@type": "QuantitativeValue",
            "minValue": 90000,
            "maxValue": 110000,
            "unitText": "YEAR",
        },
    },
    "url": "/careers/backend-developer",
}
REMOTE = {
    "@type": "JobPosting",
    "title": "Support Agent",
    "description": "&lt;p&gt;Help customers&lt;/p&gt;",
    "datePosted": "2024-03-01T09:00:00+01:00",
    "jobLocationType": "TELECOMMUTE",
    "applicantLocationRequirements": {"@type": "Country", "name": "USA"},
    "baseSalary": {
        "@type": "MonetaryAmount",
        "currency": "USD",
        "value": {"@type": "QuantitativeValue", "value": 22.5, "unitText": "HOUR"},
    },
}
EXPIRED = {"@type": "JobPosting", "title": "Old Job", "validThrough": "2023-12-31"}


def page(*blocks: Any, raw: str = "") -> str:
    scripts = "".join(
        f'<script type="application/ld+json">{json.dumps(block)}</script>' for block in blocks
    )
    return f"<html><head><title>Careers</title>{scripts}{raw}</head><body>Jobs</body></html>"


def request(url: str) -> ScrapeRequest:
    return ScrapeRequest(url=url, board_name="Acme")


async def test_reads_job_postings_from_the_page(server: LocalServer, context: FetchContext) -> None:
    broken = '<script type="application/ld+json">{"@type": "JobPosting", "title": </script>'
    server.route(
        "GET",
        "/careers",
        Reply(
            body=page(
                {"@context": "https://schema.org", "@type": "Organization", "name": "Acme"},
                {"@graph": [BACKEND, {"@type": "WebPage"}]},
                [REMOTE, EXPIRED],
                raw=broken,
            )
        ),
    )

    result = await JsonLdScraper().scrape(request(f"{server.url}/careers"), context)

    assert result.complete is True
    assert result.warnings == ["skipped 1 expired posting"]
    backend, remote = result.jobs
    assert backend.title == "Backend Developer"
    assert backend.company == "Acme Widgets"
    assert backend.url == f"{server.url}/careers/backend-developer"
    assert backend.external_id == "BE-42"
    assert backend.description == "Work on APIs & data.\n\n- Go"
    assert backend.location == "Toronto, ON, CA; Montréal, CA"
    assert backend.employment_type == "Full-time, Contract"
    assert backend.posted_date == datetime(2024, 2, 28, tzinfo=UTC)
    assert (backend.salary_min, backend.salary_max) == (90000, 110000)
    assert (backend.salary_currency, backend.salary_period) == ("CAD", "year")

    assert remote.company == "Acme"
    assert remote.url == f"{server.url}/careers"
    assert remote.workplace_type == "remote"
    assert remote.location == "Remote (USA)"
    assert remote.description == "Help customers"
    assert remote.posted_date == datetime(2024, 3, 1, 8, tzinfo=UTC)
    assert (remote.salary_min, remote.salary_max, remote.salary_period) == (22.5, 22.5, "hour")


async def test_a_page_without_job_postings_says_so(
    server: LocalServer, context: FetchContext
) -> None:
    server.route("GET", "/about", Reply(body=page({"@type": "Organization", "name": "Acme"})))

    with pytest.raises(NoJobPostings, match=r"no schema.org JobPosting found on http://.*/about"):
        await JsonLdScraper().scrape(request(f"{server.url}/about"), context)


async def test_a_missing_page_is_not_found(server: LocalServer, context: FetchContext) -> None:
    with pytest.raises(BoardNotFound, match=r"career page .*/gone not found \(404\)"):
        await JsonLdScraper().scrape(request(f"{server.url}/gone"), context)


def test_finds_postings_in_every_shape_sites_use() -> None:
    html = (
        '<script type="application/ld+json; charset=utf-8">'
        '{"@type": ["JobPosting"], "title": "A"}</script>'
        '<script type="application/ld+json">'
        '{"@type": "ItemList", "itemListElement": [{"@type": "ListItem", "item": '
        '{"@type": "http://schema.org/JobPosting", "title": "B"}}]}</script>'
        '<script type="application/ld+json">\n<!--\n{"@type": "JobPosting", "title": "C",'
        ' "description": "line one\nline two"}\n-->\n</script>'
        '<script type="text/javascript">{"@type": "JobPosting", "title": "not JSON-LD"}</script>'
    )

    assert [p["title"] for p in find_job_postings(html)] == ["A", "B", "C"]
