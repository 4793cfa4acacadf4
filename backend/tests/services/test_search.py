from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Job
from app.services import jobs
from app.services.jobs import JobSort
from app.services.search import (
    SPECIAL_TOKENS,
    HitPlan,
    PostgresSearch,
    SearchQuery,
    SqliteSearch,
    parse_search,
    search_prepare,
)
from tests.factories import make_board, make_job

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)

POSTGRESQL: Dialect = PGDialect_asyncpg()  # type: ignore[no-untyped-call]
MIGRATION = Path(__file__).parents[2] / "alembic" / "versions" / "001_initial.py"


@pytest.mark.parametrize(
    ("text", "required", "excluded"),
    [
        ("python", [["python"]], []),
        ("Python  Django", [["python"], ["django"]], []),
        ('"data engineer" remote', [["data engineer"], ["remote"]], []),
        ('"data   engineer', [["data engineer"]], []),
        ("python -java", [["python"]], ["java"]),
        ('-"on call" rust', [["rust"]], ["on call"]),
        ("full-time", [["full-time"]], []),
        ("rust OR go", [["rust", "go"]], []),
        ("a b OR c OR d e", [["a"], ["b", "c", "d"], ["e"]], []),
        ("rust or go", [["rust"], ["or"], ["go"]], []),
        ("rust AND go", [["rust"], ["go"]], []),
        ("OR rust OR", [["rust"]], []),
        ("rust OR -go", [["rust"]], ["go"]),
        ("-go OR rust", [["rust"]], ["go"]),
        ("C++ c# F# .NET", [["cplusplus"], ["csharp"], ["fsharp"], ["dotnet"]], []),
        ("asp.net", [["asp dotnet"]], []),
        ('"senior c++"', [["senior cplusplus"]], []),
        ("rust * ()", [["rust"]], []),
        ("nul\x00byte", [["nul byte"]], []),
    ],
)
def test_parse_reads_words_phrases_exclusions_and_or(
    text: str, required: list[list[str]], excluded: list[str]
) -> None:
    query = parse_search(text)
    assert query == SearchQuery(tuple(map(tuple, required)), tuple(excluded))


@pytest.mark.parametrize("text", ["AND OR", "*", "-", '""', "OR OR", '"', "- --", "&& || !!", ""])
def test_only_operators_or_punctuation_leaves_nothing_to_match(text: str) -> None:
    assert parse_search(text).matches_nothing


def test_exclusion_only_query_matches_but_does_not_rank() -> None:
    query = parse_search("-python")
    assert not query.matches_nothing
    assert not query.ranks


def test_special_tokens_match_the_migration() -> None:
    spec = importlib.util.spec_from_file_location("initial_migration", MIGRATION)
    assert spec is not None
    assert spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert tuple(migration.SPECIAL_TOKENS) == SPECIAL_TOKENS


async def test_query_text_is_prepared_like_indexed_text(session: AsyncSession) -> None:
    sample = "Senior C++/C# Engineer (.NET, F#) - ASP.NET"
    if session.get_bind().dialect.name == "postgresql":
        in_database = await session.scalar(text("SELECT search_prepare(:v)"), {"v": sample})
        assert in_database == search_prepare(sample)
    assert search_prepare(sample) == (
        "senior  cplusplus / csharp  engineer ( dotnet ,  fsharp ) - asp dotnet "
    )


@pytest.mark.parametrize("hostile", ["x'); drop table jobs; --", "near(a b) col:value", "a* ^b"])
def test_user_text_only_reaches_sql_as_bound_parameters(hostile: str) -> None:
    query = parse_search(f'"{hostile}" -"{hostile}"')
    (term,) = query.excluded
    for search, dialect in (
        (PostgresSearch(query), POSTGRESQL),
        (SqliteSearch(query), sqlite.dialect()),
    ):
        compiled = select(Job.id).where(search.condition()).compile(dialect=dialect)
        assert term not in str(compiled)
        assert any(term in str(value) for value in compiled.params.values())


def test_fts5_expression_quotes_every_term() -> None:
    search = SqliteSearch(parse_search('rust OR "go lang" python -"on call" -java'))
    # User terms only ever reach the three text columns, never the `state` column.
    assert search.expression == (
        "{title company description}: "
        '(("rust" OR "go lang") AND ("python") NOT ("on call" OR "java"))'
    )
    assert SqliteSearch(parse_search("-java")).expression == (
        '{title company description}: (("java"))'
    )


async def test_every_sqlite_plan_finds_the_same_jobs(session: AsyncSession) -> None:
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("the plans are SQLite's")
    board = await make_board(session)
    for n in range(12):
        await make_job(session, board, description="python" if n % 2 else "python and java")
    for words in ("python -java", "-java", "java"):
        search = SqliteSearch(parse_search(words))
        found = [
            set((await session.scalars(select(Job.id).where(search.condition(plan)))).all())
            for plan in ("fetch", "probe", "seek")
        ]
        assert len(found[0]) == 6
        assert found[0] == found[1] == found[2]


def test_a_long_query_nests_shallowly() -> None:
    query = parse_search(" ".join(f"w{n}" for n in range(250)))
    statement = select(Job.id).where(PostgresSearch(query).condition())
    sql = str(statement.compile(dialect=POSTGRESQL))
    assert sql.count("phraseto_tsquery(") == 250
    assert "((((((((((" not in sql


@pytest.mark.parametrize("sort", ["created_at", "match_score"])
@pytest.mark.parametrize("plan", ["fetch", "probe", "seek"])
async def test_a_search_with_a_score_range_lists_the_same_jobs_with_every_plan(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch, sort: JobSort, plan: HitPlan
) -> None:
    # On SQLite the page plan depends on the number of hits; each must list the same jobs,
    # in order, with the same total (PostgreSQL has one plan: the same answer).
    monkeypatch.setattr(jobs, "_page_plan", lambda *_: plan)
    board = await make_board(session)
    expected = []
    for n in range(12):
        python = n % 3 != 0
        job = await make_job(
            session,
            board,
            title=f"Job {n:02}",
            description="python" if python else "java",
            match_score=float(n * 8),
            created_at=T0 + timedelta(hours=n),
            is_hidden=n == 10,
        )
        if python and job.match_score >= 40 and not job.is_hidden:
            expected.append(job.title)

    page = await jobs.list_jobs(
        session, jobs.JobFilters(search="python", min_score=40), sort=sort, page_size=3
    )
    rest = await jobs.list_jobs(
        session, jobs.JobFilters(search="python", min_score=40), sort=sort, page=2, page_size=3
    )

    listed = [listing.job.title for listing in (*page.listings, *rest.listings)]
    assert listed == sorted(expected, reverse=True)  # newest and best are the same jobs here
    assert page.total == rest.total == len(expected) == 4
