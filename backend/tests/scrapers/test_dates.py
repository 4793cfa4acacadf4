"""Posting dates from every form boards use, relative to a fixed scan time."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.scrapers.dates import parse_date

NOW = datetime(2024, 3, 10, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-15T10:00:00Z", datetime(2024, 1, 15, 10, tzinfo=UTC)),
        ("2024-01-15T10:00:00.000+02:00", datetime(2024, 1, 15, 8, tzinfo=UTC)),
        ("2024-01-15T10:00:00.1234567Z", datetime(2024, 1, 15, 10, 0, 0, 123456, tzinfo=UTC)),
        ("2024-01-15T10:00:00", datetime(2024, 1, 15, 10, tzinfo=UTC)),
        ("2024-01-15", datetime(2024, 1, 15, tzinfo=UTC)),
        (1705312800000, datetime(2024, 1, 15, 10, tzinfo=UTC)),  # Lever createdAt (ms)
        (1705312800, datetime(2024, 1, 15, 10, tzinfo=UTC)),  # epoch seconds
        ("1705312800000", datetime(2024, 1, 15, 10, tzinfo=UTC)),
        ("Mon, 15 Jan 2024 10:00:00 GMT", datetime(2024, 1, 15, 10, tzinfo=UTC)),
        ("Mon, 15 Jan 2024 10:00:00 -0500", datetime(2024, 1, 15, 15, tzinfo=UTC)),
        ("Jan 15, 2024", datetime(2024, 1, 15, tzinfo=UTC)),
        ("15 January 2024", datetime(2024, 1, 15, tzinfo=UTC)),
        ("March 3rd, 2024", datetime(2024, 3, 3, tzinfo=UTC)),
        ("2024/01/15", datetime(2024, 1, 15, tzinfo=UTC)),
        (date(2024, 1, 15), datetime(2024, 1, 15, tzinfo=UTC)),
        ("Posted Today", datetime(2024, 3, 10, tzinfo=UTC)),
        ("Posted Yesterday", datetime(2024, 3, 9, tzinfo=UTC)),
        ("Posted 3 Days Ago", datetime(2024, 3, 7, tzinfo=UTC)),
        ("Posted 30+ Days Ago", datetime(2024, 2, 9, tzinfo=UTC)),
        ("posted 1 day ago", datetime(2024, 3, 9, tzinfo=UTC)),
        ("2 weeks ago", datetime(2024, 2, 25, tzinfo=UTC)),
        ("a month ago", datetime(2024, 2, 9, tzinfo=UTC)),
        ("5 hours ago", datetime(2024, 3, 10, tzinfo=UTC)),
        ("20 hours ago", datetime(2024, 3, 9, tzinfo=UTC)),
        ("Just posted", datetime(2024, 3, 10, tzinfo=UTC)),
        # Junk is None, never an error
        ("soon", None),
        ("Posted", None),
        ("", None),
        ("   ", None),
        (None, None),
        (True, None),
        (-5, None),
        (1e30, None),
        ("2024-13-45", None),
        ({"date": "2024-01-01"}, None),
        ("1850-01-01", None),
    ],
)
def test_parse_date(value: object, expected: datetime | None) -> None:
    assert parse_date(value, now=NOW) == expected


def test_results_are_aware_utc() -> None:
    parsed = parse_date("2024-01-15T10:00:00+05:30")

    assert parsed is not None
    assert parsed.tzinfo == UTC
    assert parsed.hour == 4


def test_relative_dates_are_stable_within_a_day() -> None:
    morning = datetime(2024, 3, 10, 1, tzinfo=UTC)
    evening = datetime(2024, 3, 10, 23, tzinfo=UTC)

    assert parse_date("Posted 3 Days Ago", now=morning) == parse_date(
        "Posted 3 Days Ago", now=evening
    )
