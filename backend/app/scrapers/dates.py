"""Dates as job boards write them, as aware UTC datetimes; junk becomes None, never an error.

Handles ISO 8601 strings, epoch seconds or milliseconds (Lever's `createdAt`), RFC 2822 dates,
"Jan 5, 2024"-style dates, and relative phrases ("Posted Today", "Posted 3 Days Ago",
"Posted 30+ Days Ago", "2 weeks ago").
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime

_EPOCH_MS_THRESHOLD = 100_000_000_000  # larger numbers are milliseconds (from 1973 on)
_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)

_RELATIVE = re.compile(
    r"^(?:posted\s+)?(?P<count>\d+|an?|one)\+?\s+(?P<unit>minute|min|hour|hr|day|week|month|year)s?"
    r"\s+ago$",
    re.IGNORECASE,
)
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}
_NAMED_FORMATS = (
    "%b %d, %Y",
    "%B %d, %Y",
    "%b %d %Y",
    "%B %d %Y",
    "%d %b %Y",
    "%d %B %Y",
    "%d %b, %Y",
    "%d %B, %Y",
    "%Y/%m/%d",
    "%Y.%m.%d",
)


def parse_date(value: object, *, now: datetime | None = None) -> datetime | None:
    """`value` as an aware UTC datetime, or None when it is not a recognisable date.

    Relative phrases count back from `now` (default: the current time) and are truncated to
    the day, so the same listing read twice on one day gets the same date.
    """
    try:
        parsed = _parse(value, now or datetime.now(UTC))
    except (ValueError, OverflowError, OSError, TypeError):
        return None
    if parsed is None:
        return None
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return parsed if parsed >= _EARLIEST else None


def _parse(value: object, now: datetime) -> datetime | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    if not text:
        return None
    if re.fullmatch(r"\d{9,14}(?:\.\d+)?", text):
        return _from_epoch(float(text))
    return _from_iso(text) or _from_relative(text, now) or _from_named(text)


def _from_epoch(number: float) -> datetime:
    if number > _EPOCH_MS_THRESHOLD:
        number /= 1000
    return datetime.fromtimestamp(number, tz=UTC)


def _from_iso(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    # Fractions longer than microseconds, as some APIs send: 2024-01-15T10:00:00.1234567Z
    trimmed = re.sub(r"(\.\d{6})\d+", r"\1", text)
    if trimmed != text:
        try:
            return datetime.fromisoformat(trimmed)
        except ValueError:
            return None
    return None


def _from_relative(text: str, now: datetime) -> datetime | None:
    lowered = text.lower().removeprefix("posted").strip()
    today = datetime(now.year, now.month, now.day, tzinfo=UTC)
    if lowered in ("today", "just now", "just posted", "now"):
        return today
    if lowered == "yesterday":
        return today - timedelta(days=1)
    match = _RELATIVE.match(lowered)
    if not match:
        return None
    count_text = match.group("count")
    count = int(count_text) if count_text.isdigit() else 1
    unit = match.group("unit")
    if unit in ("minute", "min", "hour", "hr"):
        moment = now - timedelta(minutes=count if unit.startswith("min") else count * 60)
        return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    return today - timedelta(days=count * _UNIT_DAYS[unit])


def _from_named(text: str) -> datetime | None:
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        pass
    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text).replace("Sept ", "Sep ")
    for fmt in _NAMED_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt)
        except ValueError:
            continue
    return None
