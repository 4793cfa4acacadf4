"""Salaries from the ways job boards write them: "$120k-$150k", "€60.000 - €80.000", "£50/hour".

Amounts are kept in the period the source states (an hourly rate stays hourly), with the
currency as an ISO 4217 code. Text that only looks numeric ("5+ years", "401k match") is not a
salary: an amount needs a currency or an explicit period to count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

SalaryPeriod = Literal["year", "month", "week", "day", "hour"]

MAX_PLAUSIBLE = 10_000_000.0


@dataclass(frozen=True, slots=True)
class Salary:
    min: float | None
    max: float | None
    currency: str | None
    period: SalaryPeriod | None


# Longest first, so "US$" wins over "$".
_SYMBOLS = {
    "US$": "USD",
    "CA$": "CAD",
    "C$": "CAD",
    "AU$": "AUD",
    "A$": "AUD",
    "NZ$": "NZD",
    "HK$": "HKD",
    "SG$": "SGD",
    "S$": "SGD",
    "MX$": "MXN",
    "R$": "BRL",
    "$": "USD",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "₹": "INR",
    "₩": "KRW",
    "₪": "ILS",
    "₽": "RUB",
    "₺": "TRY",
    "₱": "PHP",
    "zł": "PLN",
}
# Codes recognised in free text ("USD 90000"); structured fields accept any three letters.
# fmt: off
_CODES = frozenset((
    "USD", "EUR", "GBP", "CAD", "AUD", "NZD", "CHF", "JPY", "CNY", "INR", "SGD", "HKD", "SEK",
    "NOK", "DKK", "PLN", "CZK", "HUF", "RON", "BGN", "BRL", "MXN", "ZAR", "ILS", "KRW", "TRY",
    "AED", "SAR", "PHP",
))
# fmt: on

_SYMBOL_RE = "|".join(re.escape(symbol) for symbol in sorted(_SYMBOLS, key=len, reverse=True))
_CODE_RE = r"\b(?:" + "|".join(sorted(_CODES)) + r")\b"
_CURRENCY = rf"(?:{_SYMBOL_RE}|{_CODE_RE})"
_NUMBER = (
    r"\d{1,3}(?:,\d{2})+,\d{3}(?!\d)"  # Indian grouping: 18,00,000
    r"|\d{1,3}(?:[,. '\u2019]\d{3})+(?:[.,]\d{1,2})?(?!\d)"
    r"|\d+(?:[.,]\d+)?"
)
_AMOUNT = re.compile(
    rf"(?P<pre>{_CURRENCY})?\s?(?<![\w.,])(?P<num>{_NUMBER})"
    rf"(?:\s?(?P<suffix>[kKmM])(?![a-zA-Z]))?(?:\s?(?P<post>{_CURRENCY}))?"
)
_RANGE_GAP = re.compile(r"^\s*(?:-|to|and)\s*$", re.IGNORECASE)
_UP_TO = re.compile(r"\b(?:up\s+to|max(?:imum)?\.?|under)\s*$", re.IGNORECASE)
_AT_LEAST = re.compile(
    r"\b(?:from|starting\s+(?:at|from)|at\s+least|min(?:imum)?\.?|over)\s*$", re.IGNORECASE
)

_PERIODS: list[tuple[SalaryPeriod, re.Pattern[str]]] = [
    (
        "hour",
        re.compile(r"/\s*(?:hr|hour|h)\b|\b(?:per|an|a|each)\s+(?:hour|hr)\b|\bhourly\b", re.I),
    ),
    ("day", re.compile(r"/\s*day\b|\b(?:per|a)\s+day\b|\bdaily\b|\bper\s+diem\b", re.I)),
    ("week", re.compile(r"/\s*(?:wk|week)\b|\b(?:per|a)\s+week\b|\bweekly\b", re.I)),
    (
        "month",
        re.compile(r"/\s*(?:mo|mon|month)\b|\b(?:per|a)\s+month\b|\bmonthly\b|\bpcm\b", re.I),
    ),
    (
        "year",
        re.compile(
            r"/\s*(?:yr|year|annum|y)\b|\b(?:per|a|an)\s+(?:year|annum)\b|\bannual(?:ly)?\b"
            r"|\byearly\b|\bp\.\s?a\.",
            re.I,
        ),
    ),
]


def currency_code(value: str | None) -> str | None:
    """An ISO 4217 code from a code or symbol ("usd", "$", "€"), or None."""
    if not value:
        return None
    value = value.strip()
    if value in _SYMBOLS:
        return _SYMBOLS[value]
    upper = value.upper()
    return upper if re.fullmatch(r"[A-Z]{3}", upper) else None


def amount(value: object) -> float | None:
    """A positive amount from a structured field (a number or a numeric string), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = _number(value.strip(), None) if re.fullmatch(r"[\d.,' ]+", value.strip()) else None
    if isinstance(value, int | float) and 0 < value <= MAX_PLAUSIBLE:
        return float(value)
    return None


