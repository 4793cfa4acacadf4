from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Application, ApplicationLog, Job
from app.models.base import utcnow
from tests.factories import make_application, make_board, make_job

MISSING_ID = "00000000-0000-4000-8000-000000000000"
WIRE_FIELDS = {
    "id",
    "job_id",
    "status",
    "notes",
    "applied_via",
    "created_at",
    "updated_at",
    "logs",
    "job_title",
    "job_company",
    "job_url",
    "match_score",
}


def assert_invalid(response: httpx.Response, field: str) -> None:
    """A 422 in the one error shape whose detail names `field`."""
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid_input"
    assert field in body["detail"]


async def post_elsewhere(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = {"company": "Globex", "title": "Platform Engineer", **fields}
    response = await client.post("/api/applications", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment)


# --- creating ----------------------------------------------------------------------------------


async def test_create_for_a_listing_copies_it_and_marks_it_read(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    board = await make_board(session, name="Acme careers")
    job = await make_job(
        session, board, title="Backend Engineer", company="Acme", match_score=82.5, is_new=True
    )
    await session.commit()

    response = await client.post("/api/applications", json={"job_id": str(job.id)})

    assert response.status_code == 201, response.text
    body = response.json()
    assert body.keys() >= WIRE_FIELDS
    assert body["job_id"] == str(job.id)
    assert (body["job_title"], body["job_company"], body["job_url"]) == (
        "Backend Engineer",
        "Acme",
        job.url,
    )
    assert (body["title"], body["company"], body["url"]) == ("Backend Engineer", "Acme", job.url)
    assert body["match_score"] == 82.5
    assert body["board_name"] == "Acme careers"
    assert body["status"] == "applied"
    assert body["applied_via"] == "manual"
    assert body["notes"] == ""
    assert body["follow_up_at"] is None
    assert [(log["action"], log["details"]) for log in body["logs"]] == [
        ("created", "Applied to Backend Engineer at Acme")
    ]
    await session.refresh(job)
    assert job.is_new is False


async def test_create_for_a_listing_keeps_the_fields_given(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    job = await make_job(session, title="Engineer", company="Acme")
    await session.commit()

    response = await client.post(
        "/api/applications",
        json={
            "job_id": str(job.id),
            "title": "Staff Engineer",
            "status": "interviewing",
            "applied_via": "extension",
            "notes": "Referred by Sam",
        },
    )

    body = response.json()
    assert (body["title"], body["company"]) == ("Staff Engineer", "Acme")
    assert (body["status"], body["applied_via"], body["notes"]) == (
        "interviewing",
        "extension",
        "Referred by Sam",
    )


async def test_create_for_a_job_found_elsewhere(client: httpx.AsyncClient) -> None:
    body = await post_elsewhere(client, url="https://globex.example/jobs/7")

    assert body["job_id"] is None
    assert (body["job_title"], body["job_company"], body["job_url"]) == (
        "Platform Engineer",
        "Globex",
        "https://globex.example/jobs/7",
    )
    assert body["match_score"] is None
    assert body["board_name"] is None
    assert body["logs"][0]["details"] == "Applied to Platform Engineer at Globex"
    assert abs(parse(body["applied_at"]) - utcnow()) < timedelta(minutes=1)


async def test_create_without_a_job_needs_company_and_title(client: httpx.AsyncClient) -> None:
    neither = await client.post("/api/applications", json={"notes": "?"})
    assert_invalid(neither, "company and title are required")

    no_company = await client.post("/api/applications", json={"title": "Engineer"})
    assert_invalid(no_company, "company is required")

    blank_title = await client.post("/api/applications", json={"company": "X", "title": "  "})
    assert_invalid(blank_title, "title is required")


async def test_create_for_an_unknown_job_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/applications", json={"job_id": MISSING_ID})

    assert response.status_code == 404
    assert response.json()["detail"] == f"Job {MISSING_ID} not found"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("url", "ftp://globex.example/jobs"),
        ("url", "not a url"),
        ("status", "ghosted"),
        ("applied_via", "carrier pigeon"),
        ("job_id", "not-a-uuid"),
        ("follow_up_at", "next tuesday"),
        ("follow_up_at", "2026-02-30"),
        ("applied_at", "yesterday"),
        ("notes", "nul \x00 inside"),
        ("title", "\x00"),
        ("surprise", 1),
    ],
)
async def test_create_rejects_bad_fields(
    client: httpx.AsyncClient, field: str, value: object
) -> None:
    response = await client.post(
        "/api/applications", json={"company": "Globex", "title": "Engineer", field: value}
    )

    assert_invalid(response, field)


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("2026-12-01", "2026-12-01T00:00:00+00:00"),
        ("2026-12-01T09:30:00", "2026-12-01T09:30:00+00:00"),
        ("2026-12-01T09:30:00Z", "2026-12-01T09:30:00+00:00"),
        ("2026-12-01T09:30:00+02:00", "2026-12-01T07:30:00+00:00"),
    ],
)
async def test_dates_are_read_as_utc(client: httpx.AsyncClient, sent: str, stored: str) -> None:
    body = await post_elsewhere(client, follow_up_at=sent, applied_at=sent)

    assert parse(body["follow_up_at"]) == parse(stored)
    assert parse(body["applied_at"]) == parse(stored)


