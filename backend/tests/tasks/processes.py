"""Running `hunter serve`, `worker` and `beat` as real processes, and stopping them with SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import select

from app.models import Job, JobBoard, ScanRun
from tests.scrapers.local_server import LocalServer
from tests.support import TMP
from tests.tasks.support import JOBS_PATH, ScratchDatabase, wait_until

BACKEND_DIR = Path(__file__).resolve().parents[2]
# Starting Python and importing the app, then closing everything, on a loaded machine: the
# processes must exit by themselves within grace + this, rather than wait forever for a scan.
MARGIN_S = 30.0
START_TIMEOUT_S = 90.0


@dataclass
class Hunter:
    """One `hunter` command running in a subprocess, its output in a file."""

    process: asyncio.subprocess.Process
    log: Path
    grace_s: float

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def check_running(self) -> None:
        assert self.process.returncode is None, f"hunter exited early:\n{self.output()}"

    async def stop(self) -> int:
        """SIGTERM, then the exit status; fails if it does not exit within grace + margin."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.process.wait(), self.grace_s + MARGIN_S)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise AssertionError(f"hunter ignored SIGTERM:\n{self.output()}") from None


@asynccontextmanager
async def hunter(
    *args: str, database: ScratchDatabase, greenhouse: LocalServer, grace_s: float, **env: str
) -> AsyncIterator[Hunter]:
    """`hunter ARGS` on the scratch database and the local Greenhouse; killed if still running."""
    log = TMP / f"{args[0]}-{uuid.uuid4().hex[:8]}.log"
    environment = {
        **os.environ,
        "DATABASE_URL": database.url,
        "GREENHOUSE_API_URL": greenhouse.url,
        "SHUTDOWN_GRACE_SECONDS": str(grace_s),
        "LOG_LEVEL": "INFO",
        "HUNTER_ENV_FILE": "",
        **env,
    }
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "app",
            *args,
            cwd=BACKEND_DIR,
            env=environment,
            stdout=sink,
            stderr=asyncio.subprocess.STDOUT,
        )
    running = Hunter(process, log, grace_s)
    try:
        yield running
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def board_state(database: ScratchDatabase, board_id: str) -> tuple[JobBoard, list[ScanRun]]:
    """The board and its scans (oldest first) as stored now."""
    async with database.sessions() as session:
        board = await session.get(JobBoard, uuid.UUID(board_id))
        assert board is not None
        scans = await session.scalars(
            select(ScanRun).where(ScanRun.board_id == board.id).order_by(ScanRun.created_at)
        )
        return board, list(scans)


async def job_titles(database: ScratchDatabase, board_id: str) -> list[str]:
    async with database.sessions() as session:
        titles = await session.scalars(select(Job.title).where(Job.board_id == uuid.UUID(board_id)))
        return sorted(titles)


async def scraping(greenhouse: LocalServer, requests: int = 1) -> None:
    """Wait until the scan being tested has asked Greenhouse for the listings."""

    async def asked() -> bool:
        return len(greenhouse.hits(JOBS_PATH)) >= requests

    await wait_until(asked, "the scan to reach Greenhouse", START_TIMEOUT_S)


def assert_handed_back(board: JobBoard, scans: list[ScanRun], scan_id: str) -> None:
    """The scan is queued again: not running, its running lease given back, nothing stored."""
    scan = next(scan for scan in scans if str(scan.id) == scan_id)
    assert (scan.status, scan.started_at, scan.finished_at) == ("queued", None, None)
    assert (board.last_scan_status, str(board.current_scan_id)) == ("queued", scan_id)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@asynccontextmanager
async def serving(
    database: ScratchDatabase, greenhouse: LocalServer, grace_s: float, **env: str
) -> AsyncIterator[tuple[Hunter, httpx.AsyncClient]]:
    """A real `hunter serve`, ready, and a client of it (closed before the caller stops it)."""
    port = free_port()
    async with hunter(
        "serve",
        "--port",
        str(port),
        database=database,
        greenhouse=greenhouse,
        grace_s=grace_s,
        **env,
    ) as server:
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:

            async def ready() -> bool:
                server.check_running()
                try:
                    return (await client.get("/api/health")).status_code == 200
                except httpx.TransportError:
                    return False

            await wait_until(ready, "`hunter serve` to answer", START_TIMEOUT_S)
            yield server, client


async def request_scan(client: httpx.AsyncClient, board_id: str) -> str:
    response = await client.post(f"/api/boards/{board_id}/scan")
    assert response.status_code == 202, response.text
    scan_id: str = response.json()["task_id"]
    return scan_id
