"""Storing a scan's listings: what the person sees in their job list after each scan."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.database import engine
from app.models import Job, JobBoard
from app.scrapers.base import RawJob
from app.services import scanner, search_vectors
from app.services.jobs import JobFilters, list_jobs
from app.services.listing_identity import ListingIdentity
from app.services.matcher import Matcher
from app.services.scanner import StoreOutcome, store_listings
from tests.factories import make_board, make_job, make_profile

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=6)
T2 = T1 + timedelta(hours=6)


def listing(n: int, **fields: Any) -> RawJob:
    values: dict[str, Any] = {
        "title": f"Backend Engineer {n}",
        "url": f"https://careers.acme.test/jobs/{n}",
        "company": "Acme",
        "location": "Berlin, Germany",
        "description": "We build services in Python and run them on Kubernetes.",
        "external_id": str(1000 + n),
    }
    values.update(fields)
    return RawJob(**values)


async def jobs_of(session: AsyncSession, board: JobBoard) -> list[Job]:
    statement = (
        select(Job)
        .where(Job.board_id == board.id)
        .order_by(Job.title)
        .execution_options(populate_existing=True)
    )
    return list((await session.scalars(statement)).all())


@contextmanager
def counted_statements() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


async def test_new_listings_are_stored_and_scored_with_a_breakdown(session: AsyncSession) -> None:
    await make_profile(
        session,
        desired_title="Backend Engineer",
        skills=["python", "go"],
        desired_locations="Berlin",
    )
    board = await make_board(session, keyword_filters=["python"])

    outcome = await store_listings(session, board, [listing(1), listing(2)], complete=True, now=T0)

    jobs = await jobs_of(session, board)
    assert outcome == StoreOutcome(
        found=2, new=2, updated=0, closed=0, new_job_ids=[j.id for j in jobs]
    )
    first = jobs[0]
    assert (first.title, first.company, first.location) == (
        "Backend Engineer 1",
        "Acme",
        "Berlin, Germany",
    )
    assert (first.is_new, first.is_hidden, first.closed_at) == (True, False, None)
    assert first.first_seen_at == first.last_seen_at == first.created_at == T0
    assert (len(first.dedup_hash), first.external_id) == (64, "1001")
    # "python" matched, "go" did not: keywords score half; title and location match fully.
    assert first.match_details["keywords_matched"] == ["python"]
    assert first.match_details["keywords_missing"] == ["go"]
    assert first.match_details["components"]["keywords"]["score"] == 50.0
    assert first.match_details["components"]["title"]["score"] == 100.0
    assert first.match_score == pytest.approx(80.0)


async def test_seen_again_unchanged_only_moves_last_seen(session: AsyncSession) -> None:
    board = await make_board(session)
    await store_listings(session, board, [listing(1), listing(2)], complete=True, now=T0)
    before = {job.id: (job.match_score, job.updated_at) for job in await jobs_of(session, board)}

    outcome = await store_listings(session, board, [listing(1), listing(2)], complete=True, now=T1)

    assert outcome == StoreOutcome(found=2, new=0, updated=0, closed=0, new_job_ids=[])
    jobs = await jobs_of(session, board)
    assert [job.last_seen_at for job in jobs] == [T1, T1]
    assert [job.first_seen_at for job in jobs] == [T0, T0]
    assert {job.id: (job.match_score, job.updated_at) for job in jobs} == before


async def test_a_changed_listing_is_updated_and_rescored(session: AsyncSession) -> None:
    await make_profile(session, skills=["rust"])
    board = await make_board(session)
    await store_listings(session, board, [listing(1)], complete=True, now=T0)
    [job] = await jobs_of(session, board)
    assert job.match_score == 0.0

    changed = listing(
        1, title="Backend Engineer (Rust)", description="Rust and Python.", salary_min=90000.0
    )
    outcome = await store_listings(session, board, [changed], complete=True, now=T1)

    assert (outcome.new, outcome.updated) == (0, 1)
    [updated] = await jobs_of(session, board)
    assert updated.id == job.id
    assert (updated.title, updated.description, updated.salary_min) == (
        "Backend Engineer (Rust)",
        "Rust and Python.",
        90000.0,
    )
    assert updated.match_score == 100.0
    assert updated.match_details["keywords_matched"] == ["rust"]
    assert updated.updated_at == updated.last_seen_at == T1
    assert updated.first_seen_at == T0


async def test_the_persons_flags_survive_an_update(session: AsyncSession) -> None:
    board = await make_board(session)
    await store_listings(session, board, [listing(1)], complete=True, now=T0)
    await session.execute(update(Job).values(is_new=False, is_hidden=True))

    outcome = await store_listings(
        session, board, [listing(1, location="Remote")], complete=True, now=T1
    )

    assert outcome.updated == 1
    [job] = await jobs_of(session, board)
    assert job.location == "Remote"
    assert (job.is_new, job.is_hidden) == (False, True)


async def test_the_same_listing_twice_in_one_scan_is_stored_once(session: AsyncSession) -> None:
    board = await make_board(session)
    twice = [
        listing(1),
        listing(1, url="https://careers.acme.test/jobs/1?utm_source=x"),
        listing(2),
    ]
    no_id = [
        listing(3, external_id=None, url="https://Careers.acme.test/jobs/3/?ref=feed#apply"),
        listing(3, external_id=None, url="https://careers.acme.test/jobs/3"),
    ]

    outcome = await store_listings(session, board, twice + no_id, complete=True, now=T0)

    assert (outcome.found, outcome.new) == (3, 3)
    assert len(await jobs_of(session, board)) == 3


async def test_a_retried_scan_never_duplicates(session: AsyncSession) -> None:
    board = await make_board(session)
    listings = [listing(n) for n in range(5)]

    first = await store_listings(session, board, listings, complete=True, now=T0)
    again = await store_listings(session, board, listings, complete=True, now=T0)

    assert (first.new, again.new, again.updated, again.closed) == (5, 0, 0, 0)
    assert len(await jobs_of(session, board)) == 5


async def test_a_listing_stored_meanwhile_by_another_scan_is_not_duplicated(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two scans racing: rows inserted after this scan looked are treated as known ones."""
    board = await make_board(session)
    await store_listings(session, board, [listing(1)], complete=True, now=T0)
    real_load = scanner._Storer.load
    calls = 0

    async def blind_first_look(self: Any, listings: Any) -> Any:
        nonlocal calls
        calls += 1
        return {} if calls == 1 else await real_load(self, listings)

    monkeypatch.setattr(scanner._Storer, "load", blind_first_look)
    outcome = await store_listings(
        session, board, [listing(1, title="Platform Engineer 1"), listing(2)], complete=True, now=T1
    )

    assert (outcome.new, outcome.updated, outcome.found) == (1, 1, 2)
    jobs = await jobs_of(session, board)
    assert [job.title for job in jobs] == ["Backend Engineer 2", "Platform Engineer 1"]
    assert outcome.new_job_ids == [jobs[0].id]


