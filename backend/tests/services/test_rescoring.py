"""Rescoring stored jobs after the person changes what they are looking for."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import migrations
from app.database import build_engine
from app.models import Job
from app.services import rescoring
from app.services.jobs import JobFilters, list_jobs
from app.services.keywords import KeywordFinder
from app.services.matcher import Matcher
from app.services.rescoring import rescore_open_jobs
from tests.factories import make_board, make_job, make_profile


async def scores(session: AsyncSession) -> dict[str, float]:
    statement = select(Job).execution_options(populate_existing=True)
    return {job.title: job.match_score for job in await session.scalars(statement)}


async def test_a_profile_change_rescores_open_jobs_and_leaves_closed_ones(
    session: AsyncSession,
) -> None:
    profile = await make_profile(session, skills=["python"])
    board = await make_board(session)
    await make_job(session, board, title="Rust Engineer", description="Rust all day.")
    await make_job(session, board, title="Python Engineer", description="Python all day.")
    await make_job(
        session,
        board,
        title="Closed Rust Role",
        description="Rust.",
        closed_at=datetime(2026, 1, 1, tzinfo=UTC),
        match_score=12.0,
    )
    assert await rescore_open_jobs(session) == 2
    assert await scores(session) == {
        "Rust Engineer": 0.0,
        "Python Engineer": 100.0,
        "Closed Rust Role": 12.0,
    }

    profile.skills = ["rust"]
    await session.flush()
    assert await rescore_open_jobs(session) == 2

    assert await scores(session) == {
        "Rust Engineer": 100.0,
        "Python Engineer": 0.0,
        "Closed Rust Role": 12.0,
    }
    job = await session.scalar(select(Job).where(Job.title == "Rust Engineer"))
    assert job is not None
    assert job.match_details["keywords_matched"] == ["rust"]


async def test_each_board_scores_with_its_own_keyword_filters(session: AsyncSession) -> None:
    await make_profile(session, skills=["python"])
    kubernetes_board = await make_board(session, keyword_filters=["kubernetes"])
    plain_board = await make_board(session, keyword_filters=[])
    description = "Python services on Kubernetes."
    await make_job(session, kubernetes_board, title="On the filtered board", description="Python.")
    await make_job(session, plain_board, title="On the plain board", description="Python.")
    await make_job(session, kubernetes_board, title="Both words", description=description)

    await rescore_open_jobs(session)

    assert await scores(session) == {
        "On the filtered board": 50.0,  # python yes, kubernetes no
        "On the plain board": 100.0,  # only python is asked for here
        "Both words": 100.0,
    }


async def test_rescoring_reads_in_chunks(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More jobs than one chunk: every open job is still scored exactly once."""
    monkeypatch.setattr(rescoring, "RESCORE_CHUNK", 3)
    chunks: list[int] = []
    plan = rescoring._Rescorer.plan

    def counted_plan(self: rescoring._Rescorer, rows: Any) -> Any:
        chunks.append(len(rows))
        return plan(self, rows)

    monkeypatch.setattr(rescoring._Rescorer, "plan", counted_plan)
    await make_profile(session, skills=["python"])
    board = await make_board(session)
    for n in range(40):
        await make_job(
            session,
            board,
            title=f"Job {n}",
            description="Python." if n % 2 else "Go.",
            match_score=55,
        )

    assert await rescore_open_jobs(session) == 40

    assert await scores(session) == {f"Job {n}": 100.0 if n % 2 else 0.0 for n in range(40)}
    assert sum(chunks) == 40
    if session.get_bind().dialect.name == "sqlite":
        assert len(chunks) > 1
    # (PostgreSQL's chunks are ranges of pages: how many hold these jobs depends on the free
    # space earlier tests' rolled-back rows left.)


