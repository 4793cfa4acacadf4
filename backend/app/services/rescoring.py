"""Scores from the person's profile: the matcher for one board, and rescoring every open job.

A board's matcher uses the profile's preferences plus the board's keyword filters as keywords
(SPEC §5), so the same listing can score differently on two boards with different filters.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    Text,
    Uuid,
    and_,
    any_,
    bindparam,
    false,
    func,
    literal_column,
    or_,
    select,
    text,
    true,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from app.database import LIKE_ESCAPE, like_containing
from app.models import Job, JobBoard, JobScore, UserProfile
from app.services.keywords import ASCII_CASE_ODDITIES, KeywordFinder
from app.services.matcher import Matcher, Preferences
from app.services.profile import get_profile

JOBS = Job.metadata.tables["jobs"]
SCORES = JobScore.metadata.tables["job_scores"]
# Open jobs with their scores.
SCORED_JOBS = SCORES.join(JOBS, JOBS.c.id == SCORES.c.job_id)
# Jobs read (and written back) per statement: large enough to amortise each statement, small
# enough that the descriptions a chunk needs read stay a few MB.
RESCORE_CHUNK = 20_000
# Distinct outcomes (each a few hundred bytes of details), and titles' keywords, remembered at
# most.
_OUTCOMES_KEPT = 10_000

# Writing the new scores: only the narrow job_scores rows; the jobs table (and its `updated_at`:
# a new score is not a change to the listing) is left alone. SQLite, in process, runs one
# prepared UPDATE per row by rowid. PostgreSQL takes the chunks by COPY into a temporary table
# and applies them all with one UPDATE joining it (a hash join: about 4x cheaper than unpacking
# a JSON array per chunk, whose rows each look up their score row through the index).
_RESCORED = "rescored_jobs"
# (Any table left by a rescore that failed earlier in the same transaction goes first.)
_CREATE_RESCORED = (
    "DROP TABLE IF EXISTS rescored_jobs",
    """CREATE TEMPORARY TABLE rescored_jobs
    (job_id uuid NOT NULL, match_score float8 NOT NULL, match_details jsonb NOT NULL)
    ON COMMIT DROP""",
)
_APPLY_RESCORED = (
    """UPDATE job_scores SET match_score = r.match_score, match_details = r.match_details
    FROM rescored_jobs AS r WHERE job_scores.job_id = r.job_id""",
    "DROP TABLE rescored_jobs",
)
_WRITE_SQLITE = "UPDATE job_scores SET match_score = ?, match_details = ? WHERE rowid = ?"


def board_matcher(profile: UserProfile, keyword_filters: Sequence[str] | None) -> Matcher:
    """The matcher for jobs of one board: the profile's preferences, the board's keywords."""
    return Matcher(
        Preferences(
            keywords=[*(keyword_filters or ()), *(profile.skills or ())],
            desired_title=profile.desired_title,
            desired_locations=profile.desired_locations,
            remote_preference=profile.remote_preference or "any",
        )
    )


@dataclass(frozen=True, slots=True)
class _Scored:
    """What a stored job's `match_details` says its keywords were (empty when it says none)."""

    matched: frozenset[str]
    checked: frozenset[str]  # matched or missing: the keywords it was scored against
    independent: bool  # all plain words, so each result holds whatever else was asked


@dataclass(slots=True)
class _Job:
    key: Any  # where it is in the jobs table
    target: Any  # where its score row is
    matcher: Matcher
    title: str
    location: str
    workplace_type: str
    found: frozenset[str]  # keywords it contains
    wanted: frozenset[str]  # keywords still to look for in its title and description


# A board's matcher, and the keywords a job is known to contain and still to look for.
_Plan = tuple[Matcher, frozenset[str], frozenset[str]]
_UNPLANNED: Any = object()


