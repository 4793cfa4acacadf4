"""Mail after a scan: a digest of its best new jobs, and a board going bad (or well again).

Runs after the commit that recorded the scan (`scan_runner.scan_finished`), in short
transactions of its own, and never raises into the scan: a mail that cannot be sent is logged.

- Digest: one per scan, of its new jobs scoring at least NOTIFY_MIN_SCORE, best first. A board's
  first successful scan seeds silently (its whole back catalogue is "new" then).
- Health: a board failing FAILING_AFTER scans in a row is reported once, and once again when it
  works; so is a board whose scan suddenly finds nothing where the previous one found jobs. The
  board's `alerted_failing_at` / `alerted_empty_at` remember what was reported; they are only set
  once the mail went out, so a mail that failed is tried again after the next scan.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager

from app.config import settings
from app.errors import ServiceUnavailable, UpstreamError
from app.models import Job, JobBoard, JobScore, ScanRun, ScanStatus, UserProfile
from app.models.base import utcnow
from app.services.mail_transport import (
    Email,
    MailError,
    MailTransport,
    TransportName,
    configured_recipients,
    configured_transport,
    send_with_retries,
    sender,
)
from app.services.scans import SessionFactory

if TYPE_CHECKING:
    from app.services.scan_runner import ScanOutcome

log = structlog.get_logger("hunter.notifier")

FAILING_AFTER = 3
DIGEST_LIMIT = 25  # jobs listed in one mail; the subject still counts them all
# The most one scan's mail may take, retries included, before it is given up and logged.
DEADLINE_S = 90.0

NOT_CONFIGURED = (
    "Email is not configured: set RESEND_API_KEY to send through Resend, or SMTP_HOST "
    "(and SMTP_PORT, SMTP_USER, SMTP_PASSWORD as your server needs) to send through an SMTP "
    "server, then restart Hunter"
)
NO_RECIPIENT = (
    "Hunter has no one to mail: set NOTIFICATION_TO_EMAIL, or an email address on your profile"
)


@dataclass(frozen=True)
class Notice:
    """One mail to send, and the alert column to set (a time) or clear (None) once it is sent."""

    subject: str
    text: str
    html: str
    remember: dict[str, datetime | None]


# --- after a scan ------------------------------------------------------------------------------


async def after_scan(outcome: ScanOutcome, session_factory: SessionFactory) -> None:
    """Send what the finished scan calls for. Logs failures; never raises into the scan."""
    transport = configured_transport()
    if transport is None or outcome.status == "skipped":
        return
    try:
        async with asyncio.timeout(DEADLINE_S):
            await notify_scan(outcome, session_factory, transport)
    except Exception:
        log.exception(
            "scan_notification_failed",
            board_id=str(outcome.board_id),
            scan_id=str(outcome.scan_id),
        )


async def notify_scan(
    outcome: ScanOutcome, session_factory: SessionFactory, transport: MailTransport
) -> list[str]:
    """Send the mails for `outcome` through `transport`; return the subjects that went out."""
    async with session_factory() as session, session.begin():
        notices = await _notices_for(session, outcome)
        recipients = await recipients_of(session) if notices else []
    if not notices:
        return []
    if not recipients:
        log.warning("scan_notification_skipped", reason=NO_RECIPIENT)
        return []
    sent: list[Notice] = []
    for notice in notices:
        email = Email(sender(), tuple(recipients), notice.subject, notice.text, notice.html)
        try:
            await send_with_retries(transport, email)
        except MailError as exc:
            log.warning(
                "scan_notification_not_sent",
                transport=transport.name,
                subject=notice.subject,
                reason=exc.reason,
            )
            continue
        sent.append(notice)
    remember = {key: value for notice in sent for key, value in notice.remember.items()}
    if remember:
        async with session_factory() as session, session.begin():
            await session.execute(
                update(JobBoard)
                .where(JobBoard.id == outcome.board_id)
                .values(**remember)
                .execution_options(synchronize_session=False)
            )
    return [notice.subject for notice in sent]


async def recipients_of(session: AsyncSession) -> list[str]:
    """NOTIFICATION_TO_EMAIL, else the email address on the profile, else nobody."""
    configured = configured_recipients()
    if configured:
        return configured
    email = await session.scalar(
        select(UserProfile.email).order_by(UserProfile.created_at, UserProfile.id).limit(1)
    )
    return [email.strip()] if email and email.strip() else []


async def _notices_for(session: AsyncSession, outcome: ScanOutcome) -> list[Notice]:
    board = (
        await session.scalars(
            select(JobBoard)
            .where(JobBoard.id == outcome.board_id)
            .execution_options(populate_existing=True)
        )
    ).first()
    if board is None:  # deleted meanwhile
        return []
    now = utcnow()
    if outcome.status == "error":
        if board.consecutive_failures >= FAILING_AFTER and board.alerted_failing_at is None:
            return [_failing(board, outcome.message or "no reason recorded", now)]
        return []
    notices: list[Notice] = []
    if board.alerted_failing_at is not None:
        notices.append(_working_again(board))
    previous = await _previous_success(session, outcome)
    if outcome.found == 0:
        if board.alerted_empty_at is None and previous is not None and previous.jobs_found > 0:
            notices.append(_empty(board, previous.jobs_found, now))
    elif board.alerted_empty_at is not None:
        notices.append(_finding_again(board, outcome.found))
    if previous is not None and outcome.new_job_ids:
        jobs = await _qualifying_jobs(session, outcome.new_job_ids)
        if jobs:
            notices.append(digest(board.name, jobs, settings.notify_min_score))
    return notices


async def _previous_success(session: AsyncSession, outcome: ScanOutcome) -> ScanRun | None:
    """The board's latest successful scan before this one (None: this one seeds the board)."""
    query = (
        select(ScanRun)
        .where(
            ScanRun.board_id == outcome.board_id,
            ScanRun.id != outcome.scan_id,
            ScanRun.status == ScanStatus.success.value,
        )
        .order_by(ScanRun.created_at.desc())
        .limit(1)
    )
    return (await session.scalars(query)).first()


