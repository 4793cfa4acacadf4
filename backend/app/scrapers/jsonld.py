"""Any career page that describes its jobs as schema.org `JobPosting` JSON-LD.

Search engines ask sites for this markup, so many pages carry it even when their HTML is hard to
scrape. A block may hold one object, a list, or an `@graph`; malformed blocks are skipped.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser

from app.scrapers.base import (
    FetchContext,
    RawJob,
    Scraper,
    ScrapeRequest,
    ScrapeResult,
    dig,
    employment_type,
    workplace_type,
)
from app.scrapers.dates import parse_date
from app.scrapers.errors import NoJobPostings, not_found_as_board
from app.scrapers.salary import (
    Salary,
    amount,
    currency_code,
    normalize_period,
    parse_salary,
    structured_salary,
)
from app.scrapers.text import html_to_text, single_line

_MAX_DEPTH = 12
_WRAPPERS = re.compile(r"^\s*(?:<!--|//\s*<!\[CDATA\[|<!\[CDATA\[)|(?:-->|//\s*\]\]>|\]\]>)\s*$")


class JsonLdScraper(Scraper):
    name = "jsonld"

    async def scrape(self, request: ScrapeRequest, context: FetchContext) -> ScrapeResult:
        with not_found_as_board(f"career page {request.url}", request.url):
            page = await context.fetcher.get_page(request.url)
        postings = find_job_postings(page.text)
        if not postings:
            raise NoJobPostings(f"no schema.org JobPosting found on {request.url}")
        now = context.clock()
        jobs: list[RawJob] = []
        expired = 0
        for posting in postings:
            valid_through = parse_date(dig(posting, "validThrough"), now=now)
            if valid_through is not None and valid_through < now:
                expired += 1
                continue
            if job := job_from_posting(posting, page.url, request.board_name, now=now):
                jobs.append(job)
        plural = "" if expired == 1 else "s"
        warnings = [f"skipped {expired} expired posting{plural}"] if expired else []
        # The page is the whole board: a listing gone from it has gone from the site.
        return ScrapeResult(jobs=jobs, complete=True, pages_fetched=1, warnings=warnings)


def find_job_postings(html: str) -> list[dict[str, Any]]:
    """Every `JobPosting` object in the page's JSON-LD blocks, in page order."""
    found: list[dict[str, Any]] = []
    for script in LexborHTMLParser(html).css("script"):
        kind = (script.attributes.get("type") or "").split(";")[0].strip().lower()
        if kind != "application/ld+json":
            continue
        data = _load(script.text(deep=True) or "")
        if data is not None:
            _collect(data, found, 0)
    return found


def job_from_posting(
    posting: dict[str, Any], page_url: str, board_name: str, *, now: datetime | None = None
) -> RawJob | None:
    """A `RawJob` from one schema.org `JobPosting`, or None when it has no title."""
    title = single_line(dig(posting, "title")) or single_line(dig(posting, "name"))
    if not title:
        return None
    link = dig(posting, "url")
    description = dig(posting, "description")
    escaped = isinstance(description, str) and "&lt;" in description and "<" not in description
    remote = any("TELECOMMUTE" in kind.upper() for kind in _list(dig(posting, "jobLocationType")))
    location = _locations(dig(posting, "jobLocation"))
    if remote and not location:
        allowed = _places(dig(posting, "applicantLocationRequirements"))
        location = f"Remote ({allowed})" if allowed else "Remote"
    job = RawJob(
        title=title,
        url=urljoin(page_url, link.strip()) if isinstance(link, str) and link.strip() else page_url,
        company=_name(dig(posting, "hiringOrganization")) or board_name,
        location=location,
        description=html_to_text(description, escaped=escaped),
        external_id=_identifier(dig(posting, "identifier")),
        posted_date=parse_date(dig(posting, "datePosted"), now=now),
        workplace_type="remote" if remote else workplace_type(location),
        employment_type=employment_type(_list(dig(posting, "employmentType"))),
    )
    job.set_salary(_salary(dig(posting, "baseSalary") or dig(posting, "estimatedSalary")))
    return job


def _load(text: str) -> Any:
    text = _WRAPPERS.sub("", text.strip())
    try:
        # strict=False: pages often put raw newlines inside description strings.
        return json.loads(text, strict=False)
    except ValueError:
        return None


def _collect(node: Any, found: list[dict[str, Any]], depth: int) -> None:
    if depth > _MAX_DEPTH:
        return
    if isinstance(node, list):
        for item in node:
            _collect(item, found, depth + 1)
    elif isinstance(node, dict):
        if "JobPosting" in _types(node):
            found.append(node)
            return
        for value in node.values():
            if isinstance(value, dict | list):
                _collect(value, found, depth + 1)


def _types(node: dict[str, Any]) -> set[str]:
    kinds = node.get("@type")
    values = kinds if isinstance(kinds, list) else [kinds]
    return {
        re.sub(r"^(?:https?://schema\.org/|schema:)", "", v) for v in values if isinstance(v, str)
    }


def _list(value: Any) -> list[str]:
    """The strings of a JSON-LD value that may be one string or a list of them."""
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, str)]


def _name(value: Any) -> str:
    if isinstance(value, str):
        return single_line(value)
    if isinstance(value, list):
        return next((name for item in value if (name := _name(item))), "")
    return single_line(dig(value, "name"))


def _identifier(value: Any) -> str | None:
    if isinstance(value, str | int) and not isinstance(value, bool):
        return str(value).strip() or None
    for key in ("value", "@value", "@id", "name"):
        found = dig(value, key)
        if isinstance(found, str | int) and not isinstance(found, bool) and str(found).strip():
            return str(found).strip()
    return None


def _places(value: Any) -> str:
    """Names of places (`Country` objects or strings), joined."""
    items = value if isinstance(value, list) else [value]
    names = [_name(item) for item in items]
    return ", ".join(dict.fromkeys(name for name in names if name))


def _locations(value: Any) -> str:
    items = value if isinstance(value, list) else [value]
    found: list[str] = []
    for place in items:
        address = dig(place, "address") if isinstance(place, dict) else place
        if isinstance(address, str):
            text = single_line(address)
        else:
            parts = [
                _name(dig(address, key))
                for key in ("addressLocality", "addressRegion", "addressCountry")
            ]
            text = ", ".join(dict.fromkeys(part for part in parts if part))
        text = text or _name(place)
        if text and text not in found:
            found.append(text)
    return "; ".join(found)


def _salary(value: Any) -> Salary | None:
    if not isinstance(value, dict):
        return parse_salary(value) if isinstance(value, str) else None
    quantity = value.get("value")
    unit = dig(quantity, "unitText") or value.get("unitText")
    currency = currency_code(single_line(value.get("currency")))
    if isinstance(quantity, dict):
        low, high = amount(quantity.get("minValue")), amount(quantity.get("maxValue"))
        exact = amount(quantity.get("value"))
        low, high = (low or exact), (high or exact)
    elif isinstance(quantity, str) and not amount(quantity):
        found = parse_salary(quantity)
        if found is None:
            return None
        return Salary(
            min=found.min,
            max=found.max,
            currency=currency or found.currency,
            period=normalize_period(single_line(unit)) or found.period,
        )
    else:
        low = high = amount(quantity)
    return structured_salary(low, high, currency, single_line(unit))
