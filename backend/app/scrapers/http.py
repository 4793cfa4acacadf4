"""Polite, robust HTTP for scrapers: one shared client, timeouts, retries, a per-host cap.

A `Fetcher` is shared by every scraper of a process (or a scan). It identifies itself with the
configured User-Agent, never runs more than `scraper_max_concurrency_per_host` requests against
one host at a time, retries 429/5xx answers and dropped connections with exponential backoff and
jitter (honouring `Retry-After`), and turns every failure into a typed `ScrapeError`. Browser
page loads go through the same cap, and 429/5xx retries (`Fetcher.politely`).
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

import httpx
import structlog

from app.config import settings
from app.scrapers.errors import (
    BadResponse,
    BlockedUrl,
    ConnectionFailed,
    FetchTimeout,
    PageNotFound,
    RateLimited,
    UpstreamFailed,
)

log = structlog.get_logger("hunter.scrapers.http")

JSON_ACCEPT = "application/json"
HTML_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
MAX_BODY_BYTES = 20 * 1024 * 1024


class Answer(Protocol):
    """What a try at a URL answered, by HTTP or in a browser: enough to judge a retry."""

    @property
    def status(self) -> int: ...
    @property
    def url(self) -> str: ...
    @property
    def headers(self) -> Mapping[str, str]: ...


_Answer = TypeVar("_Answer", bound=Answer)


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """One successful response, read in full."""

    url: str  # after redirects
    status: int
    content_type: str
    body: bytes
    charset: str | None
    headers: Mapping[str, str]

    @property
    def text(self) -> str:
        return self.body.decode(self.charset or "utf-8", errors="replace")

    def json(self, expect: str = "JSON") -> Any:
        """The body as JSON, or `BadResponse` saying what was expected instead."""
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            snippet = self.body[:80].decode("utf-8", errors="replace").strip()
            raise BadResponse(
                f"expected {expect} from {_display(self.url)} but got malformed JSON "
                f"({self.content_type or 'no content type'}, {exc}; starts with {snippet!r})"
            ) from None


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _display(url: str) -> str:
    """The URL without its query string, for messages."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _host_key(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BlockedUrl(f"refusing to fetch `{url}`: only http and https URLs can be scraped")
    return parts.netloc.lower()


