"""Scrapers are found by the names board configs use."""

from __future__ import annotations

import pytest

from app.scrapers.base import FetchContext, Scraper, ScrapeRequest, ScrapeResult
from app.scrapers.config import ScraperType
from app.scrapers.errors import UnknownScraper
from app.scrapers.registry import get_scraper, register, scraper_names


def test_every_api_scraper_is_registered_under_its_config_name() -> None:
    for name in ("greenhouse", "lever", "workday", "ashby", "jsonld"):
        assert get_scraper(name).name == name
    assert get_scraper(ScraperType.greenhouse).name == "greenhouse"


def test_an_unknown_name_lists_the_available_ones() -> None:
    with pytest.raises(UnknownScraper, match=r"no scraper named `nope` \(available: .*greenhouse"):
        get_scraper("nope")


def test_a_name_cannot_be_registered_twice_by_accident() -> None:
    class Fake(Scraper):
        name = "greenhouse"

        async def scrape(self, request: ScrapeRequest, context: FetchContext) -> ScrapeResult:
            return ScrapeResult(jobs=[], complete=True)

    with pytest.raises(ValueError, match="already registered"):
        register(Fake())
    assert "greenhouse" in scraper_names()
