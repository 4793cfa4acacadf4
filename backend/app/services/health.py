"""Component checks for /api/health (and later `hunter doctor`)."""

from __future__ import annotations

import asyncio
from typing import Literal

from sqlalchemy import text

from app.config import settings
from app.database import engine, reading
from app.scrapers.browser import find_browser

ComponentStatus = Literal["ok", "error", "disabled"]


async def check_database() -> ComponentStatus:
    try:
        async with asyncio.timeout(5), reading(engine).connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:
        return "error"
    return "ok"


async def ping_redis(url: str) -> None:
    """PING the Redis at `url` within 5 s; raise what went wrong."""
    # Imported here: an embedded server never talks to Redis, and its client is a few MB.
    import redis.asyncio as aioredis

    client = aioredis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        async with asyncio.timeout(5):
            await client.ping()
    finally:
        await client.aclose()


async def check_broker() -> ComponentStatus:
    if not settings.distributed:
        return "disabled"
    try:
        await ping_redis(settings.redis_url)
    except Exception:
        return "error"
    return "ok"


def check_browser() -> ComponentStatus:
    return "ok" if find_browser() else "error"
