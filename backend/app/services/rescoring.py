"""Scores from the person's profile: the matcher for one board, and rescoring every open job.

A board's matcher uses the profile's preferences plus the board's keyword filters as keywords
(SPEC §5), so the same listing can score differently on two boards with different filters.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    LargeBinary,
    String,
    Text,
    Uuid,
    bindparam,
    cast,
    false,
    func,
    literal_column,
    or_,
    select,
    text,
    true,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Job, JobBoard, JobScore, UserProfile
from app.services.keywords import KeywordFinder
from app.services.matcher import Matcher, Preferences
from app.services.profile import get_profile

JOBS = Job.metadata.tables["jobs"]
SCORES = JobScore.metadata.tables["job_scores"]
# Open jobs with their scores.
SCORED_JOBS = SCORES.join(JOBS, JOBS.c.id == SCORES.c.job_id)
# Jobs read (and written back) per statement: large enough to amortise each statement, small
# enough that the descriptions a chunk needs read stay a few MB.
RESCORE_CHUNK = 20_000
# Distinct outcomes remembered at most (each a few hundred bytes of details).
_OUTCOMES_KEPT = 10_000

# Writing a chunk's new scores: only the narrow job_scores rows; the jobs table (and its
# `updated_at`: a new score is not a change to the listing) is left alone. PostgreSQL takes the
# chunk as one JSON array of [job id, score, details], one statement and no per-row parameters;
# SQLite, in process, runs one prepared UPDATE per row by rowid (~4x cheaper than unpacking JSON).
_WRITE_POSTGRESQL = text(
    """UPDATE job_scores SET match_score = CAST(c.value ->> 1 AS float8),
    match_details = CAST(c.value -> 2 AS jsonb)
    FROM json_array_elements(CAST(:changes AS json)) AS c(value)
    WHERE job_scores.job_id = CAST(c.value ->> 0 AS uuid)"""
).bindparams(bindparam("changes", type_=Text))
_WRITE_SQLITE = text(
    "UPDATE job_scores SET match_score = :score, match_details = :details WHERE rowid = :target"
)


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

    details: Any
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
    score: float
    before: _Scored
    found: set[str]
    wanted: frozenset[str]  # keywords still to look for in its title and description


async def rescore_open_jobs(session: AsyncSession) -> int:
    """Score every open job again from the current profile; return how many were scored.

    Run after a profile change that affects matching. A job's stored details say which of the
    keywords it was last scored against it contains (they were found in its current text: a
    scan rescores every listing whose content changes), so only keywords new since then are
    looked for, and only in descriptions the database finds holding them at all. Only changed
    scores are written back, with one statement per chunk. Closed jobs keep their old score
    (a job that reopens is scored by the scan that reopens it). Never commits.
    """
    profile = await get_profile(session)
    dialect = session.get_bind().dialect.name
    sqlite = dialect == "sqlite"
    # SQLite pages by the jobs' rowid: the table's storage order, so reading is sequential,
    # and writes each score row by its own rowid (no second index). PostgreSQL pages by
    # primary key and writes by job id.
    key: ColumnElement[Any] = literal_column("jobs.rowid", Integer) if sqlite else JOBS.c.id
    target: ColumnElement[Any] = (
        literal_column("job_scores.rowid", Integer) if sqlite else SCORES.c.job_id
    )
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
            SCORES.c.match_score,
            cast(SCORES.c.match_details, Text),
        )
        .select_from(SCORED_JOBS)
        .where(JOBS.c.closed_at.is_(None))
        .order_by(key)
        .limit(RESCORE_CHUNK)
    )
    rescorer = _Rescorer(session, key, matchers)
    scored = 0
    after: Any = None
    while True:
        page = query if after is None else query.where(key > after)
        rows = (await session.execute(page)).all()
        if not rows:
            return scored
        after = rows[-1][0]
        jobs = rescorer.plan(rows)
        await rescorer.find_keywords(jobs, rows[0][0], after)
        await rescorer.write(jobs)
        scored += len(jobs)


class _Rescorer:
    """The work of one rescore, sharing its matchers and what it learned along the way."""

    def __init__(
        self, session: AsyncSession, key: ColumnElement[Any], matchers: dict[Any, Matcher]
    ) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name
        self.key = key
        self.matchers = matchers
        self._before: dict[str, _Scored] = {}
        self._finders: dict[frozenset[str], KeywordFinder] = {}
        # Listings share titles, places and keyword results: each outcome is worked out once.
        self._outcomes: dict[tuple[Any, ...], tuple[float, Any, str]] = {}

    def plan(self, rows: Sequence[Any]) -> list[_Job]:
        """The open jobs of one chunk with what is known of their keywords already."""
        jobs: list[_Job] = []
        for row_key, target, board_id, title, location, workplace, score, details in rows:
            matcher = self.matchers.get(board_id)
            if matcher is None:  # a board created since this rescore began scores its own jobs
                continue
            before = self._scored(details)
            asked = frozenset(matcher.keywords)
            if before.independent and matcher.independent_keywords:
                found = set(before.matched & asked)
                wanted = asked - before.checked
            else:
                found, wanted = set(), asked
            job = _Job(
                row_key, target, matcher, title, location, workplace, score, before, found, wanted
            )
            jobs.append(job)
        return jobs

    def _scored(self, details: str | None) -> _Scored:
        known = self._before.get(details or "")
        if known is None:
            known = self._before[details or ""] = _parse_scored(details)
        return known

    async def find_keywords(self, jobs: list[_Job], first: Any, last: Any) -> None:
        """Look for each job's wanted keywords in its title and (when the database finds any
        of them there) its description."""
        searching = {job.key: job for job in jobs if job.wanted}
        if not searching:
            return
        descriptions: dict[Any, str] = {}
        wanted = frozenset().union(*(job.wanted for job in searching.values()))
        query = select(self.key, JOBS.c.description).where(
            JOBS.c.closed_at.is_(None),
            self.key >= first,
            self.key <= last,
            self._may_hold(wanted),
        )
        for row_key, description in await self.session.execute(query):
            if row_key in searching:
                descriptions[row_key] = description
        for row_key, job in searching.items():
            finder = self._finders.get(job.wanted)
            if finder is None:
                finder = self._finders[job.wanted] = KeywordFinder(job.wanted)
            description = descriptions.get(row_key)
            text_ = job.title if description is None else f"{job.title}\n{description}"
            job.found |= finder.find(text_)

    def _may_hold(self, keywords: frozenset[str]) -> ColumnElement[bool]:
        """Descriptions that may hold one of `keywords`: any holding one of them once
        lower-cased, and any with non-ASCII text (whose case the matcher folds further)."""
        description = JOBS.c.description
        if not all(keyword.isascii() for keyword in keywords):
            return true()
        if self.dialect == "postgresql":
            lowered = func.lower(description.collate("C"))
            non_ascii = func.octet_length(description) != func.char_length(description)
            holds = [func.strpos(lowered, keyword) > 0 for keyword in sorted(keywords)]
        else:
            lowered = func.lower(description)
            non_ascii = func.length(description) != func.length(cast(description, LargeBinary))
            holds = [func.instr(lowered, keyword) > 0 for keyword in sorted(keywords)]
        return or_(false(), non_ascii, *holds)

    async def write(self, jobs: list[_Job]) -> None:
        """Write back the scores (and details) that changed."""
        changed = [
            (job, score, details_json)
            for job in jobs
            for score, details, details_json in [self._outcome(job)]
            if score != job.score or details != job.before.details
        ]
        if not changed:
            return
        if self.dialect == "sqlite":
            rows = [
                {"score": score, "details": details_json, "target": job.target}
                for job, score, details_json in changed
            ]
            await self.session.execute(_WRITE_SQLITE, rows)
            return
        changes = ",".join(
            f'["{job.target}",{score!r},{details_json}]' for job, score, details_json in changed
        )
        await self.session.execute(_WRITE_POSTGRESQL, {"changes": f"[{changes}]"})

    def _outcome(self, job: _Job) -> tuple[float, Any, str]:
        """The job's new score, details and details as JSON."""
        found = frozenset(job.found)
        facets = job.matcher.facets(job.title, job.location, job.workplace_type)
        outcome_key = (id(job.matcher), found, *facets)
        outcome = self._outcomes.get(outcome_key)
        if outcome is None:
            result = job.matcher.score_facets(found, *facets)
            outcome = (result.score, result.details, json.dumps(result.details))
            if len(self._outcomes) >= _OUTCOMES_KEPT:
                self._outcomes.clear()
            self._outcomes[outcome_key] = outcome
        return outcome


def _parse_scored(details: str | None) -> _Scored:
    try:
        parsed = json.loads(details) if details else {}
    except ValueError:
        parsed = None
    matched = parsed.get("keywords_matched") if isinstance(parsed, dict) else None
    missing = parsed.get("keywords_missing") if isinstance(parsed, dict) else None
    if not isinstance(matched, list) or not isinstance(missing, list):
        return _Scored(parsed, frozenset(), frozenset(), True)
    if not all(isinstance(word, str) for word in (*matched, *missing)):
        return _Scored(parsed, frozenset(), frozenset(), False)
    checked = frozenset(missing).union(matched)
    # Keywords are stored as the matcher keeps them (trimmed, lower case); anything else was
    # not written by it and is looked for again.
    plain = all(word == word.strip().lower() for word in checked)
    independent = plain and KeywordFinder(checked).independent
    return _Scored(parsed, frozenset(matched), checked, independent)


async def abandon(call: asyncio.Future[Any] | None) -> None:
    """Let a database call still running on a session finish, ignoring its outcome, so the
    session is free again when the work beside it failed. (Cancelling it instead would leave
    the connection invalid mid-statement.)"""
    if call is not None:
        await asyncio.gather(call, return_exceptions=True)
