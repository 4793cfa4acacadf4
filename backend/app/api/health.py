"""/api/health: is Hunter and each component it needs working? Needs no token."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response

from app import __version__
from app.config import settings
from app.schemas.health import HealthResponse
from app.services import health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthResponse)
async def get_health(response: Response) -> HealthResponse:
    """Status of the database, the broker (distributed mode) and the browser.

    Answers 503 when the database is unreachable; a missing browser only degrades scanning.
    """
    database, broker = await asyncio.gather(health.check_database(), health.check_broker())
    browser = health.check_browser()
    healthy = database == "ok" and broker != "error"
    if database != "ok":
        response.status_code = 503
    return HealthResponse(
        status="ok" if healthy and browser == "ok" else "degraded",
        version=__version__,
        mode="distributed" if settings.distributed else "embedded",
        database=database,
        broker=broker,
        browser=browser,
    )
