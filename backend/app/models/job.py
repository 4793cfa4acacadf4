"""Job listings found on boards."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import Base
from app.models.base import JSONType, Timestamps, UTCDateTime, UUIDPrimaryKey, utcnow

if TYPE_CHECKING:
    from app.models.board import JobBoard

# Listings a person sees by default: not hidden by them, not closed on the source.
VISIBLE = text("is_hidden = false AND closed_at IS NULL")
# Listings still open on their board, hidden or not.
OPEN = text("closed_at IS NULL")


class WorkplaceType(StrEnum):
    remote = "remote"
    hybrid = "hybrid"
    onsite = "onsite"
    unknown = "unknown"


class Job(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_board_id", "board_id"),
        # List pages sort by (created_at, id) or (match_score, id): read in index order, a page
        # needs no sort of every visible listing (id breaks ties, so paging is stable).
        Index(
            "ix_jobs_visible_created_id",
            "created_at",
            "id",
            postgresql_where=VISIBLE,
            sqlite_where=VISIBLE,
        ),
        Index(
            "ix_jobs_visible_score_id",
            "match_score",
            "id",
            postgresql_where=VISIBLE,
            sqlite_where=VISIBLE,
        ),
        Index(
            "ix_jobs_visible_posted", "posted_date", postgresql_where=VISIBLE, sqlite_where=VISIBLE
        ),
        # The dashboard counts open listings per board, new listings and listings found per day
        # from these alone, never reading the table with its descriptions. The WHERE columns
        # are in the keys too: SQLite only answers from an index that holds every column the
        # query names, the partial index's own condition included.
        Index(
            "ix_jobs_open_board",
            "board_id",
            "closed_at",
            postgresql_where=OPEN,
            sqlite_where=OPEN,
        ),
        Index(
            "ix_jobs_visible_new",
            "is_new",
            "is_hidden",
            "closed_at",
            postgresql_where=VISIBLE,
            sqlite_where=VISIBLE,
        ),
        Index("ix_jobs_first_seen", "first_seen_at"),
    )

    board_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("job_boards.id", ondelete="CASCADE"), nullable=False
    )
    title: Mapped[str] = mapped_column(String(500), nullable=False)
    company: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    location: Mapped[str] = mapped_column(String(500), default="", nullable=False)
    url: Mapped[str] = mapped_column(String(2048), default="", nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)

    salary_min: Mapped[float | None] = mapped_column(Float)
    salary_max: Mapped[float | None] = mapped_column(Float)
    salary_currency: Mapped[str | None] = mapped_column(String(8))
    salary_period: Mapped[str | None] = mapped_column(String(16))

    match_score: Mapped[float] = mapped_column(Float, default=0.0, nullable=False)
    match_details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)

    dedup_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    # SHA-256 of the listing's content fields (app/services/listing_identity.py), so a re-scan
    # spots changes without reading descriptions back; NULL when written by something else.
    content_hash: Mapped[str | None] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(300))
    posted_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    workplace_type: Mapped[str] = mapped_column(
        String(16), default=WorkplaceType.unknown, nullable=False
    )
    employment_type: Mapped[str | None] = mapped_column(String(100))
    department: Mapped[str | None] = mapped_column(String(300))

    is_new: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    is_hidden: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)

    board: Mapped[JobBoard] = relationship(back_populates="jobs", lazy="raise")
