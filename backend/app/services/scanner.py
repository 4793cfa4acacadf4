"""Storing what a scan found: filter, deduplicate, insert, update, close and score, in bulk.

`store_listings` is the storing half of the scan pipeline (SPEC §4); the orchestration (leases,
ScanRun rows, events) calls it inside its own transaction. Its cost is a handful of statements
per scan whatever the number of listings: one UPDATE ... RETURNING marks the stored rows seen
and reads what deciding about them needs (their keys travel as one parameter), new rows are
inserted and changed rows rewritten with one executemany per chunk. Nothing is read or written
one job at a time, and a listing seen again unchanged costs two hashes (computed while the
database looks it up) and no normalising, scoring or rewriting.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from sqlalchemy import (
    JSON,
    CursorResult,
    String,
    any_,
    bindparam,
    column,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.memory import collector_paused
from app.models import Job, JobBoard, JobScore
from app.models.base import utcnow
from app.scrapers.base import RawJob
from app.services.keywords import KeywordFinder
from app.services.listing_identity import CONTENT_FIELDS, ListingIdentity, content_hash
from app.services.matcher import Matcher
from app.services.profile import get_profile, matching_preferences
from app.services.rescoring import abandon, board_matcher
from app.services.search_vectors import JOBS_WITH_VECTOR, VectorSource, vector_source

JOBS = Job.metadata.tables["jobs"]
SCORES = JobScore.metadata.tables["job_scores"]
# Keys (or rows) per statement. Keys travel as one parameter (a JSON array on SQLite, an array
# on PostgreSQL), so this only bounds memory: SQLite keeps the pages a statement changes in a
# statement journal (in memory) until it ends, a few MB for 2,000 rows.
CHUNK = {"sqlite": 2_000, "postgresql": 20_000}
# New rows per INSERT: at most one "insertmanyvalues" batch, so each write is one round trip.
INSERT_CHUNK = 900
MAX_LENGTH = {
    column.name: column.type.length
    for column in JOBS.columns
    if isinstance(column.type, String) and column.type.length
}
OPTIONAL = frozenset(column.name for column in JOBS.columns if column.nullable)
_T = TypeVar("_T")


@dataclass(frozen=True)
class StoreOutcome:
    """What storing one scan's listings did (the counts a ScanRun records)."""

    found: int  # listings after the keyword filter, in-scan duplicates counted once
    new: int  # rows inserted
    updated: int  # stored listings whose content changed, or that were closed and came back
    closed: int  # listings of this board missing from a complete scan
    new_job_ids: list[uuid.UUID]  # the inserted rows, in the order the source listed them
    # The profile's matching preferences the new and changed listings were scored with.
    scored_with: tuple[Any, ...] = field(default=(), compare=False)


@dataclass(slots=True)
class _Seen:
    """One listing of this scan: what the source said, under which identity and content."""

    listing: RawJob
    company: str
    dedup_hash: str
    content_hash: str  # hashed while the database looks up the known listings
    posted_date: datetime | None


@dataclass(slots=True)
class _Stored:
    """The little of a stored row a re-scan needs to decide what to do with it."""

    content_hash: str | None
    closed_at: datetime | None
    posted_date: datetime | None
    backfill: bool = False  # stored without a content hash, found unchanged: record the hash


