"""Why a scrape failed, in words a person can act on.

Every failure a scraper raises is a `ScrapeError`; the scan records `str(error)` as the board's
last error, so each message names the board or host and says what went wrong.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class ScrapeError(Exception):
    """Base of every scraper failure; `message` is shown to the person as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadConfig(ScrapeError):
    """The board's config lacks something this scraper needs (a token, a tenant, ...)."""


class UnknownScraper(ScrapeError):
    """No scraper is registered under the requested name."""


class BlockedUrl(ScrapeError):
    """A URL Hunter refuses to fetch (not http/https)."""


class PageNotFound(ScrapeError):
    """The source answered 404/410; scrapers rephrase it as `BoardNotFound` where that fits."""

    def __init__(self, message: str, *, url: str = "", status: int = 404) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class BoardNotFound(PageNotFound):
    """The ATS has no board under this token, site or tenant."""


@contextmanager
def not_found_as_board(board: str, url: str) -> Iterator[None]:
    """Reword a 404/410 from a board's own endpoint: "Greenhouse board `acme` not found (404)"."""
    try:
        yield
    except PageNotFound as exc:
        message = f"{board} not found ({exc.status})"
        raise BoardNotFound(message, url=url, status=exc.status) from None


class ConnectionFailed(ScrapeError):
    """One try could not reach the host (a dropped or refused connection): worth another."""


class RateLimited(ScrapeError):
    """The source kept answering 429, or asked for a longer pause than a scan may take."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FetchTimeout(ScrapeError):
    """The source did not answer within the configured timeout."""


class UpstreamFailed(ScrapeError):
    """The source kept failing (5xx, refused connections) or refused the request outright."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class BadResponse(ScrapeError):
    """The source answered, but not with what its API promises (malformed or reshaped JSON)."""


class SelectorMatchedNothing(ScrapeError):
    """A configured CSS selector found nothing, so the page layout probably changed."""


class NoJobPostings(ScrapeError):
    """A page carries no structured job data (no schema.org `JobPosting`)."""