async def _qualifying_jobs(session: AsyncSession, job_ids: Sequence[Any]) -> list[Job]:
    jobs: list[Job] = []
    # Chunked: a big first scan of a new board may list thousands of ids.
    for start in range(0, len(job_ids), 500):
        query = (
            select(Job)
            .join(JobScore, JobScore.job_id == Job.id)
            .options(contains_eager(Job.score))
            .where(
                Job.id.in_(job_ids[start : start + 500]),
                JobScore.match_score >= settings.notify_min_score,
            )
        )
        jobs.extend((await session.scalars(query)).all())
    return sorted(jobs, key=lambda job: (-job.match_score, job.title.lower()))


# --- the test message --------------------------------------------------------------------------


async def send_test_message(session: AsyncSession) -> TransportName:
    """Send a short message so a person can check their settings; return the transport used."""
    transport = configured_transport()
    if transport is None:
        raise ServiceUnavailable(NOT_CONFIGURED)
    recipients = await recipients_of(session)
    if not recipients:
        raise ServiceUnavailable(NO_RECIPIENT)
    via = "the Resend API" if transport.name == "resend" else "your SMTP server"
    text = (
        f"This is a test message from Hunter, sent through {via}.\n\n"
        "Your email settings work: Hunter will mail you its digests of new jobs here."
    )
    body = f"<p>This is a test message from Hunter, sent through {via}.</p>" + (
        "<p>Your email settings work: Hunter will mail you its digests of new jobs here.</p>"
    )
    email = Email(sender(), tuple(recipients), "Hunter: test message", text, body)
    try:
        # One attempt: the person is waiting for the answer.
        await send_with_retries(transport, email, delays=())
    except MailError as exc:
        raise UpstreamError(f"The test message was not sent: {exc.reason}") from None
    return transport.name


# --- the mails ---------------------------------------------------------------------------------


