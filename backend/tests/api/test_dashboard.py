from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ApplicationLog, ApplicationStatus
from app.models.base import utcnow
from tests.factories import make_application, make_board, make_job

DASHBOARD = "/api/applications/dashboard"


async def get_dashboard(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get(DASHBOARD)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def by_date(series: list[dict[str, Any]]) -> dict[str, int]:
    return {item["date"]: item["count"] for item in series}


def day(moment: datetime) -> str:
    return moment.date().isoformat()


def monday(moment: datetime) -> str:
    the_day = moment.date()
    return (the_day - timedelta(days=the_day.weekday())).isoformat()


async def test_empty_dashboard_has_every_bucket_at_zero(client: httpx.AsyncClient) -> None:
    body = await get_dashboard(client)

    today = utcnow().date()
    assert body["boards"] == {"total": 0, "enabled": 0, "failing": 0}
    assert (body["active_boards"], body["total_jobs"], body["new_jobs"]) == (0, 0, 0)
    assert (body["jobs_this_week"], body["high_match_jobs"], body["follow_ups_due"]) == (0, 0, 0)
    assert body["total_applications"] == 0
    assert body["applications_by_status"] == {status.value: 0 for status in ApplicationStatus}
    assert body["response_rate"] is None
    assert body["jobs_by_board"] == []
    assert body["recent_activity"] == []
    for series in ("applications_over_time", "jobs_found_per_day"):
        dates = [item["date"] for item in body[series]]
        assert dates == [(today - timedelta(days=n)).isoformat() for n in range(29, -1, -1)]
        assert {item["count"] for item in body[series]} == {0}
    weeks = [date.fromisoformat(item["week_start"]) for item in body["applications_per_week"]]
    assert len(weeks) == 12
    assert all(week.weekday() == 0 for week in weeks)
    assert weeks[-1] <= today < weeks[-1] + timedelta(days=7)
    assert weeks == sorted(weeks)
    assert {item["count"] for item in body["applications_per_week"]} == {0}


async def test_board_and_listing_figures(client: httpx.AsyncClient, session: AsyncSession) -> None:
    now = utcnow()
    alpha = await make_board(session, name="Alpha", last_scan_status="success")
    beta = await make_board(session, name="Beta", last_scan_status="error")
    gamma = await make_board(session, name="Gamma", enabled=False, last_scan_status="error")
    await make_board(session, name="Delta", last_scan_status="never")
    ago = {n: now - timedelta(days=n) for n in (1, 3, 8, 10, 40)}
    # Alpha: new and high-scoring; hidden; old and read; closed.
    await make_job(session, alpha, is_new=True, match_score=75, first_seen_at=ago[1])
    await make_job(
        session, alpha, is_new=True, is_hidden=True, match_score=95, first_seen_at=ago[1]
    )
    await make_job(session, alpha, is_new=False, match_score=10, first_seen_at=ago[10])
    await make_job(session, alpha, is_new=True, match_score=99, first_seen_at=ago[3], closed_at=now)
    # Beta: exactly the high-match threshold, and just under it.
    await make_job(session, beta, is_new=False, match_score=70, first_seen_at=ago[40])
    await make_job(session, beta, is_new=True, match_score=69.9, first_seen_at=ago[3])
    # Gamma (disabled): its open listing still counts.
    await make_job(session, gamma, is_new=False, match_score=80, first_seen_at=ago[8])

    body = await get_dashboard(client)

    assert body["boards"] == {"total": 4, "enabled": 3, "failing": 1}
    assert body["active_boards"] == 3
    assert body["total_jobs"] == 6
    assert body["new_jobs"] == 2
    assert body["high_match_jobs"] == 3
    assert body["jobs_this_week"] == 4
    assert [(item["board"], item["count"]) for item in body["jobs_by_board"]] == [
        ("Alpha", 3),
        ("Beta", 2),
        ("Gamma", 1),
    ]
    assert body["jobs_by_board"][0]["board_id"] == str(alpha.id)
    per_day = by_date(body["jobs_found_per_day"])
    assert len(per_day) == 30
    expected = Counter([day(ago[1]), day(ago[1]), day(ago[3]), day(ago[3]), day(ago[8])])
    expected[day(ago[10])] += 1
    assert {d: n for d, n in per_day.items() if n} == dict(expected)


async def test_application_figures(client: httpx.AsyncClient, session: AsyncSession) -> None:
    now = utcnow()
    ago = {n: now - timedelta(days=n) for n in (0, 2, 15, 40, 100)}
    await make_application(
        session, status="applied", applied_at=ago[0], follow_up_at=now - timedelta(hours=1)
    )
    await make_application(session, status="applied", applied_at=ago[2])
    await make_application(
        session, status="interviewing", applied_at=ago[2], follow_up_at=now + timedelta(days=1)
    )
    await make_application(session, status="offered", applied_at=ago[15])
    await make_application(
        session, status="rejected", applied_at=ago[40], follow_up_at=now - timedelta(days=1)
    )
    interviewed = await make_application(session, status="withdrawn", applied_at=ago[100])
    await make_application(session, status="withdrawn", applied_at=ago[100])
    archived = await make_application(session, status="archived", applied_at=ago[100])
    for application in (interviewed, archived):
        session.add(
            ApplicationLog(
                application_id=application.id,
                action="status_changed",
                details="applied → interviewing",
                from_status="applied",
                to_status="interviewing",
            )
        )
    await session.flush()

    body = await get_dashboard(client)

    assert body["total_applications"] == 8
    assert body["applications_by_status"] == {
        "applied": 2,
        "interviewing": 1,
        "offered": 1,
        "rejected": 1,
        "withdrawn": 2,
        "archived": 1,
    }
    # Interviewing, offered, rejected and the one withdrawn after an interview, of 7 not archived.
    assert body["response_rate"] == 0.571
    assert body["follow_ups_due"] == 1
    over_time = by_date(body["applications_over_time"])
    assert {d: n for d, n in over_time.items() if n} == {
        day(ago[0]): 1,
        day(ago[2]): 2,
        day(ago[15]): 1,
    }
    weekly = {item["week_start"]: item["count"] for item in body["applications_per_week"]}
    expected = Counter(monday(ago[n]) for n in (0, 2, 2, 15, 40))
    assert {week: n for week, n in weekly.items() if n} == dict(expected)


async def test_response_rate_ignores_archived_applications(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_application(session, status="archived")

    assert (await get_dashboard(client))["response_rate"] is None

    await make_application(session, status="rejected")
    await make_application(session, status="applied")
    await make_application(session, status="applied")

    assert (await get_dashboard(client))["response_rate"] == 0.333


async def test_recent_activity_is_the_latest_twenty_newest_first(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    start = utcnow() - timedelta(days=1)
    for n in range(25):
        await make_application(
            session, title=f"Role {n}", company="Hooli", logged_at=start + timedelta(minutes=n)
        )

    activity = (await get_dashboard(client))["recent_activity"]

    assert len(activity) == 20
    assert [item["title"] for item in activity] == [f"Role {n}" for n in range(24, 4, -1)]
    assert activity[0]["action"] == "created"
    assert activity[0]["details"] == "Applied to Role 24 at Hooli"
    assert activity[0]["company"] == "Hooli"
    assert {"action", "details", "timestamp", "application_id"} <= activity[0].keys()


async def test_dashboard_follows_changes_made_through_the_api(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/applications", json={"company": "Acme", "title": "SRE"})
    application_id = created.json()["id"]
    await client.patch(f"/api/applications/{application_id}", json={"status": "interviewing"})

    body = await get_dashboard(client)

    assert body["applications_by_status"]["interviewing"] == 1
    assert body["response_rate"] == 1.0
    assert body["applications_over_time"][-1]["count"] == 1
    assert body["applications_per_week"][-1]["count"] == 1
    latest = body["recent_activity"][0]
    assert (latest["action"], latest["details"]) == ("status_changed", "applied → interviewing")
    assert latest["application_id"] == application_id
