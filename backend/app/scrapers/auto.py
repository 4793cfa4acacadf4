"""`auto`: pick the scraper a board URL calls for.

Known ATS hosts go to their API scrapers; any other page is read for schema.org `JobPosting`
data, and failing that in a browser with the board's configured selectors (`interactive`).
Scrapers are looked up in the registry at call time (the registry imports this module).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from app.scrapers import detect
from app.scrapers.base import FetchContext, Scraper, ScrapeRequest, ScrapeResult
from app.scrapers.config import ScraperConfig
from app.scrapers.errors import BadConfig, NoJobPostings, ScrapeError
from app.scrapers.http import Fetcher
from app.scrapers.jsonld import find_job_postings

_ATS_NAMES = {"greenhouse": "Greenhouse", "lever": "Lever", "workday": "Workday", "ashby": "Ashby"}


class AutoScraper(Scraper):
    name = "auto"

    async def scrape(self, request: ScrapeRequest, context: FetchContext) -> ScrapeResult:
        # Imported here: the registry imports this module to register `auto` itself.
        from app.scrapers import registry

        picked = detect.detect_scraper_type(request.url)
        if picked is not None:
            return await registry.get_scraper(picked).scrape(request, context)
        try:
            return await registry.get_scraper("jsonld").scrape(request, context)
        except NoJobPostings as exc:
            if not reads_page(request.config):
                raise BadConfig(
                    f"{exc}, and no selectors are configured to read the page instead: set "
                    "scraper_config.selectors (job_card and title) or intercept_patterns"
                ) from None
        return await registry.get_scraper("interactive").scrape(request, context)


def reads_page(config: ScraperConfig) -> bool:
    """Whether the config tells the browser how to find jobs (selectors or intercepted JSON)."""
    return "job_card" in config.selectors or bool(config.intercept_patterns)


async def describe(
    url: str,
    config: ScraperConfig | None = None,
    *,
    probe: bool = False,
    context: FetchContext | None = None,
) -> dict[str, Any]:
    """Which scraper `auto` would use for `url`, the config it derives, and why.

    Nothing is fetched unless `probe` is set; then the page is fetched once (with `context`'s
    fetcher, or a short-lived one) to see whether it carries JSON-LD job postings. The answer:
    `scraper_type`, `config` (the board's config with the derived keys, ready to save),
    `reason`, `fallback` (the scraper tried next, or None), `probed`, `jobs_found` (JSON-LD
    postings on the page, when probed) and `probe_error` (why the probe failed, or None).
    """
    config = config or ScraperConfig()
    answer: dict[str, Any] = {
        "fallback": None,
        "probed": False,
        "jobs_found": None,
        "probe_error": None,
    }
    picked = detect.detect_scraper_type(url)
    if picked is not None:
        derived = _ats_identity(picked, url, config)
        missing = [key for key, value in derived.items() if not value]
        if picked == "lever" and detect.lever_is_eu(url):
            derived["lever_region"] = "eu"
        reason = f"{_ATS_NAMES[picked]} URL: reads the {_ATS_NAMES[picked]} API"
        if missing:
            reason += f"; set {' and '.join(missing)}, which the URL does not say"
        return answer | {
            "scraper_type": picked,
            "config": _with(config, picked, {k: v for k, v in derived.items() if v}),
            "reason": reason,
        }
    browser_step = (
        "reads the page in a browser with the configured selectors"
        if reads_page(config)
        else "reading the page in a browser needs selectors (job_card, title) or "
        "intercept_patterns in the config"
    )
    answer |= {
        "scraper_type": "jsonld",
        "fallback": "interactive",
        "config": _with(config, "auto", {}),
        "reason": "not a known ATS URL: looks for schema.org JobPosting data first; if there is "
        f"none, {browser_step}",
    }
    if not probe:
        return answer
    try:
        found = await _count_postings(url, context)
    except ScrapeError as exc:
        return answer | {"probed": True, "probe_error": str(exc)}
    answer |= {"probed": True, "jobs_found": found}
    if found:
        plural = "" if found == 1 else "s"
        return answer | {
            "reason": f"the page has {found} schema.org JobPosting{plural}",
            "config": _with(config, "jsonld", {}),
        }
    return answer | {
        "scraper_type": "interactive",
        "fallback": None,
        "config": _with(config, "interactive", {}),
        "reason": f"the page has no schema.org JobPosting data; {browser_step}",
    }


def _ats_identity(picked: str, url: str, config: ScraperConfig) -> dict[str, str | None]:
    """The ATS's identity for this board, from the config or else from the URL."""
    if picked == "greenhouse":
        return {"board_token": config.board_token or detect.greenhouse_token(url)}
    if picked == "lever":
        return {"site_slug": config.site_slug or detect.lever_site(url)}
    if picked == "workday":
        site = detect.workday_site(url)
        return {
            "workday_tenant": config.workday_tenant or (site.tenant if site else None),
            "workday_site": config.workday_site or (site.site if site else None),
        }
    return {"board_name": config.board_name or detect.ashby_board(url)}


def _with(config: ScraperConfig, scraper_type: str, derived: dict[str, str]) -> dict[str, Any]:
    """`config` as JSON with `scraper_type` and the derived keys set (those that validate)."""
    data = config.model_dump(mode="json", exclude_defaults=True) | {"scraper_type": scraper_type}
    for key, value in derived.items():
        try:
            ScraperConfig.model_validate(data | {key: value})
        except ValidationError:
            continue  # an identity the URL spells in a way the config cannot hold
        data[key] = value
    return data


async def _count_postings(url: str, context: FetchContext | None) -> int:
    if context is not None:
        page = await context.fetcher.get_page(url)
    else:
        async with Fetcher(tries=1) as fetcher:
            page = await fetcher.get_page(url)
    return len(find_job_postings(page.text))
