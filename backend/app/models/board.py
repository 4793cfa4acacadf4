"""Job boards, and the record of every scan run against them."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import Base
from app.models.base import JSONType, Timestamps, UTCDateTime, UUIDPrimaryKey, utcnow

if TYPE_CHECKING:
    from app.models.job import Job


class ScanStatus(StrEnum):
    never = "never"
    queued = "queued"
    running = "running"
    success = "success"
    error = "error"


class JobBoard(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "job_boards"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    url: Mapped[str] = mapped_column(String(2048), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    scan_interval_minutes: Mapped[int] = mapped_column(Integer, default=60, nullable=False)
    keyword_filters: Mapped[list[str]] = mapped_column(JSONType, default=list, nullable=False)
    scraper_config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)

    last_scanned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_scan_status: Mapped[str] = mapped_column(
        String(16), default=ScanStatus.never, nullable=False
    )
    last_scan_error: Mapped[str | None] = mapped_column(Text)
    jobs_found_last_scan: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # When the notifier mailed "this board keeps failing" / "this board suddenly finds nothing";
    # cleared when it mails the recovery, so each is reported once (app/services/notifier.py).
    alerted_failing_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    alerted_empty_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # The scan lease: whoever holds it may scan this board until it expires. A crashed worker's
    # lease simply runs out, so a board can never stay "running" forever.
    current_scan_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    scan_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    jobs: Mapped[list[Job]] = relationship(
        back_populates="board", lazy="raise", passive_deletes=True
    )
    scan_runs: Mapped[list[ScanRun]] = relationship(
        back_populates="board", lazy="raise", passive_deletes=True
    )


class ScanRun(UUIDPrimaryKey, Base):
    """One scan of one board: queued, run, and finished (or failed)."""

    __tablename__ = "scan_runs"
    __table_args__ = (Index("ix_scan_runs_board_created", "board_id", "created_at"),)

    board_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("job_boards.id", ondelete="CASCADE"), nullable=False
    )
    status: Mapped[str] = mapped_column(String(16), default=ScanStatus.queued, nullable=False)
    trigger: Mapped[str] = mapped_column(String(16), default="manual", nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    jobs_found: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    jobs_new: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    jobs_updated: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    jobs_closed: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(Integer)

    board: Mapped[JobBoard] = relationship(back_populates="scan_runs", lazy="raise")
