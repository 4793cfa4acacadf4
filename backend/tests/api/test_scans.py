"""POST /api/boards/{id}/scan and GET /api/boards/{id}/scans."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.scans import get_dispatcher
from app.main import app
from app.models import ScanRun
from app.models.base import utcnow
from app.services.scan_leases import QueuedScan
from app.tasks.dispatch import Dispatcher
from tests.factories import make_board
from tests.tasks.support import sessions_on

MISSING_ID = "00000000-0000-4000-8000-000000000000"
SCAN_FIELDS = {
    "id",
    "status",
    "trigger",
    "created_at",
    "started_at",
    "finished_at",
    "jobs_found",
    "jobs_new",
    "jobs_updated",
    "jobs_closed",
    "error",
    "duration_ms",
}


class RecordingDispatcher(Dispatcher):
    """Keeps what it is handed; the real runners are exercised end to end in tests/tasks."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(sessions_on(session))
        self.submitted: list[QueuedScan] = []

    async def submit(self, scan: QueuedScan) -> None:
        self.submitted.append(scan)


@pytest.fixture
def dispatcher(session: AsyncSession) -> Iterator[RecordingDispatcher]:
    recorder = RecordingDispatcher(session)
    app.dependency_overrides[get_dispatcher] = lambda: recorder
    try:
        yield recorder
    finally:
        app.dependency_overrides.pop(get_dispatcher, None)


async def test_a_scan_request_is_accepted_at_once_and_handed_to_the_runner(
    client: httpx.AsyncClient, session: AsyncSession, dispatcher: RecordingDispatcher
) -> None:
    board = await make_board(session, name="Acme")

    response = await client.post(f"/api/boards/{board.id}/scan")

    assert response.status_code == 202, response.text
    body = response.json()
    assert set(body) >= {"task_id", "message"}
    assert "queued" in body["message"]
    scan_id = uuid.UUID(body["task_id"])
    assert dispatcher.submitted == [QueuedScan(board_id=board.id, scan_id=scan_id)]
    shown = (await client.get(f"/api/boards/{board.id}")).json()
    assert shown["last_scan_status"] == "queued"
    history = (await client.get(f"/api/boards/{board.id}/scans")).json()
    assert [scan["id"] for scan in history["scans"]] == [str(scan_id)]
    assert history["scans"][0]["trigger"] == "manual"


async def test_a_second_request_answers_with_the_scan_already_queued(
    client: httpx.AsyncClient, session: AsyncSession, dispatcher: RecordingDispatcher
) -> None:
    board = await make_board(session, name="Acme")

    first = await client.post(f"/api/boards/{board.id}/scan")
    second = await client.post(f"/api/boards/{board.id}/scan")

    assert second.status_code == 202
    assert second.json()["task_id"] == first.json()["task_id"]
    assert "already queued" in second.json()["message"]
    assert len(dispatcher.submitted) == 1
    count = await session.scalar(select(func.count()).where(ScanRun.board_id == board.id))
    assert count == 1


async def test_a_running_scan_is_reported_as_running(
    client: httpx.AsyncClient, session: AsyncSession, dispatcher: RecordingDispatcher
) -> None:
    board = await make_board(session)
    scan = ScanRun(board_id=board.id, status="running", started_at=utcnow())
    session.add(scan)
    await session.flush()
    board.last_scan_status = "running"
    board.current_scan_id = scan.id
    board.scan_lease_until = utcnow() + timedelta(minutes=5)

    response = await client.post(f"/api/boards/{board.id}/scan")

    assert response.status_code == 202
    assert response.json()["task_id"] == str(scan.id)
    assert "already running" in response.json()["message"]
    assert dispatcher.submitted == []


async def test_a_finished_scan_does_not_block_the_next_one(
    client: httpx.AsyncClient, session: AsyncSession, dispatcher: RecordingDispatcher
) -> None:
    board = await make_board(session, last_scan_status="success", last_scanned_at=utcnow())

    response = await client.post(f"/api/boards/{board.id}/scan")

    assert response.status_code == 202
    assert len(dispatcher.submitted) == 1


async def test_a_disabled_board_can_still_be_scanned_by_hand(
    client: httpx.AsyncClient, session: AsyncSession, dispatcher: RecordingDispatcher
) -> None:
    board = await make_board(session, enabled=False)

    response = await client.post(f"/api/boards/{board.id}/scan")

    assert response.status_code == 202
    assert len(dispatcher.submitted) == 1


async def test_a_scan_that_cannot_be_handed_over_is_recorded_as_failed(
    client: httpx.AsyncClient, session: AsyncSession, dispatcher: RecordingDispatcher
) -> None:
    async def refuse(scan: QueuedScan) -> None:
        raise ConnectionError("broker unreachable")

    dispatcher.submit = refuse  # type: ignore[method-assign]
    url = f"/api/boards/{(await make_board(session)).id}"

    response = await client.post(f"{url}/scan")

    assert response.status_code == 202
    history = (await client.get(f"{url}/scans")).json()["scans"]
    assert history[0]["status"] == "error"
    assert "broker unreachable" in history[0]["error"]
    session.expire_all()  # requests share the test's session; the failure was written by another
    assert (await client.get(url)).json()["last_scan_status"] == "error"
    again = await client.post(f"{url}/scan")
    assert again.json()["task_id"] != response.json()["task_id"]


async def test_scanning_an_unknown_board_is_not_found(
    client: httpx.AsyncClient, dispatcher: RecordingDispatcher
) -> None:
    response = await client.post(f"/api/boards/{MISSING_ID}/scan")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert MISSING_ID in response.json()["detail"]
    assert dispatcher.submitted == []


async def test_a_malformed_board_id_is_invalid(
    client: httpx.AsyncClient, dispatcher: RecordingDispatcher
) -> None:
    assert (await client.post("/api/boards/not-a-uuid/scan")).status_code == 422
    assert (await client.get("/api/boards/not-a-uuid/scans")).status_code == 422


async def test_history_lists_every_field_newest_first(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    board = await make_board(session)
    start = utcnow() - timedelta(days=1)
    for hours in range(3):
        session.add(
            ScanRun(
                board_id=board.id,
                status="success",
                trigger="schedule",
                created_at=start + timedelta(hours=hours),
                started_at=start + timedelta(hours=hours),
                finished_at=start + timedelta(hours=hours, seconds=3),
                jobs_found=10 + hours,
                jobs_new=hours,
                duration_ms=3000,
            )
        )
    session.add(
        ScanRun(board_id=board.id, status="error", error="Greenhouse board `x` not found (404)")
    )
    await session.flush()

    response = await client.get(f"/api/boards/{board.id}/scans", params={"limit": 3})

    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 4
    scans = body["scans"]
    assert set(scans[0]) == SCAN_FIELDS
    assert [scan["status"] for scan in scans] == ["error", "success", "success"]
    assert scans[0]["error"] == "Greenhouse board `x` not found (404)"
    assert [scan["jobs_found"] for scan in scans[1:]] == [12, 11]


async def test_history_limit_is_bounded(client: httpx.AsyncClient, session: AsyncSession) -> None:
    board = await make_board(session)

    for limit in (0, 101, "many"):
        response = await client.get(f"/api/boards/{board.id}/scans", params={"limit": limit})
        assert response.status_code == 422, limit
        assert response.json()["errors"][0]["field"] == "limit"


async def test_history_of_an_unknown_board_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/api/boards/{MISSING_ID}/scans")

    assert response.status_code == 404