class Fetcher:
    """Shared HTTP access for scrapers; use as `async with Fetcher() as fetcher:`."""

    def __init__(
        self,
        client: httpx.AsyncClient | None = None,
        *,
        timeout_s: float | None = None,
        user_agent: str | None = None,
        max_per_host: int | None = None,
        tries: int = 3,
        backoff_base_s: float = 1.0,
        max_retry_after_s: float = 60.0,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.timeout_s = timeout_s or settings.scraper_timeout_s
        self.user_agent = user_agent or settings.scraper_user_agent
        self.max_per_host = max_per_host or settings.scraper_max_concurrency_per_host
        self.tries = max(1, tries)
        self.backoff_base_s = backoff_base_s
        self.max_retry_after_s = max_retry_after_s
        self.max_body_bytes = max_body_bytes
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(self.timeout_s), follow_redirects=True
        )
        self._per_host: dict[str, asyncio.Semaphore] = {}

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def get_json(
        self,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        expect: str = "JSON",
    ) -> Any:
        page = await self.request("GET", url, params=params, accept=JSON_ACCEPT)
        return page.json(expect)

    async def post_json(
        self,
        url: str,
        body: Any,
        *,
        params: Mapping[str, str | int] | None = None,
        expect: str = "JSON",
    ) -> Any:
        page = await self.request("POST", url, params=params, json_body=body, accept=JSON_ACCEPT)
        return page.json(expect)

    async def get_text(self, url: str, *, params: Mapping[str, str | int] | None = None) -> str:
        return (await self.get_page(url, params=params)).text

    async def get_page(
        self, url: str, *, params: Mapping[str, str | int] | None = None
    ) -> FetchedPage:
        return await self.request("GET", url, params=params, accept=HTML_ACCEPT)

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json_body: Any = None,
        accept: str = "*/*",
    ) -> FetchedPage:
        """Send one request, retrying what is worth retrying; raise a `ScrapeError` otherwise."""
        headers = {"User-Agent": self.user_agent, "Accept": accept}

        async def attempt() -> FetchedPage:
            try:
                return await self._attempt(method, url, params, json_body, headers)
            except (httpx.TimeoutException, TimeoutError):
                # Not retried: a source that let one request hang this long will likely do it
                # again, and retrying would multiply the time a scan is stuck.
                raise FetchTimeout(
                    f"{_host_key(url)} did not answer within {self.timeout_s:g} s "
                    f"({method} {_display(url)})"
                ) from None
            except httpx.TooManyRedirects:
                raise UpstreamFailed(f"too many redirects from {_display(url)}") from None
            except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                raise ConnectionFailed(str(exc) or type(exc).__name__) from None

        return await self.politely(url, attempt, method=method)

    async def politely(
        self, url: str, attempt: Callable[[], Awaitable[_Answer]], *, method: str = "GET"
    ) -> _Answer:
        """Make `attempt` (one try at `url`, by HTTP or in a browser) within the host's cap,
        as often as worth it: again after a backoff on a dropped connection (`attempt` raises
        ConnectionFailed) or an answer of 429 or 5xx, waiting at least as long as its
        `Retry-After` asks. Returns the first answer under 400; raises a `ScrapeError` for a
        missing page, a refusal, a wait longer than a scan may take, or the last failure."""
        host = _host_key(url)
        semaphore = self._per_host.setdefault(host, asyncio.Semaphore(self.max_per_host))
        failure = ""
        last_status: int | None = None
        for number in range(1, self.tries + 1):
            wait = self._backoff(number)
            try:
                async with semaphore:
                    answer = await attempt()
            except ConnectionFailed as exc:
                failure, last_status = f"could not connect ({exc.message})", None
            else:
                if answer.status < 400:
                    return answer
                self._raise_unless_retryable(answer.status, answer.url, method)
                failure, last_status = f"HTTP {answer.status}", answer.status
                retry_after = parse_retry_after(answer.headers.get("retry-after"))
                if retry_after is not None:
                    if retry_after > self.max_retry_after_s:
                        raise RateLimited(
                            f"{host} asked Hunter to wait {retry_after:.0f} s before trying "
                            f"again (HTTP {answer.status}); the next scheduled scan will retry",
                            retry_after=retry_after,
                        )
                    wait = max(wait, retry_after)
            if number < self.tries:
                log.info("retrying", url=_display(url), failure=failure, wait_s=round(wait, 2))
                await asyncio.sleep(wait)
        message = f"gave up after {self.tries} tries: {failure} from {_display(url)}"
        if last_status == 429:
            raise RateLimited(f"rate limited by {host}: {message}")
        raise UpstreamFailed(message, status=last_status)

    def _backoff(self, attempt: int) -> float:
        delay: float = self.backoff_base_s * 2.0 ** (attempt - 1)
        return delay + random.uniform(0, self.backoff_base_s)

    @staticmethod
    def _raise_unless_retryable(status: int, url: str, method: str) -> None:
        if status in (404, 410):
            raise PageNotFound(f"{_display(url)} not found ({status})", url=url, status=status)
        if status != 429 and status < 500:
            raise UpstreamFailed(
                f"{urlsplit(url).netloc} refused the request: HTTP {status} "
                f"({method} {_display(url)})",
                status=status,
            )

    async def _attempt(
        self,
        method: str,
        url: str,
        params: Mapping[str, str | int] | None,
        json_body: Any,
        headers: dict[str, str],
    ) -> FetchedPage:
        # The overall deadline also catches a server that trickles bytes to dodge read timeouts.
        async with asyncio.timeout(self.timeout_s):
            async with self._client.stream(
                method, url, params=params, json=json_body, headers=headers
            ) as response:
                chunks: list[bytes] = []
                size = 0
                if response.status_code < 400:
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        if size > self.max_body_bytes:
                            limit_mb = self.max_body_bytes // (1024 * 1024)
                            raise BadResponse(
                                f"{_display(url)} sent more than {limit_mb} MB; not reading it"
                            )
                        chunks.append(chunk)
                return FetchedPage(
                    url=str(response.url),
                    status=response.status_code,
                    content_type=response.headers.get("content-type", ""),
                    body=b"".join(chunks),
                    charset=response.charset_encoding,
                    headers=response.headers,
                )
