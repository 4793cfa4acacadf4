"""/api/profile endpoints: the profile, the resume file, education and work experience."""

from __future__ import annotations

import unicodedata
import uuid
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, BackgroundTasks, Request, Response, status
from fastapi.responses import FileResponse

from app.api.deps import RescorerDep, SessionDep
from app.api.errors import ErrorResponse
from app.schemas.profile import (
    EducationCreate,
    EducationResponse,
    EducationUpdate,
    ProfileResponse,
    ProfileUpdate,
    WorkExperienceCreate,
    WorkExperienceResponse,
    WorkExperienceUpdate,
)
from app.services import profile as profiles
from app.services import resume_storage

router = APIRouter(tags=["profile"])

_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [resume_storage.FIELD_NAME],
                    "properties": {
                        resume_storage.FIELD_NAME: {
                            "type": "string",
                            "format": "binary",
                            "description": "The resume, as a PDF or a Word .docx file",
                        }
                    },
                }
            }
        },
    }
}
_UPLOAD_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Malformed multipart body"},
    413: {"model": ErrorResponse, "description": "Larger than MAX_UPLOAD_MB"},
    415: {"model": ErrorResponse, "description": "Neither a PDF nor a .docx document"},
}
_DOWNLOAD_CONTENT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The resume file, as uploaded",
        "content": {resume_storage.PDF: {}, resume_storage.DOCX: {}},
    }
}


def _attachment(filename: str) -> str:
    """A Content-Disposition value: an ASCII fallback name, plus the real name per RFC 5987."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    fallback = "".join(c if c.isprintable() and c not in '"\\' else "_" for c in ascii_name)
    fallback = fallback.strip() or "resume"
    if fallback == filename:
        return f'attachment; filename="{filename}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.get("/profile", response_model=ProfileResponse)
async def read_profile(session: SessionDep) -> ProfileResponse:
    """Your profile: contact details, work authorization, EEO answers, job preferences,
    education and work experience. It is created, empty, the first time it is asked for."""
    return ProfileResponse.from_profile(await profiles.get_profile(session))


@router.put("/profile", response_model=ProfileResponse)
async def update_profile(
    body: ProfileUpdate, session: SessionDep, background: BackgroundTasks, rescore: RescorerDep
) -> ProfileResponse:
    """Change any subset of the profile's fields; fields left out keep their values.

    An empty string clears a text field. `desired_locations` is comma-separated
    ("Berlin, Remote"). The whole object from `GET /api/profile` may be sent back as is: its
    read-only keys (`id`, timestamps, `education`, `work_experience`, the resume fields) are
    ignored; any other unknown key is rejected with 422.
    """
    profile, preferences_changed = await profiles.update_profile(session, body)
    if preferences_changed:
        # After the response, so after the commit: every open listing is rescored against
        # the preferences just saved.
        background.add_task(rescore)
    return ProfileResponse.from_profile(profile)


@router.post(
    "/profile/resume",
    response_model=ProfileResponse,
    openapi_extra=_UPLOAD_BODY,
    responses=_UPLOAD_ERRORS,
)
async def upload_resume(
    request: Request, session: SessionDep, background: BackgroundTasks
) -> ProfileResponse:
    """Upload your resume as multipart form field `file`: a PDF or a Word .docx file, at most
    MAX_UPLOAD_MB (10 MB unless configured). The type is judged by the file's content, not its
    name. A new upload replaces the previous resume. Returns the updated profile."""
    # The body is read here rather than by FastAPI so the size cap applies while it streams in.
    resume_storage.check_declared_size(request.headers.get("content-length"))
    stored = await resume_storage.receive(request.headers.get("content-type"), request.stream())
    profile, replaced = await profiles.attach_resume(session, stored)
    # Background tasks run after the response, hence after the commit: the old file is only
    # deleted once the profile no longer points at it.
    if replaced:
        background.add_task(resume_storage.delete, replaced)
    return ProfileResponse.from_profile(profile)


@router.get("/profile/resume", response_class=FileResponse, responses=_DOWNLOAD_CONTENT)
async def download_resume(session: SessionDep) -> FileResponse:
    """Download the uploaded resume under its original filename. 404 if there is none."""
    resume = await profiles.find_resume(session)
    return FileResponse(
        resume.path,
        media_type=resume.content_type,
        headers={
            "Content-Disposition": _attachment(resume.filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


@router.delete("/profile/resume", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def delete_resume(session: SessionDep, background: BackgroundTasks) -> Response:
    """Remove the uploaded resume. 404 if there is none."""
    stored = await profiles.detach_resume(session)
    background.add_task(resume_storage.delete, stored)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/profile/education", response_model=EducationResponse, status_code=status.HTTP_201_CREATED
)
async def add_education(body: EducationCreate, session: SessionDep) -> EducationResponse:
    """Add a school, degree or course to the profile. Only `school` is required."""
    return EducationResponse.model_validate(await profiles.add_education(session, body))


@router.put("/profile/education/{education_id}", response_model=EducationResponse)
async def update_education(
    education_id: uuid.UUID, body: EducationUpdate, session: SessionDep
) -> EducationResponse:
    """Change any subset of an education entry's fields."""
    education = await profiles.update_education(session, education_id, body)
    return EducationResponse.model_validate(education)


@router.delete(
    "/profile/education/{education_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
)
async def delete_education(education_id: uuid.UUID, session: SessionDep) -> Response:
    """Remove an education entry."""
    await profiles.delete_education(session, education_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/profile/experience",
    response_model=WorkExperienceResponse,
    status_code=status.HTTP_201_CREATED,
)
async def add_experience(body: WorkExperienceCreate, session: SessionDep) -> WorkExperienceResponse:
    """Add a job to the work history. `company` and `title` are required; dates are "YYYY-MM",
    and `end_date` may be "present"."""
    return WorkExperienceResponse.model_validate(await profiles.add_experience(session, body))


@router.put("/profile/experience/{experience_id}", response_model=WorkExperienceResponse)
async def update_experience(
    experience_id: uuid.UUID, body: WorkExperienceUpdate, session: SessionDep
) -> WorkExperienceResponse:
    """Change any subset of a work experience entry's fields."""
    experience = await profiles.update_experience(session, experience_id, body)
    return WorkExperienceResponse.model_validate(experience)


@router.delete(
    "/profile/experience/{experience_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
)
async def delete_experience(experience_id: uuid.UUID, session: SessionDep) -> Response:
    """Remove a work experience entry."""
    await profiles.delete_experience(session, experience_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