async def test_a_rescore_in_a_transaction_of_its_own_scores_the_same(
    scratch_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As after a profile change, in the background: the rescore's transaction has written
    nothing, so on PostgreSQL it reads jobs and searches descriptions on connections of its own
    beside the session, chunks ahead of the one it writes. The scores are the matcher's all
    the same."""
    await asyncio.to_thread(migrations.upgrade, scratch_url)
    engine = build_engine(scratch_url)
    monkeypatch.setattr(rescoring, "RESCORE_CHUNK", 3)
    read_beside = 0
    reading_beside = rescoring._rescore_reading_beside

    async def counted(*args: Any) -> int:
        nonlocal read_beside
        read_beside += 1
        return await reading_beside(*args)

    monkeypatch.setattr(rescoring, "_rescore_reading_beside", counted)
    plan = rescoring._Rescorer.plan
    chunks: list[int] = []

    def counted_plan(self: rescoring._Rescorer, rows: Any) -> Any:
        chunks.append(len(rows))
        return plan(self, rows)

    monkeypatch.setattr(rescoring._Rescorer, "plan", counted_plan)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            await make_profile(session, skills=["python"])
            board = await make_board(session)
            for n in range(40):
                description = "Python." if n % 2 else "Go, or \u0131nfra."
                await make_job(session, board, title=f"Job {n}", description=description)
            await session.commit()
        async with AsyncSession(engine) as session:
            assert await rescore_open_jobs(session) == 40
            await session.commit()
            assert await scores(session) == {f"Job {n}": 100.0 if n % 2 else 0.0 for n in range(40)}
    finally:
        await engine.dispose()
    assert read_beside == (1 if engine.dialect.name == "postgresql" else 0)
    assert sum(chunks) == 40
    assert len(chunks) > 1


@pytest.mark.parametrize(
    ("owner", "method"),
    [
        # Scoring a chunk fails while the database searches the next one's descriptions.
        (Matcher, "facets"),
        # Looking through a chunk's descriptions fails while the database writes scores.
        (KeywordFinder, "find"),
    ],
)
async def test_a_rescore_failing_midway_leaves_the_session_usable(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch, owner: type, method: str
) -> None:
    monkeypatch.setattr(rescoring, "RESCORE_CHUNK", 2)
    await make_profile(session, skills=["python"])
    board = await make_board(session)
    for n in range(6):
        await make_job(session, board, title=f"Job {n}", match_score=55)
    real = getattr(owner, method)
    called = 0

    def failing(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal called
        called += 1
        if called == 3:
            raise RuntimeError("matcher broke")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(owner, method, failing)
    with pytest.raises(RuntimeError, match="matcher broke"):
        async with session.begin_nested():
            await rescore_open_jobs(session)

    assert set((await scores(session)).values()) == {55.0}


@pytest.mark.parametrize(
    ("owner", "method", "fails_at"),
    [
        # Scoring a chunk fails while the connections beside read and search the next ones.
        (Matcher, "facets", 5),
        # Reading a chunk ahead fails while the session writes an earlier chunk's scores.
        (rescoring._Rescorer, "plan", 2),
        # Searching a chunk's descriptions ahead fails.
        (rescoring._Rescorer, "descriptions", 3),
    ],
)
async def test_a_rescore_of_its_own_failing_midway_changes_nothing_and_frees_its_connections(
    scratch_url: str, monkeypatch: pytest.MonkeyPatch, owner: type, method: str, fails_at: int
) -> None:
    await asyncio.to_thread(migrations.upgrade, scratch_url)
    engine = build_engine(scratch_url)
    monkeypatch.setattr(rescoring, "RESCORE_CHUNK", 3)
    real = getattr(owner, method)
    called = 0

    def failing(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal called
        called += 1
        if called == fails_at:
            raise RuntimeError("rescore broke")
        return real(self, *args, **kwargs)

    async def async_failing(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal called
        called += 1
        if called == fails_at:
            raise RuntimeError("rescore broke")
        return await real(self, *args, **kwargs)

    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            await make_profile(session, skills=["python"])
            board = await make_board(session)
            for n in range(40):
                await make_job(
                    session, board, title=f"Job {n}", description="Python.", match_score=55
                )
            await session.commit()
        broken = async_failing if asyncio.iscoroutinefunction(real) else failing
        monkeypatch.setattr(owner, method, broken)
        async with AsyncSession(engine) as session:
            with pytest.raises(RuntimeError, match="rescore broke"):
                await rescore_open_jobs(session)
            await session.rollback()
            assert set((await scores(session)).values()) == {55.0}
        monkeypatch.setattr(owner, method, real)
        # Every connection went back to the pool usable: the next rescore runs on them.
        async with AsyncSession(engine) as session:
            assert await rescore_open_jobs(session) == 40
            await session.commit()
            assert set((await scores(session)).values()) == {100.0}
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        await engine.dispose()
    assert called >= fails_at


TRICKY = {
    "Rust everywhere": "We write Rust.",
    "Trusted systems": "Trusted, rustic, crusty: no keyword here as a whole word.",
    "C++ shop": "Modern C++ and some C.",
    "ML platform": "Machine learning platform; learning every day.",
    "Folded case": "Kubernetes written with a Kelvin sign: \u212aubernetes, and Ru\u017ft.",
    "Turkish i": "L\u0131nux boxes, \u0130nfra as code.",
    "Python only": "Python services.",
    # LIKE's own characters, which the database's first look must take literally.
    "Wildcards": "Ship node_js at 100% from C:\\Tools daily.",
}


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (["python"], ["python", "rust", "kubernetes", "linux", "infra"]),  # keywords added
        (["python", "rust", "kubernetes"], ["rust"]),  # keywords removed
        (["python"], ["python", "c++", "c", "machine learning", "learning"]),  # overlapping
        (["c++", "machine learning"], ["rust", "c"]),  # from overlapping to plain words
        (["python"], ["node_js", "100%", "c:\\tools", "node%js"]),  # LIKE's special characters
    ],
)
async def test_a_rescore_scores_as_the_matcher_does_after_any_keyword_change(
    session: AsyncSession, before: list[str], after: list[str]
) -> None:
    """Rescoring reuses what stored details say; the scores must still be the matcher's."""
    profile = await make_profile(session, skills=before, desired_title="Engineer")
    board = await make_board(session, keyword_filters=["spark"])
    for title, description in TRICKY.items():
        await make_job(session, board, title=title, description=description, location="Berlin")
    await rescore_open_jobs(session)
    profile.skills = after
    await session.flush()

    assert await rescore_open_jobs(session) == len(TRICKY)

    matcher = rescoring.board_matcher(profile, board.keyword_filters)
    jobs = (await session.scalars(select(Job).execution_options(populate_existing=True))).all()
    for job in jobs:
        expected = matcher.score(job.title, job.description, job.location, job.workplace_type)
        assert (job.title, job.match_score, job.match_details) == (
            job.title,
            expected.score,
            expected.details,
        )


async def test_a_new_score_changes_neither_search_results_nor_the_listing(
    session: AsyncSession,
) -> None:
    profile = await make_profile(session, skills=["python"])
    board = await make_board(session)
    job = await make_job(session, board, title="Rust Engineer", description="Rust all day.")
    updated_at = job.updated_at
    await make_job(session, board, title="Python Engineer", description="Python all day.")
    rust = JobFilters(search="rust")

    before = await list_jobs(session, rust)
    profile.skills = ["rust"]
    await session.flush()
    await rescore_open_jobs(session)

    after = await list_jobs(session, rust)
    assert [hit.job.title for hit in after.listings] == ["Rust Engineer"]
    assert [hit.job.id for hit in after.listings] == [hit.job.id for hit in before.listings]
    await session.refresh(job)
    assert job.match_score == 100.0
    assert job.updated_at == updated_at  # a new score is not a change to the listing
