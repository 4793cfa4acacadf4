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
from app.memory import collector_paused
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
# Chunks read beside the session ahead of the one it writes (PostgreSQL).
READ_AHEAD = 2

# Writing the new scores: only the narrow job_scores rows; the jobs table (and its `updated_at`:
# a new score is not a change to the listing) is left alone. SQLite, in process, runs one
# prepared UPDATE per row by rowid. PostgreSQL takes the chunks by COPY into temporary tables
# and applies them with one UPDATE joining them (a hash join: about 4x cheaper than unpacking
# a JSON array per chunk, whose rows each look up their score row through the index). Jobs
# share outcomes (a few hundred among 100,000 jobs): each outcome goes to the database, and is
# parsed there, once; each job's row names its outcome.
_RESCORED = "rescored_jobs"  # (job_id, outcome)
_OUTCOMES = "rescored_outcomes"  # (id, match_score, match_details)
# (Any tables left by a rescore that failed earlier in the same transaction go first.)
_CREATE_STAGING = (
    "DROP TABLE IF EXISTS rescored_jobs, rescored_outcomes",
    """CREATE TEMPORARY TABLE rescored_jobs (job_id uuid NOT NULL, outcome int4 NOT NULL)
    ON COMMIT DROP""",
    """CREATE TEMPORARY TABLE rescored_outcomes
    (id int4 PRIMARY KEY, match_score float8 NOT NULL, match_details jsonb NOT NULL)
    ON COMMIT DROP""",
)
_APPLY_STAGED = """UPDATE job_scores
    SET match_score = o.match_score, match_details = o.match_details
    FROM rescored_jobs AS r JOIN rescored_outcomes AS o ON o.id = r.outcome
    WHERE job_scores.job_id = r.job_id"""
_CLEAR_STAGED_JOBS = "TRUNCATE rescored_jobs"
_DROP_STAGING = "DROP TABLE rescored_jobs, rescored_outcomes"
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
    own, as after a profile change), jobs are read, and descriptions searched, on two more
    connections beside it, which see the same committed jobs, while the session writes.
    Python's cycle collector waits meanwhile (see app.memory).
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
    rescorer = _Rescorer(session, key, matchers)
    with collector_paused():
        if sqlite:
            scored = await _rescore_on_session(rescorer, _rowid_chunks(session, query, key))
        else:
            async with _connections_beside(session) as beside:
                if beside is None:
                    chunks = _page_range_chunks(await session.connection(), query)
                    scored = await _rescore_on_session(rescorer, chunks)
                else:
                    reader, searcher = beside
                    rescorer.apply_each_chunk = True
                    chunks = _page_range_chunks(reader, query)
                    scored = await _rescore_reading_beside(rescorer, chunks, reader, searcher)
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


async def _rescore_reading_beside(
    rescorer: _Rescorer,
    chunks: AsyncIterator[Chunk],
    reader: AsyncConnection,
    searcher: AsyncConnection,
) -> int:
    """The rescore's chunks read on one connection beside the session, and their descriptions
    searched on another (PostgreSQL), up to READ_AHEAD chunks ahead of the one whose scores
    the session writes."""

    async def read(previous: asyncio.Future[_Planned | None] | None) -> _Planned | None:
        if previous is not None and await previous is None:
            return None  # no chunks left
        chunk = await anext(chunks, None)
        return None if chunk is None else (rescorer.plan(chunk[0]), chunk[1])

    async def search(
        planned: asyncio.Future[_Planned | None],
        previous: asyncio.Future[_Fetched | None] | None,
    ) -> _Fetched | None:
        if previous is not None:
            await previous  # one statement at a time on the searcher
        chunk = await planned
        if chunk is None:
            return None
        jobs, within = chunk
        return jobs, await rescorer.descriptions(jobs, within, searcher)

    # Each read waits for the read before it, each search for its read and the search before.
    reads: list[asyncio.Future[_Planned | None]] = []
    ahead: list[asyncio.Future[_Fetched | None]] = []

    def fetch_next() -> None:
        reads.append(asyncio.ensure_future(read(reads[-1] if reads else None)))
        ahead.append(asyncio.ensure_future(search(reads[-1], ahead[-1] if ahead else None)))

    scored = 0
    try:
        for _ in range(READ_AHEAD):
            fetch_next()
        while (fetched := await ahead[0]) is not None:
            ahead.pop(0)
            reads.pop(0)
            fetch_next()
            # Let the reader send its next statement before this process scores a chunk.
            await asyncio.sleep(0)
            jobs, descriptions = fetched
            rescorer.find_keywords(jobs, descriptions)
            await rescorer.write(rescorer.outcomes(jobs))
            scored += len(jobs)
    except BaseException:
        await abandon(*reads, *ahead)
        raise
    return scored


