"""Export everything the person owns as one JSON document, and import such a document back.

Export reads columns with Core statements (no ORM objects), so 100,000 jobs stay cheap. Import
validates the whole document, checks its references against the database, and only then
upserts, in batches, inside the caller's one transaction: any failure leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import base64
import re
import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import to_json
from sqlalchemy import (
    ColumnElement,
    FromClause,
    Table,
    delete,
    event,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from app.config import settings
from app.errors import InvalidInput, PayloadTooLarge
from app.models import (
    Application,
    ApplicationLog,
    Education,
    Job,
    JobBoard,
    JobScore,
    UserProfile,
    WorkExperience,
)
from app.models.base import utcnow
from app.schemas.portability import (
    FORMAT,
    VERSION,
    ApplicationLogRecord,
    ApplicationRecord,
    BoardRecord,
    EducationRecord,
    ExportDocument,
    ImportCounts,
    JobRecord,
    ProfileRecord,
    WorkExperienceRecord,
)
from app.services import resume_storage

_T = TypeVar("_T")

# Rows per INSERT: well under both backends' bound-parameter limits at ~27 columns a row.
BATCH_SIZE = 500
MAX_DOCUMENT_BYTES = 512 * 1024 * 1024
# Field errors listed in a 422 at most, so a wholly wrong file still gets a small answer.
MAX_REPORTED_ERRORS = 50

# A JSON `\u0000` escape (an odd run of backslashes before it): PostgreSQL cannot store NUL in
# text or JSONB, so such a document is refused on every backend, keeping exports portable.
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")

_PROFILE_TABLE: Table = UserProfile.__table__  # type: ignore[assignment]
_EDUCATION_TABLE: Table = Education.__table__  # type: ignore[assignment]
_EXPERIENCE_TABLE: Table = WorkExperience.__table__  # type: ignore[assignment]
_BOARD_TABLE: Table = JobBoard.__table__  # type: ignore[assignment]
_JOB_TABLE: Table = Job.__table__  # type: ignore[assignment]
_SCORE_TABLE: Table = JobScore.__table__  # type: ignore[assignment]
# A job record's fields kept in job_scores rather than jobs.
_SCORE_FIELDS = ("match_score", "match_details")
_APPLICATION_TABLE: Table = Application.__table__  # type: ignore[assignment]
_LOG_TABLE: Table = ApplicationLog.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    filename: str


# --- export ---------------------------------------------------------------------------------


async def export_document(session: AsyncSession) -> ExportFile:
    """Everything the person owns as one JSON document (scan history is left out)."""
    exported_at = utcnow()
    applications = await _rows(session, _APPLICATION_TABLE, ApplicationRecord, "created_at")
    logs: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for log in await _rows(session, _LOG_TABLE, ApplicationLogRecord, "timestamp"):
        logs[log["application_id"]].append(log)
    for application in applications:
        application["logs"] = logs.get(application["id"], [])
    document = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": exported_at,
        "profile": await _export_profile(session),
        "boards": await _rows(session, _BOARD_TABLE, BoardRecord, "created_at"),
        "jobs": await _rows(session, _JOB_TABLE, JobRecord, "created_at", scores=True),
        "applications": applications,
    }
    return ExportFile(
        content=to_json(document), filename=f"hunter-export-{exported_at:%Y%m%d}.json"
    )


async def _rows(
    session: AsyncSession,
    table: Table,
    record: type[BaseModel],
    order_by: str,
    *where: ColumnElement[bool],
    scores: bool = False,
) -> list[dict[str, Any]]:
    """The columns `record` carries, as plain dicts: no ORM objects for large tables. With
    `scores`, the rows are jobs and their score fields come from job_scores."""
    columns = [table.c[name] for name in record.model_fields if name in table.c]
    source: FromClause = table
    if scores:
        columns += [_SCORE_TABLE.c[name] for name in _SCORE_FIELDS]
        source = table.join(_SCORE_TABLE, _SCORE_TABLE.c.job_id == table.c.id)
    statement = (
        select(*columns).select_from(source).where(*where).order_by(table.c[order_by], table.c.id)
    )
    result = await session.execute(statement)
    return [dict(row) for row in result.mappings()]


async def _export_profile(session: AsyncSession) -> dict[str, Any] | None:
    table = _PROFILE_TABLE
    columns = [table.c[name] for name in ProfileRecord.model_fields if name in table.c]
    statement = select(
        *columns, table.c.resume_path, table.c.resume_filename, table.c.resume_content_type
    ).order_by(table.c.created_at, table.c.id)
    row = (await session.execute(statement.limit(1))).mappings().first()
    if row is None:
        return None
    profile = dict(row)
    stored_name = profile.pop("resume_path")
    filename = profile.pop("resume_filename")
    content_type = profile.pop("resume_content_type")
    profile["education"] = await _rows(
        session,
        _EDUCATION_TABLE,
        EducationRecord,
        "created_at",
        _EDUCATION_TABLE.c.profile_id == profile["id"],
    )
    profile["work_experience"] = await _rows(
        session,
        _EXPERIENCE_TABLE,
        WorkExperienceRecord,
        "created_at",
        _EXPERIENCE_TABLE.c.profile_id == profile["id"],
    )
    profile["resume"] = await _export_resume(stored_name, filename, content_type)
    return profile


async def _export_resume(
    stored_name: str | None, filename: str | None, content_type: str | None
) -> dict[str, str] | None:
    if not stored_name:
        return None
    path = resume_storage.path_of(stored_name)
    if path is None:
        return None
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError:
        # The file was removed behind Hunter's back: export the rest rather than fail.
        return None
    return {
        "filename": filename or path.name,
        "content_type": content_type or "",
        "data_base64": base64.b64encode(data).decode("ascii"),
    }


# --- import: reading and checking -----------------------------------------------------------


def parse_document(raw: bytes | bytearray) -> ExportDocument:
    """Validate a whole export document; InvalidInput (422) names what is wrong."""
    if b"\\u0000" in raw and _NUL_ESCAPE.search(raw):
        raise InvalidInput(
            "The document contains a NUL character (\\u0000), which Hunter cannot store"
        )
    try:
        return ExportDocument.model_validate_json(raw)
    except ValidationError as exc:
        raise _invalid_document(exc) from None


def _invalid_document(exc: ValidationError) -> InvalidInput:
    problems = exc.errors(include_url=False, include_context=False, include_input=False)
    if problems and problems[0]["type"] == "json_invalid":
        return InvalidInput(f"The document is not valid JSON: {problems[0]['msg']}")
    errors = [
        {
            "field": ".".join(str(part) for part in problem["loc"]) or "document",
            "message": problem["msg"].removeprefix("Value error, "),
        }
        for problem in problems[:MAX_REPORTED_ERRORS]
    ]
    summary = "; ".join(f"{error['field']}: {error['message']}" for error in errors[:5])
    if len(problems) > 5:
        summary += f" (and {len(problems) - 5} more)"
    return InvalidInput(f"Not a valid Hunter export: {summary}", extra={"errors": errors})


async def _existing_ids(
    session: AsyncSession, table: Table, ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    for batch in _batched(list(ids)):
        result = await session.execute(select(table.c.id).where(table.c.id.in_(batch)))
        found.update(result.scalars())
    return found


async def _check_boards_known(session: AsyncSession, document: ExportDocument) -> None:
    outside = {job.board_id for job in document.jobs} - {board.id for board in document.boards}
    missing = outside - await _existing_ids(session, _BOARD_TABLE, outside)
    if not missing:
        return
    errors = [
        {
            "field": f"jobs.{index}.board_id",
            "message": f"board {job.board_id} is neither in the document nor in Hunter",
        }
        for index, job in enumerate(document.jobs)
        if job.board_id in missing
    ]
    raise InvalidInput(
        f"{len(errors)} job(s) belong to a board that is neither in the document nor in "
        f"Hunter, first {errors[0]['field']}: {errors[0]['message']}",
        extra={"errors": errors[:MAX_REPORTED_ERRORS]},
    )


async def _jobs_stored_elsewhere(
    session: AsyncSession, jobs: list[JobRecord]
) -> dict[uuid.UUID, uuid.UUID]:
    """Imported job id → id of the stored job that already holds the same dedup_hash."""
    merged: dict[uuid.UUID, uuid.UUID] = {}
    for batch in _batched(jobs):
        statement = select(_JOB_TABLE.c.dedup_hash, _JOB_TABLE.c.id).where(
            _JOB_TABLE.c.dedup_hash.in_([job.dedup_hash for job in batch])
        )
        holders: dict[str, uuid.UUID] = dict((await session.execute(statement)).all())
        for job in batch:
            holder = holders.get(job.dedup_hash)
            if holder is not None and holder != job.id:
                merged[job.id] = holder
    return merged


async def _job_links(
    session: AsyncSession, document: ExportDocument, merged: dict[uuid.UUID, uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """Where each job an application names ends up; jobs found nowhere are left out."""
    in_document = {job.id for job in document.jobs}
    named = {app.job_id for app in document.applications if app.job_id is not None}
    links = {job_id: merged.get(job_id, job_id) for job_id in named & in_document}
    elsewhere = named - in_document
    links.update((job_id, job_id) for job_id in await _existing_ids(session, _JOB_TABLE, elsewhere))
    return links


# --- import: writing ------------------------------------------------------------------------


async def import_document(session: AsyncSession, document: ExportDocument) -> ImportCounts:
    """Upsert a validated document by id; importing the same document twice changes nothing.

    Every check runs before the first write. A job whose dedup_hash another stored job
    already holds is merged into that job, and applications follow it there.
    """
    profile = document.profile
    if profile and profile.resume and len(profile.resume.data) > settings.max_upload_bytes:
        raise PayloadTooLarge(
            f"The resume in the document is larger than the {settings.max_upload_mb} MB limit "
            "(MAX_UPLOAD_MB)"
        )
    await _check_boards_known(session, document)
    merged = await _jobs_stored_elsewhere(session, document.jobs)
    links = await _job_links(session, document, merged)

    if profile is not None:
        await _import_profile(session, profile)
    boards = await _upsert(
        session,
        _BOARD_TABLE,
        (
            {
                **board.model_dump(exclude={"scraper_config"}),
                "scraper_config": board.stored_config(),
            }
            for board in document.boards
        ),
    )
    imported = [job for job in document.jobs if job.id not in merged]
    jobs = await _upsert(
        session, _JOB_TABLE, (job.model_dump(exclude=set(_SCORE_FIELDS)) for job in imported)
    )
    await _upsert(
        session,
        _SCORE_TABLE,
        (
            {
                "job_id": job.id,
                **job.model_dump(include=set(_SCORE_FIELDS)),
                "visible": not job.is_hidden and job.closed_at is None,
            }
            for job in imported
        ),
        key="job_id",
    )
    applications = await _upsert(
        session,
        _APPLICATION_TABLE,
        (
            {
                **app.model_dump(exclude={"logs"}),
                "job_id": links.get(app.job_id) if app.job_id else None,
            }
            for app in document.applications
        ),
    )
    logs = await _upsert(
        session,
        _LOG_TABLE,
        (
            {**log.model_dump(), "application_id": app.id}
            for app in document.applications
            for log in app.logs
        ),
    )
    return ImportCounts(
        profile=profile is not None,
        boards=boards,
        jobs=jobs,
        applications=applications,
        application_logs=logs,
    )


async def _upsert(
    session: AsyncSession, table: Table, rows: Iterable[dict[str, Any]], key: str = "id"
) -> int:
    """Insert `rows`, updating every column of those whose `key` is already stored."""
    dialect = session.get_bind().dialect.name
    make_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    written = 0
    for batch in _batched(rows):
        statement = make_insert(table)
        names = [name for name in batch[0] if name != key]
        statement = statement.on_conflict_do_update(
            index_elements=[table.c[key]],
            set_={name: statement.excluded[name] for name in names},
            # Rows already as in the document are left alone: a repeated import rewrites
            # (and re-indexes for search) only what changed.
            where=or_(
                *(table.c[name].is_distinct_from(statement.excluded[name]) for name in names)
            ),
        )
        await session.execute(statement, batch)
        written += len(batch)
    return written


async def _import_profile(session: AsyncSession, record: ProfileRecord) -> None:
    """Merge into the one stored profile (keeping its id); education and work are replaced."""
    table = _PROFILE_TABLE
    current = (
        await session.execute(
            select(table.c.id, table.c.resume_path)
            .order_by(table.c.created_at, table.c.id)
            .limit(1)
        )
    ).first()
    values = record.model_dump(exclude={"id", "education", "work_experience", "resume"})
    if (resume := record.resume) is not None:
        stored = await asyncio.to_thread(resume_storage.store_bytes, resume.data, resume.filename)
        stored_name = stored.storage_name
        _replace_file_on_commit(session, new=stored_name, old=current[1] if current else None)
        values.update(
            resume_path=stored_name,
            resume_filename=resume.filename,
            resume_content_type=resume.content_type,
        )
    if current is None:
        profile_id = record.id
        await session.execute(insert(table).values(id=profile_id, **values))
    else:
        profile_id = current[0]
        await session.execute(update(table).where(table.c.id == profile_id).values(**values))

    children: list[tuple[Table, list[EducationRecord] | list[WorkExperienceRecord]]] = [
        (_EDUCATION_TABLE, record.education),
        (_EXPERIENCE_TABLE, record.work_experience),
    ]
    for child, items in children:
        ids = [item.id for item in items]
        await session.execute(
            delete(child).where(or_(child.c.profile_id == profile_id, child.c.id.in_(ids)))
        )
        if items:
            rows = [{**item.model_dump(), "profile_id": profile_id} for item in items]
            await session.execute(insert(child), rows)


def _replace_file_on_commit(session: AsyncSession, *, new: str, old: str | None) -> None:
    """Remove the old resume once the import is committed, or the new one if it is not."""
    settled = False

    def remove(stored_name: str | None) -> None:
        nonlocal settled
        if not settled and stored_name:
            resume_storage.delete(stored_name)
        settled = True

    def after_commit(sync_session: Session) -> None:
        if sync_session.get_nested_transaction() is None:  # the outermost transaction
            remove(old)

    def after_soft_rollback(_: Session, previous: SessionTransaction) -> None:
        if not previous.nested:
            remove(new)

    event.listen(session.sync_session, "after_commit", after_commit)
    event.listen(session.sync_session, "after_soft_rollback", after_soft_rollback)


def _batched(items: Iterable[_T]) -> Iterator[list[_T]]:
    batch: list[_T] = []
    for item in items:
        batch.append(item)
        if len(batch) == BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch
