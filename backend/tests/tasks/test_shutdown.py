"""Graceful shutdown of a real `hunter serve` (embedded mode) in the middle of a scan.

A scan caught mid-flight on the local Greenhouse that ends within SHUTDOWN_GRACE_SECONDS is
finished and recorded; one that does not is stopped and queued again (never left "running"),
then resumed by the next start, storing each listing once. Either way the process exits by
itself, with status 0, its Chromium closed.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.config import Settings
from app.scrapers.browser import find_browser
from app.tasks.dispatch import EmbeddedDispatcher
from tests.scrapers.local_server import LocalServer, Reply
from tests.scrapers.pages import SELECTORS
from tests.support import require_service
from tests.tasks.processes import (
    START_TIMEOUT_S,
    assert_handed_back,
    board_state,
    job_titles,
    request_scan,
    scraping,
    serving,
)
from tests.tasks.support import (
    JOBS_PATH,
    ScratchDatabase,
    api_on,
    create_board,
    listing,
    wait_for_scan,
    wait_until,
)


async def test_serve_stopped_mid_scan_lets_it_finish_within_the_grace_period(
    scratch: ScratchDatabase, greenhouse: LocalServer
) -> None:
    greenhouse.route("GET", JOBS_PATH, listing(1, 2, delay=1.5))
    async with serving(scratch, greenhouse, grace_s=60) as (server, client):
        board = await create_board(client, enabled=False)
        scan_id = await request_scan(client, board["id"])
        await scraping(greenhouse)
        await client.aclose()
        code = await server.stop()

    stored, scans = await board_state(scratch, board["id"])
    assert code == 0, server.output()
    assert (stored.last_scan_status, stored.current_scan_id, stored.scan_lease_until) == (
        "success",
        None,
        None,
    )
    assert [(str(scan.id), scan.status, scan.jobs_new) for scan in scans] == [
        (scan_id, "success", 2)
    ]
    assert await job_titles(scratch, board["id"]) == ["Backend Engineer 1", "Backend Engineer 2"]


async def test_serve_stopped_mid_scan_queues_it_for_the_next_start(
    scratch: ScratchDatabase, greenhouse: LocalServer
) -> None:
    greenhouse.route("GET", JOBS_PATH, listing(1, 2))
    async with serving(scratch, greenhouse, grace_s=1) as (server, client):
        board = await create_board(client, enabled=False)
        first = await request_scan(client, board["id"])
        assert (await wait_for_scan(client, board["id"]))["last_scan_status"] == "success"
        greenhouse.route("GET", JOBS_PATH, listing(1, 2, 3, hang=True))
        second = await request_scan(client, board["id"])
        await scraping(greenhouse, requests=2)
        await client.aclose()
        code = await server.stop()
    assert code == 0, server.output()
    stopped, scans = await board_state(scratch, board["id"])
    assert_handed_back(stopped, scans, second)

    greenhouse.route("GET", JOBS_PATH, listing(1, 2, 3))
    async with serving(scratch, greenhouse, grace_s=1) as (restarted, client):
        resumed = await wait_for_scan(client, board["id"])
        await client.aclose()
        assert await restarted.stop() == 0, restarted.output()

    _, scans = await board_state(scratch, board["id"])
    assert resumed["last_scan_status"] == "success", resumed["last_scan_error"]
    assert [(str(scan.id), scan.status, scan.jobs_new) for scan in scans] == [
        (first, "success", 2),
        (second, "success", 1),
    ]
    assert await job_titles(scratch, board["id"]) == [f"Backend Engineer {n}" for n in (1, 2, 3)]


def descendants(pid: int) -> set[int]:
    """The processes started by `pid`, and by them (Playwright's driver, then Chromium's)."""
    children: dict[int, set[int]] = {}
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError, ValueError, IndexError):
            # The fields after the command name, which is in parentheses: state, ppid, ...
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, set()).add(int(entry.name))
    found: set[int] = set()
    waiting = [pid]
    while waiting:
        for child in children.get(waiting.pop(), set()) - found:
            found.add(child)
            waiting.append(child)
    return found


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def test_serve_stopped_mid_scan_closes_chromium(
    scratch: ScratchDatabase, greenhouse: LocalServer
) -> None:
    require_service(find_browser() is not None, "Chromium")
    greenhouse.route("GET", "/careers", Reply(hang=True))
    config = {"scraper_type": "generic", "render": True, "selectors": SELECTORS}
    async with serving(scratch, greenhouse, grace_s=1) as (server, client):
        board = await create_board(
            client, url=f"{greenhouse.url}/careers", scraper_config=config, enabled=False
        )
        scan_id = await request_scan(client, board["id"])

        async def browsing() -> bool:
            return bool(greenhouse.hits("/careers"))

        await wait_until(browsing, "Chromium to open the board", START_TIMEOUT_S)
        started = descendants(server.process.pid)
        await client.aclose()
        code = await server.stop()

    stopped, scans = await board_state(scratch, board["id"])
    assert code == 0, server.output()
    assert started, "the scan did not start Chromium"
    assert [pid for pid in started if running(pid)] == []
    assert_handed_back(stopped, scans, scan_id)


async def test_a_scan_requested_while_stopping_stays_queued_for_the_next_start(
    scratch: ScratchDatabase, greenhouse: LocalServer
) -> None:
    greenhouse.route("GET", JOBS_PATH, listing(1))
    stopping = EmbeddedDispatcher(scratch.sessions, schedule=False)
    await stopping.start()
    await stopping.stop()
    async with api_on(scratch, stopping) as client:
        board = await create_board(client, enabled=False)
        scan_id = await request_scan(client, board["id"])
        waiting, _ = await board_state(scratch, board["id"])

        restarted = EmbeddedDispatcher(scratch.sessions, schedule=False)
        await restarted.start()
        try:
            resumed = await wait_for_scan(client, board["id"])
        finally:
            await restarted.stop()

    _, scans = await board_state(scratch, board["id"])
    assert waiting.last_scan_status == "queued"
    assert resumed["last_scan_status"] == "success"
    assert [(str(scan.id), scan.status) for scan in scans] == [(scan_id, "success")]


def test_the_grace_period_is_a_validated_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHUTDOWN_GRACE_SECONDS", "2.5")
    assert Settings().shutdown_grace_seconds == 2.5
    monkeypatch.setenv("SHUTDOWN_GRACE_SECONDS", "-1")
    with pytest.raises(ValidationError, match="shutdown_grace_seconds"):
        Settings()
