"""Scrapers by name: the scan looks up `scraper_config.scraper_type` here.

To add a scraper, write a `Scraper` subclass with a `name` (a `ScraperType` value) in its own
module and add an instance to `_BUILT_IN`. An `auto` scraper that picks among the others should
look them up through `get_scraper` at call time (`from app.scrapers import registry`), which
keeps the import order free of cycles.
"""

from __future__ import annotations

from app.scrapers.ashby import AshbyScraper
from app.scrapers.auto import AutoScraper
from app.scrapers.base import Scraper
from app.scrapers.errors import UnknownScraper
from app.scrapers.generic import GenericScraper
from app.scrapers.greenhouse import GreenhouseScraper
from app.scrapers.interactive import InteractiveScraper
from app.scrapers.jsonld import JsonLdScraper
from app.scrapers.lever import LeverScraper
from app.scrapers.workday import WorkdayScraper

_SCRAPERS: dict[str, Scraper] = {}


def register(scraper: Scraper, *, replace: bool = False) -> Scraper:
    """Make `scraper` available under its name; a second scraper with one name is a bug."""
    if scraper.name in _SCRAPERS and not replace:
        raise ValueError(f"a scraper named `{scraper.name}` is already registered")
    _SCRAPERS[scraper.name] = scraper
    return scraper


def get_scraper(name: str) -> Scraper:
    """The scraper registered as `name` (a `ScraperType` value works too)."""
    try:
        return _SCRAPERS[str(name)]
    except KeyError:
        known = ", ".join(sorted(_SCRAPERS))
        raise UnknownScraper(f"no scraper named `{name}` (available: {known})") from None


def scraper_names() -> list[str]:
    return sorted(_SCRAPERS)


_BUILT_IN: tuple[Scraper, ...] = (
    GreenhouseScraper(),
    LeverScraper(),
    WorkdayScraper(),
    AshbyScraper(),
    JsonLdScraper(),
    GenericScraper(),
    InteractiveScraper(),
    AutoScraper(),
)
for _scraper in _BUILT_IN:
    register(_scraper)
