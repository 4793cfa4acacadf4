"""Pages for the browser and selector scraper tests: built-up boards and small JavaScript apps."""

from __future__ import annotations

import html
from pathlib import Path

HERE = Path(__file__).parent

SELECTORS = {
    "job_card": ".job-card",
    "title": ".title",
    "company": ".company",
    "location": ".location",
    "link": "a.title",
    "salary": ".salary",
    "posted_date": "time",
    "description": ".description",
    "next_page": "a.next",
}


def read(name: str) -> str:
    """A page kept as a file next to this module (the JavaScript apps)."""
    return (HERE / name).read_text()


def card(
    title: str,
    href: str | None = None,
    *,
    location: str = "Remote",
    company: str | None = None,
    salary: str | None = None,
    posted: str | None = None,
    description: str | None = None,
) -> str:
    """One `.job-card` as a server-rendered board writes it."""
    title_html = html.escape(title)
    parts = [
        f'<a class="title" href="{href}">{title_html}</a>'
        if href is not None
        else f'<h3 class="title">{title_html}</h3>',
        f'<span class="location">{html.escape(location)}</span>',
    ]
    if company:
        parts.append(f'<span class="company">{html.escape(company)}</span>')
    if salary:
        parts.append(f'<span class="salary">{html.escape(salary)}</span>')
    if posted:
        parts.append(f'<time datetime="{posted}">recently</time>')
    if description:
        parts.append(f'<div class="description">{description}</div>')
    return f'<li class="job-card">{"".join(parts)}</li>'


def board(*cards: str, next_href: str | None = None, head: str = "") -> str:
    """A board page holding `cards`, with an optional next-page link."""
    nav = f'<a class="next" href="{next_href}">Next</a>' if next_href else ""
    return (
        f"<!doctype html><html><head><title>Careers</title>{head}</head><body>"
        f'<ul class="jobs">{"".join(cards)}</ul>{nav}</body></html>'
    )


def numbered(count: int, *, first: int = 1, prefix: str = "Engineer") -> list[str]:
    """`count` linked cards, numbered from `first`."""
    return [card(f"{prefix} {n}", f"/jobs/{n}") for n in range(first, first + count)]
