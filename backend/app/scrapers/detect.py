"""What a board URL says about its source: which ATS hosts it and the board's identity there.

`auto` picks its scraper with `detect_scraper_type`; config validation uses the same functions
to know whether a missing `board_token` (or slug, tenant, ...) can be taken from the URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

_GREENHOUSE_HOSTS = re.compile(r"(^|\.)greenhouse\.io$")
_WORKDAY_HOST = re.compile(r"^(?P<tenant>[a-z0-9-]+)\.wd\d+\.myworkdayjobs\.com$")
_WORKDAY_ANY_HOST = re.compile(r"(^|\.)myworkdayjobs\.com$")
_LOCALE_SEGMENT = re.compile(r"^[a-z]{2}-[A-Z]{2}$")


@dataclass(frozen=True)
class WorkdaySite:
    tenant: str
    site: str


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _path_segments(url: str) -> list[str]:
    return [segment for segment in urlsplit(url).path.split("/") if segment]


def greenhouse_token(url: str) -> str | None:
    """`acme` from boards.greenhouse.io/acme, job-boards.greenhouse.io/acme or ?for=acme."""
    if not _GREENHOUSE_HOSTS.search(_host(url)):
        return None
    query = parse_qs(urlsplit(url).query)
    if query.get("for"):
        return query["for"][0]
    segments = _path_segments(url)
    if segments and segments[0] not in ("embed", "v1"):
        return segments[0]
    return None


def lever_site(url: str) -> str | None:
    """`acme` from jobs.lever.co/acme (or jobs.eu.lever.co/acme)."""
    if _host(url) not in ("jobs.lever.co", "jobs.eu.lever.co"):
        return None
    segments = _path_segments(url)
    return segments[0] if segments else None


def lever_is_eu(url: str) -> bool:
    return _host(url) == "jobs.eu.lever.co"


def ashby_board(url: str) -> str | None:
    """`acme` from jobs.ashbyhq.com/acme."""
    if _host(url) != "jobs.ashbyhq.com":
        return None
    segments = _path_segments(url)
    return segments[0] if segments else None


def workday_site(url: str) -> WorkdaySite | None:
    """Tenant and site from https://acme.wd5.myworkdayjobs.com/[en-US/]External."""
    match = _WORKDAY_HOST.match(_host(url))
    if not match:
        return None
    segments = [s for s in _path_segments(url) if not _LOCALE_SEGMENT.match(s)]
    if not segments:
        return None
    return WorkdaySite(tenant=match.group("tenant"), site=segments[0])


def detect_scraper_type(url: str) -> str | None:
    """The ATS scraper a URL belongs to, or None for an ordinary career page."""
    host = _host(url)
    if _GREENHOUSE_HOSTS.search(host):
        return "greenhouse"
    if host in ("jobs.lever.co", "jobs.eu.lever.co"):
        return "lever"
    if _WORKDAY_ANY_HOST.search(host):
        return "workday"
    if host == "jobs.ashbyhq.com":
        return "ashby"
    return None
