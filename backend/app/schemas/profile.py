"""Wire format of /api/profile: the profile, its education and work history, and their bodies.

The field names and shapes follow the seed's wire contract; `github_url`, `city`, `region`,
`country`, `skills`, `summary`, `resume_content_type` and `resume_uploaded` are Hunter's additions.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StrictBool,
    StringConstraints,
    field_validator,
    model_validator,
)

from app.models import UserProfile
from app.schemas.common import RequestModel, ResponseModel

RemotePreference = Literal["remote", "hybrid", "onsite", "any"]

# Keys a client gets from GET and may send straight back with PUT; they are silently ignored.
PROFILE_READ_ONLY_FIELDS = frozenset(
    {
        "id",
        "created_at",
        "updated_at",
        "education",
        "work_experience",
        "resume_filename",
        "resume_content_type",
        "resume_uploaded",
    }
)
_CHILD_READ_ONLY_FIELDS = frozenset({"id", "created_at", "updated_at"})
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def _blank_to_none(value: Any) -> Any:
    """An empty form field means "not set": store null rather than ""."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _check_email(value: str) -> str:
    local, at, domain = value.partition("@")
    sane = (
        at
        and local
        and "@" not in domain
        and "." in domain.strip(".")
        and not domain.startswith(".")
        and not domain.endswith(".")
        and not any(c.isspace() for c in value)
    )
    if not sane:
        raise ValueError("must be an email address like name@example.com")
    return value


def _check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL")
    if any(c.isspace() for c in value):
        raise ValueError("must not contain spaces")
    return value


def _check_month(value: str) -> str:
    if not _MONTH.fullmatch(value):
        raise ValueError("must be a month as YYYY-MM, e.g. 2021-04")
    return value


def _check_end_month(value: str) -> str:
    if value.lower() == "present":
        return "present"
    if not _MONTH.fullmatch(value):
        raise ValueError('must be a month as YYYY-MM, or "present"')
    return value


def _number_to_text(value: Any) -> Any:
    # Some clients send a GPA as a number (3.8); the wire type is a string.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return _blank_to_none(value)


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


_Blank = BeforeValidator(_blank_to_none)
Text50 = Annotated[Annotated[str, StringConstraints(max_length=50)] | None, _Blank]
Text100 = Annotated[Annotated[str, StringConstraints(max_length=100)] | None, _Blank]
Text200 = Annotated[Annotated[str, StringConstraints(max_length=200)] | None, _Blank]
Text5000 = Annotated[Annotated[str, StringConstraints(max_length=5000)] | None, _Blank]
Text10000 = Annotated[Annotated[str, StringConstraints(max_length=10_000)] | None, _Blank]
Text20000 = Annotated[Annotated[str, StringConstraints(max_length=20_000)] | None, _Blank]
Email = Annotated[
    Annotated[str, StringConstraints(max_length=320), AfterValidator(_check_email)] | None, _Blank
]
Url = Annotated[
    Annotated[str, StringConstraints(max_length=2048), AfterValidator(_check_url)] | None, _Blank
]
Salary = Annotated[Annotated[int, Field(ge=0, le=10_000_000)] | None, _Blank]
Skill = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Name300 = Annotated[str, StringConstraints(min_length=1, max_length=300)]
Gpa = Annotated[
    Annotated[str, StringConstraints(max_length=20)] | None, BeforeValidator(_number_to_text)
]
Year = Annotated[int, Field(ge=1900, le=2100)] | None
StartMonth = Annotated[Annotated[str, AfterValidator(_check_month)] | None, _Blank]
EndMonth = Annotated[Annotated[str, AfterValidator(_check_end_month)] | None, _Blank]


def _drop_keys(data: Any, keys: frozenset[str]) -> Any:
    if isinstance(data, dict):
        return {key: value for key, value in data.items() if key not in keys}
    return data


def _require(model: RequestModel, *names: str) -> None:
    """On partial updates, a required field may be left out but not set to null."""
    for name in names:
        if name in model.model_fields_set and getattr(model, name) is None:
            raise ValueError(f"{name} cannot be empty")


class EducationResponse(ResponseModel):
    id: uuid.UUID
    school: str
    degree: str | None
    field_of_study: str | None
    gpa: str | None
    graduation_year: int | None


class WorkExperienceResponse(ResponseModel):
    id: uuid.UUID
    company: str
    title: str
    start_date: str | None = Field(description='"YYYY-MM"')
    end_date: str | None = Field(description='"YYYY-MM" or "present"')
    description: str | None