async def rescore_open_jobs(session: AsyncSession) -> int:
    """Score every open job again from the current profile; return how many were scored.

    Run after a profile change that affects matching. A job's stored details say which of the
    keywords it was last scored against it contains (they were found in its current text: a
    scan rescores every listing whose content changes), so only keywords new since then are
    looked for, and only in descriptions the database finds holding them at all. Scores are
    written back in bulk (see `_Rescorer.write`). Closed jobs keep their old score
    (a job that reopens is scored by the scan that reopens it). Never commits.

    The jobs go by in chunks, pipelined so that this process and the database work at once.
    On PostgreSQL, when the session's transaction has written nothing yet (a rescore of its
    own, as after a profile change), descriptions are searched on a second connection beside
    it, which sees the same committed jobs.
    """
    profile = await get_profile(session)
    dialect = session.get_bind().dialect.name
    sqlite = dialect == "sqlite"
    # SQLite reads the jobs in rowid order (their storage order) and writes each score row by
    # its own rowid (no second index). PostgreSQL reads them in ranges of the table's pages
    # (descriptions included), and writes by job id.
    key: ColumnElement[Any] = literal_column("jobs.rowid", Integer) if sqlite else JOBS.c.id
    target: ColumnElement[Any] = literal_column("job_scores.rowid", Integer) if sqlite else key
    # Board ids as stored (SQLite: hex text), skipping a UUID round trip per row.
    as_stored = String if sqlite else Uuid
    boards = await session.execute(
        select(type_coerce(JobBoard.id, as_stored), JobBoard.keyword_filters)
    )
    # One matcher per board (keywords differ per board), built before the first row is read.
    matchers = {board_id: board_matcher(profile, filters) for board_id, filters in boards}
    query = (
        select(
            key,
            target,
            type_coerce(JOBS.c.board_id, as_stored),
            JOBS.c.title,
            JOBS.c.location,
            JOBS.c.workplace_type,
            _checked_keywords(sqlite),
        )
        .select_from(SCORED_JOBS)
        .where(JOBS.c.closed_at.is_(None))
    )
    chunks = _rowid_chunks(session, query, key) if sqlite else _page_range_chunks(session, query)
    rescorer = _Rescorer(session, key, matchers)
    async with _search_connection(session) as beside:
        if beside is None:
            scored = await _rescore_on_session(rescorer, chunks)
        else:
            rescorer.apply_each_chunk = True
            scored = await _rescore_searching_beside(rescorer, chunks, beside)
    await rescorer.finish()
    return scored


async def _rescore_on_session(rescorer: _Rescorer, chunks: AsyncIterator[Chunk]) -> int:
    """The rescore's chunks, one statement at a time on its session. While the database searches
    one chunk's descriptions, this process works out the previous chunk's scores, and it looks
    through the descriptions found while the database writes those scores."""
    scored = 0
    chunk = await anext(chunks, None)
    current = None if chunk is None else (rescorer.plan(chunk[0]), chunk[1])
    previous: list[_Job] = []
    while current is not None:
        jobs, within = current
        searching = asyncio.ensure_future(rescorer.descriptions(jobs, within))
        try:
            changed = rescorer.outcomes(previous)
        except BaseException:
            await abandon(searching)
            raise
        descriptions = await searching
        writing = asyncio.ensure_future(rescorer.write(changed))
        try:
            rescorer.find_keywords(jobs, descriptions)
        except BaseException:
            await abandon(writing)
            raise
        await writing
        scored += len(jobs)
        previous = jobs
        chunk = await anext(chunks, None)
        current = None if chunk is None else (rescorer.plan(chunk[0]), chunk[1])
    await rescorer.write(rescorer.outcomes(previous))
    return scored


async def _rescore_searching_beside(
    rescorer: _Rescorer, chunks: AsyncIterator[Chunk], beside: AsyncConnection
) -> int:
    """The rescore's chunks, their descriptions searched on a connection `beside` the session
    (PostgreSQL): one chunk's while the session writes the previous chunk's scores and reads
    the next chunk, the database's two cores each busy with one."""
    scored = 0
    chunk = await anext(chunks, None)
    if chunk is None:
        return 0
    jobs, within = rescorer.plan(chunk[0]), chunk[1]
    searching: asyncio.Future[dict[Any, str]] | None = asyncio.ensure_future(
        rescorer.descriptions(jobs, within, beside)
    )
    previous: list[_Job] = []
    try:
        while True:
            await rescorer.write(rescorer.outcomes(previous))
            chunk = await anext(chunks, None)
            following = None if chunk is None else (rescorer.plan(chunk[0]), chunk[1])
            assert searching is not None
            descriptions = await searching
            searching = None
            if following is not None:
                searching = asyncio.ensure_future(rescorer.descriptions(*following, beside))
            rescorer.find_keywords(jobs, descriptions)
            scored += len(jobs)
            previous = jobs
            if following is None:
                break
            jobs, within = following
    except BaseException:
        await abandon(searching)
        raise
    await rescorer.write(rescorer.outcomes(previous))
    return scored


