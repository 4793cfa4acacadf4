from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.database import engine
from app.models import Application, Job, JobBoard, ScanRun
from tests.factories import make_application, make_board, make_job, make_profile

WIRE_FIELDS = {
    "id",
    "name",
    "url",
    "scan_interval_minutes",
    "enabled",
    "keyword_filters",
    "scraper_config",
    "last_scanned_at",
    "last_scan_status",
    "last_scan_error",
    "jobs_found_last_scan",
    "created_at",
    "updated_at",
}
MISSING_ID = "00000000-0000-4000-8000-000000000000"
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def assert_invalid(response: httpx.Response, field: str) -> None:
    """A 422 in the one error shape, naming `field` in the errors list and in the detail."""
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid_input"
    fields = [error["field"] for error in body["errors"]]
    assert field in fields, fields
    assert field in body["detail"]


async def saved_board(session: AsyncSession, **fields: Any) -> JobBoard:
    """A board committed to the test's transaction, so a failed request's rollback keeps it."""
    board = await make_board(session, **fields)
    await session.commit()
    return board


async def post_board(client: httpx.AsyncClient, **fields: Any) -> httpx.Response:
    body = {"name": "Acme", "url": "https://careers.acme.example/jobs", **fields}
    return await client.post("/api/boards", json=body)


# --- listing -----------------------------------------------------------------------------------


