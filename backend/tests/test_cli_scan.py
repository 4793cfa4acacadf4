"""`hunter scan BOARD`: one scan in the foreground, on a real database and a fake Greenhouse."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from app.models import JobBoard, ScanRun
from app.services.scan_leases import INTERRUPTED
from tests.scrapers.local_server import LocalServer, Reply
from tests.tasks.support import (
    GREENHOUSE,
    JOBS_PATH,
    ScratchDatabase,
    listing,
    local_server,
    scratch_database,
)

BACKEND_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
async def database() -> AsyncIterator[ScratchDatabase]:
    async with scratch_database("hunter_cli") as scratch:
        yield scratch


@pytest.fixture(scope="module")
async def greenhouse() -> AsyncIterator[LocalServer]:
    async with local_server() as server:
        yield server


async def add_board(database: ScratchDatabase, name: str) -> JobBoard:
    async with database.sessions() as session, session.begin():
        board = JobBoard(
            name=name, url="https://boards.greenhouse.io/acme", scraper_config=GREENHOUSE
        )
        session.add(board)
    return board


async def start_hunter(
    database: ScratchDatabase, greenhouse: LocalServer, *args: str
) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "DATABASE_URL": database.url,
        "GREENHOUSE_API_URL": greenhouse.url,
        "HUNTER_ENV_FILE": "",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        *args,
        cwd=BACKEND_DIR,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def hunter(
    database: ScratchDatabase, greenhouse: LocalServer, *args: str
) -> tuple[int, str, str]:
    process = await start_hunter(database, greenhouse, *args)
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_scan_runs_the_named_board_and_prints_the_counts(
    database: ScratchDatabase, greenhouse: LocalServer
) -> None:
    greenhouse.reset()
    greenhouse.route("GET", JOBS_PATH, listing(1, 2, 3))
    board = await add_board(database, "Acme Careers")

    code, out, err = await hunter(database, greenhouse, "scan", "acme careers")

    assert code == 0, err
    assert "Acme Careers: 3 listings found (3 new, 0 updated, 0 closed)" in out
    async with database.sessions() as session:
        scan = (await session.scalars(select(ScanRun).where(ScanRun.board_id == board.id))).one()
        stored = await session.get(JobBoard, board.id)
    assert (scan.status, scan.trigger, scan.jobs_new) == ("success", "cli", 3)
    assert stored is not None
    assert stored.last_scan_status == "success"


async def test_scan_says_why_it_could_not_scan(
    database: ScratchDatabase, greenhouse: LocalServer
) -> None:
    greenhouse.reset()
    greenhouse.route("GET", JOBS_PATH, Reply(status=404, json={"status": 404}))
    await add_board(database, "Gone")

    failed = await hunter(database, greenhouse, "scan", "Gone")
    unknown = await hunter(database, greenhouse, "scan", "Nowhere")

    code, out, _ = failed
    assert code == 1
    assert "Gone: the scan failed: Greenhouse board `acme` not found (404)" in out
    code, _, err = unknown
    assert code == 1
    assert "No board named 'Nowhere'" in err


async def test_a_scan_stopped_by_sigterm_is_recorded_as_interrupted(
    database: ScratchDatabase, greenhouse: LocalServer
) -> None:
    """As a service manager stops it: the board is not left "running" until its lease lapses."""
    greenhouse.reset()
    greenhouse.route("GET", JOBS_PATH, Reply(hang=True))
    board = await add_board(database, "Slow")
    process = await start_hunter(database, greenhouse, "scan", "Slow")
    for _ in range(300):  # the scan is under way once its request reaches the board
        if greenhouse.requests:
            break
        await asyncio.sleep(0.05)
    assert greenhouse.requests

    process.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(process.communicate(), timeout=30)

    assert process.returncode == 128 + signal.SIGTERM
    assert "interrupted" in err.decode()
    async with database.sessions() as session:
        scan = (await session.scalars(select(ScanRun).where(ScanRun.board_id == board.id))).one()
        stored = await session.get(JobBoard, board.id)
    assert (scan.status, scan.error) == ("error", INTERRUPTED)
    assert stored is not None
    assert stored.last_scan_status == "error"