@asynccontextmanager
async def _search_connection(session: AsyncSession) -> AsyncIterator[AsyncConnection | None]:
    """A connection of the rescore's own to search descriptions on beside the session, or None
    where it must search on the session itself: SQLite (one writer, in this process), or a
    transaction that has written already (another connection could not see what it wrote)."""
    bind = session.bind
    engine = bind.engine if isinstance(bind, AsyncConnection) else bind
    if not isinstance(engine, AsyncEngine) or engine.dialect.name != "postgresql":
        yield None
        return
    if await session.scalar(text("SELECT pg_current_xact_id_if_assigned() IS NOT NULL")):
        yield None
        return
    async with engine.connect() as connection:
        yield await connection.execution_options(isolation_level="AUTOCOMMIT")


# A chunk of open jobs (rows of the rescore's query), and the condition selecting its jobs.
Chunk = tuple[Sequence[Any], ColumnElement[bool]]


async def _rowid_chunks(
    session: AsyncSession, query: Select[Any], key: ColumnElement[Any]
) -> AsyncIterator[Chunk]:
    """Open jobs RESCORE_CHUNK at a time, in `key` order (SQLite: one cheap range each)."""
    after: Any = None
    while True:
        page = query.order_by(key).limit(RESCORE_CHUNK)
        rows = (await session.execute(page if after is None else page.where(key > after))).all()
        if not rows:
            return
        first, after = rows[0][0], rows[-1][0]
        yield rows, and_(key >= first, key <= after)


_PAGES_FROM = text("jobs.ctid >= CAST(:first AS tid)")
_PAGES_BEFORE = text("jobs.ctid < CAST(:end AS tid)")


