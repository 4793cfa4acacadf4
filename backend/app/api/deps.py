"""Dependency aliases shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from app.database import get_db

# scope="function": the session commits before the response is sent, so a failed commit
# becomes an error response instead of a success for data that was never saved.
SessionDep = Annotated[AsyncSession, Depends(get_db, scope="function")]