def digest(board_name: str, jobs: Sequence[Job], min_score: int) -> Notice:
    """The digest of `jobs` (best first) found on the board."""
    count = len(jobs)
    noun = "job" if count == 1 else "jobs"
    best = round(jobs[0].match_score)
    subject = _one_line(f"Hunter: {count} new {noun} on {board_name} (best: {best})")
    intro = f"{count} new {noun} on {board_name} scored {min_score} or more:"
    shown = jobs[:DIGEST_LIMIT]
    more = count - len(shown)
    text_lines = [intro, ""]
    items: list[str] = []
    for job in shown:
        details = " · ".join(part for part in (job.company, job.location, _salary(job)) if part)
        text_lines.append(f"{round(job.match_score):>3}  {_one_line(job.title)}")
        if details:
            text_lines.append(f"     {_one_line(details)}")
        if job.url:
            text_lines.append(f"     {job.url}")
        text_lines.append("")
        items.append(_html_item(job, details))
    if more:
        text_lines.append(f"…and {more} more in Hunter.")
    html_body = f"<p>{_e(intro)}</p>\n<ul>\n{''.join(items)}</ul>\n" + (
        f"<p>…and {more} more in Hunter.</p>\n" if more else ""
    )
    return Notice(subject, "\n".join(text_lines).rstrip() + "\n", _page(html_body), {})


def _html_item(job: Job, details: str) -> str:
    title = _e(job.title)
    if job.url.lower().startswith(("https://", "http://")):
        # Only web links: a scraped "javascript:" URL must not become clickable.
        title = f'<a href="{_e(job.url)}">{title}</a>'
    line = f"<strong>{round(job.match_score)}</strong> {title}"
    if details:
        line += f"<br>{_e(details)}"
    return f"<li>{line}</li>\n"


def _failing(board: JobBoard, error: str, now: datetime) -> Notice:
    failures = board.consecutive_failures
    summary = f"{board.name} has failed {failures} scans in a row: {error}"
    return _health(
        f"Hunter: {board.name} is failing",
        summary,
        "Hunter will tell you once when it works again. Check the board's URL and settings.",
        {"alerted_failing_at": now},
    )


def _working_again(board: JobBoard) -> Notice:
    return _health(
        f"Hunter: {board.name} is working again",
        f"{board.name} is working again: its last scan succeeded.",
        "",
        {"alerted_failing_at": None},
    )


def _empty(board: JobBoard, before: int, now: datetime) -> Notice:
    return _health(
        f"Hunter: {board.name} suddenly finds no jobs",
        f"{board.name} found no jobs in its last scan, where the scan before found {before}.",
        "The page may have changed so that its selectors match nothing; check the board.",
        {"alerted_empty_at": now},
    )


def _finding_again(board: JobBoard, found: int) -> Notice:
    noun = "job" if found == 1 else "jobs"
    return _health(
        f"Hunter: {board.name} finds jobs again",
        f"{board.name} finds jobs again: its last scan found {found} {noun}.",
        "",
        {"alerted_empty_at": None},
    )


def _health(subject: str, summary: str, advice: str, remember: dict[str, Any]) -> Notice:
    text = summary + (f"\n\n{advice}" if advice else "") + "\n"
    body = f"<p>{_e(summary)}</p>\n" + (f"<p>{_e(advice)}</p>\n" if advice else "")
    return Notice(_one_line(subject), text, _page(body), remember)


def _salary(job: Job) -> str:
    low, high = job.salary_min, job.salary_max
    if low is None and high is None:
        return ""
    if low is not None and high is not None and low != high:
        amount = f"{low:,.0f}-{high:,.0f}"
    elif low is not None:
        amount = f"{low:,.0f}" if high is not None else f"from {low:,.0f}"
    else:
        amount = f"up to {high:,.0f}"
    currency = f"{job.salary_currency} " if job.salary_currency else ""
    period = f" per {job.salary_period}" if job.salary_period else ""
    return f"{currency}{amount}{period}"


def _page(body: str) -> str:
    return f'<!doctype html>\n<html><body style="font-family: sans-serif">\n{body}</body></html>\n'


def _e(value: str) -> str:
    return html.escape(value, quote=True)


def _one_line(value: str) -> str:
    # Scraped text may carry newlines; in a subject they would break the mail's headers.
    return " ".join(value.split())