async def test_a_complete_scan_closes_vanished_listings(session: AsyncSession) -> None:
    board = await make_board(session)
    other_board = await make_board(session)
    await store_listings(session, board, [listing(1), listing(2)], complete=True, now=T0)
    await store_listings(session, other_board, [listing(7)], complete=True, now=T0)

    outcome = await store_listings(session, board, [listing(1)], complete=True, now=T1)

    assert outcome.closed == 1
    jobs = await jobs_of(session, board)
    assert [job.closed_at for job in jobs] == [None, T1]
    assert [job.closed_at for job in await jobs_of(session, other_board)] == [None]


async def test_an_incomplete_scan_closes_nothing(session: AsyncSession) -> None:
    board = await make_board(session)
    await store_listings(session, board, [listing(1), listing(2)], complete=True, now=T0)

    outcome = await store_listings(session, board, [listing(1)], complete=False, now=T1)

    assert outcome.closed == 0
    assert [job.closed_at for job in await jobs_of(session, board)] == [None, None]


async def test_a_vanished_listing_that_returns_is_reopened(session: AsyncSession) -> None:
    board = await make_board(session)
    first = await store_listings(session, board, [listing(1), listing(2)], complete=True, now=T0)
    await store_listings(session, board, [listing(1)], complete=True, now=T1)

    outcome = await store_listings(session, board, [listing(1), listing(2)], complete=True, now=T2)

    assert outcome == StoreOutcome(found=2, new=0, updated=1, closed=0, new_job_ids=[])
    jobs = await jobs_of(session, board)
    assert [job.id for job in jobs] == first.new_job_ids
    assert [job.closed_at for job in jobs] == [None, None]
    assert jobs[1].last_seen_at == T2


