from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from app.database import engine
from app.models import Job, JobBoard
from app.models.base import utcnow
from app.services import jobs as jobs_service
from tests.factories import make_application, make_board, make_job

WIRE_FIELDS = {
    "id",
    "board_id",
    "title",
    "company",
    "location",
    "url",
    "posted_date",
    "salary_min",
    "salary_max",
    "salary_currency",
    "description",
    "match_score",
    "is_new",
    "is_hidden",
    "created_at",
    "updated_at",
    "board_name",
    "application_status",
}
EXTRA_FIELDS = {
    "salary_period",
    "match_details",
    "workplace_type",
    "employment_type",
    "department",
    "external_id",
    "first_seen_at",
    "last_seen_at",
    "closed_at",
}
MISSING_ID = "00000000-0000-4000-8000-000000000000"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


async def listed(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/jobs", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def titles(client: httpx.AsyncClient, **params: Any) -> list[str]:
    return [job["title"] for job in (await listed(client, **params))["jobs"]]


def assert_invalid(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid_input"
    assert field in body["detail"]


async def jobs_at(session: AsyncSession, board: JobBoard, *titles: str, **fields: Any) -> list[Job]:
    """One job per title, created a minute apart in the given order (the last is newest)."""
    return [
        await make_job(session, board, title=title, created_at=T0 + timedelta(minutes=n), **fields)
        for n, title in enumerate(titles)
    ]


# --- the list ----------------------------------------------------------------------------------


async def test_list_answers_the_wire_contract(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    board = await make_board(session, name="Acme careers")
    job = await make_job(session, board, title="Backend Engineer", salary_min=100_000)

    body = await listed(client)

    assert body["total"] == 1
    assert (body["page"], body["page_size"], body["pages"]) == (1, 25, 1)
    (wire,) = body["jobs"]
    assert set(wire) == WIRE_FIELDS | EXTRA_FIELDS
    assert wire["id"] == str(job.id)
    assert wire["board_id"] == str(board.id)
    assert wire["board_name"] == "Acme careers"
    assert wire["salary_min"] == 100_000
    assert wire["application_status"] is None
    assert wire["closed_at"] is None


async def test_list_is_empty_with_no_jobs(client: httpx.AsyncClient) -> None:
    body = await listed(client)
    assert (body["jobs"], body["total"], body["pages"]) == ([], 0, 0)


async def test_application_status_is_that_of_the_latest_updated_application(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    board = await make_board(session)
    applied, _ = await jobs_at(session, board, "Applied", "Untouched")
    await make_application(session, applied, status="interviewing", updated_at=T0)
    await make_application(session, applied, status="offered", updated_at=T0 + timedelta(days=2))
    await make_application(session, applied, status="rejected", updated_at=T0 + timedelta(days=1))

    statuses = {j["title"]: j["application_status"] for j in (await listed(client))["jobs"]}

    assert statuses == {"Applied": "offered", "Untouched": None}
    got = (await client.get(f"/api/jobs/{applied.id}")).json()
    assert got["application_status"] == "offered"


@pytest.fixture
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


@pytest.mark.parametrize(
    "params",
    [{}, {"search": "python"}, {"search": "python", "sort_by": "relevance"}, {"location": "re"}],
)
async def test_a_page_costs_at_most_three_statements_however_many_jobs(
    client: httpx.AsyncClient,
    session: AsyncSession,
    statements: list[str],
    params: dict[str, str],
) -> None:
    boards = [await make_board(session) for _ in range(3)]
    for n in range(12):
        job = await make_job(session, boards[n % 3], description="Python services")
        await make_application(session, job)
    await session.commit()
    statements.clear()

    body = await listed(client, **params)

    assert len(body["jobs"]) == 12
    assert all(job["application_status"] == "applied" for job in body["jobs"])
    queries = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(queries) <= 3, queries
    assert "count(" in queries[0].lower()  # the total, alone or carried by the page
    assert body["total"] == 12


# --- visibility --------------------------------------------------------------------------------


@pytest.fixture
async def hidden_and_closed(session: AsyncSession) -> JobBoard:
    board = await make_board(session)
    await make_job(session, board, title="Open")
    await make_job(session, board, title="Hidden", is_hidden=True)
    await make_job(session, board, title="Closed", closed_at=T0)
    await make_job(session, board, title="Hidden and closed", is_hidden=True, closed_at=T0)
    return board


@pytest.mark.usefixtures("hidden_and_closed")
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"Open"}),
        ({"is_hidden": "false"}, {"Open"}),
        ({"is_hidden": "true"}, {"Hidden"}),
        ({"include_hidden": "true"}, {"Open", "Hidden"}),
        ({"include_closed": "true"}, {"Open", "Closed"}),
        ({"is_hidden": "true", "include_closed": "true"}, {"Hidden", "Hidden and closed"}),
        (
            {"include_hidden": "true", "include_closed": "true"},
            {"Open", "Hidden", "Closed", "Hidden and closed"},
        ),
    ],
)
async def test_hidden_and_closed_jobs_are_listed_only_when_asked_for(
    client: httpx.AsyncClient, params: dict[str, str], expected: set[str]
) -> None:
    body = await listed(client, **params)
    assert {job["title"] for job in body["jobs"]} == expected
    assert body["total"] == len(expected)


# --- filters -----------------------------------------------------------------------------------


async def test_filter_by_board(client: httpx.AsyncClient, session: AsyncSession) -> None:
    mine, other = await make_board(session), await make_board(session)
    await make_job(session, mine, title="Mine")
    await make_job(session, other, title="Other")

    assert await titles(client, board_id=str(mine.id)) == ["Mine"]
    assert await titles(client, board_id=MISSING_ID) == []
    assert_invalid(await client.get("/api/jobs", params={"board_id": "nope"}), "board_id")


async def test_filter_by_score_bounds_inclusive(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    board = await make_board(session)
    for score in (10, 59.9, 60, 80, 100):
        await make_job(session, board, title=f"score {score}", match_score=score)

    assert set(await titles(client, min_score=60)) == {"score 60", "score 80", "score 100"}
    assert set(await titles(client, max_score=60)) == {"score 10", "score 59.9", "score 60"}
    assert await titles(client, min_score=60, max_score=80, sort_by="match_score") == [
        "score 80",
        "score 60",
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"min_score": "101"}, "min_score"),
        ({"min_score": "-1"}, "min_score"),
        ({"max_score": "100.5"}, "max_score"),
        ({"min_score": "high"}, "min_score"),
        ({"posted_days": "0"}, "posted_days"),
        ({"posted_days": "366"}, "posted_days"),
        ({"page": "0"}, "page"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "101"}, "page_size"),
        ({"sort_by": "salary_max"}, "sort_by"),
        ({"sort_order": "up"}, "sort_order"),
        ({"is_new": "maybe"}, "is_new"),
        ({"search": "x" * 501}, "search"),
        ({"min_score": "80", "max_score": "20"}, "min_score"),
    ],
)
async def test_bad_list_parameters_are_422(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    assert_invalid(await client.get("/api/jobs", params=params), field)


async def test_filter_by_location_substring_any_case_taken_literally(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    board = await make_board(session)
    for location in ("Berlin, Germany", "BERLIN", "Remote - Europe", "100% remote", "New_York"):
        await make_job(session, board, title=location, location=location)

    assert set(await titles(client, location="berlin")) == {"Berlin, Germany", "BERLIN"}
    assert set(await titles(client, location="Remote")) == {"Remote - Europe", "100% remote"}
    assert await titles(client, location="100%") == ["100% remote"]
    assert await titles(client, location="%") == ["100% remote"]
    assert await titles(client, location="w_y") == ["New_York"]
    assert await titles(client, location="_") == ["New_York"]
    assert await titles(client, location="\\") == []
    assert set(await titles(client, location="ber\x00lin")) == {"Berlin, Germany", "BERLIN"}


async def test_filter_new_jobs(client: httpx.AsyncClient, session: AsyncSession) -> None:
    board = await make_board(session)
    await make_job(session, board, title="Unread", is_new=True)
    await make_job(session, board, title="Read", is_new=False)

    assert await titles(client, is_new="true") == ["Unread"]
    assert await titles(client, is_new="false") == ["Read"]


async def test_filter_posted_within_days(client: httpx.AsyncClient, session: AsyncSession) -> None:
    board = await make_board(session)
    now = utcnow()
    await make_job(session, board, title="Yesterday", posted_date=now - timedelta(days=1))
    await make_job(session, board, title="Last month", posted_date=now - timedelta(days=30))
    await make_job(session, board, title="Undated", posted_date=None)

    assert await titles(client, posted_days=7) == ["Yesterday"]
    assert set(await titles(client, posted_days=365)) == {"Yesterday", "Last month"}


# --- sorting -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort_by", "field"),
    [
        ("created_at", "created_at"),
        ("match_score", "match_score"),
        ("title", "title"),
        ("company", "company"),
    ],
)
@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_sort_both_ways_with_ties_broken_by_id(
    client: httpx.AsyncClient, session: AsyncSession, sort_by: str, field: str, order: str
) -> None:
    board = await make_board(session)
    values = [("Alpha", "acme", 30.0, 1), ("beta", "Bravo", 90.0, 2), ("Gamma", "Corp", 60.0, 3)]
    for title, company, score, minute in values * 2:  # every sort value twice: a tie
        await make_job(
            session,
            board,
            title=title,
            company=company,
            match_score=score,
            created_at=T0 + timedelta(minutes=minute),
        )

    got = (await listed(client, sort_by=sort_by, sort_order=order))["jobs"]

    def key(job: dict[str, Any]) -> tuple[Any, str]:
        value = job[field]
        return (value.lower() if isinstance(value, str) else value, job["id"])

    assert [key(j) for j in got] == sorted(map(key, got), reverse=order == "desc")
    assert len({key(j)[0] for j in got}) == 3


@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_sort_by_posted_date_and_salary_puts_missing_values_last(
    client: httpx.AsyncClient, session: AsyncSession, order: str
) -> None:
    board = await make_board(session)
    await make_job(session, board, title="Old low", posted_date=T0, salary_min=50_000)
    await make_job(
        session,
        board,
        title="New high",
        posted_date=T0 + timedelta(days=9),
        salary_min=90_000,
        salary_max=120_000,
    )
    await make_job(session, board, title="Unknown", posted_date=None, salary_min=None)
    known = ["Old low", "New high"] if order == "asc" else ["New high", "Old low"]

    assert await titles(client, sort_by="posted_date", sort_order=order) == [*known, "Unknown"]
    assert await titles(client, sort_by="salary", sort_order=order) == [*known, "Unknown"]


async def test_default_sort_is_newest_first(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    board = await make_board(session)
    await jobs_at(session, board, "Oldest", "Middle", "Newest")

    assert await titles(client) == ["Newest", "Middle", "Oldest"]
    assert await titles(client, sort_order="asc") == ["Oldest", "Middle", "Newest"]
    assert await titles(client, sort_by="relevance") == ["Newest", "Middle", "Oldest"]


# --- paging ------------------------------------------------------------------------------------


async def test_pages_cover_every_job_once(client: httpx.AsyncClient, session: AsyncSession) -> None:
    board = await make_board(session)
    for n in range(7):  # all created at the same moment: order rests on the id tie-break
        await make_job(session, board, title=f"Job {n}", created_at=T0)

    pages = [await listed(client, page=page, page_size=3) for page in (1, 2, 3)]

    assert [len(p["jobs"]) for p in pages] == [3, 3, 1]
    assert {(p["total"], p["pages"]) for p in pages} == {(7, 3)}
    ids = [job["id"] for p in pages for job in p["jobs"]]
    assert len(set(ids)) == 7


async def test_a_page_past_the_end_is_empty_but_keeps_the_total(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    board = await make_board(session)
    for _ in range(3):
        await make_job(session, board, description="python")

    body = await listed(client, page=5, page_size=2)

    assert (body["jobs"], body["total"], body["page"], body["pages"]) == ([], 3, 5, 2)
    assert (await listed(client, page=10**12))["total"] == 3
    for search in ({"search": "python"}, {"search": "python", "sort_by": "relevance"}):
        assert (await listed(client, page=3, page_size=2, **search))["total"] == 3


# --- search ------------------------------------------------------------------------------------


@pytest.fixture
async def searchable(session: AsyncSession) -> JobBoard:
    board = await make_board(session)
    docs = [
        ("Python Developer", "Acme", "Build data pipelines with Django."),
        ("Senior Engineer", "Globex", "Python and Go services; full-time role."),
        ("Rust Engineer", "Initech", "Systems programming, remote friendly."),
        ("Data Scientist", "Hooli", "Statistics, python notebooks and machine learning."),
        ("C++ Developer", "Stark", "Low-latency trading systems in modern C++."),
        ("C# Engineer", "Wayne", "Desktop apps on .NET with C#."),
        ("C Programmer", "Umbrella", "Embedded firmware in plain C."),
        ("Haskell Engineer", "Tyrell", "Functional programming all day."),
    ]
    for n, (title, company, description) in enumerate(docs):
        await make_job(
            session,
            board,
            title=title,
            company=company,
            description=description,
            created_at=T0 + timedelta(minutes=n),
        )
    await make_job(session, board, title="Hidden Python Job", description="python", is_hidden=True)
    return board


@pytest.mark.usefixtures("searchable")
@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("python", {"Python Developer", "Senior Engineer", "Data Scientist"}),
        ("PYTHON django", {"Python Developer"}),
        ("engineer python", {"Senior Engineer"}),
        ("globex", {"Senior Engineer"}),
        ('"machine learning"', {"Data Scientist"}),
        ('"learning machine"', set()),
        ('"python notebooks', {"Data Scientist"}),
        ("python -django", {"Senior Engineer", "Data Scientist"}),
        ('python -"data pipelines"', {"Senior Engineer", "Data Scientist"}),
        ("rust OR haskell", {"Rust Engineer", "Haskell Engineer"}),
        ("engineer rust OR haskell", {"Rust Engineer", "Haskell Engineer"}),
        ("python AND go", {"Senior Engineer"}),
        ("full-time", {"Senior Engineer"}),
        ("c++", {"C++ Developer"}),
        ("C#", {"C# Engineer"}),
        (".NET", {"C# Engineer"}),
        ("c", {"C Programmer"}),
        ("programming", {"Rust Engineer", "Haskell Engineer"}),
        ("nonexistentword", set()),
        ("the", set()),
        ("the -python", set()),
        ("python -the", {"Python Developer", "Senior Engineer", "Data Scientist"}),
    ],
)
async def test_search(client: httpx.AsyncClient, search: str, expected: set[str]) -> None:
    body = await listed(client, search=search)
    assert {job["title"] for job in body["jobs"]} == expected
    assert body["total"] == len(expected)


@pytest.mark.usefixtures("searchable")
async def test_exclusion_only_search_lists_visible_jobs_without_the_words(
    client: httpx.AsyncClient,
) -> None:
    body = await listed(client, search="-python -c++", page_size=100)
    assert {job["title"] for job in body["jobs"]} == {
        "Rust Engineer",
        "C# Engineer",
        "C Programmer",
        "Haskell Engineer",
    }
    assert await titles(client, search="-python", sort_by="relevance") == await titles(
        client, search="-python"
    )


@pytest.mark.usefixtures("searchable")
@pytest.mark.parametrize("search", ["AND OR", "*", "-", '""', "OR OR", '"', "- -- ---", "()!?"])
async def test_a_search_of_only_operators_matches_nothing(
    client: httpx.AsyncClient, search: str
) -> None:
    body = await listed(client, search=search)
    assert (body["jobs"], body["total"]) == ([], 0)


@pytest.mark.usefixtures("searchable")
async def test_a_blank_search_lists_everything(client: httpx.AsyncClient) -> None:
    assert (await listed(client, search="   "))["total"] == 8


async def test_hiding_closing_and_reopening_a_job_changes_search_results_at_once(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    board = await make_board(session)
    job = await make_job(session, board, title="Kubernetes Engineer", description="python")
    await make_job(session, board, title="Data Engineer", description="python and rust")

    async def found(**params: Any) -> tuple[set[str], int]:
        body = await listed(client, search="python", **params)
        return {item["title"] for item in body["jobs"]}, body["total"]

    both = ({"Kubernetes Engineer", "Data Engineer"}, 2)
    assert await found() == both
    await client.patch(f"/api/jobs/{job.id}/hide", json={"is_hidden": True})
    assert await found() == ({"Data Engineer"}, 1)
    assert await found(is_hidden="true") == ({"Kubernetes Engineer"}, 1)
    assert await found(sort_by="relevance") == ({"Data Engineer"}, 1)
    await client.patch(f"/api/jobs/{job.id}/hide", json={"is_hidden": False})
    assert await found() == both

    job.closed_at = T0  # the listing disappeared from its board
    await session.commit()
    assert await found() == ({"Data Engineer"}, 1)
    assert await found(include_closed="true") == both
    job.closed_at = None  # and came back
    await session.commit()
    assert await found() == both


async def test_score_lists_follow_hiding_closing_and_reopening_at_once(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # Score-sorted pages and score counts are answered from the scores' own index, which
    # mirrors each job's visibility: it must follow every change to it.
    board = await make_board(session)
    job = await make_job(session, board, title="Best", match_score=90)
    await make_job(session, board, title="Good", match_score=70)
    await make_job(session, board, title="Weak", match_score=20)
    await make_job(session, board, title="Born hidden", match_score=95, is_hidden=True)
    await make_job(session, board, title="Born closed", match_score=99, closed_at=T0)

    async def ranked(**params: Any) -> tuple[list[str], int]:
        body = await listed(client, sort_by="match_score", **params)
        return [item["title"] for item in body["jobs"]], body["total"]

    assert await ranked() == (["Best", "Good", "Weak"], 3)
    assert await ranked(min_score=60) == (["Best", "Good"], 2)
    await client.patch(f"/api/jobs/{job.id}/hide", json={"is_hidden": True})
    assert await ranked(min_score=60) == (["Good"], 1)
    assert await ranked(min_score=60, is_hidden="true") == (["Born hidden", "Best"], 2)
    await client.patch(f"/api/jobs/{job.id}/hide", json={"is_hidden": False})
    assert await ranked(min_score=60) == (["Best", "Good"], 2)

    job.closed_at = T0
    await session.commit()
    assert await ranked(min_score=60) == (["Good"], 1)
    assert await ranked(min_score=60, include_closed="true") == (["Born closed", "Best", "Good"], 3)
    job.closed_at = None
    await session.commit()
    assert await ranked(min_score=60) == (["Best", "Good"], 2)
    dashboard = (await client.get("/api/applications/dashboard")).json()
    assert dashboard["high_match_jobs"] == 2


async def test_a_hidden_or_closed_job_stays_out_of_search_when_its_text_changes(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    board = await make_board(session)
    hidden = await make_job(session, board, title="Hidden", description="rust", is_hidden=True)
    closed = await make_job(session, board, title="Closed", description="rust", closed_at=T0)
    await make_job(session, board, title="Open", description="python")
    for job in (hidden, closed):
        job.description = "python now"
    await session.commit()

    body = await listed(client, search="python")
    assert ({job["title"] for job in body["jobs"]}, body["total"]) == ({"Open"}, 1)
    body = await listed(client, search="python", include_hidden="true", include_closed="true")
    assert body["total"] == 3
    hidden.is_hidden = False
    closed.closed_at = None
    await session.commit()
    assert (await listed(client, search="python"))["total"] == 3
    assert (await listed(client, search="rust"))["total"] == 0


@pytest.mark.parametrize("search", ["invisible", "INVISIBLE", "state:invisible", "visible"])
async def test_words_about_visibility_find_only_jobs_that_contain_them(
    client: httpx.AsyncClient, session: AsyncSession, search: str
) -> None:
    board = await make_board(session)
    await make_job(session, board, title="Hidden", description="python", is_hidden=True)
    await make_job(session, board, title="Closed", description="python", closed_at=T0)
    await make_job(session, board, title="Open", description="python")
    body = await listed(client, search=search, include_hidden="true", include_closed="true")
    assert (body["jobs"], body["total"]) == ([], 0)
    body = await listed(client, search=f"python -{search}")
    assert ({job["title"] for job in body["jobs"]}, body["total"]) == ({"Open"}, 1)


async def test_relevance_ranks_a_title_hit_above_a_description_hit(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    board = await make_board(session)
    await make_job(session, board, title="Office Manager", description="Some kubernetes exposure")
    await make_job(session, board, title="Kubernetes Engineer", description="Run clusters.")
    await make_job(session, board, title="Unrelated", description="Nothing here.")

    ranked = await titles(client, search="kubernetes", sort_by="relevance")
    assert ranked == ["Kubernetes Engineer", "Office Manager"]
    reverse = await titles(client, search="kubernetes", sort_by="relevance", sort_order="asc")
    assert reverse == ["Office Manager", "Kubernetes Engineer"]


async def test_search_combines_with_filters_and_sorting(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    board, other = await make_board(session), await make_board(session)
    await make_job(session, board, title="A", description="python", match_score=90)
    await make_job(session, board, title="B", description="python", match_score=40)
    await make_job(session, other, title="C", description="python", match_score=95)
    await make_job(session, board, title="D", description="java", match_score=99)

    assert await titles(client, search="python", board_id=str(board.id), min_score=50) == ["A"]
    assert await titles(client, search="python", sort_by="match_score", sort_order="asc") == [
        "B",
        "A",
        "C",
    ]


@pytest.mark.usefixtures("searchable")
async def test_any_search_text_is_answered(client: httpx.AsyncClient) -> None:
    rng = random.Random(20261127)
    alphabet = "abc +-\"()*:^~&|!@#$%\\/'.,;<>{}[]_=?`\x00éß中OR AND NOT NEAR\t\n"
    for _ in range(150):
        search = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
        response = await client.get("/api/jobs", params={"search": search, "sort_by": "relevance"})
        assert response.status_code == 200, (search, response.text)
    longest = await client.get("/api/jobs", params={"search": "python " * 71 + "zz"})
    assert longest.status_code == 200
    assert longest.json()["total"] == 0


async def test_search_answers_alike_whatever_plan_sqlite_picks(
    client: httpx.AsyncClient, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite the plan depends on the number of hits; every plan must give the same page."""
    board = await make_board(session)
    for n in range(30):
        words = "python" if n % 3 else "python django"
        await make_job(session, board, title=f"Job {n:02}", description=words, match_score=n)
    await make_job(session, board, title="Hidden", description="python django", is_hidden=True)
    sorts = ("created_at", "match_score", "title")
    query = {"search": "python -django", "page_size": 7, "page": 2}
    expected = {sort: await listed(client, **query, sort_by=sort) for sort in sorts}
    assert {page["total"] for page in expected.values()} == {20}

    monkeypatch.setattr(jobs_service, "_COUNT_BY_PROBING_FROM", 1)
    for plan in ("fetch", "probe", "seek"):
        monkeypatch.setattr(jobs_service, "_page_plan", lambda *_, chosen=plan: chosen)
        for sort in sorts:
            assert await listed(client, **query, sort_by=sort) == expected[sort], (plan, sort)


# --- recent ------------------------------------------------------------------------------------


async def test_recent_lists_visible_jobs_found_within_days(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    board = await make_board(session)
    now = utcnow()
    for title, age in (("Today", 0), ("Three days", 3), ("Ten days", 10)):
        await make_job(session, board, title=title, created_at=now - timedelta(days=age, hours=1))
    await make_job(session, board, title="Hidden", is_hidden=True, created_at=now)

    response = await client.get("/api/jobs/recent")
    assert response.status_code == 200
    body = response.json()
    assert [j["title"] for j in body["jobs"]] == ["Today", "Three days"]
    assert (body["total"], body["page"], body["page_size"]) == (2, 1, 25)
    wider = (await client.get("/api/jobs/recent", params={"days": 30, "page_size": 1})).json()
    assert ([j["title"] for j in wider["jobs"]], wider["total"], wider["pages"]) == (
        ["Today"],
        3,
        3,
    )


@pytest.mark.parametrize("params", [{"days": "0"}, {"days": "366"}, {"page": "0"}])
async def test_recent_rejects_bad_parameters(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    assert_invalid(await client.get("/api/jobs/recent", params=params), next(iter(params)))


# --- one job -----------------------------------------------------------------------------------


async def test_get_one_job_even_when_hidden(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    board = await make_board(session, name="Globex")
    job = await make_job(session, board, is_hidden=True, closed_at=T0)

    response = await client.get(f"/api/jobs/{job.id}")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == WIRE_FIELDS | EXTRA_FIELDS
    assert (body["id"], body["board_name"], body["is_hidden"]) == (str(job.id), "Globex", True)
    assert body["closed_at"] is not None


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", ""), ("PATCH", "/hide"), ("PATCH", "/read")],
)
async def test_unknown_and_malformed_job_ids(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    missing = await client.request(method, f"/api/jobs/{MISSING_ID}{path}")
    assert missing.status_code == 404
    assert missing.json() == {"error": "not_found", "detail": f"Job {MISSING_ID} not found"}
    assert_invalid(await client.request(method, f"/api/jobs/not-a-uuid{path}"), "job_id")


# --- hide and read -----------------------------------------------------------------------------


async def test_hide_without_a_body_toggles(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    job = await make_job(session)

    first = await client.patch(f"/api/jobs/{job.id}/hide")
    assert first.status_code == 200
    assert first.json()["is_hidden"] is True
    assert (await listed(client))["total"] == 0
    assert (await listed(client, is_hidden="true"))["total"] == 1

    second = await client.patch(f"/api/jobs/{job.id}/hide", json={})
    assert second.json()["is_hidden"] is False
    assert (await listed(client))["total"] == 1


@pytest.mark.parametrize("hidden", [True, False])
async def test_hide_with_a_body_sets(
    client: httpx.AsyncClient, session: AsyncSession, hidden: bool
) -> None:
    job = await make_job(session, is_hidden=not hidden)
    for _ in range(2):  # setting is idempotent, unlike toggling
        response = await client.patch(f"/api/jobs/{job.id}/hide", json={"is_hidden": hidden})
        assert response.status_code == 200
        assert response.json()["is_hidden"] is hidden
    assert (await client.get(f"/api/jobs/{job.id}")).json()["is_hidden"] is hidden


@pytest.mark.parametrize("body", [{"is_hidden": "perhaps"}, {"hidden": True}, [True]])
async def test_hide_rejects_a_bad_body(
    client: httpx.AsyncClient, session: AsyncSession, body: Any
) -> None:
    job = await make_job(session)
    response = await client.patch(f"/api/jobs/{job.id}/hide", json=body)
    assert response.status_code == 422
    assert (await client.get(f"/api/jobs/{job.id}")).json()["is_hidden"] is False


async def test_read_clears_is_new(client: httpx.AsyncClient, session: AsyncSession) -> None:
    job = await make_job(session, is_new=True)

    for _ in range(2):
        response = await client.patch(f"/api/jobs/{job.id}/read")
        assert response.status_code == 200
        assert response.json()["is_new"] is False
    assert await titles(client, is_new="true") == []


# --- mark many read ----------------------------------------------------------------------------


async def test_mark_read_by_ids_skips_unknown_and_already_read(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    board = await make_board(session)
    first, second, _ = await jobs_at(session, board, "First", "Second", "Untouched")
    read = await make_job(session, board, title="Read", is_new=False)
    ids = [str(first.id), str(second.id), str(read.id), MISSING_ID]

    response = await client.post("/api/jobs/mark-read", json={"ids": ids})

    assert response.status_code == 200
    assert response.json() == {"updated": 2}
    assert await titles(client, is_new="true") == ["Untouched"]


async def test_mark_all_read_everywhere_or_on_one_board(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    board, other = await make_board(session), await make_board(session)
    for target in (board, board, other):
        await make_job(session, target, is_new=True)
    await make_job(session, board, is_new=True, is_hidden=True)

    on_board = await client.post(
        "/api/jobs/mark-read", json={"all": True, "board_id": str(board.id)}
    )
    assert on_board.json() == {"updated": 3}
    assert (await listed(client, is_new="true"))["total"] == 1

    everywhere = await client.post("/api/jobs/mark-read", json={"all": True})
    assert everywhere.json() == {"updated": 1}
    assert (await listed(client, is_new="true", include_hidden="true"))["total"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"all": False},
        {"ids": [], "all": True},
        {"board_id": MISSING_ID},
        {"ids": ["not-a-uuid"]},
        {"ids": [str(uuid.uuid4()) for _ in range(1001)]},
        {"ids": "all"},
        {"all": True, "extra": 1},
    ],
)
async def test_mark_read_rejects_a_bad_body(client: httpx.AsyncClient, body: Any) -> None:
    response = await client.post("/api/jobs/mark-read", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]


async def test_mark_read_accepts_an_empty_or_full_list(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/jobs/mark-read", json={"ids": []})).json() == {"updated": 0}
    ids = [str(uuid.uuid4()) for _ in range(1000)]
    assert (await client.post("/api/jobs/mark-read", json={"ids": ids})).json() == {"updated": 0}