def normalize_period(value: str | None) -> SalaryPeriod | None:
    """A period from an ATS field: "per-hour-wage", "1 YEAR", "HOUR", "monthly" → "month"."""
    if not value:
        return None
    text = value.lower()
    for period, words in (
        ("hour", ("hour", "hr")),
        ("day", ("day", "daily", "diem")),
        ("week", ("week", "wk")),
        ("month", ("month",)),
        ("year", ("year", "annual", "annum", "yr")),
    ):
        if any(word in text for word in words):
            return period  # type: ignore[return-value]
    return None


def structured_salary(
    low: object, high: object, currency: str | None, period: str | None
) -> Salary | None:
    """A salary from an ATS's own fields (min, max, currency, interval); None without an amount."""
    low_amount, high_amount = amount(low), amount(high)
    if low_amount is None and high_amount is None:
        return None
    if low_amount is not None and high_amount is not None and low_amount > high_amount:
        low_amount, high_amount = high_amount, low_amount
    return Salary(
        min=low_amount,
        max=high_amount,
        currency=currency_code(currency),
        period=normalize_period(period),
    )


def parse_salary(text: str | None) -> Salary | None:
    """The first salary stated in `text`, or None if it states none."""
    if not text:
        return None
    text = re.sub(r"[\u00a0\u202f\u2009]", " ", text)
    text = re.sub(r"[\u2010-\u2015\u2212]", "-", text)
    amounts = list(_AMOUNT.finditer(text))
    index = 0
    while index < len(amounts):
        first = amounts[index]
        second = amounts[index + 1] if index + 1 < len(amounts) else None
        is_range = second is not None and _RANGE_GAP.match(text[first.end() : second.start()])
        pair = [first, second] if is_range and second is not None else [first]
        salary = _salary_from(text, pair)
        if salary is not None:
            return salary
        index += len(pair)
    return None


_SALARY_LINE = re.compile(
    r"\b(salary|compensation|pay|base|range|wage|rate|ote|remuneration)\b", re.IGNORECASE
)


def salary_from_description(description: str | None) -> Salary | None:
    """A salary stated on a line of a job description that talks about pay, if any.

    Only lines mentioning pay are read, and only amounts with a currency count, so funding
    rounds ("we raised $40M") and benefits ("401k") are not mistaken for pay.
    """
    for line in (description or "").splitlines():
        if len(line) > 400 or not _SALARY_LINE.search(line):
            continue
        salary = parse_salary(line)
        if salary is not None and salary.currency:
            return salary
    return None


def _salary_from(text: str, matches: list[re.Match[str]]) -> Salary | None:
    codes = [currency_code(m.group("pre") or m.group("post")) for m in matches]
    currency = next((code for code in codes if code), None)
    tail = text[matches[-1].end() :]
    stated_after = _period_right_after(tail)
    if currency is None and stated_after is None:
        # Bare numbers only count when a period follows them at once: "50,000 per year".
        return None
    period = stated_after or _period(tail) or _period(text)
    values = [_number(m.group("num"), m.group("suffix")) for m in matches]
    if any(value is None or value <= 0 for value in values):
        return None
    numbers = [value for value in values if value is not None]
    if len(matches) == 2 and matches[1].group("suffix") and not matches[0].group("suffix"):
        # "$120-150k": the suffix belongs to both ends.
        scaled = _number(matches[0].group("num"), matches[1].group("suffix"))
        if scaled is not None and scaled <= numbers[1]:
            numbers[0] = scaled
    low, high = min(numbers), max(numbers)
    if high > MAX_PLAUSIBLE:
        return None
    if period is None and high >= 10_000:
        period = "year"
    if len(numbers) == 1:
        before = text[: matches[0].start()]
        if _UP_TO.search(before):
            return Salary(min=None, max=high, currency=currency, period=period)
        if _AT_LEAST.search(before):
            return Salary(min=low, max=None, currency=currency, period=period)
    return Salary(min=low, max=high, currency=currency, period=period)


def _period(text: str) -> SalaryPeriod | None:
    best: tuple[int, SalaryPeriod] | None = None
    for period, pattern in _PERIODS:
        found = pattern.search(text)
        if found and (best is None or found.start() < best[0]):
            best = (found.start(), period)
    return best[1] if best else None


def _period_right_after(tail: str) -> SalaryPeriod | None:
    head = tail.lstrip(" ,(")
    return next((period for period, pattern in _PERIODS if pattern.match(head)), None)


def _number(raw: str, suffix: str | None) -> float | None:
    digits = re.sub(r"[ '\u2019]", "", raw)
    if "," in digits and "." in digits:
        decimal = "," if digits.rfind(",") > digits.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        digits = digits.replace(thousands, "").replace(decimal, ".")
    elif "," in digits:
        grouped = re.fullmatch(r"\d{1,3}(?:,\d{2,3})*,\d{3}", digits)
        digits = digits.replace(",", "") if grouped else digits.replace(",", ".")
    elif "." in digits:
        grouped = re.fullmatch(r"\d{1,3}(?:\.\d{3})+", digits)
        if grouped and not suffix:
            digits = digits.replace(".", "")
    try:
        value = float(digits)
    except ValueError:
        return None
    if suffix:
        value *= 1_000 if suffix.lower() == "k" else 1_000_000
    return value
