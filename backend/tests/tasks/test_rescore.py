"""Rescoring in the background after a profile change: its own committed transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

from app.models import Job
from app.services import rescoring
from app.tasks.rescore import rescore_in_background
from tests.factories import make_board, make_job, make_profile
from tests.tasks.support import ScratchDatabase, scratch_database


@pytest.fixture
async def scratch() -> AsyncIterator[ScratchDatabase]:
    async with scratch_database("hunter_rescore") as database:
        async with database.sessions() as session, session.begin():
            await make_profile(session, skills=["python"])
            board = await make_board(session)
            for n in range(3):
                description = "Python." if n else "Go."
                await make_job(session, board, title=f"Job {n}", description=description)
        yield database


async def scores(database: ScratchDatabase) -> dict[str, float]:
    async with database.sessions() as session:
        return {job.title: job.match_score for job in await session.scalars(select(Job))}


async def test_the_new_scores_are_committed(scratch: ScratchDatabase) -> None:
    with capture_logs() as logs:
        await rescore_in_background(scratch.sessions)

    assert await scores(scratch) == {"Job 0": 0.0, "Job 1": 100.0, "Job 2": 100.0}
    assert [(log["event"], log["jobs"]) for log in logs] == [("rescored", 3)]


async def test_a_failure_is_logged_and_changes_nothing(
    scratch: ScratchDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = await scores(scratch)

    async def failing_write(self: Any, changed: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(rescoring._Rescorer, "write", failing_write)
    with capture_logs() as logs:
        await rescore_in_background(scratch.sessions)

    assert await scores(scratch) == before
    assert [log["event"] for log in logs] == ["rescore_failed"]
