"""The checks `hunter doctor` runs once the configuration is valid, one per thing Hunter needs.

Each reuses the code Hunter itself runs (the engine builder and Alembic scripts, the Redis ping
of /api/health, the scrapers' browser launch, the mail transports, the AI assistant's client),
so a check passes exactly when Hunter would work. Email and the AI assistant are contacted only
with `online`: without it the doctor sends nothing to outside services.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import URL, Connection, make_url

from app.config import settings
from app.services.doctor import Check, CheckFailed, CheckResult, Finding, run_checks

MIGRATE = "run `hunter migrate`"
NOT_CONTACTED = "not contacted; `hunter doctor --online` checks it"
# Bounds for the outside services (within each check's own time limit).
EMAIL_TIMEOUT_S = 10.0
ANTHROPIC_TIMEOUT_S = 20.0


async def check_everything(*, online: bool) -> list[CheckResult]:
    """Every check after the configuration's, in the order they are shown."""
    return await run_checks(CHECKS, online=online)


# --- database ----------------------------------------------------------------------------------


def _database_place(url: URL) -> str:
    """Where the database is, without its credentials."""
    if url.get_backend_name() == "sqlite":
        return f"SQLite at {url.database}"
    return f"PostgreSQL at {url.host or 'localhost'}:{url.port or 5432}/{url.database}"