async def test_keyword_filters_match_whole_words(session: AsyncSession) -> None:
    board = await make_board(session, keyword_filters=["Java", "c++"])
    listings = [
        listing(1, title="Java Developer", description="Backend work."),
        listing(2, title="JavaScript Engineer", description="React and Node."),
        listing(3, title="Systems Engineer", description="Modern C++ and some java."),
        listing(4, title="Go Engineer", description="Javanese coffee, c+ skills."),
    ]

    outcome = await store_listings(session, board, listings, complete=True, now=T0)

    assert (outcome.found, outcome.new) == (2, 2)
    titles = [job.title for job in await jobs_of(session, board)]
    assert titles == ["Java Developer", "Systems Engineer"]


async def test_no_keyword_filters_keeps_every_listing(session: AsyncSession) -> None:
    board = await make_board(session, keyword_filters=[])
    outcome = await store_listings(
        session, board, [listing(1), listing(2, description="")], complete=True, now=T0
    )
    assert outcome.found == 2


async def test_a_listing_outside_the_filters_is_not_closed(session: AsyncSession) -> None:
    """Still on the source, just filtered out now: it stays open, untouched."""
    board = await make_board(session, keyword_filters=[])
    await store_listings(session, board, [listing(1), listing(2)], complete=True, now=T0)
    board.keyword_filters = ["golang"]

    outcome = await store_listings(
        session, board, [listing(1), listing(2, title="Golang Engineer")], complete=True, now=T1
    )

    assert (outcome.found, outcome.updated, outcome.closed) == (1, 1, 0)
    assert [job.closed_at for job in await jobs_of(session, board)] == [None, None]


async def test_company_falls_back_to_the_board_name(session: AsyncSession) -> None:
    board = await make_board(session, name="Globex Careers")
    await store_listings(
        session, board, [listing(1, company=None), listing(2, company="  ")], complete=True, now=T0
    )
    assert [job.company for job in await jobs_of(session, board)] == ["Globex Careers"] * 2


async def test_a_drifting_relative_posted_date_is_not_a_change(session: AsyncSession) -> None:
    """Workday's "Posted 30+ Days Ago" reads a day later each day; an earlier date is news."""
    board = await make_board(session)
    thirty_days_ago = T0 - timedelta(days=30)
    await store_listings(
        session, board, [listing(1, posted_date=thirty_days_ago)], complete=True, now=T0
    )

    drifted = listing(1, posted_date=thirty_days_ago + timedelta(days=1))
    outcome = await store_listings(session, board, [drifted], complete=True, now=T1)
    assert outcome.updated == 0
    [job] = await jobs_of(session, board)
    assert job.posted_date == thirty_days_ago

    exact = listing(1, posted_date=thirty_days_ago - timedelta(days=12))
    outcome = await store_listings(session, board, [exact], complete=True, now=T2)
    assert outcome.updated == 1
    [job] = await jobs_of(session, board)
    assert job.posted_date == thirty_days_ago - timedelta(days=12)


async def test_a_job_stored_without_a_content_hash_is_compared_field_by_field(
    session: AsyncSession,
) -> None:
    """Jobs written by something else (an import) are matched and compared all the same."""
    board = await make_board(session)
    seen = listing(1)
    key = ListingIdentity(board.id, board.url, board.scraper_config).dedup_hash(seen, "Acme")
    values = {
        name: getattr(seen, name)
        for name in ("title", "url", "company", "location", "description", "external_id")
    }
    imported = await make_job(session, board, dedup_hash=key, **values)

    unchanged = await store_listings(session, board, [seen], complete=True, now=T1)
    changed = await store_listings(
        session, board, [replace(seen, title="Staff Engineer")], complete=True, now=T2
    )

    assert (unchanged.new, unchanged.updated) == (0, 0)
    assert (changed.new, changed.updated) == (0, 1)
    [job] = await jobs_of(session, board)
    assert (job.id, job.title, job.last_seen_at) == (imported.id, "Staff Engineer", T2)


async def test_overlong_fields_are_cut_to_fit(session: AsyncSession) -> None:
    board = await make_board(session)
    await store_listings(
        session,
        board,
        [listing(1, title="Engineer " * 100, department="D" * 400, description="a\x00b")],
        complete=True,
        now=T0,
    )
    [job] = await jobs_of(session, board)
    assert (len(job.title), job.department, job.description) == (500, "D" * 300, "ab")


