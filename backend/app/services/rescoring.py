"""Scores from the person's profile: the matcher for one board, and rescoring every open job.

A board's matcher uses the profile's preferences plus the board's keyword filters as keywords
(SPEC §5), so the same listing can score differently on two boards with different filters.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Row,
    String,
    Uuid,
    bindparam,
    literal_column,
    select,
    type_coerce,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Job, JobBoard, UserProfile
from app.services.matcher import Matcher, Preferences
from app.services.profile import get_profile

JOBS = Job.metadata.tables["jobs"]
# Jobs read (and written back) per round trip: large enough to amortise each statement, small
# enough that a chunk of 1-3 KB descriptions stays a few MB.
RESCORE_CHUNK = 5_000
# key, board id, title, description, location, workplace type
_Page = Sequence[Row[Any, Any, str, str, str, str]]


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


async def rescore_open_jobs(session: AsyncSession) -> int:
    """Score every open job again from the current profile; return how many were scored.

    Run after a profile change that affects matching. Reads only the columns the matcher needs,
    a chunk at a time (keyset pagination), scores each chunk with its board's matcher and writes
    it back with one executemany; the database reads the next chunk and writes the last one
    while this one is scored. Closed jobs keep their old score (a job that reopens is scored by
    the scan that reopens it). Never commits.
    """
    profile = await get_profile(session)
    sqlite = session.get_bind().dialect.name == "sqlite"
    # SQLite pages by rowid: the table's storage order, so reading is sequential and a write
    # finds its row without a second index. PostgreSQL pages by primary key.
    key: ColumnElement[Any] = literal_column("jobs.rowid", Integer) if sqlite else JOBS.c.id
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
            type_coerce(JOBS.c.board_id, as_stored),
            JOBS.c.title,
            JOBS.c.description,
            JOBS.c.location,
            JOBS.c.workplace_type,
        )
        .where(JOBS.c.closed_at.is_(None))
        .order_by(key)
        .limit(RESCORE_CHUNK)
    )
    # Keeps updated_at: a new score is not a change to the listing itself.
    write = (
        update(JOBS)
        .where(key == bindparam("_key", type_=key.type))
        .values(updated_at=JOBS.c.updated_at)
    )

    async def write_then_read(changes: list[dict[str, Any]], after: Any) -> _Page:
        if changes:
            await session.execute(write, changes)
        page = query if after is None else query.where(key > after)
        return (await session.execute(page)).all()

    scored = 0
    changes: list[dict[str, Any]] = []
    rows = await write_then_read(changes, None)
    while rows:
        upcoming = asyncio.ensure_future(write_then_read(changes, rows[-1][0]))
        await asyncio.sleep(0)  # let the database start on it before scoring
        try:
            changes = _score(rows, matchers)
        except BaseException:
            await abandon(upcoming)
            raise
        scored += len(changes)
        rows = await upcoming
    if changes:
        await session.execute(write, changes)
    return scored


def _score(rows: _Page, matchers: dict[Any, Matcher]) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = []
    for row_key, board_id, title, description, location, workplace in rows:
        matcher = matchers.get(board_id)
        if matcher is None:  # a board created since this rescore began scores its own jobs
            continue
        result = matcher.score(title, description, location, workplace)
        changes.append(
            {"_key": row_key, "match_score": result.score, "match_details": result.details}
        )
    return changes


async def abandon(call: asyncio.Future[Any] | None) -> None:
    """Let a database call still running on a session finish, ignoring its outcome, so the
    session is free again when the work beside it failed. (Cancelling it instead would leave
    the connection invalid mid-statement.)"""
    if call is not None:
        await asyncio.gather(call, return_exceptions=True)
