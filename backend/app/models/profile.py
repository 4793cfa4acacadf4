"""The person's profile (exactly one row), with their education and work history."""

from __future__ import annotations

import uuid

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import Base
from app.models.base import JSONType, Timestamps, UUIDPrimaryKey


class UserProfile(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "user_profiles"

    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(50))
    linkedin_url: Mapped[str | None] = mapped_column(String(2048))
    website_url: Mapped[str | None] = mapped_column(String(2048))
    github_url: Mapped[str | None] = mapped_column(String(2048))
    city: Mapped[str | None] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(200))

    us_citizen: Mapped[bool | None] = mapped_column(Boolean)
    sponsorship_needed: Mapped[bool | None] = mapped_column(Boolean)
    veteran_status: Mapped[str | None] = mapped_column(String(100))
    disability_status: Mapped[str | None] = mapped_column(String(100))
    gender: Mapped[str | None] = mapped_column(String(100))
    ethnicity: Mapped[str | None] = mapped_column(String(100))

    # The resume is stored under a generated name; the person's own filename is only shown.
    resume_path: Mapped[str | None] = mapped_column(String(200))
    resume_filename: Mapped[str | None] = mapped_column(String(255))
    resume_content_type: Mapped[str | None] = mapped_column(String(100))
    cover_letter_template: Mapped[str | None] = mapped_column(Text)

    desired_title: Mapped[str | None] = mapped_column(String(200))
    desired_locations: Mapped[str | None] = mapped_column(String(1000))
    remote_preference: Mapped[str] = mapped_column(String(16), default="any", nullable=False)
    min_salary: Mapped[int | None] = mapped_column(Integer)
    skills: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    summary: Mapped[str | None] = mapped_column(Text)

    education: Mapped[list[Education]] = relationship(
        back_populates="profile",
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Education.created_at",
    )
    work_experience: Mapped[list[WorkExperience]] = relationship(
        back_populates="profile",
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="WorkExperience.created_at",
    )


class Education(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "education"

    profile_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("user_profiles.id", ondelete="CASCADE"), nullable=False, index=True
    )
    school: Mapped[str] = mapped_column(String(300), nullable=False)
    degree: Mapped[str | None] = mapped_column(String(200))
    field_of_study: Mapped[str | None] = mapped_column(String(200))
    gpa: Mapped[str | None] = mapped_column(String(20))
    graduation_year: Mapped[int | None] = mapped_column(Integer)

    profile: Mapped[UserProfile] = relationship(back_populates="education", lazy="raise")


class WorkExperience(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "work_experience"

    profile_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("user_profiles.id", ondelete="CASCADE"), nullable=False, index=True
    )
    company: Mapped[str] = mapped_column(String(300), nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    start_date: Mapped[str | None] = mapped_column(String(7))
    end_date: Mapped[str | None] = mapped_column(String(7))
    description: Mapped[str | None] = mapped_column(Text)

    profile: Mapped[UserProfile] = relationship(back_populates="work_experience", lazy="raise")
