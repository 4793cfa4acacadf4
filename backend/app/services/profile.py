"""The person's profile: the one row, its updates, its resume record, education and experience."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.errors import InvalidInput, NotFound
from app.models import Education, UserProfile, WorkExperience
from app.schemas.profile import (
    EducationCreate,
    EducationUpdate,
    ProfileUpdate,
    WorkExperienceCreate,
    WorkExperienceUpdate,
)
from app.services import resume_storage

Child = TypeVar("Child", Education, WorkExperience)

# Changing any of these changes how well jobs match, so jobs need rescoring.
MATCHING_FIELDS = frozenset(
    {"desired_title", "desired_locations", "remote_preference", "min_salary", "skills"}
)


def matching_preferences(profile: UserProfile) -> tuple[Any, ...]:
    """The profile's values of MATCHING_FIELDS: equal values score every listing alike."""
    return tuple(getattr(profile, name) for name in sorted(MATCHING_FIELDS))


@dataclass(frozen=True)
class ResumeFile:
    """A stored resume, ready to be sent back to the person."""

    path: Path
    filename: str
    content_type: str


async def get_profile(session: AsyncSession) -> UserProfile:
    """The profile with its education and experience loaded; created empty on first use."""
    statement = (
        select(UserProfile)
        .options(selectinload(UserProfile.education), selectinload(UserProfile.work_experience))
        # Oldest first: should two first requests race and create two rows, both keep
        # answering with the same one.
        .order_by(UserProfile.created_at, UserProfile.id)
        .limit(1)
        # Reload the children even if the row is already in the session, so a list changed
        # earlier in the same session is never served stale.
        .execution_options(populate_existing=True)
    )
    profile = (await session.scalars(statement)).first()
    if profile is None:
        profile = UserProfile(education=[], work_experience=[], skills=[])
        session.add(profile)
        await session.flush()
    return profile


async def update_profile(session: AsyncSession, changes: ProfileUpdate) -> tuple[UserProfile, bool]:
    """Apply the fields the client sent; also say whether a field that affects matching changed."""
    profile = await get_profile(session)
    values: dict[str, Any] = changes.model_dump(exclude_unset=True)
    # Both columns are NOT NULL: null means "no preference" and "no skills".
    if "remote_preference" in values and values["remote_preference"] is None:
        values["remote_preference"] = "any"
    if "skills" in values and values["skills"] is None:
        values["skills"] = []
    matching_changed = False
    for name, value in values.items():
        if getattr(profile, name) != value:
            matching_changed = matching_changed or name in MATCHING_FIELDS
            setattr(profile, name, value)
    await session.flush()
    return profile, matching_changed


async def attach_resume(
    session: AsyncSession, stored: resume_storage.StoredResume
) -> tuple[UserProfile, str | None]:
    """Point the profile at a newly stored resume; return the name of the file it replaces.

    The caller deletes the replaced file once the change is committed, so a failed request
    never leaves the profile pointing at a deleted file.
    """
    try:
        profile = await get_profile(session)
        replaced = profile.resume_path
        profile.resume_path = stored.storage_name
        profile.resume_filename = stored.filename
        profile.resume_content_type = stored.content_type
        await session.flush()
    except BaseException:
        resume_storage.delete(stored.storage_name)
        raise
    return profile, replaced


async def find_resume(session: AsyncSession) -> ResumeFile:
    """The stored resume file, or NotFound if none was uploaded or the file has gone missing."""
    profile = await get_profile(session)
    path = resume_storage.path_of(profile.resume_path)
    if path is None:
        raise NotFound("No resume has been uploaded yet")
    if not path.is_file():
        raise NotFound("The resume file is missing from the upload directory; upload it again")
    return ResumeFile(
        path=path,
        filename=profile.resume_filename or path.name,
        content_type=profile.resume_content_type or resume_storage.PDF,
    )


async def detach_resume(session: AsyncSession) -> str:
    """Forget the resume; return the stored file's name so the caller can delete it."""
    profile = await get_profile(session)
    if profile.resume_path is None:
        raise NotFound("No resume has been uploaded yet")
    stored = profile.resume_path
    profile.resume_path = profile.resume_filename = profile.resume_content_type = None
    await session.flush()
    return stored


def _find_child(items: list[Child], item_id: uuid.UUID, kind: str) -> Child:
    for item in items:
        if item.id == item_id:
            return item
    raise NotFound(f"No {kind} entry with id {item_id}")


async def add_education(session: AsyncSession, body: EducationCreate) -> Education:
    profile = await get_profile(session)
    education = Education(**body.model_dump())
    profile.education.append(education)
    await session.flush()
    return education


async def update_education(
    session: AsyncSession, education_id: uuid.UUID, body: EducationUpdate
) -> Education:
    profile = await get_profile(session)
    education = _find_child(profile.education, education_id, "education")
    for name, value in body.model_dump(exclude_unset=True).items():
        setattr(education, name, value)
    await session.flush()
    return education


async def delete_education(session: AsyncSession, education_id: uuid.UUID) -> None:
    profile = await get_profile(session)
    profile.education.remove(_find_child(profile.education, education_id, "education"))
    await session.flush()


def _check_period(start: str | None, end: str | None) -> None:
    # Both are "YYYY-MM", so comparing the strings compares the months.
    if start and end and end != "present" and end < start:
        raise InvalidInput(f"end_date {end} is before start_date {start}")


async def add_experience(session: AsyncSession, body: WorkExperienceCreate) -> WorkExperience:
    _check_period(body.start_date, body.end_date)
    profile = await get_profile(session)
    experience = WorkExperience(**body.model_dump())
    profile.work_experience.append(experience)
    await session.flush()
    return experience


async def update_experience(
    session: AsyncSession, experience_id: uuid.UUID, body: WorkExperienceUpdate
) -> WorkExperience:
    profile = await get_profile(session)
    experience = _find_child(profile.work_experience, experience_id, "work experience")
    changes = body.model_dump(exclude_unset=True)
    _check_period(
        changes.get("start_date", experience.start_date),
        changes.get("end_date", experience.end_date),
    )
    for name, value in changes.items():
        setattr(experience, name, value)
    await session.flush()
    return experience


async def delete_experience(session: AsyncSession, experience_id: uuid.UUID) -> None:
    profile = await get_profile(session)
    profile.work_experience.remove(
        _find_child(profile.work_experience, experience_id, "work experience")
    )
    await session.flush()