async def test_list_is_empty_without_boards(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/boards")
    assert response.status_code == 200
    assert response.json() == {"boards": [], "total": 0}


async def test_list_sorts_by_name_ignoring_case_then_by_age(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_board(session, name="beta", created_at=datetime(2024, 1, 1, tzinfo=UTC))
    await make_board(session, name="alpha", created_at=datetime(2024, 1, 3, tzinfo=UTC))
    await make_board(session, name="Alpha", created_at=datetime(2024, 1, 2, tzinfo=UTC))
    await make_board(session, name="Zeta", created_at=datetime(2023, 1, 1, tzinfo=UTC))

    body = (await client.get("/api/boards")).json()

    assert [b["name"] for b in body["boards"]] == ["Alpha", "alpha", "beta", "Zeta"]
    assert body["total"] == 4


async def test_list_filters_on_enabled(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await make_board(session, name="On", enabled=True)
    await make_board(session, name="Off", enabled=False)

    enabled = (await client.get("/api/boards", params={"enabled": "true"})).json()
    disabled = (await client.get("/api/boards", params={"enabled": "false"})).json()

    assert [b["name"] for b in enabled["boards"]] == ["On"]
    assert enabled["total"] == 1
    assert [b["name"] for b in disabled["boards"]] == ["Off"]


async def test_list_rejects_a_non_boolean_enabled(client: httpx.AsyncClient) -> None:
    assert_invalid(await client.get("/api/boards", params={"enabled": "maybe"}), "enabled")


async def test_list_counts_open_jobs_of_each_board(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    busy = await make_board(session, name="Busy")
    quiet = await make_board(session, name="Quiet")
    await make_job(session, busy)
    await make_job(session, busy, is_hidden=True)
    await make_job(session, busy, closed_at=LONG_AGO)

    boards = (await client.get("/api/boards")).json()["boards"]

    assert {b["id"]: b["job_count"] for b in boards} == {str(busy.id): 2, str(quiet.id): 0}


@pytest.fixture
def job_queries() -> Iterator[list[str]]:
    """The SQL statements that read the jobs table while the test runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM jobs" in statement:
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_list_counts_jobs_in_one_query_however_many_boards(
    client: httpx.AsyncClient, session: AsyncSession, job_queries: list[str]
) -> None:
    for _ in range(5):
        await make_job(session, await make_board(session))
    job_queries.clear()

    response = await client.get("/api/boards")

    assert response.json()["total"] == 5
    assert len(job_queries) == 1


# --- create and read ---------------------------------------------------------------------------


async def test_create_with_name_and_url_fills_in_defaults(client: httpx.AsyncClient) -> None:
    response = await post_board(client)

    assert response.status_code == 201
    board = response.json()
    assert set(board) == WIRE_FIELDS | {"consecutive_failures", "job_count"}
    assert board["name"] == "Acme"
    assert board["url"] == "https://careers.acme.example/jobs"
    assert board["scan_interval_minutes"] == 60
    assert board["enabled"] is True
    assert board["keyword_filters"] == []
    assert board["scraper_config"]["scraper_type"] == "auto"
    assert board["scraper_config"]["max_pages"] == 5
    assert board["scraper_config"]["selectors"] == {}
    assert board["last_scanned_at"] is None
    assert board["last_scan_status"] == "never"
    assert board["last_scan_error"] is None
    assert board["jobs_found_last_scan"] == 0
    assert board["consecutive_failures"] == 0
    assert board["job_count"] == 0
    assert board["created_at"]
    assert board["updated_at"]

    fetched = await client.get(f"/api/boards/{board['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == board


async def test_create_cleans_up_name_and_keywords_and_stores_config_compactly(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    config = {"scraper_type": "generic", "selectors": {"job_card": " .job ", "title": "h2"}}
    response = await post_board(
        client,
        name="  Acme Careers  ",
        scan_interval_minutes=5,
        enabled=False,
        keyword_filters=[" Python ", "python", "Go", "PYTHON", "go "],
        scraper_config=config,
    )

    assert response.status_code == 201
    board = response.json()
    assert board["name"] == "Acme Careers"
    assert board["keyword_filters"] == ["Python", "Go"]
    assert board["scan_interval_minutes"] == 5
    assert board["enabled"] is False
    assert board["scraper_config"]["selectors"] == {"job_card": ".job", "title": "h2"}
    assert board["scraper_config"]["max_pages"] == 5
    stored = await session.get(JobBoard, uuid.UUID(board["id"]))
    assert stored is not None
    assert stored.scraper_config == {
        "scraper_type": "generic",
        "selectors": {"job_card": ".job", "title": "h2"},
    }


async def test_create_accepts_the_bounds(client: httpx.AsyncClient) -> None:
    response = await post_board(
        client,
        name="n" * 200,
        scan_interval_minutes=10080,
        keyword_filters=[f"k{i}" for i in range(50)],
    )
    assert response.status_code == 201
    assert len(response.json()["keyword_filters"]) == 50
    long_keyword = await post_board(client, keyword_filters=["k" * 100])
    assert long_keyword.status_code == 201


async def test_greenhouse_takes_its_token_from_a_greenhouse_url(
    client: httpx.AsyncClient,
) -> None:
    response = await post_board(
        client,
        url="https://boards.greenhouse.io/acme",
        scraper_config={"scraper_type": "greenhouse"},
    )
    assert response.status_code == 201
    assert response.json()["scraper_config"]["scraper_type"] == "greenhouse"


async def test_get_reports_open_job_count(client: httpx.AsyncClient, session: AsyncSession) -> None:
    board = await make_board(session)
    await make_job(session, board)
    await make_job(session, board, closed_at=LONG_AGO)

    response = await client.get(f"/api/boards/{board.id}")

    assert response.json()["job_count"] == 1


BAD_BODIES: list[tuple[str, dict[str, Any], str]] = [
    ("empty name", {"name": ""}, "name"),
    ("blank name", {"name": "   "}, "name"),
    ("201-char name", {"name": "n" * 201}, "name"),
    ("javascript url", {"url": "javascript:alert(1)"}, "url"),
    ("ftp url", {"url": "ftp://files.example.com/jobs"}, "url"),
    ("file url", {"url": "file:///etc/passwd"}, "url"),
    ("bare word url", {"url": "careers"}, "url"),
    ("url without host", {"url": "https://"}, "url"),
    ("url with a space", {"url": "https://exa mple.com/jobs"}, "url"),
    ("url with a bad port", {"url": "https://example.com:99999/jobs"}, "url"),
    ("too long url", {"url": "https://example.com/" + "a" * 2030}, "url"),
    ("interval 4", {"scan_interval_minutes": 4}, "scan_interval_minutes"),
    ("interval 10081", {"scan_interval_minutes": 10081}, "scan_interval_minutes"),
    ("51 keywords", {"keyword_filters": [f"k{i}" for i in range(51)]}, "keyword_filters"),
    ("101-char keyword", {"keyword_filters": ["ok", "k" * 101]}, "keyword_filters.1"),
    ("blank keyword", {"keyword_filters": ["  "]}, "keyword_filters.0"),
    (
        "unknown scraper type",
        {"scraper_config": {"scraper_type": "magic"}},
        "scraper_config.scraper_type",
    ),
    (
        "unknown config key",
        {"scraper_config": {"scraper_type": "auto", "colour": "red"}},
        "scraper_config.colour",
    ),
    (
        "invalid css selector",
        {
            "scraper_config": {
                "scraper_type": "generic",
                "selectors": {"job_card": "div[", "title": "h2"},
            }
        },
        "scraper_config.selectors",
    ),
    (
        "generic without job_card",
        {"scraper_config": {"scraper_type": "generic", "selectors": {"title": "h2"}}},
        "scraper_config.selectors.job_card",
    ),
    (
        "greenhouse without token",
        {"scraper_config": {"scraper_type": "greenhouse"}},
        "scraper_config.board_token",
    ),
    ("negative max_pages", {"scraper_config": {"max_pages": -1}}, "scraper_config.max_pages"),
    (
        "bad glob",
        {"scraper_config": {"scraper_type": "auto", "intercept_patterns": ["**/api/[jobs"]}},
        "scraper_config.intercept_patterns",
    ),
    (
        "bad pre-search action",
        {"scraper_config": {"pre_search_actions": [{"action": "teleport"}]}},
        "scraper_config.pre_search_actions.0.action",
    ),
    ("numeric name", {"name": 123}, "name"),
    ("numeric url", {"url": 42}, "url"),
    ("text interval", {"scan_interval_minutes": "hourly"}, "scan_interval_minutes"),
    ("fractional interval", {"scan_interval_minutes": 60.5}, "scan_interval_minutes"),
    ("text enabled", {"enabled": "maybe"}, "enabled"),
    ("keywords as a string", {"keyword_filters": "python"}, "keyword_filters"),
    ("numeric keyword", {"keyword_filters": [7]}, "keyword_filters.0"),
    ("config as a string", {"scraper_config": "generic"}, "scraper_config"),
    ("config as a list", {"scraper_config": []}, "scraper_config"),
    ("unknown field", {"colour": "red"}, "colour"),
]
BAD_INPUT = [(fields, field) for _, fields, field in BAD_BODIES]
BAD_INPUT_IDS = [case for case, _, _ in BAD_BODIES]


@pytest.mark.parametrize(("fields", "field"), BAD_INPUT, ids=BAD_INPUT_IDS)
async def test_create_rejects_bad_input_naming_the_field(
    client: httpx.AsyncClient, session: AsyncSession, fields: dict[str, Any], field: str
) -> None:
    assert_invalid(await post_board(client, **fields), field)
    assert await session.scalar(select(func.count()).select_from(JobBoard)) == 0


@pytest.mark.parametrize("missing", ["name", "url"])
async def test_create_requires_name_and_url(client: httpx.AsyncClient, missing: str) -> None:
    body = {"name": "Acme", "url": "https://careers.acme.example/jobs"}
    del body[missing]
    assert_invalid(await client.post("/api/boards", json=body), missing)


async def test_create_rejects_malformed_json(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/boards", content=b'{"name": "Acme",', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_input"
    assert "JSON" in response.json()["detail"]


async def test_create_rejects_a_body_that_is_not_an_object(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/boards", json=["Acme"])
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_input"


# --- update ------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
async def test_update_changes_only_the_fields_sent(
    client: httpx.AsyncClient, session: AsyncSession, method: str
) -> None:
    board = await make_board(
        session,
        name="Old",
        keyword_filters=["python"],
        scan_interval_minutes=30,
        updated_at=LONG_AGO,
    )
    before = (await client.get(f"/api/boards/{board.id}")).json()

    response = await client.request(method, f"/api/boards/{board.id}", json={"name": " New "})

    assert response.status_code == 200
    after = response.json()
    assert after["name"] == "New"
    unchanged = {k: v for k, v in before.items() if k not in ("name", "updated_at")}
    assert {k: v for k, v in after.items() if k not in ("name", "updated_at")} == unchanged
    assert datetime.fromisoformat(after["updated_at"]) > LONG_AGO
    assert (await client.get(f"/api/boards/{board.id}")).json() == after


async def test_new_keyword_filters_rescore_the_listings(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """A board's filters are among the keywords its listings are scored on (SPEC §5)."""
    await make_profile(session, skills=["rust"])
    board = await make_board(session, keyword_filters=["python"])
    job = await make_job(session, board, title="Engineer", description="Rust and Go.")
    job.match_score = 50.0  # rust found, python not
    await session.flush()

    renamed = await client.patch(f"/api/boards/{board.id}", json={"name": "Renamed"})
    await session.refresh(job)
    assert (renamed.status_code, job.match_score) == (200, 50.0)  # nothing to rescore

    refiltered = await client.patch(f"/api/boards/{board.id}", json={"keyword_filters": ["go"]})
    await session.refresh(job)
    assert (refiltered.status_code, job.match_score) == (200, 100.0)  # rust and go found
    assert job.match_details["keywords_matched"] == ["go", "rust"]


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
async def test_update_with_an_empty_body_changes_nothing(
    client: httpx.AsyncClient, session: AsyncSession, method: str
) -> None:
    board = await make_board(session, updated_at=LONG_AGO)
    before = (await client.get(f"/api/boards/{board.id}")).json()

    response = await client.request(method, f"/api/boards/{board.id}", json={})

    assert response.status_code == 200
    assert response.json() == before
    assert datetime.fromisoformat(before["updated_at"]) == LONG_AGO


async def test_put_with_every_field_replaces_them_all(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    board = await make_board(session)
    body = {
        "name": "Acme",
        "url": "https://jobs.lever.co/acme",
        "scan_interval_minutes": 120,
        "enabled": False,
        "keyword_filters": ["Rust", "rust", "Go"],
        "scraper_config": {"scraper_type": "lever", "lever_region": "eu"},
    }

    response = await client.put(f"/api/boards/{board.id}", json=body)

    assert response.status_code == 200
    updated = response.json()
    assert updated["url"] == "https://jobs.lever.co/acme"
    assert updated["scan_interval_minutes"] == 120
    assert updated["enabled"] is False
    assert updated["keyword_filters"] == ["Rust", "Go"]
    assert updated["scraper_config"]["scraper_type"] == "lever"
    assert updated["scraper_config"]["lever_region"] == "eu"
    await session.refresh(board)
    assert board.scraper_config == {"scraper_type": "lever", "lever_region": "eu"}


async def test_a_config_read_back_can_be_sent_again(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    board = await make_board(session, scraper_config={"scraper_type": "auto", "max_pages": 3})
    config = (await client.get(f"/api/boards/{board.id}")).json()["scraper_config"]

    response = await client.patch(f"/api/boards/{board.id}", json={"scraper_config": config})

    assert response.status_code == 200
    assert response.json()["scraper_config"] == config
    await session.refresh(board)
    assert board.scraper_config == {"scraper_type": "auto", "max_pages": 3}


async def test_a_new_url_is_checked_against_the_existing_config(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    board = await saved_board(
        session,
        url="https://boards.greenhouse.io/acme",
        scraper_config={"scraper_type": "greenhouse"},
    )

    response = await client.patch(
        f"/api/boards/{board.id}", json={"url": "https://careers.acme.example/jobs"}
    )

    assert_invalid(response, "scraper_config.board_token")
    current = (await client.get(f"/api/boards/{board.id}")).json()
    assert current["url"] == "https://boards.greenhouse.io/acme"


async def test_a_new_config_is_checked_against_the_existing_url(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    board = await saved_board(session, url="https://careers.acme.example/jobs")

    response = await client.put(
        f"/api/boards/{board.id}", json={"scraper_config": {"scraper_type": "lever"}}
    )

    assert_invalid(response, "scraper_config.site_slug")
    current = (await client.get(f"/api/boards/{board.id}")).json()
    assert current["scraper_config"]["scraper_type"] == "auto"


@pytest.mark.parametrize(("fields", "field"), BAD_INPUT, ids=BAD_INPUT_IDS)
async def test_update_rejects_bad_input_and_keeps_the_board(
    client: httpx.AsyncClient, session: AsyncSession, fields: dict[str, Any], field: str
) -> None:
    board = await saved_board(session)
    before = (await client.get(f"/api/boards/{board.id}")).json()

    assert_invalid(await client.patch(f"/api/boards/{board.id}", json=fields), field)
    assert (await client.get(f"/api/boards/{board.id}")).json() == before


@pytest.mark.parametrize(
    "field",
    ["name", "url", "scan_interval_minutes", "enabled", "keyword_filters", "scraper_config"],
)
async def test_update_rejects_null(
    client: httpx.AsyncClient, session: AsyncSession, field: str
) -> None:
    board = await saved_board(session)
    assert_invalid(await client.put(f"/api/boards/{board.id}", json={field: None}), field)


async def test_update_rejects_malformed_json(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    board = await saved_board(session)
    response = await client.patch(
        f"/api/boards/{board.id}", content=b"{name", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_input"


# --- delete ------------------------------------------------------------------------------------


async def test_delete_removes_the_board_its_jobs_and_scans_but_keeps_applications(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    board = await make_board(session)
    other = await make_board(session)
    job = await make_job(session, board, title="Staff Engineer", company="Acme")
    await make_job(session, other)
    session.add(ScanRun(board_id=board.id, status="success"))
    application = await make_application(session, job)

    response = await client.delete(f"/api/boards/{board.id}")

    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(f"/api/boards/{board.id}")).status_code == 404
    jobs_left = select(func.count()).select_from(Job).where(Job.board_id == board.id)
    assert await session.scalar(jobs_left) == 0
    scans_left = select(func.count()).select_from(ScanRun).where(ScanRun.board_id == board.id)
    assert await session.scalar(scans_left) == 0
    await session.refresh(application)
    assert application.job_id is None
    assert (application.title, application.company) == ("Staff Engineer", "Acme")
    assert await session.get(Application, application.id) is not None
    assert (await client.get("/api/boards")).json()["total"] == 1
    assert (await client.get(f"/api/boards/{other.id}")).json()["job_count"] == 1


# --- unknown and malformed ids -----------------------------------------------------------------

ID_REQUESTS = [("GET", None), ("PUT", {"name": "x"}), ("PATCH", {}), ("DELETE", None)]


@pytest.mark.parametrize(("method", "body"), ID_REQUESTS)
async def test_unknown_board_is_404(
    client: httpx.AsyncClient, method: str, body: dict[str, Any] | None
) -> None:
    response = await client.request(method, f"/api/boards/{MISSING_ID}", json=body)
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": f"Board {MISSING_ID} not found"}


@pytest.mark.parametrize(("method", "body"), ID_REQUESTS)
async def test_malformed_board_id_is_422(
    client: httpx.AsyncClient, method: str, body: dict[str, Any] | None
) -> None:
    response = await client.request(method, "/api/boards/not-a-uuid", json=body)
    assert_invalid(response, "board_id")
