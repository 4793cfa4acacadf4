"""`scraper_config`: the typed, validated settings of a board's scraper.

The wire format is one flat object (as the seed's clients send it); which keys matter depends on
`scraper_type`, and `check_config_for_board` enforces those per-type requirements with errors that
name the offending field.
"""

from __future__ import annotations

import fnmatch
import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from selectolax.lexbor import LexborHTMLParser, SelectolaxError

from app.scrapers import detect


class ScraperType(StrEnum):
    auto = "auto"
    generic = "generic"
    workday = "workday"
    greenhouse = "greenhouse"
    lever = "lever"
    interactive = "interactive"
    ashby = "ashby"
    jsonld = "jsonld"


class PaginationType(StrEnum):
    click = "click"
    url_param = "url_param"
    infinite_scroll = "infinite_scroll"


class ActionType(StrEnum):
    fill = "fill"
    click = "click"
    wait = "wait"
    scroll = "scroll"
    select = "select"
    press = "press"
    delay = "delay"


# Names a `generic`/`interactive` scraper reads; others are rejected to catch typos.
SELECTOR_NAMES = frozenset(
    {
        "job_card",
        "title",
        "company",
        "location",
        "link",
        "salary",
        "posted_date",
        "description",
        "next_page",
        "load_more",
    }
)

_PROBE_DOCUMENT = LexborHTMLParser("<html><body><div></div></body></html>")
_GLOB_CHARS = re.compile(r"^[\x21-\x7e]+$")

ShortText = Annotated[str, Field(min_length=1, max_length=500)]
Identifier = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.\-]+$")]


def check_css_selector(selector: str) -> str:
    """Raise ValueError unless `selector` parses as CSS."""
    selector = selector.strip()
    if not selector:
        raise ValueError("must not be empty")
    try:
        _PROBE_DOCUMENT.css(selector)
    except SelectolaxError:
        raise ValueError(f"`{selector}` is not a valid CSS selector") from None
    return selector


def check_glob(pattern: str) -> str:
    """Raise ValueError unless `pattern` is a usable URL glob such as `**/api/jobs*`."""
    if not _GLOB_CHARS.match(pattern):
        raise ValueError(f"`{pattern}` must be a URL glob without spaces")
    if pattern.count("[") != pattern.count("]") or pattern.count("{") != pattern.count("}"):
        raise ValueError(f"`{pattern}` has unbalanced brackets")
    try:
        re.compile(fnmatch.translate(pattern))
    except re.error as exc:
        raise ValueError(f"`{pattern}` is not a valid glob: {exc}") from None
    return pattern


class PreSearchAction(BaseModel):
    """One browser step run before jobs are read (fill a search box, click, wait, ...)."""

    model_config = ConfigDict(extra="forbid")

    action: ActionType
    selector: str | None = Field(default=None, max_length=500)
    value: str | None = Field(default=None, max_length=1000)
    state: Literal["load", "domcontentloaded", "networkidle"] | None = None
    wait_selector: str | None = Field(default=None, max_length=500)
    key: str | None = Field(default=None, max_length=50)
    times: int | None = Field(default=None, ge=1, le=100)
    timeout: int | None = Field(default=None, ge=0, le=120_000, description="milliseconds")
    ms: int | None = Field(default=None, ge=0, le=60_000)
    direction: Literal["down", "up"] | None = None

    @field_validator("selector", "wait_selector")
    @classmethod
    def _css(cls, value: str | None) -> str | None:
        return None if value is None else check_css_selector(value)

    @model_validator(mode="after")
    def _required_keys(self) -> PreSearchAction:
        needs: dict[ActionType, tuple[str, ...]] = {
            ActionType.fill: ("selector", "value"),
            ActionType.click: ("selector",),
            ActionType.select: ("selector", "value"),
            ActionType.press: ("key",),
            ActionType.delay: ("ms",),
        }
        for key in needs.get(self.action, ()):
            if getattr(self, key) is None:
                raise ValueError(f"`{self.action}` action needs `{key}`")
        if self.action == ActionType.wait and not (
            self.state or self.wait_selector or self.selector
        ):
            raise ValueError("`wait` action needs `state`, `selector` or `wait_selector`")
        return self


