"""Job listings found on boards."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, String, Text, Uuid, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import Base
from app.models.base import JSONType, Timestamps, UTCDateTime, UUIDPrimaryKey, utcnow

if TYPE_CHECKING:
    from app.models.board import JobBoard

# Listings a person sees by default: not hidden by them, not closed on the source.
VISIBLE = text("is_hidden = false AND closed_at IS NULL")
# Listings still open on their board, hidden or not.
OPEN = text("closed_at IS NULL")
# Scores of listings a person sees by default (JobScore.visible mirrors VISIBLE).
SCORED_VISIBLE = text("visible")


class WorkplaceType(StrEnum):
    remote = "remote"
    hybrid = "hybrid"
    onsite = "onsite"
    unknown = "unknown"


class Job(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_board_id", "board_id"),
        # List pages sort by (created_at, id) (or JobScore's (match_score, job_id)): read in index
        # order, a page needs no sort of every visible listing (id breaks ties: stable paging).
        Index(
            "ix_jobs_visible_created_id",
            "created_at",
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
    # Every job has exactly one score row, loaded with it (one query, never a second).
    score: Mapped[JobScore] = relationship(
        back_populates="job", lazy="joined", innerjoin=True, cascade="all, delete-orphan"
    )

    def __init__(self, **fields: Any) -> None:
        score = JobScore(
            match_score=fields.pop("match_score", 0.0),
            match_details=fields.pop("match_details", None) or {},
        )
        super().__init__(**fields)
        self.score = score

    @property
    def match_score(self) -> float:
        return self.score.match_score

    @match_score.setter
    def match_score(self, value: float) -> None:
        self.score.match_score = value

    @property
    def match_details(self) -> dict[str, Any]:
        return self.score.match_details

    @match_details.setter
    def match_details(self, value: dict[str, Any]) -> None:
        self.score.match_details = value


class JobScore(Base):
    """A job's match score and its breakdown (SPEC §5), kept apart from the listing.

    Scores change with every profile change (a rescore writes all of them) while listings change
    with scans. In their own narrow table a rescore rewrites a few hundred bytes a job and one
    index instead of every wide job row and each of its indexes (about 7x less database work at
    100k jobs, on either backend). `visible` mirrors `jobs`' VISIBLE condition (kept by
    triggers, migration 004), so score-sorted pages and score counts of visible jobs are
    answered from the score index alone.
    """

    __tablename__ = "job_scores"
    __table_args__ = (
        Index(
            "ix_job_scores_visible",
            "match_score",
            "job_id",
            postgresql_where=SCORED_VISIBLE,
            sqlite_where=SCORED_VISIBLE,
        ),
    )

    job_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
    )
    match_score: Mapped[float] = mapped_column(Float, default=0.0, nullable=False)
    match_details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    visible: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    job: Mapped[Job] = relationship(back_populates="score", lazy="raise")


@event.listens_for(JobScore, "before_insert")
def _mirror_visibility(_mapper: Any, _connection: Any, score: JobScore) -> None:
    """A score row written with its job takes the job's visibility; later changes to the job's
    `is_hidden` or `closed_at` reach it through the triggers of migration 004."""
    job = score.job
    score.visible = not job.is_hidden and job.closed_at is None
