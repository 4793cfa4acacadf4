"""The notifier: digests of new jobs and board health mails, sent to real SMTP and Resend peers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, MutableMapping
from typing import Any

import pytest
import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import settings
from app.models import Job, JobBoard, ScanRun
from app.models.base import utcnow
from app.scrapers.base import FetchContext
from app.scrapers.http import Fetcher
from app.services import mail_transport, notifier, scans
from app.services.scan_runner import ScanOutcome, run_scan
from tests.factories import make_board, make_job
from tests.fakes import resend_server, smtp_server
from tests.fakes.resend_server import FakeResend, running_fake_resend
from tests.fakes.smtp_server import FakeSmtp, running_smtp
from tests.scrapers.local_server import LocalServer, unused_port
from tests.tasks.support import GREENHOUSE, JOBS_PATH, listing, local_server, sessions_on

HOSTILE = '<script>alert(1)</script> & "Co"'


@pytest.fixture(autouse=True)
def _mail_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """No transport unless a test picks one; quick retries; a known recipient and threshold."""
    monkeypatch.setattr(settings, "resend_api_key", None)
    monkeypatch.setattr(settings, "smtp_host", "")
    monkeypatch.setattr(settings, "notification_to_email", "me@example.com")
    monkeypatch.setattr(settings, "notification_from_email", "")
    monkeypatch.setattr(settings, "notify_min_score", 60)
    monkeypatch.setattr(mail_transport, "RETRY_DELAYS_S", (0.01, 0.01))


@pytest.fixture
async def smtp(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeSmtp]:
    async with running_smtp() as server:
        smtp_server.point_settings_at(server, monkeypatch)
        yield server


@pytest.fixture(scope="module")
async def _resend() -> AsyncIterator[FakeResend]:
    async with running_fake_resend() as server:
        yield server


@pytest.fixture
def resend(_resend: FakeResend, monkeypatch: pytest.MonkeyPatch) -> FakeResend:
    _resend.reset()
    resend_server.point_settings_at(_resend, monkeypatch)
    return _resend


@pytest.fixture
def logs() -> Iterator[list[MutableMapping[str, Any]]]:
    with structlog.testing.capture_logs() as captured:
        yield captured


async def scanned(
    session: AsyncSession,
    board: JobBoard,
    *,
    found: int = 0,
    new: list[Job] | None = None,
    error: str | None = None,
) -> ScanOutcome:
    """Record a finished scan of `board` the way the scan runner does; return its outcome."""
    now = utcnow()
    run = ScanRun(
        board_id=board.id,
        status="error" if error else "success",
        created_at=now,
        finished_at=now,
        jobs_found=found,
        jobs_new=len(new or []),
        error=error,
    )
    session.add(run)
    board.last_scan_status = run.status
    board.last_scan_error = error
    board.consecutive_failures = board.consecutive_failures + 1 if error else 0
    await session.commit()
    if error:
        return ScanOutcome(board.id, run.id, "error", board.name, message=error)
    new_ids = [job.id for job in new or []]
    return ScanOutcome(board.id, run.id, "success", board.name, found, len(new_ids), 0, 0, new_ids)


async def notify(session: AsyncSession, outcome: ScanOutcome) -> None:
    """What the scan runner does once a scan is committed."""
    await notifier.after_scan(outcome, sessions_on(session))


async def seeded_board(session: AsyncSession, name: str = "Acme careers") -> JobBoard:
    """A board whose first scan (which seeds silently) is behind it."""
    board = await make_board(session, name=name)
    await scanned(session, board, found=3)
    return board


async def alert_state(session: AsyncSession, board: JobBoard) -> tuple[Any, Any]:
    query = select(JobBoard).where(JobBoard.id == board.id)
    fresh = (await session.scalars(query.execution_options(populate_existing=True))).one()
    return fresh.alerted_failing_at, fresh.alerted_empty_at


# --- the digest over SMTP ----------------------------------------------------------------------


async def test_the_digest_lists_the_scans_good_new_jobs_best_first(
    session: AsyncSession, smtp: FakeSmtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "notification_to_email", "me@example.com, partner@example.com")
    board = await seeded_board(session)
    good = await make_job(
        session, board, title="Backend Engineer", match_score=75, company="Acme", location="Oslo"
    )
    best = await make_job(
        session,
        board,
        title="Staff Engineer",
        match_score=92.4,
        salary_min=150000,
        salary_max=180000,
        salary_currency="USD",
        salary_period="year",
        url="https://acme.example/jobs/1",
    )
    weak = await make_job(session, board, title="Sales Lead", match_score=40)

    await notify(session, await scanned(session, board, found=6, new=[good, best, weak]))

    [mail] = smtp.received
    assert mail.recipients == ["me@example.com", "partner@example.com"]
    assert mail.mail_from == "hunter@localhost"
    assert mail.subject == "Hunter: 2 new jobs on Acme careers (best: 92)"
    text, page = mail.part("plain"), mail.part("html")
    assert text.index("Staff Engineer") < text.index("Backend Engineer")
    assert "USD 150,000-180,000 per year" in text
    assert "https://acme.example/jobs/1" in text
    assert "Acme · Oslo" in text
    assert page.index("Staff Engineer") < page.index("Backend Engineer")
    assert '<a href="https://acme.example/jobs/1">Staff Engineer</a>' in page
    assert "Sales Lead" not in text
    assert "Sales Lead" not in page


async def test_scraped_text_is_escaped_in_the_html_part(
    session: AsyncSession, smtp: FakeSmtp
) -> None:
    board = await seeded_board(session, name="Evil <b>board</b>")
    job = await make_job(
        session, board, title=HOSTILE, company=HOSTILE, url='javascript:alert("x")', match_score=80
    )

    await notify(session, await scanned(session, board, found=1, new=[job]))

    [mail] = smtp.received
    page = mail.part("html")
    assert "<script>" not in page
    assert "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot;" in page
    assert "javascript:" not in page  # not made a link
    assert HOSTILE in mail.part("plain")
    assert mail.subject == "Hunter: 1 new job on Evil <b>board</b> (best: 80)"


async def test_a_boards_first_scan_seeds_silently(session: AsyncSession, smtp: FakeSmtp) -> None:
    board = await make_board(session, name="New board")
    jobs = [await make_job(session, board, match_score=90) for _ in range(3)]

    await notify(session, await scanned(session, board, found=3, new=jobs))

    assert smtp.received == []


async def test_no_mail_when_no_new_job_reaches_the_minimum_score(
    session: AsyncSession, smtp: FakeSmtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "notify_min_score", 85)
    board = await seeded_board(session)
    jobs = [await make_job(session, board, match_score=84.9)]

    await notify(session, await scanned(session, board, found=4, new=jobs))

    assert smtp.received == []


async def test_no_mail_at_all_without_a_transport(session: AsyncSession) -> None:
    board = await seeded_board(session)
    jobs = [await make_job(session, board, match_score=99)]

    # Nothing to talk to and nothing raised.
    await notify(session, await scanned(session, board, found=4, new=jobs))


# --- Resend ------------------------------------------------------------------------------------


async def test_the_digest_goes_through_resend_when_its_key_is_set(
    session: AsyncSession, resend: FakeResend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "notification_from_email", "Jobs <jobs@hunter.example>")
    monkeypatch.setattr(settings, "smtp_host", "127.0.0.1")  # Resend wins over SMTP
    monkeypatch.setattr(settings, "smtp_port", unused_port())
    board = await seeded_board(session)
    job = await make_job(session, board, title=HOSTILE, match_score=70)

    await notify(session, await scanned(session, board, found=4, new=[job]))

    [request] = resend.requests
    assert request.headers["authorization"] == f"Bearer {resend_server.API_KEY}"
    body = request.json()
    assert body["from"] == "Jobs <jobs@hunter.example>"
    assert body["to"] == ["me@example.com"]
    assert body["subject"] == "Hunter: 1 new job on Acme careers (best: 70)"
    assert HOSTILE in body["text"]
    assert "&lt;script&gt;" in body["html"]
    assert "<script>" not in body["html"]


async def test_a_failed_resend_call_is_retried(session: AsyncSession, resend: FakeResend) -> None:
    resend.fail(500, "Internal server error")
    resend.then_accept()
    board = await seeded_board(session)
    job = await make_job(session, board, match_score=70)

    await notify(session, await scanned(session, board, found=4, new=[job]))

    assert len(resend.requests) == 2
    assert len(resend.accepted) == 1
    # The same idempotency key both times, so Resend never delivers it twice.
    keys = {request.headers["idempotency-key"] for request in resend.requests}
    assert len(keys) == 1


async def test_a_refused_mail_is_logged_and_never_fails_the_scan(
    session: AsyncSession, resend: FakeResend, logs: list[MutableMapping[str, Any]]
) -> None:
    resend.fail(422, "The jobs@hunter.example domain is not verified.", "validation_error")
    board = await seeded_board(session)
    for _ in range(3):
        outcome = await scanned(session, board, error="HTTP 404 from the board")

    await notify(session, outcome)

    assert len(resend.requests) == 1  # a refusal is final: not retried
    [entry] = [e for e in logs if e["event"] == "scan_notification_not_sent"]
    assert "domain is not verified" in entry["reason"]
    # Not recorded as reported, so the next scan tries again.
    assert await alert_state(session, board) == (None, None)


# --- board health ------------------------------------------------------------------------------


async def subjects_per_scan(
    session: AsyncSession, smtp: FakeSmtp, board: JobBoard, scans_: list[dict[str, Any]]
) -> list[list[str]]:
    """Run one finished scan per entry of `scans_` (`scanned` arguments); what each one mailed."""
    mailed: list[list[str]] = []
    for scan in scans_:
        before = len(smtp.received)
        await notify(session, await scanned(session, board, **scan))
        mailed.append([mail.subject for mail in smtp.received[before:]])
    return mailed


async def test_a_failing_board_is_reported_once_and_its_recovery_once(
    session: AsyncSession, smtp: FakeSmtp
) -> None:
    board = await seeded_board(session)
    failed = {"error": "HTTP 404 from the board"}

    mailed = await subjects_per_scan(
        session, smtp, board, [failed, failed, failed, failed, {"found": 3}, {"found": 3}]
    )

    assert mailed == [
        [],
        [],
        ["Hunter: Acme careers is failing"],
        [],
        ["Hunter: Acme careers is working again"],
        [],
    ]
    alert = smtp.received[0].part("plain")
    assert "Acme careers has failed 3 scans in a row: HTTP 404 from the board" in alert
    assert await alert_state(session, board) == (None, None)


async def test_a_board_that_suddenly_finds_nothing_is_reported_once(
    session: AsyncSession, smtp: FakeSmtp
) -> None:
    board = await seeded_board(session)

    mailed = await subjects_per_scan(session, smtp, board, [{"found": n} for n in (5, 0, 0, 4, 4)])

    assert mailed == [
        [],
        ["Hunter: Acme careers suddenly finds no jobs"],
        [],
        ["Hunter: Acme careers finds jobs again"],
        [],
    ]
    assert "where the scan before found 5" in smtp.received[0].part("plain")


async def test_a_board_that_never_found_anything_is_not_reported(
    session: AsyncSession, smtp: FakeSmtp
) -> None:
    board = await make_board(session)
    for _ in range(3):
        await notify(session, await scanned(session, board, found=0))

    assert smtp.received == []


# --- through a real scan -----------------------------------------------------------------------


@pytest.fixture
async def greenhouse(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[LocalServer]:
    async with local_server() as server:
        monkeypatch.setattr(settings, "greenhouse_api_url", server.url)
        yield server


async def _run_scan(session: AsyncSession, board: JobBoard) -> ScanOutcome:
    requested = await scans.request_scan(session, board.id)
    await session.commit()
    async with Fetcher(backoff_base_s=0.005, timeout_s=5) as fetcher:
        return await run_scan(
            board.id,
            requested.scan.id,
            session_factory=sessions_on(session),
            context=FetchContext(fetcher=fetcher),
        )


async def test_a_real_scan_seeds_then_mails_what_is_new(
    session: AsyncSession,
    smtp: FakeSmtp,
    greenhouse: LocalServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings, "notify_min_score", 0)
    board = await make_board(
        session, name="Acme", url="https://boards.greenhouse.io/acme", scraper_config=GREENHOUSE
    )
    greenhouse.route("GET", JOBS_PATH, listing(1, 2), listing(1, 2, 3))

    first = await _run_scan(session, board)
    second = await _run_scan(session, board)

    assert (first.new, second.new) == (2, 1)
    [mail] = smtp.received
    assert mail.subject.startswith("Hunter: 1 new job on Acme (best: ")
    assert "Backend Engineer 3" in mail.part("plain")


async def test_a_scan_stands_when_its_mail_cannot_be_sent(
    session: AsyncSession, greenhouse: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "smtp_host", "127.0.0.1")
    monkeypatch.setattr(settings, "smtp_port", unused_port())
    board = await make_board(
        session, name="Acme", url="https://boards.greenhouse.io/acme", scraper_config=GREENHOUSE
    )
    greenhouse.route("GET", JOBS_PATH, listing(1), listing(1, 2))
    await _run_scan(session, board)

    outcome = await _run_scan(session, board)

    assert outcome.status == "success"
    assert outcome.new == 1
    stored = await session.scalar(select(ScanRun.status).where(ScanRun.id == outcome.scan_id))
    assert stored == "success"
