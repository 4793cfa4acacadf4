"""POST /api/boards/detect: what `auto` would do with a URL, without fetching anything."""

from __future__ import annotations

import httpx
import pytest


@pytest.mark.parametrize(
    ("url", "scraper_type", "derived"),
    [
        ("https://boards.greenhouse.io/acme", "greenhouse", {"board_token": "acme"}),
        ("https://jobs.lever.co/acme", "lever", {"site_slug": "acme"}),
        ("https://jobs.ashbyhq.com/acme", "ashby", {"board_name": "acme"}),
        (
            "https://acme.wd5.myworkdayjobs.com/en-US/External",
            "workday",
            {"workday_tenant": "acme", "workday_site": "External"},
        ),
    ],
)
async def test_ats_urls_are_recognized(
    client: httpx.AsyncClient, url: str, scraper_type: str, derived: dict[str, str]
) -> None:
    response = await client.post("/api/boards/detect", json={"url": url})
    assert response.status_code == 200
    body = response.json()
    assert body["scraper_type"] == scraper_type
    assert body["config"]["scraper_type"] == scraper_type
    for key, value in derived.items():
        assert body["config"][key] == value
    assert body["probed"] is False


async def test_a_career_page_falls_back_to_json_ld(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/boards/detect", json={"url": "https://example.com/careers"})
    assert response.status_code == 200
    body = response.json()
    assert body["scraper_type"] == "jsonld"
    assert body["fallback"] == "interactive"


@pytest.mark.parametrize(
    "body",
    [{}, {"url": "ftp://example.com"}, {"url": "https://x.com", "scraper_config": {"nope": 1}}],
)
async def test_bad_input_is_422(client: httpx.AsyncClient, body: dict[str, object]) -> None:
    response = await client.post("/api/boards/detect", json=body)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_input"
