"""Wire format of /api/health."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from app.services.health import ComponentStatus


class HealthResponse(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    mode: Literal["embedded", "distributed"]
    database: ComponentStatus
    broker: ComponentStatus
    browser: ComponentStatus