# --- reading -----------------------------------------------------------------------------------


async def test_get_returns_the_application_with_its_log_oldest_first(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    application = await make_application(session, title="Engineer", company="Initech")
    for minutes, action in ((2, "notes_updated"), (1, "status_changed")):
        session.add(
            ApplicationLog(
                application_id=application.id,
                action=action,
                details=action,
                timestamp=utcnow() + timedelta(minutes=minutes),
            )
        )
    await session.commit()

    response = await client.get(f"/api/applications/{application.id}")

    assert response.status_code == 200
    assert [log["action"] for log in response.json()["logs"]] == [
        "created",
        "status_changed",
        "notes_updated",
    ]
    assert {"id", "action", "details", "timestamp"} <= response.json()["logs"][0].keys()


async def test_get_unknown_or_malformed_id(client: httpx.AsyncClient) -> None:
    missing = await client.get(f"/api/applications/{MISSING_ID}")
    assert missing.status_code == 404
    assert missing.json()["detail"] == f"Application {MISSING_ID} not found"

    malformed = await client.get("/api/applications/not-a-uuid")
    assert_invalid(malformed, "application_id")


async def test_list_newest_change_first_with_paging(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    now = utcnow()
    for n in range(5):
        await make_application(session, title=f"Role {n}", updated_at=now - timedelta(hours=n))
    await session.commit()

    first = (await client.get("/api/applications", params={"page_size": 2})).json()
    third = (await client.get("/api/applications", params={"page_size": 2, "page": 3})).json()

    assert (first["total"], first["page"], first["page_size"]) == (5, 1, 2)
    assert [a["title"] for a in first["applications"]] == ["Role 0", "Role 1"]
    assert [a["title"] for a in third["applications"]] == ["Role 4"]
    assert all(len(a["logs"]) == 1 for a in first["applications"])


async def test_list_filters_by_status_and_job(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    job = await make_job(session)
    linked = await make_application(session, job, status="interviewing")
    await make_application(session, status="interviewing")
    await make_application(session, status="rejected")
    await session.commit()

    interviewing = (await client.get("/api/applications?status=interviewing")).json()
    for_job = (await client.get(f"/api/applications?job_id={job.id}")).json()

    assert interviewing["total"] == 2
    assert {a["status"] for a in interviewing["applications"]} == {"interviewing"}
    assert [a["id"] for a in for_job["applications"]] == [str(linked.id)]
    assert for_job["applications"][0]["board_name"] is not None


async def test_list_search_matches_title_company_and_notes_in_any_case(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_application(session, title="Rust Developer", company="Hooli")
    await make_application(session, title="Engineer", company="RUSTY Robotics")
    await make_application(session, title="Engineer", company="Acme", notes="they use rust")
    await make_application(session, title="Go Developer", company="Acme")
    await session.commit()

    found = (await client.get("/api/applications", params={"search": "rust"})).json()

    assert found["total"] == 3
    assert "Go Developer" not in {a["title"] for a in found["applications"]}


async def test_list_search_takes_wildcards_literally(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_application(session, title="100% remote")
    await make_application(session, title="1000 remote")
    await make_application(session, title="snake_case lover")
    await make_application(session, title="snakeXcase lover")
    await session.commit()

    percent = (await client.get("/api/applications", params={"search": "100%"})).json()
    underscore = (await client.get("/api/applications", params={"search": "e_c"})).json()

    assert [a["title"] for a in percent["applications"]] == ["100% remote"]
    assert [a["title"] for a in underscore["applications"]] == ["snake_case lover"]


@pytest.mark.parametrize("search", ["\x00", "'; DROP TABLE applications; --", "\\", "  "])
async def test_list_search_never_fails(
    client: httpx.AsyncClient, session: AsyncSession, search: str
) -> None:
    await make_application(session, title="Engineer")
    await session.commit()

    response = await client.get("/api/applications", params={"search": search})

    assert response.status_code == 200


async def test_list_due_shows_open_follow_ups_soonest_first(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    now = utcnow()
    await make_application(session, title="Later", follow_up_at=now - timedelta(hours=1))
    await make_application(session, title="Sooner", follow_up_at=now - timedelta(days=2))
    await make_application(session, title="Future", follow_up_at=now + timedelta(days=1))
    await make_application(session, title="No reminder")
    await make_application(
        session, title="Rejected", status="rejected", follow_up_at=now - timedelta(days=1)
    )
    await session.commit()

    due = (await client.get("/api/applications", params={"due": "true"})).json()

    assert [a["title"] for a in due["applications"]] == ["Sooner", "Later"]
    assert due["total"] == 2


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "ghosted"}, "status"),
        ({"page": 0}, "page"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": 501}, "page_size"),
        ({"search": "x" * 201}, "search"),
        ({"job_id": "nope"}, "job_id"),
        ({"due": "maybe"}, "due"),
    ],
)
async def test_list_rejects_bad_query(
    client: httpx.AsyncClient, params: dict[str, Any], field: str
) -> None:
    assert_invalid(await client.get("/api/applications", params=params), field)


# --- changing ----------------------------------------------------------------------------------


async def test_status_change_is_logged(client: httpx.AsyncClient, session: AsyncSession) -> None:
    application = await make_application(session)
    await session.commit()

    response = await client.patch(
        f"/api/applications/{application.id}", json={"status": "interviewing"}
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "interviewing"
    assert parse(body["updated_at"]) > parse(body["created_at"])
    change = body["logs"][-1]
    assert (change["action"], change["details"]) == ("status_changed", "applied → interviewing")
    assert (change["from_status"], change["to_status"]) == ("applied", "interviewing")
    again = (await client.get(f"/api/applications/{application.id}")).json()
    assert [log["action"] for log in again["logs"]] == ["created", "status_changed"]


async def test_notes_and_follow_up_changes_are_logged(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    application = await make_application(session)
    await session.commit()
    url = f"/api/applications/{application.id}"

    await client.patch(url, json={"notes": "Call back Friday"})
    await client.patch(url, json={"follow_up_at": "2026-12-04"})
    body = (await client.patch(url, json={"follow_up_at": None})).json()

    assert body["notes"] == "Call back Friday"
    assert body["follow_up_at"] is None
    assert [(log["action"], log["details"]) for log in body["logs"][1:]] == [
        ("notes_updated", "Notes updated"),
        ("follow_up_set", "Follow up on 2026-12-04"),
        ("follow_up_cleared", "Follow-up reminder cleared"),
    ]


async def test_several_changes_in_one_request_are_each_logged(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    application = await make_application(session)
    await session.commit()

    body = (
        await client.patch(
            f"/api/applications/{application.id}",
            json={"status": "offered", "notes": "Offer!", "applied_at": "2026-01-05"},
        )
    ).json()

    assert [log["action"] for log in body["logs"]] == [
        "created",
        "status_changed",
        "notes_updated",
        "applied_at_changed",
    ]
    again = (await client.get(f"/api/applications/{application.id}")).json()
    assert again["logs"] == body["logs"]
    assert parse(body["applied_at"]) == datetime(2026, 1, 5, tzinfo=UTC)


async def test_a_change_to_the_same_value_is_not_logged(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    application = await make_application(
        session, notes="Same", follow_up_at=datetime(2026, 12, 4, tzinfo=UTC)
    )
    await session.commit()
    before = (await client.get(f"/api/applications/{application.id}")).json()

    response = await client.patch(
        f"/api/applications/{application.id}",
        json={"status": "applied", "notes": "Same", "follow_up_at": "2026-12-04T00:00:00Z"},
    )
    empty = await client.patch(f"/api/applications/{application.id}", json={})

    assert response.status_code == 200
    assert len(response.json()["logs"]) == 1
    assert response.json()["updated_at"] == before["updated_at"]
    assert len(empty.json()["logs"]) == 1


async def test_clearing_an_absent_follow_up_is_not_logged(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    application = await make_application(session)
    await session.commit()

    body = (
        await client.patch(f"/api/applications/{application.id}", json={"follow_up_at": None})
    ).json()

    assert [log["action"] for log in body["logs"]] == ["created"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "ghosted"}, "status"),
        ({"status": None}, "status"),
        ({"applied_at": None}, "applied_at"),
        ({"follow_up_at": "soon"}, "follow_up_at"),
        ({"job_id": MISSING_ID}, "job_id"),
    ],
)
async def test_update_rejects_bad_fields(
    client: httpx.AsyncClient, session: AsyncSession, body: dict[str, Any], field: str
) -> None:
    application = await make_application(session)
    await session.commit()

    response = await client.patch(f"/api/applications/{application.id}", json=body)

    assert_invalid(response, field)


async def test_update_unknown_application_is_404(client: httpx.AsyncClient) -> None:
    response = await client.patch(f"/api/applications/{MISSING_ID}", json={"notes": "x"})

    assert response.status_code == 404


async def test_archive_sets_the_status_and_logs_it_once(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    application = await make_application(session, status="rejected")
    await session.commit()

    first = await client.post(f"/api/applications/{application.id}/archive")
    second = await client.post(f"/api/applications/{application.id}/archive")

    assert first.status_code == 200
    assert first.json()["status"] == "archived"
    change = first.json()["logs"][-1]
    assert (change["action"], change["details"]) == ("status_changed", "rejected → archived")
    assert len(second.json()["logs"]) == 2
    missing = await client.post(f"/api/applications/{MISSING_ID}/archive")
    assert missing.status_code == 404


# --- deleting ----------------------------------------------------------------------------------


async def test_delete_removes_the_application_and_its_log(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    application = await make_application(session)
    await session.commit()

    response = await client.delete(f"/api/applications/{application.id}")

    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(f"/api/applications/{application.id}")).status_code == 404
    logs = await session.scalar(
        select(func.count())
        .select_from(ApplicationLog)
        .where(ApplicationLog.application_id == application.id)
    )
    assert logs == 0
    again = await client.delete(f"/api/applications/{application.id}")
    assert again.status_code == 404


async def test_bulk_delete_reports_unknown_ids_and_deletes_the_rest(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    first = await make_application(session)
    second = await make_application(session)
    kept = await make_application(session)
    await session.commit()
    unknown = str(uuid.uuid4())

    response = await client.post(
        "/api/applications/bulk-delete",
        json={"ids": [str(first.id), unknown, str(second.id), str(first.id)]},
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"deleted": 2, "not_found": [unknown]}
    remaining = await session.scalars(select(Application.id))
    assert set(remaining) == {kept.id}


@pytest.mark.parametrize(
    "body",
    [
        {"ids": ["not-a-uuid"]},
        {"ids": []},
        {"ids": [str(uuid.uuid4()) for _ in range(1001)]},
        {},
    ],
)
async def test_bulk_delete_rejects_bad_bodies(
    client: httpx.AsyncClient, session: AsyncSession, body: dict[str, Any]
) -> None:
    application = await make_application(session)
    await session.commit()

    response = await client.post("/api/applications/bulk-delete", json=body)

    assert_invalid(response, "ids")
    assert await session.get(Application, application.id) is not None


# --- the linked listing goes away --------------------------------------------------------------


async def test_deleting_the_listing_keeps_the_application(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    job = await make_job(session, title="Data Engineer", company="Umbrella", match_score=91)
    application = await make_application(session, job)
    await session.commit()

    await session.delete(job)
    await session.commit()
    response = await client.get(f"/api/applications/{application.id}")

    body = response.json()
    assert response.status_code == 200
    assert body["job_id"] is None
    assert (body["job_title"], body["job_company"], body["job_url"]) == (
        "Data Engineer",
        "Umbrella",
        job.url,
    )
    assert body["match_score"] is None
    assert body["board_name"] is None


async def test_deleting_the_board_keeps_the_application(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    board = await make_board(session)
    job = await make_job(session, board, title="SRE", company="Wayne")
    application = await make_application(session, job)
    await session.commit()

    deleted = await client.delete(f"/api/boards/{board.id}")
    listed = (await client.get("/api/applications")).json()

    assert deleted.status_code == 204
    assert await session.scalar(select(func.count()).where(Job.id == job.id)) == 0
    [only] = listed["applications"]
    assert only["id"] == str(application.id)
    assert (only["job_id"], only["title"], only["company"]) == (None, "SRE", "Wayne")