def _error_reason(exc: BaseException) -> str:
    """The driver's own words for a database error, without SQLAlchemy's wrapping."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


def _current_revisions(connection: Connection) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    return set(MigrationContext.configure(connection).get_current_heads())


async def check_database(_online: bool) -> Finding:
    """Reachable, and migrated to the newest revision this version of Hunter has."""
    from alembic.script import ScriptDirectory

    from app.database import build_engine, reading
    from app.migrations import alembic_config

    url = make_url(settings.effective_database_url)
    place = _database_place(url)
    migrate = MIGRATE if settings.distributed else f"{MIGRATE} (`hunter serve` does it on start)"
    # Connecting to a missing SQLite file would create an empty one: say what is missing instead.
    sqlite_file = Path(url.database or "") if url.get_backend_name() == "sqlite" else None
    if sqlite_file is not None and not await asyncio.to_thread(sqlite_file.is_file):
        raise CheckFailed(f"no database at {sqlite_file} yet", migrate)
    engine = build_engine(settings.effective_database_url)
    try:
        async with reading(engine).connect() as connection:
            current = await connection.run_sync(_current_revisions)
    except Exception as exc:
        raise CheckFailed(f"cannot use {place}: {_error_reason(exc)}") from None
    finally:
        await engine.dispose()
    scripts = ScriptDirectory.from_config(alembic_config())
    heads = set(scripts.get_heads())
    known = {script.revision for script in scripts.walk_revisions()}
    if current == heads:
        return Finding("ok", f"{place}, migrated to {', '.join(sorted(heads))}")
    if not current:
        raise CheckFailed(f"{place} has no Hunter tables yet", migrate)
    if current - known:
        raise CheckFailed(
            f"{place} is at revision {', '.join(sorted(current - known))}, which this "
            "version of Hunter does not know",
            "run the Hunter version that migrated it, or point DATABASE_URL at this Hunter's "
            "database",
        )
    raise CheckFailed(
        f"{place} is at {', '.join(sorted(current))}, behind {', '.join(sorted(heads))}",
        migrate,
    )


# --- redis -------------------------------------------------------------------------------------


def _redis_place(redis_url: str) -> str:
    """Where Redis is, without its password."""
    parts = urlsplit(redis_url)
    if parts.scheme == "unix":
        return f"Redis at {parts.path}"
    database = parts.path.strip("/") or "0"
    return f"Redis at {parts.hostname or 'localhost'}:{parts.port or 6379}/{database}"


async def check_redis(_online: bool) -> Finding:
    """Distributed mode only: the broker and event bus answer a PING."""
    from app.services.health import ping_redis

    if not settings.distributed:
        return Finding(
            "skip", "not configured: embedded mode, where `hunter serve` runs the scans itself"
        )
    place = _redis_place(settings.redis_url)
    try:
        await ping_redis(settings.redis_url)
    except TimeoutError:
        raise CheckFailed(f"{place} did not answer within 5 s") from None
    except Exception as exc:
        raise CheckFailed(f"cannot connect to {place}: {exc}") from None
    return Finding("ok", f"{place} answers")


# --- chromium ----------------------------------------------------------------------------------


async def check_chromium(_online: bool) -> Finding:
    """Launch the browser the scrapers would, headless, with their arguments; then close it."""
    from app.scrapers.browser import BrowserUnavailable, SharedBrowser, find_browser

    executable = find_browser()
    if executable is None and settings.browser_executable:
        raise CheckFailed(
            f"BROWSER_EXECUTABLE={settings.browser_executable} is not a program on this machine",
            "set BROWSER_EXECUTABLE to Chromium's path (e.g. /usr/bin/chromium), or unset it "
            "to use chromium from PATH",
        )
    if executable is None:
        raise CheckFailed("no Chromium on PATH (looked for chromium and google-chrome)")
    browser = SharedBrowser(executable=executable, headless=True)
    try:
        version = (await browser.browser()).version
    except BrowserUnavailable as exc:
        # Its advice to install Chromium is this check's fix, shown after it.
        raise CheckFailed(str(exc).split("; install chromium", 1)[0]) from None
    finally:
        await browser.close()
    return Finding("ok", f"{executable} (Chromium {version}) starts headless")


# --- uploads -----------------------------------------------------------------------------------


def _uploads() -> Finding:
    directory = settings.effective_upload_dir
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise CheckFailed(f"{directory} cannot be created: {existing} is a file")
    if existing != directory:
        if not os.access(existing, os.W_OK | os.X_OK):
            raise CheckFailed(f"{directory} cannot be created: {existing} is not writable")
        return Finding("ok", f"{directory} will be created by the first upload")
    try:
        descriptor, name = tempfile.mkstemp(dir=directory, prefix=".doctor-")
        os.close(descriptor)
        os.unlink(name)
    except OSError as exc:
        raise CheckFailed(f"cannot write to {directory}: {exc.strerror or exc}") from None
    return Finding("ok", f"{directory} is writable")


async def check_uploads(_online: bool) -> Finding:
    """Resumes can be stored: the upload directory is (or can be made) writable."""
    return await asyncio.to_thread(_uploads)


# --- email -------------------------------------------------------------------------------------


async def check_email(online: bool) -> Finding:
    """Optional: Resend or SMTP; with `online`, the server accepts Hunter without mail sent."""
    from app.services.mail_transport import MailError, configured_recipients, configured_transport

    transport = configured_transport()
    if transport is None:
        return Finding("skip", "not configured: no email alerts (set RESEND_API_KEY, or SMTP_HOST)")
    if transport.name == "resend":
        via = f"Resend API at {settings.resend_api_url}"
        fix = "check RESEND_API_KEY and RESEND_API_URL, or unset RESEND_API_KEY"
        if settings.smtp_host:
            via += " (SMTP_HOST is ignored while RESEND_API_KEY is set)"
    else:
        user = f" as {settings.smtp_user}" if settings.smtp_user else ""
        via = f"SMTP server {settings.smtp_host}:{settings.smtp_port}{user}"
        fix = "check SMTP_HOST, SMTP_PORT, SMTP_USER and SMTP_PASSWORD, or unset SMTP_HOST"
    to = ", ".join(configured_recipients()) or "the email address on your profile"
    if not online:
        return Finding("ok", f"{via}, to {to} ({NOT_CONTACTED})")
    transport.timeout_s = EMAIL_TIMEOUT_S
    try:
        await transport.check()
    except MailError as exc:
        raise CheckFailed(exc.reason, fix) from None
    return Finding("ok", f"{via} accepts Hunter; alerts go to {to}")


# --- AI assistant ------------------------------------------------------------------------------


async def check_anthropic(online: bool) -> Finding:
    """Optional: with `online`, the configured model answers a one-token request."""
    from app.errors import AppError
    from app.services import ai_assistant

    if not ai_assistant.is_configured():
        return Finding("skip", "not configured: AI answers are off (set ANTHROPIC_API_KEY)")
    where = settings.anthropic_base_url or "the Anthropic API"
    if not online:
        return Finding("ok", f"key set, model {settings.anthropic_model} ({NOT_CONTACTED})")
    timeout_s = min(settings.anthropic_timeout_s, ANTHROPIC_TIMEOUT_S)
    try:
        model = await ai_assistant.check_connection(timeout_s)
    except AppError as exc:
        raise CheckFailed(exc.message) from None
    return Finding("ok", f"{model} answers at {where}")


# --- API token ---------------------------------------------------------------------------------


async def check_api_token(_online: bool) -> Finding:
    """Off loopback, the API needs a token (the settings refuse to start without one unless
    ALLOW_INSECURE_PUBLIC_BIND is set; that choice is shown as a warning)."""
    if settings.api_token is not None:
        return Finding(
            "ok", f"set: every request except /api/health needs it (HOST={settings.host})"
        )
    if settings.binds_to_loopback:
        return Finding(
            "ok", f"not needed: HOST={settings.host} is reachable from this machine only"
        )
    return Finding(
        "warn",
        f"HOST={settings.host} is reachable from other machines and API_TOKEN is not set "
        "(ALLOW_INSECURE_PUBLIC_BIND=true): anyone who can reach it can read your data",
        "set API_TOKEN to a long random string",
    )


CHECKS: tuple[Check, ...] = (
    Check("database", check_database, 20.0, "start the database server, or correct DATABASE_URL"),
    Check("redis", check_redis, 10.0, "start Redis, or unset REDIS_URL to run in embedded mode"),
    Check(
        "chromium",
        check_chromium,
        60.0,
        "install chromium (apt install chromium), or set BROWSER_EXECUTABLE to a working one",
    ),
    Check("uploads", check_uploads, 10.0, "set UPLOAD_DIR to a directory Hunter can write to"),
    Check("email", check_email, EMAIL_TIMEOUT_S + 5, "check the email settings in .env.example"),
    Check(
        "anthropic",
        check_anthropic,
        ANTHROPIC_TIMEOUT_S + 5,
        "check ANTHROPIC_API_KEY, ANTHROPIC_MODEL and ANTHROPIC_BASE_URL, or unset "
        "ANTHROPIC_API_KEY",
    ),
    Check("api token", check_api_token, 5.0, "set API_TOKEN"),
)