class ProfileResponse(ResponseModel):
    id: uuid.UUID
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    linkedin_url: str | None
    website_url: str | None
    us_citizen: bool | None
    sponsorship_needed: bool | None
    veteran_status: str | None
    disability_status: str | None
    gender: str | None
    ethnicity: str | None
    resume_filename: str | None = Field(description="The uploaded resume's original filename")
    cover_letter_template: str | None
    desired_title: str | None
    desired_locations: str | None = Field(description='Comma-separated, e.g. "Berlin, Remote"')
    min_salary: int | None
    remote_preference: RemotePreference
    education: list[EducationResponse]
    work_experience: list[WorkExperienceResponse]
    created_at: datetime
    updated_at: datetime
    github_url: str | None
    city: str | None
    region: str | None
    country: str | None
    skills: list[str]
    summary: str | None
    resume_content_type: str | None
    resume_uploaded: bool

    @classmethod
    def from_profile(cls, profile: UserProfile) -> ProfileResponse:
        """Build from a profile whose education and work experience are loaded."""
        columns = {
            name: getattr(profile, name)
            for name in cls.model_fields
            if name not in ("education", "work_experience", "resume_uploaded")
        }
        return cls(
            **columns,
            education=[EducationResponse.model_validate(e) for e in profile.education],
            work_experience=[
                WorkExperienceResponse.model_validate(w) for w in profile.work_experience
            ],
            # The stored file's generated name is internal; clients only learn that one exists.
            resume_uploaded=profile.resume_path is not None,
        )


class ProfileUpdate(RequestModel):
    """Any subset of the profile's fields; a field left out keeps its value, "" clears it."""

    first_name: Text100 = None
    last_name: Text100 = None
    email: Email = None
    phone: Text50 = None
    linkedin_url: Url = None
    website_url: Url = None
    github_url: Url = None
    city: Text200 = None
    region: Text200 = None
    country: Text200 = None
    us_citizen: StrictBool | None = None
    sponsorship_needed: StrictBool | None = None
    veteran_status: Text100 = None
    disability_status: Text100 = None
    gender: Text100 = None
    ethnicity: Text100 = None
    cover_letter_template: Text20000 = None
    desired_title: Text200 = None
    desired_locations: Annotated[str | None, _Blank] = Field(
        default=None, description='Comma-separated, e.g. "Berlin, Remote"'
    )
    min_salary: Salary = None
    remote_preference: Annotated[RemotePreference | None, BeforeValidator(_lower), _Blank] = Field(
        default=None, description="remote, hybrid, onsite or any (null means any)"
    )
    skills: list[Skill] | None = Field(default=None, max_length=100)
    summary: Text5000 = None

    @model_validator(mode="before")
    @classmethod
    def _ignore_read_only(cls, data: Any) -> Any:
        # A client may PUT back the whole object it got from GET.
        return _drop_keys(data, PROFILE_READ_ONLY_FIELDS)

    @field_validator("desired_locations")
    @classmethod
    def _normalize_locations(cls, value: str | None) -> str | None:
        if value is None:
            return None
        places = [place.strip() for place in value.split(",")]
        joined = ", ".join(place for place in places if place)
        if len(joined) > 1000:
            raise ValueError("must be at most 1000 characters")
        return joined or None

    @field_validator("skills")
    @classmethod
    def _dedupe_skills(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        seen: set[str] = set()
        unique = []
        for skill in value:
            if skill.casefold() not in seen:
                seen.add(skill.casefold())
                unique.append(skill)
        return unique


class EducationCreate(RequestModel):
    school: Name300
    degree: Text200 = None
    field_of_study: Text200 = None
    gpa: Gpa = Field(default=None, description='A string, e.g. "3.8/4.0"')
    graduation_year: Year = None

    @model_validator(mode="before")
    @classmethod
    def _ignore_read_only(cls, data: Any) -> Any:
        return _drop_keys(data, _CHILD_READ_ONLY_FIELDS)


class EducationUpdate(RequestModel):
    """Any subset of an education entry's fields."""

    school: Name300 | None = None
    degree: Text200 = None
    field_of_study: Text200 = None
    gpa: Gpa = None
    graduation_year: Year = None

    @model_validator(mode="before")
    @classmethod
    def _ignore_read_only(cls, data: Any) -> Any:
        return _drop_keys(data, _CHILD_READ_ONLY_FIELDS)

    @model_validator(mode="after")
    def _school_stays(self) -> EducationUpdate:
        _require(self, "school")
        return self


class WorkExperienceCreate(RequestModel):
    company: Name300
    title: Name300
    start_date: StartMonth = Field(default=None, description='"YYYY-MM"')
    end_date: EndMonth = Field(default=None, description='"YYYY-MM", or "present"')
    description: Text10000 = None

    @model_validator(mode="before")
    @classmethod
    def _ignore_read_only(cls, data: Any) -> Any:
        return _drop_keys(data, _CHILD_READ_ONLY_FIELDS)


class WorkExperienceUpdate(RequestModel):
    """Any subset of a work experience entry's fields."""

    company: Name300 | None = None
    title: Name300 | None = None
    start_date: StartMonth = None
    end_date: EndMonth = None
    description: Text10000 = None

    @model_validator(mode="before")
    @classmethod
    def _ignore_read_only(cls, data: Any) -> Any:
        return _drop_keys(data, _CHILD_READ_ONLY_FIELDS)

    @model_validator(mode="after")
    def _names_stay(self) -> WorkExperienceUpdate:
        _require(self, "company", "title")
        return self
