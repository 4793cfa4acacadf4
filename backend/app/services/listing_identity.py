"""What makes two listings the same listing, and whether a stored listing has changed.

A listing's *identity* is the source's own id, namespaced by the source (`greenhouse:acme:4012345`),
or else its canonical URL. The SHA-256 of the identity is the job's `dedup_hash` (unique), so a
listing seen again, or seen by a retried scan, always lands on the same row. The *content hash*
covers what the source says about the listing, so a re-scan can tell "unchanged" from "changed"
by comparing one stored string instead of every column.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from app.scrapers import detect
from app.scrapers.base import RawJob

# Query parameters that say how someone arrived at a listing, never which listing it is.
TRACKING_PARAMS = frozenset(
    {
        "gclid",
        "dclid",
        "fbclid",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "ref",
        "referrer",
        "source",
        "gh_src",
        "lever-source",
        "lever-origin",
        "lever-via",
        "trk",
        "trackingid",
    }
)
TRACKING_PREFIXES = ("utm_",)
_DEFAULT_PORTS = {"http": 80, "https": 443}

# The job columns holding a listing's content, which `content_hash` covers (in this order).
# `posted_date` is left out on purpose: relative dates ("Posted 30+ Days Ago") drift by a day
# each day without the listing changing; the scan treats posted dates on their own.
CONTENT_FIELDS = (
    "title",
    "company",
    "location",
    "url",
    "description",
    "external_id",
    "salary_min",
    "salary_max",
    "salary_currency",
    "salary_period",
    "workplace_type",
    "employment_type",
    "department",
)


def canonical_url(url: str) -> str:
    """`url` in one spelling per page: tracking parameters, fragment and trailing slash removed.

    Scheme and host are lower-cased, default ports dropped and the remaining query parameters
    sorted. A fragment that is a client-side route (`#/jobs/12`, `#!/jobs/12`) names the page in
    single-page apps, so it is kept. Anything that is not an absolute http(s) URL is only trimmed.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return url
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    if parts.username is not None:
        credentials = parts.username + (f":{parts.password}" if parts.password else "")
        netloc = f"{credentials}@{netloc}"
    query = urlencode(
        sorted(
            (name, value)
            for name, value in parse_qsl(parts.query, keep_blank_values=True)
            if not _is_tracking(name)
        )
    )
    fragment = parts.fragment if parts.fragment.startswith(("/", "!")) else ""
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), query, fragment))


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def _text(config: Mapping[str, Any], key: str) -> str | None:
    value = config.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None


def source_namespace(board_id: object, board_url: str, scraper_config: Mapping[str, Any]) -> str:
    """Where a board's listing ids come from: `greenhouse:acme`, `workday:acme/external`, ...

    ATS ids are unique within one ATS board, so the namespace is that board, wherever Hunter's
    board points at it. Other sources' ids are only trusted within the Hunter board itself.
    """
    kind = _text(scraper_config, "scraper_type") or "auto"
    if kind == "auto":
        kind = detect.detect_scraper_type(board_url) or kind
    source: str | None = None
    if kind == "greenhouse":
        source = _text(scraper_config, "board_token") or detect.greenhouse_token(board_url)
    elif kind == "lever":
        source = _text(scraper_config, "site_slug") or detect.lever_site(board_url)
    elif kind == "ashby":
        source = _text(scraper_config, "board_name") or detect.ashby_board(board_url)
    elif kind == "workday":
        detected = detect.workday_site(board_url)
        tenant = _text(scraper_config, "workday_tenant") or (detected.tenant if detected else None)
        site = _text(scraper_config, "workday_site") or (detected.site if detected else None)
        source = f"{tenant}/{site}" if tenant and site else None
    if source:
        return f"{kind}:{source.lower()}"
    return f"board:{board_id}"


class ListingIdentity:
    """Computes identities for the listings of one board (set up once per scan)."""

    def __init__(self, board_id: object, board_url: str, scraper_config: Mapping[str, Any]):
        self.namespace = source_namespace(board_id, board_url, scraper_config)
        self._board_page = canonical_url(board_url)
        self._board_id = board_id

    def identity(self, listing: RawJob, company: str) -> str:
        """The canonical identity of one listing (before hashing); `company` as stored."""
        external_id = (listing.external_id or "").strip()
        if external_id:
            return f"{self.namespace}:{external_id}"
        page = canonical_url(listing.url)
        if page and page != self._board_page:
            return f"url:{page}"
        # No id and no page of its own (cards that all link to the board): the listing is what
        # it says it is, within this board.
        said = (listing.title, company, listing.location)
        words = " | ".join(" ".join(part.lower().split()) for part in said)
        return f"board:{self._board_id}:listing:{words}"

    def dedup_hash(self, listing: RawJob, company: str) -> str:
        return sha256_hex(self.identity(listing, company))


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def content_hash(listing: RawJob, company: str) -> str:
    """SHA-256 over what the source says about a listing (its `CONTENT_FIELDS`), as it said it.

    `company` is the company the listing is stored under (the board's name when the source
    gives none). Hashing the raw values keeps a re-scan of unchanged listings free of any
    normalising work.
    """
    parts = [
        listing.title,
        company,
        listing.location,
        listing.url,
        listing.description,
        listing.external_id,
        listing.salary_min,
        listing.salary_max,
        listing.salary_currency,
        listing.salary_period,
        listing.workplace_type,
        listing.employment_type,
        listing.department,
    ]
    return sha256_hex("\x1f".join(["\x00" if part is None else str(part) for part in parts]))
