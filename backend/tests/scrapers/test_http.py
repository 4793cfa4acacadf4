"""The shared fetcher against a real local server that misbehaves on demand."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from app.config import settings
from app.scrapers.errors import (
    BadResponse,
    BlockedUrl,
    FetchTimeout,
    PageNotFound,
    RateLimited,
    UpstreamFailed,
)
from app.scrapers.http import Fetcher, parse_retry_after
from tests.scrapers.local_server import LocalServer, Reply, unused_port


async def test_sends_the_configured_user_agent(server: LocalServer, fetcher: Fetcher) -> None:
    server.route("GET", "/jobs", Reply(json={"ok": True}))

    assert await fetcher.get_json(f"{server.url}/jobs") == {"ok": True}

    assert server.requests[0].headers["user-agent"] == settings.scraper_user_agent
    assert "application/json" in server.requests[0].headers["accept"]


async def test_posts_json_bodies(server: LocalServer, fetcher: Fetcher) -> None:
    server.route("POST", "/search", Reply(json={"total": 0}))

    answer = await fetcher.post_json(f"{server.url}/search", {"offset": 20}, params={"q": "x"})

    assert answer == {"total": 0}
    assert server.requests[0].json() == {"offset": 20}
    assert server.requests[0].query == {"q": "x"}


async def test_reads_pages_as_text_in_their_charset(server: LocalServer, fetcher: Fetcher) -> None:
    server.route(
        "GET",
        "/careers",
        Reply(body="<p>Café</p>".encode("latin-1"), content_type="text/html; charset=iso-8859-1"),
    )

    assert await fetcher.get_text(f"{server.url}/careers") == "<p>Café</p>"


async def test_not_found_is_reported_without_retrying(
    server: LocalServer, fetcher: Fetcher
) -> None:
    with pytest.raises(PageNotFound, match=r"/missing not found \(404\)") as caught:
        await fetcher.get_json(f"{server.url}/missing")

    assert caught.value.status == 404
    assert len(server.requests) == 1


async def test_waits_as_long_as_retry_after_asks_then_succeeds(
    server: LocalServer, fetcher: Fetcher
) -> None:
    server.route(
        "GET",
        "/jobs",
        Reply(status=429, headers={"Retry-After": "1"}),
        Reply(json={"jobs": []}),
    )

    assert await fetcher.get_json(f"{server.url}/jobs") == {"jobs": []}

    first, second = server.requests
    assert second.at - first.at >= 1.0


async def test_a_retry_after_longer_than_a_scan_may_wait_gives_up_at_once(
    server: LocalServer, fetcher: Fetcher
) -> None:
    server.route("GET", "/jobs", Reply(status=429, headers={"Retry-After": "3600"}))

    with pytest.raises(RateLimited, match="asked Hunter to wait 3600 s") as caught:
        await fetcher.get_json(f"{server.url}/jobs")

    assert caught.value.retry_after == 3600
    assert len(server.requests) == 1


async def test_recovers_from_a_server_error(server: LocalServer, fetcher: Fetcher) -> None:
    server.route("GET", "/jobs", Reply(status=500), Reply(status=502), Reply(json=[1, 2]))

    assert await fetcher.get_json(f"{server.url}/jobs") == [1, 2]
    assert len(server.requests) == 3


async def test_gives_up_after_three_tries(server: LocalServer, fetcher: Fetcher) -> None:
    server.route("GET", "/jobs", Reply(status=503))

    with pytest.raises(UpstreamFailed, match="gave up after 3 tries: HTTP 503") as caught:
        await fetcher.get_json(f"{server.url}/jobs")

    assert caught.value.status == 503
    assert len(server.requests) == 3


async def test_persistent_rate_limiting_is_reported_as_such(
    server: LocalServer, fetcher: Fetcher
) -> None:
    server.route("GET", "/jobs", Reply(status=429))

    with pytest.raises(RateLimited, match="gave up after 3 tries: HTTP 429"):
        await fetcher.get_json(f"{server.url}/jobs")
    assert len(server.requests) == 3


async def test_other_client_errors_are_not_retried(server: LocalServer, fetcher: Fetcher) -> None:
    server.route("GET", "/jobs", Reply(status=403))

    with pytest.raises(UpstreamFailed, match="refused the request: HTTP 403"):
        await fetcher.get_json(f"{server.url}/jobs")
    assert len(server.requests) == 1


async def test_a_server_slower_than_the_timeout_is_a_fetch_timeout(server: LocalServer) -> None:
    server.route("GET", "/slow", Reply(hang=True))

    async with Fetcher(timeout_s=0.2, backoff_base_s=0.001) as impatient:
        with pytest.raises(FetchTimeout, match=r"did not answer within 0\.2 s"):
            await impatient.get_text(f"{server.url}/slow")


async def test_malformed_json_says_what_was_expected(server: LocalServer, fetcher: Fetcher) -> None:
    server.route("GET", "/jobs", Reply(body="<html>maintenance</html>"))

    with pytest.raises(BadResponse, match=r"expected the job list from .*/jobs but got malformed"):
        await fetcher.get_json(f"{server.url}/jobs", expect="the job list")


async def test_never_runs_more_requests_per_host_than_the_cap(server: LocalServer) -> None:
    server.route("GET", "/job", Reply(json={}, delay=0.1))

    async with Fetcher(max_per_host=2) as polite:
        await asyncio.gather(*(polite.get_json(f"{server.url}/job") for _ in range(6)))

    assert len(server.requests) == 6
    assert server.max_in_flight == 2


async def test_the_cap_is_per_host(server: LocalServer) -> None:
    server.route("GET", "/job", Reply(json={}, delay=0.1))
    hosts = [server.url, f"http://localhost:{server.port}"]

    async with Fetcher(max_per_host=1) as polite:
        await asyncio.gather(*(polite.get_json(f"{host}/job") for host in hosts * 2))

    assert server.max_in_flight == 2


async def test_refused_connections_are_retried_then_reported(fetcher: Fetcher) -> None:
    url = f"http://127.0.0.1:{unused_port()}/jobs"

    with pytest.raises(UpstreamFailed, match="gave up after 3 tries: could not connect"):
        await fetcher.get_json(url)


async def test_only_http_urls_are_fetched(fetcher: Fetcher) -> None:
    with pytest.raises(BlockedUrl, match="only http and https"):
        await fetcher.get_text("file:///etc/passwd")


async def test_oversized_responses_are_refused(server: LocalServer) -> None:
    server.route("GET", "/huge", Reply(body=b"x" * 3 * 1024 * 1024))

    async with Fetcher(max_body_bytes=1024 * 1024) as fetcher:
        with pytest.raises(BadResponse, match="sent more than 1 MB"):
            await fetcher.get_text(f"{server.url}/huge")


def test_retry_after_is_read_as_seconds_or_an_http_date() -> None:
    now = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
    in_two_minutes = format_datetime(now + timedelta(minutes=2), usegmt=True)

    assert parse_retry_after("7", now) == 7
    assert parse_retry_after(in_two_minutes, now) == 120
    assert parse_retry_after(format_datetime(now - timedelta(hours=1), usegmt=True), now) == 0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None