async def store_listings(
    session: AsyncSession,
    board: JobBoard,
    listings: Sequence[RawJob],
    *,
    complete: bool,
    now: datetime | None = None,
) -> StoreOutcome:
    """Store one scan of `board`: insert new listings, update known ones, close vanished ones.

    - Keeps listings matching at least one of `board.keyword_filters` as a whole word
      (case-insensitive, title + description); no filters keeps all. A stored listing the
      filter now drops is still on the source: it is marked seen, neither updated nor closed.
    - A listing is identified by its source id (namespaced by source) or its canonical URL;
      the same listing twice in `listings` is stored once (the first wins), and a retried scan
      (or one racing another scan) never creates a duplicate: inserts skip any `dedup_hash`
      already stored and such listings are handled as known ones.
    - A known listing gets `last_seen_at = now`; if its content changed it is rewritten and
      rescored, and if it was closed it is reopened (both count as `updated`). A posted date
      only counts as a change when it moves earlier (relative dates drift later by themselves).
      `is_new` and `is_hidden` belong to the person and are never touched.
    - `complete=True` (the source returned its whole list) closes this board's open listings
      not seen by this scan; `complete=False` closes nothing.
    - New and changed listings are scored with the profile's preferences plus the board's
      keyword filters. Descriptions are stored as given; the company falls back to the board's
      name; text too long for its column is cut to fit; a listing without a title is skipped.

    Runs inside the caller's transaction: it executes statements but never commits. `now` is
    the scan's moment (default: the current time).
    """
    with collector_paused():  # bulk work: see app.memory
        await session.flush()  # the board (and anything else pending) must exist before its jobs
        storer = _Storer(session, board, now or utcnow())
        profile = await get_profile(session)
        storer.matcher = board_matcher(profile, board.keyword_filters)
        seen, filtered_out = storer.identify(listings)
        # The database finds (and marks seen) the known listings while their contents are hashed.
        loading = asyncio.ensure_future(storer.load(list(seen)))
        try:
            for listing in seen.values():
                listing.content_hash = content_hash(listing.listing, listing.company)
        except BaseException:
            await abandon(loading)
            raise
        stored = await loading
        await storer.compare_unhashed(stored, seen)

        new_job_ids, conflicts = await storer.insert(
            [s for key, s in seen.items() if key not in stored]
        )
        if conflicts:  # inserted by another scan since we looked: known listings after all
            stored.update(await storer.load(conflicts))
            await storer.compare_unhashed(stored, seen)

        rewrites: list[tuple[dict[str, Any], dict[str, Any]]] = []
        backfills: list[dict[str, Any]] = []
        for key, row in stored.items():
            listing = seen[key]
            if _changed(row, listing):
                rewrites.append(storer.rewrite_values(row, listing))
            elif row.backfill:
                backfills.append({"_key": key, "content_hash": listing.content_hash})
        await storer.rewrite(rewrites)
        await storer.touch(filtered_out, backfills)
        closed = await storer.close_unseen() if complete else 0
        return StoreOutcome(
            found=len(seen),
            new=len(new_job_ids),
            updated=len(rewrites),
            closed=closed,
            new_job_ids=new_job_ids,
            scored_with=matching_preferences(profile),
        )