async def _page_range_chunks(session: AsyncSession, query: Select[Any]) -> AsyncIterator[Chunk]:
    """Open jobs in ranges of the jobs table's pages holding about RESCORE_CHUNK jobs each
    (PostgreSQL). Each range is read from its own pages only, as is each range's look at
    descriptions; ids are random UUIDs, so a range of ids would span every page."""
    size: Any = (
        await session.execute(
            select(
                func.count(),
                literal_column("pg_relation_size('jobs') / current_setting('block_size')::int"),
            )
            .select_from(JOBS)
            .where(JOBS.c.closed_at.is_(None))
        )
    ).one()
    open_jobs, pages = int(size[0]), int(size[1])
    parts = max(1, -(-open_jobs // RESCORE_CHUNK))
    step = -(-(pages + 1) // parts)
    for first in range(0, pages + 1, step):
        # Pages [first, first + step); the last range is open-ended, for rows added meanwhile.
        pages_from = _PAGES_FROM.bindparams(first=f"({first},0)")
        if first + step > pages:
            within = and_(pages_from)
        else:
            within = and_(pages_from, _PAGES_BEFORE.bindparams(end=f"({first + step},0)"))
        rows = (await session.execute(query.where(within))).all()
        if rows:
            yield rows, within


class _Rescorer:
    """The work of one rescore, sharing its matchers and what it learned along the way."""

    def __init__(
        self, session: AsyncSession, key: ColumnElement[Any], matchers: dict[Any, Matcher]
    ) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name
        self.key = key
        self.matchers = matchers
        # Jobs share boards and stored keyword results: each plan is worked out once.
        self._plans: dict[tuple[Any, str | None], _Plan | None] = {}
        self._finders: dict[frozenset[str], KeywordFinder] = {}
        self._title_hits: dict[tuple[frozenset[str], str], set[str]] = {}
        # Listings share titles, places and keyword results: each outcome is worked out once.
        self._outcomes: dict[tuple[Any, ...], tuple[float, str]] = {}
        self._staging = False  # whether the temporary table of new scores exists
        # PostgreSQL: apply each chunk's scores as it is written (while a connection beside the
        # session searches the next chunk's descriptions), rather than all at once in `finish`.
        self.apply_each_chunk = False

    def plan(self, rows: Sequence[Any]) -> list[_Job]:
        """The open jobs of one chunk with what is known of their keywords already."""
        jobs: list[_Job] = []
        for row_key, target, board_id, title, location, workplace, checked in rows:
            plan = self._plan(board_id, checked)
            if plan is None:  # a board created since this rescore began scores its own jobs
                continue
            matcher, found, wanted = plan
            jobs.append(_Job(row_key, target, matcher, title, location, workplace, found, wanted))
        return jobs

    def _plan(self, board_id: Any, checked: str | None) -> _Plan | None:
        plan = self._plans.get((board_id, checked), _UNPLANNED)
        if plan is _UNPLANNED:
            plan = self._plans[board_id, checked] = self._new_plan(board_id, checked)
        return plan  # type: ignore[no-any-return]

    def _new_plan(self, board_id: Any, checked: str | None) -> _Plan | None:
        matcher = self.matchers.get(board_id)
        if matcher is None:
            return None
        before = _parse_scored(checked)
        asked = frozenset(matcher.keywords)
        if before.independent and matcher.independent_keywords:
            return matcher, before.matched & asked, asked - before.checked
        return matcher, frozenset(), asked

    async def descriptions(
        self,
        jobs: list[_Job],
        within: ColumnElement[bool],
        connection: AsyncConnection | None = None,
    ) -> dict[Any, str]:
        """The descriptions of these jobs that the database finds may hold keywords they still
        want looked for, by job key. `within` selects the jobs' chunk; the query runs on
        `connection`, or on the session."""
        wanted = frozenset().union(*(job.wanted for job in jobs))
        if not wanted:
            return {}
        query = select(self.key, JOBS.c.description).where(
            JOBS.c.closed_at.is_(None), within, self._may_hold(wanted)
        )
        result = await (connection or self.session).execute(query)
        return dict(result.all())

    def find_keywords(self, jobs: list[_Job], descriptions: dict[Any, str]) -> None:
        """Look for each job's wanted keywords in its title and its description, if among
        `descriptions` (those that may hold any)."""
        for job in jobs:
            if not job.wanted:
                continue
            description = descriptions.get(job.key)
            if description is None:  # only the title to look at: titles repeat
                title_key = (job.wanted, job.title)
                hits = self._title_hits.get(title_key)
                if hits is None:
                    if len(self._title_hits) >= _OUTCOMES_KEPT:
                        self._title_hits.clear()
                    hits = self._title_hits[title_key] = self._finder(job.wanted).find(job.title)
            else:
                hits = self._finder(job.wanted).find(f"{job.title}\n{description}")
            if hits:
                job.found = job.found | hits

    def _finder(self, keywords: frozenset[str]) -> KeywordFinder:
        finder = self._finders.get(keywords)
        if finder is None:
            finder = self._finders[keywords] = KeywordFinder(keywords)
        return finder

    def _may_hold(self, keywords: frozenset[str]) -> ColumnElement[bool]:
        """Descriptions that may hold one of `keywords`: any holding one of them once its ASCII
        letters are lower-cased, and any with a character the matcher folds onto a letter of
        theirs (keywords.ASCII_CASE_ODDITIES)."""
        description = JOBS.c.description
        if not all(keyword.isascii() for keyword in keywords):
            return true()
        letters = set("".join(keywords))
        oddities = [odd for odd, letter in ASCII_CASE_ODDITIES.items() if letter in letters]
        patterns = [like_containing(text_) for text_ in (*sorted(keywords), *oddities)]
        if self.dialect == "postgresql":
            # lower() under "C" lower-cases ASCII letters only, in place and fast; one pass of
            # LIKE ANY over it (about half the time of strpos, and of checking the whole text
            # for non-ASCII characters).
            lowered = func.lower(description.collate("C"))
            return lowered.like(any_(bindparam("patterns", patterns, type_=ARRAY(Text))))
        # SQLite's LIKE ignores ASCII case, as its lower() folds only ASCII: the same test,
        # without copying each description (about twice as fast).
        return or_(
            false(), *(description.like(pattern, escape=LIKE_ESCAPE) for pattern in patterns)
        )

    def outcomes(self, jobs: list[_Job]) -> list[tuple[Any, float, str]]:
        """Each job's score row, new score and details (JSON). (Any change to what is matched
        changes every job's details: the keywords missing, or the title's, location's or
        remote part.)"""
        return [(job.target, *self._outcome(job)) for job in jobs]

    async def write(self, changed: list[tuple[Any, float, str]]) -> None:
        """Write back new scores and details (PostgreSQL: stage them for `finish`)."""
        if not changed:
            return
        connection = await self.session.connection()
        if self.dialect == "sqlite":
            # Plain tuples to the driver: no per-row parameter building on the way.
            rows = [(score, details_json, target) for target, score, details_json in changed]
            await connection.exec_driver_sql(_WRITE_SQLITE, rows)
            return
        if not self._staging:
            for statement in _CREATE_RESCORED:
                await connection.exec_driver_sql(statement)
            self._staging = True
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        await driver.copy_records_to_table(_RESCORED, records=changed)
        if self.apply_each_chunk:
            await connection.exec_driver_sql(_APPLY_RESCORED[0])
            await connection.exec_driver_sql(f"TRUNCATE {_RESCORED}")

    async def finish(self) -> None:
        """Apply the scores staged by `write` (PostgreSQL)."""
        if self._staging:
            connection = await self.session.connection()
            for statement in _APPLY_RESCORED:
                await connection.exec_driver_sql(statement)
            self._staging = False

    def _outcome(self, job: _Job) -> tuple[float, str]:
        """The job's new score and details (as JSON)."""
        facets = job.matcher.facets(job.title, job.location, job.workplace_type)
        outcome_key = (id(job.matcher), job.found, *facets)
        outcome = self._outcomes.get(outcome_key)
        if outcome is None:
            result = job.matcher.score_facets(job.found, *facets)
            outcome = (result.score, json.dumps(result.details))
            if len(self._outcomes) >= _OUTCOMES_KEPT:
                self._outcomes.clear()
            self._outcomes[outcome_key] = outcome
        return outcome


def _checked_keywords(sqlite: bool) -> ColumnElement[str]:
    """[keywords_matched, keywords_missing] of a job's stored details, as JSON text: all a
    rescore needs of them, and the same few lists over and over (so parsed once each)."""
    if sqlite:
        pair = "json_array(match_details -> '$.keywords_matched', "
        pair += "match_details -> '$.keywords_missing')"
    else:
        pair = "CAST(jsonb_build_array(match_details -> 'keywords_matched', "
        pair += "match_details -> 'keywords_missing') AS text)"
    return literal_column(pair.replace("match_details", "job_scores.match_details"), Text)


def _parse_scored(pair: str | None) -> _Scored:
    """Reads _checked_keywords' pair."""
    try:
        matched, missing = json.loads(pair) if pair else (None, None)
    except ValueError:
        matched = missing = None
    if not isinstance(matched, list) or not isinstance(missing, list):
        return _Scored(frozenset(), frozenset(), True)
    if not all(isinstance(word, str) for word in (*matched, *missing)):
        return _Scored(frozenset(), frozenset(), False)
    checked = frozenset(missing).union(matched)
    # Keywords are stored as the matcher keeps them (trimmed, lower case); anything else was
    # not written by it and is looked for again.
    plain = all(word == word.strip().lower() for word in checked)
    independent = plain and KeywordFinder(checked).independent
    return _Scored(frozenset(matched), checked, independent)


async def abandon(call: asyncio.Future[Any] | None) -> None:
    """Let a database call still running on a session finish, ignoring its outcome, so the
    session is free again when the work beside it failed. (Cancelling it instead would leave
    the connection invalid mid-statement.)"""
    if call is not None:
        await asyncio.gather(call, return_exceptions=True)