@pytest.mark.parametrize("rescan", [False, True])
async def test_statements_do_not_grow_with_the_number_of_listings(
    session: AsyncSession, rescan: bool
) -> None:
    await make_profile(session, skills=["python"])
    counts = []
    for size in (5, 500):
        board = await make_board(session)
        listings = [listing(n) for n in range(size)]
        if rescan:
            await store_listings(session, board, listings, complete=True, now=T0)
            # Half changed, half unchanged, one gone: every kind of write happens.
            listings = [
                replace(job, description="Changed.") if n % 2 else job
                for n, job in enumerate(listings[1:])
            ]
        with counted_statements() as statements:
            await store_listings(session, board, listings, complete=True, now=T1)
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 10
    assert await session.scalar(select(func.count()).select_from(Job)) == 505


@pytest.mark.parametrize("vectors_beside", [False, True])
async def test_a_scan_failing_midway_leaves_nothing_half_stored(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch, vectors_beside: bool
) -> None:
    """Scoring fails after some rows went to the database: the caller's rollback undoes all
    (also while search vectors are being computed on connections of their own, on PostgreSQL)."""
    board = await make_board(session)
    monkeypatch.setattr(scanner, "INSERT_CHUNK", 2)
    if vectors_beside:
        monkeypatch.setattr(search_vectors, "MIN_LISTINGS", 1)
    real_score = Matcher.score
    scored = 0

    def failing_score(self: Matcher, *args: Any, **kwargs: Any) -> Any:
        nonlocal scored
        scored += 1
        if scored == 5:
            raise RuntimeError("matcher broke")
        return real_score(self, *args, **kwargs)

    monkeypatch.setattr(Matcher, "score", failing_score)
    with pytest.raises(RuntimeError, match="matcher broke"):
        async with session.begin_nested():
            await store_listings(session, board, [listing(n) for n in range(8)], complete=True)

    assert await jobs_of(session, board) == []


async def test_a_large_scan_is_searchable_as_if_each_job_were_indexed_alone(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Large scans have their search vectors computed beside the insert on PostgreSQL (small
    # chunks and threshold here): each vector is the one the database computes for the row.
    monkeypatch.setattr(scanner, "INSERT_CHUNK", 2)
    monkeypatch.setattr(search_vectors, "MIN_LISTINGS", 1)
    board = await make_board(session)
    listings = [listing(n, description=f"Run C++ services, batch {n}.") for n in range(5)]
    listings.append(listing(9, title="Gardener", company="Flora", description="Trees."))

    with counted_statements() as statements:
        outcome = await store_listings(session, board, listings, complete=True, now=T0)

    assert outcome.new == 6
    total = (await list_jobs(session, JobFilters(search="c++ services"))).total
    assert total == 5
    assert (await list_jobs(session, JobFilters(search="gardener flora"))).total == 1
    if session.get_bind().dialect.name == "postgresql":
        computed_beside = [sql for sql in statements if "jobs_search_vector(t, c, d)" in sql]
        # Each chunk's rows shared out between the vector connections.
        assert len(computed_beside) == 3 * search_vectors.CONNECTIONS
        differing = await session.scalar(
            text(
                "SELECT count(*) FROM jobs WHERE description_tsv IS DISTINCT FROM"
                " jobs_search_vector(title, company, description)"
            )
        )
        assert differing == 0


async def test_vectors_of_no_rows_are_none(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_vectors, "MIN_LISTINGS", 1)
    async with search_vectors.vector_source(session, 1) as source:
        if session.get_bind().dialect.name == "postgresql":
            assert source is not None
            assert await source.vectors([]) == []
        else:  # the insert trigger computes them
            assert source is None


async def test_a_posted_date_without_a_timezone_is_taken_as_utc(session: AsyncSession) -> None:
    board = await make_board(session)
    naive = datetime(2026, 2, 1, 12, 0)
    await store_listings(session, board, [listing(1, posted_date=naive)], complete=True, now=T0)
    outcome = await store_listings(
        session, board, [listing(1, posted_date=naive)], complete=True, now=T1
    )
    assert outcome.updated == 0
    [job] = await jobs_of(session, board)
    assert job.posted_date == naive.replace(tzinfo=UTC)
