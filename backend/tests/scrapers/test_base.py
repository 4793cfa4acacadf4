"""The shared vocabulary of raw jobs: workplace and employment types, salary fields."""

from __future__ import annotations

import pytest

from app.scrapers.base import RawJob, dig, employment_type, workplace_type
from app.scrapers.salary import Salary


@pytest.mark.parametrize(
    ("hints", "expected"),
    [
        (("Remote - US",), "remote"),
        (("OnSite", "Remote"), "onsite"),
        (("Hybrid",), "hybrid"),
        (("hybrid remote",), "hybrid"),
        (("on-site",), "onsite"),
        (("unspecified", "Berlin"), "unknown"),
        ((None, "", "Work from home"), "remote"),
        ((), "unknown"),
    ],
)
def test_workplace_type(hints: tuple[str | None, ...], expected: str) -> None:
    assert workplace_type(*hints) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("FULL_TIME", "Full-time"),
        ("FullTime", "Full-time"),
        ("Full time", "Full-time"),
        ("PART_TIME", "Part-time"),
        ("CONTRACTOR", "Contract"),
        ("Intern", "Internship"),
        (["FULL_TIME", "FullTime", "TEMPORARY"], "Full-time, Temporary"),
        ("Freelance", "Freelance"),
        ("", None),
        (None, None),
    ],
)
def test_employment_type(value: str | list[str] | None, expected: str | None) -> None:
    assert employment_type(value) == expected


def test_salary_fields_are_set_together() -> None:
    job = RawJob(title="Engineer", url="https://acme.example/jobs/1")
    job.set_salary(Salary(min=45, max=55, currency="USD", period="hour"))
    job.set_salary(None)

    assert (job.salary_min, job.salary_max, job.salary_currency, job.salary_period) == (
        45,
        55,
        "USD",
        "hour",
    )


def test_dig_tolerates_any_shape() -> None:
    data = {"a": [{"b": "x"}]}

    assert dig(data, "a", 0, "b") == "x"
    assert dig(data, "a", 3, "b") is None
    assert dig(data, "a", "b") is None
    assert dig("text", "a") is None
