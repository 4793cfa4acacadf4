"""Salary parsing over the ways boards write pay."""

from __future__ import annotations

import pytest

from app.scrapers.salary import (
    Salary,
    amount,
    currency_code,
    normalize_period,
    parse_salary,
    salary_from_description,
)


def pay(low: float | None, high: float | None, currency: str | None, period: str | None) -> Salary:
    return Salary(min=low, max=high, currency=currency, period=period)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Annual ranges
        ("$120k-$150k", pay(120_000, 150_000, "USD", "year")),
        ("$120K \u2013 $150K", pay(120_000, 150_000, "USD", "year")),
        ("$120-150k", pay(120_000, 150_000, "USD", "year")),
        ("$120,000 - $150,000 a year", pay(120_000, 150_000, "USD", "year")),
        ("$120,000 to $150,000 per year", pay(120_000, 150_000, "USD", "year")),
        ("120,000 - 150,000 USD a year", pay(120_000, 150_000, "USD", "year")),
        ("USD 90000-110000", pay(90_000, 110_000, "USD", "year")),
        ("USD 90,000 — 110,000 annually", pay(90_000, 110_000, "USD", "year")),
        ("€60.000 - €80.000", pay(60_000, 80_000, "EUR", "year")),
        ("60.000 € - 80.000 € brutto/Jahr", pay(60_000, 80_000, "EUR", "year")),
        ("60 000 € \u2013 80 000 €", pay(60_000, 80_000, "EUR", "year")),
        ("EUR 55,000.50 - 65,000.75", pay(55_000.5, 65_000.75, "EUR", "year")),
        ("£45,000", pay(45_000, 45_000, "GBP", "year")),
        ("£30k - £35k pro rata", pay(30_000, 35_000, "GBP", "year")),
        ("CA$90,000 \u2013 CA$110,000", pay(90_000, 110_000, "CAD", "year")),
        ("A$150k + super", pay(150_000, 150_000, "AUD", "year")),
        ("CHF 120'000 p.a.", pay(120_000, 120_000, "CHF", "year")),
        ("₹18,00,000 per annum", pay(1_800_000, 1_800_000, "INR", "year")),
        ("Between $100k and $130k, plus equity", pay(100_000, 130_000, "USD", "year")),
        ("$150K \u2013 $200K • Offers Equity", pay(150_000, 200_000, "USD", "year")),
        ("$120k-$150k + 401k match", pay(120_000, 150_000, "USD", "year")),
        ("50,000 - 60,000 per year", pay(50_000, 60_000, None, "year")),
        ("Up to $150k", pay(None, 150_000, "USD", "year")),
        ("From $120k", pay(120_000, None, "USD", "year")),
        ("$1.2M OTE", pay(1_200_000, 1_200_000, "USD", "year")),
        # Hourly stays hourly
        ("$45/hr", pay(45, 45, "USD", "hour")),
        ("$45 - $55 an hour", pay(45, 55, "USD", "hour")),
        ("$45.50/hr", pay(45.5, 45.5, "USD", "hour")),
        ("£50/hour", pay(50, 50, "GBP", "hour")),
        ("$20 - 25 per hour", pay(20, 25, "USD", "hour")),
        ("Hourly rate: $38", pay(38, 38, "USD", "hour")),
        ("45 per hour", pay(45, 45, None, "hour")),
        ("3-5 years, $50/hr", pay(50, 50, "USD", "hour")),
        # Other periods
        ("$5,000 per month", pay(5_000, 5_000, "USD", "month")),
        ("€3.500 - €4.200 monthly", pay(3_500, 4_200, "EUR", "month")),
        ("£2,500 pcm", pay(2_500, 2_500, "GBP", "month")),
        ("$800/week", pay(800, 800, "USD", "week")),
        ("$1,500 weekly", pay(1_500, 1_500, "USD", "week")),
        ("€400 a day", pay(400, 400, "EUR", "day")),
        ("£550/day outside IR35", pay(550, 550, "GBP", "day")),
        ("$600 daily rate", pay(600, 600, "USD", "day")),
        # Amount without a stated period, too small to assume annual
        ("$45", pay(45, 45, "USD", None)),
        # Not salaries
        ("Competitive", None),
        ("5+ years", None),
        ("401k match", None),
        ("3-5 years of experience", None),
        ("We raised $40M in Series B", None),
        ("Team of 12 engineers", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_salary(text: str | None, expected: Salary | None) -> None:
    assert parse_salary(text) == expected


def test_salary_from_description_reads_only_pay_lines() -> None:
    description = (
        "Acme raised $40M last year and has 401k matching.\n"
        "Requirements: 5+ years of Python.\n"
        "The base salary range for this role is $130,000 - $160,000 USD.\n"
        "Salary in London: £90,000 - £100,000."
    )

    assert salary_from_description(description) == pay(130_000, 160_000, "USD", "year")
    assert salary_from_description("Competitive pay and benefits.") is None
    assert salary_from_description(None) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("per-year-salary", "year"),
        ("per-month-salary", "month"),
        ("per-hour-wage", "hour"),
        ("per-week-salary", "week"),
        ("per-day-wage", "day"),
        ("1 YEAR", "year"),
        ("HOUR", "hour"),
        ("annual", "year"),
        ("one-time", None),
        (None, None),
    ],
)
def test_normalize_period(value: str | None, expected: str | None) -> None:
    assert normalize_period(value) == expected


def test_currency_codes_and_amounts_from_structured_fields() -> None:
    assert currency_code("usd") == "USD"
    assert currency_code("€") == "EUR"
    assert currency_code("dollars") is None
    assert amount(90000) == 90000.0
    assert amount("120,000") == 120000.0
    assert amount("lots") is None
    assert amount(True) is None
    assert amount(-5) is None
