"""Job listings: the filtered, sorted and paged list, one job, and the read and hidden flags.

A list costs at most three statements: the page of rows (joined to their board for its name),
the application statuses of the jobs on that page, and a COUNT over all pages. Without a search,
the page carries the count as one more column instead (unless it is past the last page).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, cast

from sqlalchemy import ColumnElement, CursorResult, Select, TextClause, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager

from app.database import LIKE_ESCAPE, like_containing
from app.errors import InvalidInput, NotFound
from app.models import Application, Job, JobBoard, JobScore
from app.models.base import utcnow
from app.models.job import SCORED_VISIBLE, VISIBLE
from app.services.search import (
    HitPlan,
    JobSearch,
    JobsSelect,
    PostgresSearch,
    SqliteSearch,
    parse_search,
    render_search,
)

Condition = ColumnElement[bool] | TextClause


JobSort = Literal[
    "created_at", "match_score", "title", "company", "posted_date", "salary", "relevance"
]
SortOrder = Literal["asc", "desc"]


@dataclass(frozen=True)
class JobFilters:
    """What to list. The defaults list every visible job: not hidden, not closed."""

    search: str | None = None
    board_id: uuid.UUID | None = None
    min_score: float | None = None
    max_score: float | None = None
    location: str | None = None
    is_new: bool | None = None
    is_hidden: bool | None = None
    include_hidden: bool = False
    include_closed: bool = False
    posted_days: int | None = None
    created_days: int | None = None


@dataclass(frozen=True)
class JobListing:
    """A job as the person sees it: with its board's name and their application's status."""

    job: Job
    board_name: str
    application_status: str | None


@dataclass(frozen=True)
class JobPage:
    listings: list[JobListing]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return -(-self.total // self.page_size)


# SQLite plans for searches. The jobs table is wide (descriptions), so each job SQLite fetches
# costs a page read; the cheapest plan depends on the number of hits. Costs per unit in µs,
# measured at 100k jobs with 1-3 KB descriptions (see _page_plan and _count_statement).
_VISIBLE_JOBS_GUESS = 100_000
_FETCH_HIT = 5.0  # fetch one hit from the jobs table
_COLLECT_HIT = 0.4  # collect one hit into SQLite's in-memory IN set
_PROBE_ENTRY = 0.6  # walk one partial-index entry and test it against that set
_SEEK_ENTRY = 100.0  # walk one partial-index entry and look it up in the FTS index
_SCORE_LOOKUP = 2.0  # look one job's score up in job_scores
# From this many hits on, walking the whole partial index beats fetching every hit.
_COUNT_BY_PROBING_FROM = int(_PROBE_ENTRY * _VISIBLE_JOBS_GUESS / (_FETCH_HIT - _COLLECT_HIT))
# A range over the whole (created_at, id) partial index; see _count_statement.
_ANY_CREATION = Job.created_at.is_not(None)


def _hidden_mode(filters: JobFilters) -> bool | None:
    """True: only hidden jobs; False: only visible ones; None: both."""
    if filters.is_hidden is not None:
        return filters.is_hidden
    return None if filters.include_hidden else False


def _conditions(filters: JobFilters) -> list[Condition]:
    hidden = _hidden_mode(filters)
    conditions: list[Condition] = []
    if hidden is False and not filters.include_closed:
        # The exact text of the partial indexes' WHERE, so both planners can use them.
        conditions.append(VISIBLE)
    else:
        if hidden is not None:
            conditions.append(Job.is_hidden.is_(hidden))
        if not filters.include_closed:
            conditions.append(Job.closed_at.is_(None))
    if filters.board_id is not None:
        conditions.append(Job.board_id == filters.board_id)
    conditions.extend(_score_range(filters))
    if filters.location:
        pattern = like_containing(filters.location.replace("\x00", ""))
        conditions.append(Job.location.ilike(pattern, escape=LIKE_ESCAPE))
    if filters.is_new is not None:
        conditions.append(Job.is_new.is_(filters.is_new))
    now = utcnow()
    if filters.posted_days is not None:
        conditions.append(Job.posted_date >= now - timedelta(days=filters.posted_days))
    if filters.created_days is not None:
        conditions.append(Job.created_at >= now - timedelta(days=filters.created_days))
    return conditions


def _score_range(filters: JobFilters) -> list[Condition]:
    conditions: list[Condition] = []
    if filters.min_score is not None:
        conditions.append(JobScore.match_score >= filters.min_score)
    if filters.max_score is not None:
        conditions.append(JobScore.match_score <= filters.max_score)
    return conditions


def _scored(filters: JobFilters) -> bool:
    """Whether the filters name a score range (which lives in job_scores)."""
    return filters.min_score is not None or filters.max_score is not None


def _only_visibility(filters: JobFilters) -> bool:
    """Whether the filters are just "visible jobs" (plus search), so the visible-job partial
    indexes can answer them without reading rows (score and posted ranges are in them too:
    ix_job_scores_visible and ix_jobs_visible_posted)."""
    return (
        _hidden_mode(filters) is False
        and not filters.include_closed
        and filters.board_id is None
        and not filters.location
        and filters.is_new is None
        and filters.created_days is None
    )


def _page_plan(filters: JobFilters, sort: JobSort, hits: int, end: int) -> HitPlan:
    """The cheapest SQLite plan for one page (ending at row `end`) of a search's `hits`.

    "probe" and "seek" walk the sort's partial index in order, so they need filters the index
    answers alone: visibility and a range on the sort key, or (walking by creation) a score
    range, each entry's score looked up. The score index lives in job_scores, so each score
    entry walked also fetches its job (for its rowid).
    """
    walkable = (
        _only_visibility(filters)
        and filters.posted_days is None
        and sort in ("match_score", "created_at")
    )
    if not walkable:
        return "fetch"
    walked = end * _VISIBLE_JOBS_GUESS / max(hits, 1)  # index entries visited to fill the page
    # Walking the scores' index fetches each entry's job (for its rowid); walking the jobs' one
    # under a score range looks each entry's score up.
    per_entry = 0.0
    if sort == "match_score":
        per_entry = _FETCH_HIT
    elif _scored(filters):
        per_entry = _SCORE_LOOKUP
    costs: dict[HitPlan, float] = {
        "fetch": _FETCH_HIT * hits,
        "probe": _COLLECT_HIT * hits + (_PROBE_ENTRY + per_entry) * walked,
        "seek": (_SEEK_ENTRY + per_entry) * walked,
    }
    return min(costs, key=costs.__getitem__)


def _order(statement: JobsSelect, sort: JobSort, order: SortOrder) -> JobsSelect:
    descending = order == "desc"

    def by(column: Any) -> Any:
        return column.desc() if descending else column.asc()

    if sort == "relevance":
        pass  # ordered by the search itself (see list_jobs)
    elif sort == "posted_date":
        statement = statement.order_by(by(Job.posted_date).nulls_last())
    elif sort == "salary":
        salary = func.coalesce(Job.salary_max, Job.salary_min)
        statement = statement.order_by(by(salary).nulls_last())
    elif sort == "title":
        statement = statement.order_by(by(func.lower(Job.title)))
    elif sort == "company":
        statement = statement.order_by(by(func.lower(Job.company)))
    elif sort == "match_score":
        # (match_score, job_id): the order of ix_job_scores_visible, ties broken by job id.
        return statement.order_by(by(JobScore.match_score), by(JobScore.job_id))
    else:
        statement = statement.order_by(by(Job.created_at))
    # Ties broken by id, so paging never repeats or skips a job.
    return statement.order_by(by(Job.id))


def _count_statement(
    conditions: list[Condition],
    search: JobSearch | None,
    filters: JobFilters,
) -> Select[int]:
    scored = _scored(filters)

    def count(*extra: Condition) -> Select[int]:
        counted = select(func.count()).select_from(Job)
        if scored:
            counted = counted.join(JobScore, JobScore.job_id == Job.id)
        return counted.where(*conditions, *extra)

    if search is None and scored and _only_visibility(filters) and filters.posted_days is None:
        # A score range over visible jobs: ix_job_scores_visible alone answers it.
        return (
            select(func.count()).select_from(JobScore).where(SCORED_VISIBLE, *_score_range(filters))
        )
    if isinstance(search, PostgresSearch) and not search.query.ranks:
        # All but the excluded: two counts the indexes answer, where NOT (tsv @@ q) alone
        # would test every row's tsvector (a second or so at 100k jobs).
        return select(count().scalar_subquery() - count(search.excluded_match()).scalar_subquery())
    if search is None or not _only_visibility(filters):
        # Visibility alone is counted from the covering ix_jobs_visible_new.
        return count(search.condition()) if search is not None else count()
    if search.query.ranks and not scored and filters.posted_days is None:
        # The search index knows which jobs are visible: no job's columns are read for it.
        return search.count_visible()
    if not isinstance(search, SqliteSearch):
        return count(search.condition())
    if scored and filters.posted_days is None:
        # Walk ix_job_scores_visible over the range, testing each entry's job against the hits
        # (its rowid comes from the jobs' id index: no wide row is read).
        return (
            select(func.count())
            .select_from(JobScore)
            .join(Job, Job.id == JobScore.job_id)
            .where(SCORED_VISIBLE, *_score_range(filters), search.condition("probe"))
        )
    if scored:
        return count(search.condition("fetch"))
    # Other SQLite search counts should only read the small partial indexes. With ANALYZE
    # statistics its planner prefers scanning the wide jobs table to walking a partial index,
    # unless a range on the index's key leads it there; with no range filter, one over the
    # whole (created_at, id) index (_ANY_CREATION) does.
    index_hint = () if filters.posted_days is not None else (_ANY_CREATION,)
    probe = count(*index_hint, search.condition("probe"))
    if not search.query.ranks:
        return probe  # exclusion-only: there are no hits to fetch
    # One statement that picks its own plan: SQLite evaluates only the CASE branch it takes.
    return select(
        case(
            (search.has_many_hits(_COUNT_BY_PROBING_FROM), probe.scalar_subquery()),
            else_=count(search.condition("fetch")).scalar_subquery(),
        )
    )


async def list_jobs(
    session: AsyncSession,
    filters: JobFilters,
    *,
    sort: JobSort = "created_at",
    order: SortOrder = "desc",
    page: int = 1,
    page_size: int = 25,
) -> JobPage:
    """One page of the jobs matching `filters`, with the total over all pages."""
    if (
        filters.min_score is not None
        and filters.max_score is not None
        and filters.min_score > filters.max_score
    ):
        raise InvalidInput("min_score must not be greater than max_score")
    dialect = session.get_bind().dialect.name
    search: JobSearch | None = None
    if filters.search and filters.search.strip():
        query = parse_search(filters.search)
        if query.matches_nothing:
            return JobPage([], 0, page, page_size)
        search = render_search(query, dialect)

    conditions = _conditions(filters)
    count = _count_statement(conditions, search, filters)
    offset = (page - 1) * page_size
    if search is None or not search.query.ranks:
        sort = "created_at" if sort == "relevance" else sort
    # A search is counted first: SQLite picks the page's plan by the number of hits, and on
    # PostgreSQL a page carrying the count becomes, once the driver caches it as a generic plan,
    # one that reads every hit. Otherwise the page carries the count as one more column, which
    # saves a round trip.
    total: int | None = None
    if search is not None:
        total = (await session.execute(count)).scalar_one()
        if offset >= total:
            return JobPage([], total, page, page_size)

    statement = (
        select(Job, JobBoard.name)
        .join(JobBoard, JobBoard.id == Job.board_id)
        .join(JobScore, JobScore.job_id == Job.id)
        .options(contains_eager(Job.score))
        .where(*conditions)
    )
    if sort == "match_score" and _only_visibility(filters):
        # Lets the planners walk ix_job_scores_visible (mirrors VISIBLE, which stays too).
        statement = statement.where(SCORED_VISIBLE)
    if sort == "relevance" and search is not None:
        statement = search.ranked(statement, descending=order == "desc")
    elif isinstance(search, SqliteSearch):
        assert total is not None
        plan = _page_plan(filters, sort, total, offset + page_size)
        statement = statement.where(search.condition(plan))
    elif search is not None:
        statement = statement.where(search.condition())
    if total is None:
        statement = statement.add_columns(count.scalar_subquery().label("total"))
    statement = _order(statement, sort, order).offset(offset).limit(page_size)
    rows = (await session.execute(statement)).all()
    if total is None:
        # Past the last page there is no row to carry the count.
        total = rows[0]._mapping["total"] if rows else (await session.execute(count)).scalar_one()
    listed = [(job, board_name) for job, board_name, *_ in rows]
    return JobPage(await _with_statuses(session, listed), total, page, page_size)


async def _with_statuses(session: AsyncSession, rows: Sequence[Any]) -> list[JobListing]:
    """Attach to each (job, board name) row the status of its latest application."""
    ids = [job.id for job, _ in rows]
    statuses: dict[uuid.UUID, str] = {}
    if ids:
        result = await session.execute(
            select(Application.job_id, Application.status)
            .where(Application.job_id.in_(ids))
            .order_by(Application.updated_at, Application.id)
        )
        # Ordered oldest first, so the most recently updated application wins.
        statuses = {job_id: status for job_id, status in result if job_id is not None}
    return [JobListing(job, board_name, statuses.get(job.id)) for job, board_name in rows]


async def get_job(session: AsyncSession, job_id: uuid.UUID) -> JobListing:
    """One job, hidden or closed ones included; NotFound if there is no such job."""
    row = (
        await session.execute(
            select(Job, JobBoard.name)
            .join(JobBoard, JobBoard.id == Job.board_id)
            .where(Job.id == job_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"Job {job_id} not found")
    return (await _with_statuses(session, [row]))[0]


async def set_hidden(
    session: AsyncSession, job_id: uuid.UUID, hidden: bool | None = None
) -> JobListing:
    """Hide or unhide a job; `hidden=None` toggles it."""
    listing = await get_job(session, job_id)
    job = listing.job
    job.is_hidden = (not job.is_hidden) if hidden is None else hidden
    job.updated_at = utcnow()
    await session.flush()
    return listing


async def mark_read(session: AsyncSession, job_id: uuid.UUID) -> JobListing:
    """Clear a job's `is_new` flag."""
    listing = await get_job(session, job_id)
    if listing.job.is_new:
        listing.job.is_new = False
        listing.job.updated_at = utcnow()
        await session.flush()
    return listing


async def mark_many_read(
    session: AsyncSession,
    *,
    ids: Sequence[uuid.UUID] | None = None,
    board_id: uuid.UUID | None = None,
) -> int:
    """Mark read the jobs in `ids`, or (with `ids=None`) every job, or every job of one board.

    Returns how many jobs were new and are now read; unknown ids are skipped.
    """
    statement = update(Job).where(Job.is_new.is_(True)).values(is_new=False, updated_at=utcnow())
    if ids is not None:
        if not ids:
            return 0
        statement = statement.where(Job.id.in_(ids))
    elif board_id is not None:
        statement = statement.where(Job.board_id == board_id)
    result = await session.execute(statement)
    return cast("CursorResult[Any]", result).rowcount