@asynccontextmanager
async def _connections_beside(
    session: AsyncSession,
) -> AsyncIterator[tuple[AsyncConnection, AsyncConnection] | None]:
    """Two connections of the rescore's own beside the session (PostgreSQL): one to read jobs
    on, one to search descriptions on. None where it must read on the session itself: a
    transaction that has written already (another connection could not see what it wrote)."""
    bind = session.bind
    engine = bind.engine if isinstance(bind, AsyncConnection) else bind
    assert isinstance(engine, AsyncEngine)
    if await session.scalar(text("SELECT pg_current_xact_id_if_assigned() IS NOT NULL")):
        yield None
        return
    async with engine.connect() as reader, engine.connect() as searcher:
        yield (
            await reader.execution_options(isolation_level="AUTOCOMMIT"),
            await searcher.execution_options(isolation_level="AUTOCOMMIT"),
        )


# A chunk of open jobs (rows of the rescore's query), and the condition selecting its jobs.
Chunk = tuple[Sequence[Any], ColumnElement[bool]]
# A chunk's jobs planned, with the descriptions found that may hold keywords they want.
_Fetched = tuple[list["_Job"], dict[Any, str]]
_Planned = tuple[list["_Job"], ColumnElement[bool]]


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


async def _page_range_chunks(
    connection: AsyncConnection, query: Select[Any]
) -> AsyncIterator[Chunk]:
    """Open jobs in ranges of the jobs table's pages holding about RESCORE_CHUNK jobs each
    (PostgreSQL), read on `connection`. Each range is read from its own pages only, as is
    each range's look at descriptions; ids are random UUIDs, so a range of ids would span every
    page. Rows come as the driver gives them: SQLAlchemy's making of result rows was about a
    third of this process's work in a rescore."""
    size: Any = (
        await connection.execute(
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
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    for first in range(0, pages + 1, step):
        # Pages [first, first + step); the last range is open-ended, for rows added meanwhile.
        pages_from = _PAGES_FROM.bindparams(first=f"({first},0)")
        if first + step > pages:
            within = and_(pages_from)
        else:
            within = and_(pages_from, _PAGES_BEFORE.bindparams(end=f"({first + step},0)"))
        statement = query.where(within).compile(dialect=connection.dialect)
        rows = await driver.fetch(
            str(statement), *(statement.params[name] for name in statement.positiontup or ())
        )
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
        self._staging = False  # whether the temporary tables of new scores exist
        self._staged_outcomes: dict[tuple[float, str], int] = {}  # outcomes there, their ids
        # PostgreSQL: apply each chunk's scores as it is written (while connections beside the
        # session read and search the next chunks), rather than all at once in `finish`.
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
        """Write back new scores and details (PostgreSQL: stage them, and apply them now or in
        `finish`)."""
        if not changed:
            return
        connection = await self.session.connection()
        if self.dialect == "sqlite":
            # Plain tuples to the driver: no per-row parameter building on the way.
            rows = [(score, details_json, target) for target, score, details_json in changed]
            await connection.exec_driver_sql(_WRITE_SQLITE, rows)
            return
        if not self._staging:
            for statement in _CREATE_STAGING:
                await connection.exec_driver_sql(statement)
            self._staging = True
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        ids = self._staged_outcomes
        records, new_outcomes = [], []
        for target, score, details_json in changed:
            outcome = ids.get((score, details_json))
            if outcome is None:
                outcome = ids[score, details_json] = len(ids)
                new_outcomes.append((outcome, score, details_json))
            records.append((target, outcome))
        if new_outcomes:
            await driver.copy_records_to_table(_OUTCOMES, records=new_outcomes)
        await driver.copy_records_to_table(_RESCORED, records=records)
        if self.apply_each_chunk:
            await connection.exec_driver_sql(_APPLY_STAGED)
            await connection.exec_driver_sql(_CLEAR_STAGED_JOBS)

    async def finish(self) -> None:
        """Apply the scores staged by `write` (PostgreSQL)."""
        if self._staging:
            connection = await self.session.connection()
            if not self.apply_each_chunk:
                await connection.exec_driver_sql(_APPLY_STAGED)
            await connection.exec_driver_sql(_DROP_STAGING)
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


async def abandon(*calls: asyncio.Future[Any] | None) -> None:
    """Let database calls still running on a session finish, ignoring their outcome, so the
    session is free again when the work beside them failed. (Cancelling one instead would leave
    its connection invalid mid-statement.)"""
    await asyncio.gather(*(call for call in calls if call is not None), return_exceptions=True)