class _Storer:
    """The statements of one `store_listings` call, sharing its board, moment and matcher."""

    def __init__(self, session: AsyncSession, board: JobBoard, now: datetime) -> None:
        self.session = session
        self.board = board
        self.now = now
        dialect = session.get_bind().dialect.name
        # Rows whose dedup_hash is in the `keys` parameter, a single parameter however many
        # keys: an array on PostgreSQL, a JSON array on SQLite (an IN list there would be
        # rendered into the SQL key by key, and is capped at 999 values on older builds).
        self.with_key = (
            JOBS.c.dedup_hash == any_(bindparam("keys", type_=postgresql.ARRAY(String)))
            if dialect == "postgresql"
            else JOBS.c.dedup_hash.in_(
                select(column("value")).select_from(func.json_each(bindparam("keys", type_=JSON)))
            )
        )
        self.chunk = CHUNK.get(dialect, CHUNK["sqlite"])
        self.make_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        self.identity = ListingIdentity(board.id, board.url, board.scraper_config or {})
        self.matcher: Matcher | None = None
        # Being seen again is not a change to the listing: updated_at stays.
        self.seen_now = {"last_seen_at": now, "updated_at": JOBS.c.updated_at}

    def identify(self, listings: Sequence[RawJob]) -> tuple[dict[str, _Seen], list[str]]:
        """The listings to store keyed by dedup_hash, and the dedup hashes of those the
        keyword filter dropped."""
        keep = KeywordFinder(self.board.keyword_filters or ())
        seen: dict[str, _Seen] = {}
        filtered_out: list[str] = []
        for listing in listings:
            if not listing.title.strip():
                continue
            company = listing.company or ""
            company = company if company.strip() else self.board.name
            key = self.identity.dedup_hash(listing, company)
            if keep and not keep.search(listing.title, listing.description):
                filtered_out.append(key)
            elif key not in seen:
                seen[key] = _Seen(listing, company, key, "", _utc(listing.posted_date))
        return seen, filtered_out

    async def load(self, keys: list[str]) -> dict[str, _Stored]:
        """The stored rows holding these dedup hashes (any board's: a listing is stored once),
        marked seen now as they are read."""
        stored: dict[str, _Stored] = {}
        query = (
            update(JOBS)
            .where(self.with_key)
            .values(self.seen_now)
            .returning(JOBS.c.dedup_hash, JOBS.c.content_hash, JOBS.c.closed_at, JOBS.c.posted_date)
        )
        for chunk in _chunks(keys, self.chunk):
            for key, *row in await self.session.execute(query, {"keys": chunk}):
                stored[key] = _Stored(*row)
        return stored

    async def compare_unhashed(self, stored: dict[str, _Stored], seen: dict[str, _Seen]) -> None:
        """Rows written without a content hash (imported ones) are compared column by column;
        those found unchanged get their hash recorded."""
        unhashed = [key for key, row in stored.items() if row.content_hash is None]
        columns = [JOBS.c.dedup_hash, *(JOBS.c[name] for name in CONTENT_FIELDS)]
        query = select(*columns).where(self.with_key)
        for keys in _chunks(unhashed, self.chunk):
            for key, *values in await self.session.execute(query, {"keys": keys}):
                listing = self._values(seen[key])
                if values == [listing[name] for name in CONTENT_FIELDS]:
                    stored[key].content_hash = seen[key].content_hash
                    stored[key].backfill = True

    def _values(self, seen: _Seen) -> dict[str, Any]:
        """The listing as the job's content columns hold it."""
        listing = seen.listing
        return {
            "title": _fit(listing.title, "title"),
            "company": _fit(seen.company, "company"),
            "location": _fit(listing.location, "location"),
            "url": _fit(listing.url, "url"),
            # Descriptions are stored as given; only NUL, which PostgreSQL text cannot hold, goes.
            "description": listing.description.replace("\x00", ""),
            "external_id": _fit(listing.external_id, "external_id"),
            "salary_min": listing.salary_min,
            "salary_max": listing.salary_max,
            "salary_currency": _fit(listing.salary_currency, "salary_currency"),
            "salary_period": _fit(listing.salary_period, "salary_period"),
            "workplace_type": listing.workplace_type or "unknown",
            "employment_type": _fit(listing.employment_type, "employment_type"),
            "department": _fit(listing.department, "department"),
        }

    def _scored_values(self, seen: _Seen) -> tuple[dict[str, Any], dict[str, Any]]:
        """The listing's job columns, and its score columns."""
        assert self.matcher is not None
        values = self._values(seen)
        result = self.matcher.score(
            values["title"], values["description"], values["location"], values["workplace_type"]
        )
        values.update(dedup_hash=seen.dedup_hash, content_hash=seen.content_hash)
        return values, {"match_score": result.score, "match_details": result.details}

    async def insert(self, listings: list[_Seen]) -> tuple[list[uuid.UUID], list[str]]:
        """Insert new listings, skipping any whose dedup_hash is stored by now; return the ids
        inserted (in order) and the dedup hashes skipped."""
        async with vector_source(self.session, len(listings)) as source:
            return await self._insert(listings, source)

    async def _insert(
        self, listings: list[_Seen], source: VectorSource | None
    ) -> tuple[list[uuid.UUID], list[str]]:
        shared = {
            "board_id": self.board.id,
            "first_seen_at": self.now,
            "last_seen_at": self.now,
            "created_at": self.now,
            "updated_at": self.now,
            "is_new": True,
            "is_hidden": False,
        }
        table = JOBS if source is None else JOBS_WITH_VECTOR
        statement = (
            self.make_insert(table)
            .values({name: self._as_stored(name, value) for name, value in shared.items()})
            .on_conflict_do_nothing(index_elements=[table.c.dedup_hash])
            .returning(table.c.dedup_hash)
        )
        ids = {seen.dedup_hash: uuid.uuid4() for seen in listings}
        inserted: set[str] = set()
        writing: asyncio.Future[list[str]] | None = None
        vectoring: asyncio.Future[list[bytes]] | None = None
        try:
            for chunk in _chunks(listings, INSERT_CHUNK):
                # Normalise and score this chunk while the database stores the previous one
                # (SQLite works in its own thread, PostgreSQL in its own process) and, with a
                # vector source, parses this one's text on its other connection.
                rows: list[dict[str, Any]] = []
                scores: dict[str, dict[str, Any]] = {}
                for seen in chunk:
                    values, score = self._scored_values(seen)
                    job_id = ids[seen.dedup_hash]
                    rows.append({**values, "id": job_id, "posted_date": seen.posted_date})
                    # New listings are neither hidden nor closed: their scores are visible.
                    scores[seen.dedup_hash] = {**score, "job_id": job_id, "visible": True}
                if vectoring is not None:
                    await vectoring  # the source's connection is free again
                vectoring = asyncio.ensure_future(source.vectors(rows)) if source else None
                if writing is not None:
                    inserted.update(await writing)
                writing = asyncio.ensure_future(self._write_new(statement, rows, scores, vectoring))
                await asyncio.sleep(0)  # let the write reach the database before scoring on
            if writing is not None:
                inserted.update(await writing)
        except BaseException:
            await abandon(vectoring)
            await abandon(writing)
            raise
        new_ids = [job_id for key, job_id in ids.items() if key in inserted]
        return new_ids, [key for key in ids if key not in inserted]

    async def _write_new(
        self,
        statement: Any,
        rows: list[dict[str, Any]],
        scores: dict[str, dict[str, Any]],
        vectors: asyncio.Future[list[bytes]] | None,
    ) -> list[str]:
        """Insert one chunk of new jobs (with their search vectors, once computed, if a source
        computes them), then the scores of those inserted; return their keys."""
        if vectors is not None:
            for row, vector in zip(rows, await vectors, strict=True):
                row["description_tsv"] = vector
        inserted = list((await self.session.execute(statement, rows)).scalars())
        if inserted:
            await self.session.execute(insert(SCORES), [scores[key] for key in inserted])
        return inserted

    def _as_stored(self, column: str, value: Any) -> Any:
        """A value every new row shares. For SQLite it is converted to what the column stores
        once, here, rather than once per row (a third of the insert's Python time otherwise);
        PostgreSQL's driver takes values as they are."""
        dialect = self.session.get_bind().dialect
        if dialect.name != "sqlite":
            return value
        convert = JOBS.c[column].type.dialect_impl(dialect).bind_processor(dialect)
        return literal(convert(value) if convert else value)

    def rewrite_values(self, row: _Stored, seen: _Seen) -> tuple[dict[str, Any], dict[str, Any]]:
        values, score = self._scored_values(seen)
        values["_key"] = values.pop("dedup_hash")
        values["posted_date"] = _earliest(row.posted_date, seen.posted_date)
        score["_key"] = values["_key"]
        return values, score

    async def rewrite(self, rewrites: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
        """Write changed (or reopened) listings and their new scores back, one executemany per
        chunk each."""
        statement = (
            update(JOBS)
            .where(JOBS.c.dedup_hash == bindparam("_key"))
            .values(last_seen_at=self.now, closed_at=None, updated_at=self.now)
        )
        job_id = select(JOBS.c.id).where(JOBS.c.dedup_hash == bindparam("_key"))
        rescore = update(SCORES).where(SCORES.c.job_id == job_id.scalar_subquery())
        for chunk in _chunks(rewrites, self.chunk):
            await self.session.execute(statement, [values for values, _ in chunk])
            await self.session.execute(rescore, [score for _, score in chunk])

    async def touch(self, filtered_out: list[str], backfills: list[dict[str, Any]]) -> None:
        """Mark open listings the keyword filter dropped seen now (they are still on the
        source); record the content hashes found for rows stored without one."""
        touch = update(JOBS).where(self.with_key, JOBS.c.closed_at.is_(None)).values(self.seen_now)
        for chunk in _chunks(filtered_out, self.chunk):
            await self.session.execute(touch, {"keys": chunk})
        statement = update(JOBS).where(JOBS.c.dedup_hash == bindparam("_key"))
        for batch in _chunks(backfills, self.chunk):
            await self.session.execute(statement.values(self.seen_now), batch)

    async def close_unseen(self) -> int:
        """Close this board's open listings that this (complete) scan did not see."""
        result = await self.session.execute(
            update(JOBS)
            .where(
                JOBS.c.board_id == self.board.id,
                JOBS.c.closed_at.is_(None),
                JOBS.c.last_seen_at < self.now,
            )
            .values(closed_at=self.now, updated_at=self.now)
        )
        return cast("CursorResult[Any]", result).rowcount


def _changed(row: _Stored, seen: _Seen) -> bool:
    """Whether a stored listing needs rewriting: reopened, new content, or a more exact date."""
    return (
        row.closed_at is not None
        or row.content_hash != seen.content_hash
        or _earlier(seen.posted_date, row.posted_date)
    )


def _earlier(new: datetime | None, stored: datetime | None) -> bool:
    """Whether a posted date moved earlier. Relative dates ("Posted 30+ Days Ago") only ever
    drift later as days pass, so a later date is not news; an earlier one is more exact."""
    return new is not None and (stored is None or new < stored)


def _earliest(stored: datetime | None, new: datetime | None) -> datetime | None:
    return new if _earlier(new, stored) else stored


def _utc(moment: datetime | None) -> datetime | None:
    # Scrapers give aware UTC dates; a naive one is taken as UTC rather than failing to compare.
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


def _fit(value: str | None, column: str) -> Any:
    """`value` trimmed and cut to its column; empty optional text becomes NULL."""
    if value is None:
        return None
    value = value.strip()
    if "\x00" in value:
        value = value.replace("\x00", "")
    limit = MAX_LENGTH[column]
    if len(value) > limit:
        value = value[:limit]
    return value if value or column not in OPTIONAL else None


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
