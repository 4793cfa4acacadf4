"""Applications the person made, and the activity trail of each."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import Base
from app.models.base import Timestamps, UTCDateTime, UUIDPrimaryKey, utcnow


class ApplicationStatus(StrEnum):
    applied = "applied"
    interviewing = "interviewing"
    offered = "offered"
    rejected = "rejected"
    withdrawn = "withdrawn"
    archived = "archived"


class AppliedVia(StrEnum):
    manual = "manual"
    extension = "extension"


class Application(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "applications"
    __table_args__ = (
        Index("ix_applications_job_id", "job_id"),
        Index("ix_applications_status", "status"),
        Index("ix_applications_applied_at", "applied_at"),
        Index("ix_applications_follow_up_at", "follow_up_at"),
    )

    # Deleting a job (or its board) never deletes an application: the link is cleared and the
    # application keeps its own copy of the company, title and url.
    job_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("jobs.id", ondelete="SET NULL")
    )
    company: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    title: Mapped[str] = mapped_column(String(500), default="", nullable=False)
    url: Mapped[str] = mapped_column(String(2048), default="", nullable=False)
    status: Mapped[str] = mapped_column(
        String(16), default=ApplicationStatus.applied, nullable=False
    )
    notes: Mapped[str] = mapped_column(Text, default="", nullable=False)
    applied_via: Mapped[str] = mapped_column(String(16), default=AppliedVia.manual, nullable=False)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    follow_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    logs: Mapped[list[ApplicationLog]] = relationship(
        back_populates="application",
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ApplicationLog.timestamp",
    )


class ApplicationLog(UUIDPrimaryKey, Base):
    __tablename__ = "application_logs"
    __table_args__ = (
        Index("ix_application_logs_application_id", "application_id"),
        Index("ix_application_logs_timestamp", "timestamp"),
    )

    application_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("applications.id", ondelete="CASCADE"), nullable=False
    )
    action: Mapped[str] = mapped_column(String(50), nullable=False)
    details: Mapped[str] = mapped_column(Text, default="", nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    application: Mapped[Application] = relationship(back_populates="logs", lazy="raise")
