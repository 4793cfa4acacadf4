"""Realistic synthetic data for benchmarks: boards, jobs with 1-3 KB descriptions, applications.

Word frequencies are controlled so queries have known selectivity: `python` appears in about half
of the listings, `kubernetes` in a tenth, and `haskell` in a hundredth, so "haskell kubernetes"
matches roughly 100 of 100,000 listings. `raw_jobs` gives the same kind of listings as scrapers
return them, for the scan benchmark.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from app.scrapers.base import RawJob

SENIORITY = ["", "Senior ", "Staff ", "Principal ", "Junior ", "Lead "]
ROLES = [
    "Software Engineer",
    "Backend Engineer",
    "Frontend Developer",
    "Data Engineer",
    "Site Reliability Engineer",
    "Machine Learning Engineer",
    "Product Manager",
    "Engineering Manager",
    "Data Scientist",
    "Security Engineer",
    "Mobile Developer",
    "DevOps Engineer",
    "QA Engineer",
    "Solutions Architect",
    "Technical Writer",
]
CITIES = [
    "San Francisco, CA",
    "New York, NY",
    "Seattle, WA",
    "Austin, TX",
    "Boston, MA",
    "Chicago, IL",
    "Denver, CO",
    "London, UK",
    "Berlin, Germany",
    "Amsterdam, Netherlands",
    "Toronto, Canada",
    "Paris, France",
    "Dublin, Ireland",
    "Remote",
    "Remote - US",
    "Remote - Europe",
]
COMPANY_PARTS = (
    [
        *("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne"),
        *("Tyrell", "Soylent", "Cyberdyne", "Aperture", "Massive", "Oscorp", "Nakatomi", "Wonka"),
    ],
    ["Labs", "Systems", "Technologies", "Analytics", "Cloud", "Health", "Robotics", "Finance"],
)
# (word, probability of appearing in a listing)
SKILLS = [
    ("python", 0.5),
    ("kubernetes", 0.1),
    ("haskell", 0.01),
    ("golang", 0.2),
    ("typescript", 0.25),
    ("react", 0.2),
    ("postgresql", 0.15),
    ("terraform", 0.08),
    ("rust", 0.05),
    ("java", 0.2),
    ("c++", 0.05),
    ("spark", 0.05),
]
SENTENCES = [
    "You will design, build and operate services used by millions of people every day.",
    "Our team values clear writing, careful code review and shipping in small increments.",
    "We offer flexible hours, a learning budget and generous parental leave.",
    "You have shipped production systems and care about their reliability and cost.",
    "Experience with distributed systems, queues and caching is a plus.",
    "You will work closely with product, design and customer support.",
    "We are an equal opportunity employer and value diversity at our company.",
    "The role includes an on-call rotation shared fairly across the team.",
    "You enjoy mentoring others and improving how the team works.",
    "Our stack runs on cloud infrastructure managed entirely as code.",
    "You will own features end to end, from the first sketch to monitoring in production.",
    "Strong communication skills and the ability to work asynchronously across time zones.",
]
STATUSES = ["applied"] * 6 + ["interviewing"] * 2 + ["offered", "rejected", "rejected", "withdrawn"]


def _description(rng: random.Random, skills: list[str]) -> str:
    target = rng.randint(1000, 3000)
    parts: list[str] = []
    size = 0
    mentioned = ", ".join(skills) if skills else "modern tooling"
    parts.append(f"We are looking for someone experienced with {mentioned}.")
    while size < target:
        sentence = rng.choice(SENTENCES)
        parts.append(sentence)
        size += len(sentence) + 1
    return " ".join(parts)


def boards(count: int = 20, seed: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    rows = []
    for n in range(count):
        rows.append(
            {
                "id": uuid.UUID(int=rng.getrandbits(128)),
                "name": f"{rng.choice(COMPANY_PARTS[0])} careers {n}",
                "url": f"https://boards.greenhouse.io/bench{n}",
                "enabled": n % 10 != 9,
                "scan_interval_minutes": 60,
                "keyword_filters": [],
                "scraper_config": {"scraper_type": "greenhouse"},
                "last_scan_status": "error" if n == 3 else "success",
                "jobs_found_last_scan": 0,
                "consecutive_failures": 0,
                "created_at": now,
                "updated_at": now,
            }
        )
    return rows


def jobs(board_ids: list[uuid.UUID], count: int, seed: int = 2) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    for n in range(count):
        skills = [word for word, p in SKILLS if rng.random() < p]
        created = now - timedelta(minutes=rng.randint(0, 60 * 24 * 60))
        company = f"{rng.choice(COMPANY_PARTS[0])} {rng.choice(COMPANY_PARTS[1])}"
        url = f"https://jobs.example.com/{n}"
        low = rng.randrange(60, 200) * 1000 if rng.random() < 0.6 else None
        yield {
            "id": uuid.UUID(int=rng.getrandbits(128)),
            "board_id": board_ids[n % len(board_ids)],
            "title": rng.choice(SENIORITY) + rng.choice(ROLES),
            "company": company,
            "location": rng.choice(CITIES),
            "url": url,
            "description": _description(rng, skills),
            "salary_min": float(low) if low else None,
            "salary_max": float(low + 30000) if low else None,
            "salary_currency": "USD" if low else None,
            "salary_period": "year" if low else None,
            "match_score": round(min(100.0, max(0.0, rng.gauss(50, 20))), 1),
            "match_details": {},
            "dedup_hash": hashlib.sha256(url.encode()).hexdigest(),
            "external_id": str(n),
            "posted_date": created - timedelta(days=rng.randint(0, 5)),
            "first_seen_at": created,
            "last_seen_at": now,
            "closed_at": now if rng.random() < 0.03 else None,
            "workplace_type": rng.choice(["remote", "hybrid", "onsite", "unknown"]),
            "employment_type": "Full-time",
            "department": "Engineering",
            "is_new": rng.random() < 0.3,
            "is_hidden": rng.random() < 0.02,
            "created_at": created,
            "updated_at": created,
        }


def applications(
    job_ids: list[uuid.UUID], count: int, seed: int = 3
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Applications (about 90% linked to a listing) and 1-4 activity rows each."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    apps: list[dict[str, Any]] = []
    logs: list[dict[str, Any]] = []
    for n in range(count):
        applied = now - timedelta(hours=rng.randint(0, 24 * 120))
        status = rng.choice(STATUSES)
        app_id = uuid.UUID(int=rng.getrandbits(128))
        apps.append(
            {
                "id": app_id,
                "job_id": rng.choice(job_ids) if rng.random() < 0.9 else None,
                "company": "Bench Co",
                "title": f"Engineer {n}",
                "url": f"https://jobs.example.com/{n}",
                "status": status,
                "notes": "",
                "applied_via": "manual",
                "applied_at": applied,
                "follow_up_at": applied + timedelta(days=7) if rng.random() < 0.3 else None,
                "created_at": applied,
                "updated_at": applied,
            }
        )
        logs.append(
            {
                "id": uuid.UUID(int=rng.getrandbits(128)),
                "application_id": app_id,
                "action": "created",
                "details": f"Applied to Engineer {n} at Bench Co",
                "from_status": None,
                "to_status": "applied",
                "timestamp": applied,
            }
        )
        for step in range(rng.randint(0, 3)):
            logs.append(
                {
                    "id": uuid.UUID(int=rng.getrandbits(128)),
                    "application_id": app_id,
                    "action": "status_changed",
                    "details": f"applied → {status}",
                    "from_status": "applied",
                    "to_status": status,
                    "timestamp": applied + timedelta(days=step + 1),
                }
            )
    return apps, logs


def raw_jobs(count: int, seed: int = 4, *, source: str = "bench") -> list[RawJob]:
    """Listings as a scraper returns them: Greenhouse-like ids and URLs, 1-3 KB descriptions."""
    rng = random.Random(seed)
    listings: list[RawJob] = []
    for n in range(count):
        skills = [word for word, p in SKILLS if rng.random() < p]
        low = rng.randrange(60, 200) * 1000 if rng.random() < 0.6 else None
        location = rng.choice(CITIES)
        listings.append(
            RawJob(
                title=rng.choice(SENIORITY) + rng.choice(ROLES),
                url=f"https://boards.greenhouse.io/{source}/jobs/{4_000_000 + n}?gh_src=bench",
                company=f"{rng.choice(COMPANY_PARTS[0])} {rng.choice(COMPANY_PARTS[1])}",
                location=location,
                description=_description(rng, skills),
                external_id=str(4_000_000 + n),
                posted_date=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=rng.randint(0, 300)),
                salary_min=float(low) if low else None,
                salary_max=float(low + 30000) if low else None,
                salary_currency="USD" if low else None,
                salary_period="year" if low else None,
                workplace_type="remote" if location.startswith("Remote") else "onsite",
                employment_type="Full-time",
                department=rng.choice(["Engineering", "Product", "Data", "Security"]),
            )
        )
    return listings
