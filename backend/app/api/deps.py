"""Dependency aliases shared by the routers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from app.database import get_db
from app.tasks.rescore import rescore_in_background

# scope="function": the session commits before the response is sent, so a failed commit
# becomes an error response instead of a success for data that was never saved.
SessionDep = Annotated[AsyncSession, Depends(get_db, scope="function")]


def get_rescorer() -> Callable[[], Awaitable[None]]:
    """What rescoring after a profile change runs (tests run it on their own session)."""
    return rescore_in_background


# Run as a background task: after the response, so after the commit it must see.
RescorerDep = Annotated[Callable[[], Awaitable[None]], Depends(get_rescorer)]