class ScraperConfig(BaseModel):
    """Every key a board's scraper can take; see SPEC §4 for what each type reads."""

    model_config = ConfigDict(extra="forbid", use_enum_values=False)

    scraper_type: ScraperType = ScraperType.auto

    # generic / interactive
    selectors: dict[str, str] = Field(default_factory=dict)
    pagination_type: PaginationType | None = None
    max_pages: int = Field(default=5, ge=1, le=100)
    url_page_param: Identifier = "page"
    url_page_start: int = Field(default=1, ge=0, le=10_000)
    url_page_step: int = Field(default=1, ge=1, le=1_000)
    render: bool = False
    pre_search_actions: list[PreSearchAction] = Field(default_factory=list, max_length=50)
    intercept_patterns: list[str] = Field(default_factory=list, max_length=20)
    intercept_job_path: str | None = Field(default=None, max_length=200)
    intercept_title_key: str | None = Field(default=None, max_length=100)
    intercept_location_key: str | None = Field(default=None, max_length=100)
    intercept_url_key: str | None = Field(default=None, max_length=100)
    intercept_company_key: str | None = Field(default=None, max_length=100)
    intercept_description_key: str | None = Field(default=None, max_length=100)
    intercept_id_key: str | None = Field(default=None, max_length=100)

    # ATS identities (taken from the board URL when absent)
    board_token: Identifier | None = None
    site_slug: Identifier | None = None
    lever_region: Literal["global", "eu"] | None = None
    workday_tenant: Identifier | None = None
    workday_site: Identifier | None = None
    search_text: str | None = Field(default=None, max_length=200)
    board_name: Identifier | None = None

    @field_validator("selectors")
    @classmethod
    def _check_selectors(cls, selectors: dict[str, str]) -> dict[str, str]:
        checked: dict[str, str] = {}
        for name, selector in selectors.items():
            if name not in SELECTOR_NAMES:
                known = ", ".join(sorted(SELECTOR_NAMES))
                raise ValueError(f"unknown selector `{name}` (known: {known})")
            try:
                checked[name] = check_css_selector(selector)
            except ValueError as exc:
                raise ValueError(f"selector `{name}`: {exc}") from None
        return checked

    @field_validator("intercept_patterns")
    @classmethod
    def _check_patterns(cls, patterns: list[str]) -> list[str]:
        return [check_glob(pattern) for pattern in patterns]


class ScraperConfigError(ValueError):
    """A config that is well-formed but unusable for its scraper type; names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def check_config_for_board(config: ScraperConfig, url: str) -> None:
    """Check what `config.scraper_type` needs, taking identities from `url` where it can."""
    kind = config.scraper_type
    if kind == ScraperType.greenhouse and not (config.board_token or detect.greenhouse_token(url)):
        raise ScraperConfigError(
            "scraper_config.board_token",
            "required for greenhouse unless the URL is a boards.greenhouse.io/<token> page",
        )
    if kind == ScraperType.lever and not (config.site_slug or detect.lever_site(url)):
        raise ScraperConfigError(
            "scraper_config.site_slug",
            "required for lever unless the URL is a jobs.lever.co/<site> page",
        )
    if kind == ScraperType.ashby and not (config.board_name or detect.ashby_board(url)):
        raise ScraperConfigError(
            "scraper_config.board_name",
            "required for ashby unless the URL is a jobs.ashbyhq.com/<board> page",
        )
    if kind == ScraperType.workday and detect.workday_site(url) is None:
        for field in ("workday_tenant", "workday_site"):
            if not getattr(config, field):
                raise ScraperConfigError(
                    f"scraper_config.{field}",
                    "required for workday unless the URL is a "
                    "<tenant>.wdN.myworkdayjobs.com/<site> page",
                )
    if kind == ScraperType.generic:
        for name in ("job_card", "title"):
            if name not in config.selectors:
                raise ScraperConfigError(
                    f"scraper_config.selectors.{name}", "required for the generic scraper"
                )
    clicks_next = config.pagination_type == PaginationType.click
    browses = kind in (ScraperType.generic, ScraperType.interactive)
    if browses and clicks_next and "next_page" not in config.selectors:
        raise ScraperConfigError(
            "scraper_config.selectors.next_page", "required for click pagination"
        )
    if kind == ScraperType.interactive:
        intercepting = bool(config.intercept_patterns)
        if intercepting and not config.intercept_title_key:
            raise ScraperConfigError(
                "scraper_config.intercept_title_key", "required when intercept_patterns is set"
            )
        if not intercepting and "job_card" not in config.selectors:
            raise ScraperConfigError(
                "scraper_config.selectors.job_card",
                "required for interactive boards that do not intercept JSON responses",
            )
