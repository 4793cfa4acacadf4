"""`hunter doctor`'s checks against real peers: databases, Redis, Chromium, the upload directory,
SMTP, the Resend and Anthropic stand-ins, and the API token rule. Each check is shown passing and
failing the way a person would meet it, and every failure carries a fix."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from pydantic import SecretStr
from sqlalchemy import text

from app import migrations
from app.config import settings
from app.database import build_engine
from app.scrapers.browser import find_browser
from app.services.doctor import CheckResult, failed, run_check
from app.services.doctor_checks import CHECKS
from app.services.health import ping_redis
from tests.fakes import anthropic_server, resend_server, smtp_server
from tests.scrapers.local_server import unused_port
from tests.support import TEST_DATABASE_URL, TEST_REDIS_URL, TMP, require_service


async def doctor(name: str, *, online: bool = False) -> CheckResult:
    """Run the doctor's check called `name`, as `hunter doctor [--online]` would."""
    check = next(check for check in CHECKS if check.name == name)
    result = await run_check(check, online=online)
    if result.status in ("fail", "warn"):
        assert result.fix, f"{name} reported a problem without a fix: {result}"
    return result


def head_revision() -> str:
    (head,) = ScriptDirectory.from_config(migrations.alembic_config()).get_heads()
    return head


def sqlite_path(url: str) -> Path:
    return Path(url.split(":///", 1)[1])


# --- database ----------------------------------------------------------------------------------


async def test_the_migrated_database_is_ok() -> None:
    result = await doctor("database")

    assert result.status == "ok"
    assert f"migrated to {head_revision()}" in result.detail
    assert ("SQLite" if TEST_DATABASE_URL.startswith("sqlite") else "PostgreSQL") in result.detail


async def test_a_database_never_migrated_fails_with_hunter_migrate_as_the_fix(
    scratch_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if scratch_url.startswith("sqlite"):
        sqlite3.connect(sqlite_path(scratch_url)).close()  # an empty database file
    monkeypatch.setattr(settings, "database_url", scratch_url)

    result = await doctor("database")

    assert result.status == "fail"
    assert "has no Hunter tables yet" in result.detail
    assert "hunter migrate" in result.fix


async def test_a_database_behind_the_newest_migration_fails(
    scratch_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await asyncio.to_thread(migrations.upgrade, scratch_url, "001_initial")
    monkeypatch.setattr(settings, "database_url", scratch_url)

    result = await doctor("database")

    assert result.status == "fail"
    assert f"is at 001_initial, behind {head_revision()}" in result.detail
    assert "hunter migrate" in result.fix

    await asyncio.to_thread(migrations.upgrade, scratch_url)
    assert (await doctor("database")).status == "ok"


async def test_a_database_from_a_newer_hunter_fails(
    scratch_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await asyncio.to_thread(migrations.upgrade, scratch_url)
    engine = build_engine(scratch_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = '999_later'"))
    finally:
        await engine.dispose()
    monkeypatch.setattr(settings, "database_url", scratch_url)

    result = await doctor("database")

    assert result.status == "fail"
    assert "999_later, which this version of Hunter does not know" in result.detail


async def test_a_missing_sqlite_file_fails_and_is_not_created(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    missing = TMP / f"never-{uuid.uuid4().hex[:8]}" / "hunter.db"
    monkeypatch.setattr(settings, "database_url", f"sqlite+aiosqlite:///{missing}")

    result = await doctor("database")

    assert result.status == "fail"
    assert f"no database at {missing} yet" in result.detail
    assert "hunter migrate" in result.fix
    assert not missing.parent.exists()


async def test_an_unreachable_postgresql_fails_without_showing_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = unused_port()
    url = f"postgresql+asyncpg://hunter:pa55word@127.0.0.1:{port}/hunter"
    monkeypatch.setattr(settings, "database_url", url)

    result = await doctor("database")

    assert result.status == "fail"
    assert f"cannot use PostgreSQL at 127.0.0.1:{port}/hunter" in result.detail
    assert "pa55word" not in result.detail
    assert "DATABASE_URL" in result.fix


# --- redis -------------------------------------------------------------------------------------


async def test_redis_is_skipped_in_embedded_mode() -> None:
    result = await doctor("redis")

    assert result.status == "skip"
    assert "embedded mode" in result.detail


async def test_a_running_redis_is_ok(monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        await ping_redis(TEST_REDIS_URL)
        available = True
    except Exception:
        available = False
    require_service(available, f"Redis at {TEST_REDIS_URL}")
    monkeypatch.setattr(settings, "redis_url", TEST_REDIS_URL)

    result = await doctor("redis")

    assert result.status == "ok"
    assert "answers" in result.detail


async def test_redis_on_a_port_nobody_listens_on_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    port = unused_port()
    monkeypatch.setattr(settings, "redis_url", f"redis://:s3cret@127.0.0.1:{port}/3")

    result = await doctor("redis")

    assert result.status == "fail"
    assert f"cannot connect to Redis at 127.0.0.1:{port}/3" in result.detail
    assert "s3cret" not in result.detail
    assert "start Redis, or unset REDIS_URL" in result.fix


# --- chromium ----------------------------------------------------------------------------------


async def test_the_installed_chromium_starts() -> None:
    executable = find_browser()
    require_service(executable is not None, "Chromium")

    result = await doctor("chromium")

    assert result.status == "ok"
    assert f"{executable} (Chromium " in result.detail
    assert "starts headless" in result.detail


async def test_a_browser_executable_that_does_not_exist_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings, "browser_executable", "/opt/nowhere/chromium")

    result = await doctor("chromium")

    assert result.status == "fail"
    assert "BROWSER_EXECUTABLE=/opt/nowhere/chromium is not a program" in result.detail
    assert "set BROWSER_EXECUTABLE to Chromium's path" in result.fix


async def test_a_browser_executable_that_is_no_browser_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings, "browser_executable", "/bin/false")

    result = await doctor("chromium")

    assert result.status == "fail"
    assert "Chromium at /bin/false would not start" in result.detail
    assert "install chromium" in result.fix
    assert "install chromium" not in result.detail  # said once, as the fix


# --- uploads -----------------------------------------------------------------------------------


async def test_a_writable_upload_directory_is_ok_and_left_as_it_was(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    directory = TMP / f"uploads-{uuid.uuid4().hex[:8]}"
    directory.mkdir()
    monkeypatch.setattr(settings, "upload_dir", directory)

    result = await doctor("uploads")

    assert result.status == "ok"
    assert f"{directory} is writable" in result.detail
    assert list(directory.iterdir()) == []


async def test_an_upload_directory_still_to_be_made_is_ok_and_not_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    directory = TMP / f"later-{uuid.uuid4().hex[:8]}" / "uploads"
    monkeypatch.setattr(settings, "upload_dir", directory)

    result = await doctor("uploads")

    assert result.status == "ok"
    assert "will be created by the first upload" in result.detail
    assert not directory.parent.exists()


async def test_an_upload_directory_under_a_file_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    # The tests run as root, who may write anywhere: a path under a regular file is never usable.
    blocker = TMP / f"a-file-{uuid.uuid4().hex[:8]}"
    blocker.write_text("not a directory")
    monkeypatch.setattr(settings, "upload_dir", blocker / "uploads")

    result = await doctor("uploads")

    assert result.status == "fail"
    assert f"{blocker / 'uploads'} cannot be created: {blocker} is a file" in result.detail
    assert "UPLOAD_DIR" in result.fix


# --- email -------------------------------------------------------------------------------------


async def test_email_not_configured_is_skipped_not_failed() -> None:
    result = await doctor("email", online=True)

    assert result.status == "skip"
    assert "not configured" in result.detail


async def test_smtp_is_not_contacted_without_online(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "smtp_host", "127.0.0.1")
    monkeypatch.setattr(settings, "smtp_port", unused_port())  # down, but not asked

    result = await doctor("email")

    assert result.status == "ok"
    assert "not contacted" in result.detail


async def test_a_reachable_smtp_server_is_ok_and_receives_no_mail(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings, "notification_to_email", "me@example.com")
    async with smtp_server.running_smtp() as server:
        smtp_server.point_settings_at(server, monkeypatch)

        result = await doctor("email", online=True)

    assert result.status == "ok"
    assert f"SMTP server 127.0.0.1:{server.port} accepts Hunter" in result.detail
    assert "me@example.com" in result.detail
    assert server.received == []


async def test_an_smtp_server_that_is_down_fails_with_online(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = unused_port()
    monkeypatch.setattr(settings, "smtp_host", "127.0.0.1")
    monkeypatch.setattr(settings, "smtp_port", port)

    result = await doctor("email", online=True)

    assert result.status == "fail"
    assert f"could not reach the SMTP server 127.0.0.1:{port}" in result.detail
    assert "SMTP_HOST" in result.fix


async def test_resend_accepting_the_key_is_ok_and_nothing_is_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with resend_server.running_fake_resend() as fake:
        resend_server.point_settings_at(fake, monkeypatch)

        result = await doctor("email", online=True)

    assert result.status == "ok"
    assert f"Resend API at {fake.url} accepts Hunter" in result.detail
    assert len(fake.requests) == 1
    assert fake.accepted == []


async def test_resend_refusing_the_key_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    async with resend_server.running_fake_resend() as fake:
        resend_server.point_settings_at(fake, monkeypatch)
        monkeypatch.setattr(settings, "resend_api_key", SecretStr("re_revoked_key"))

        result = await doctor("email", online=True)

    assert result.status == "fail"
    assert "the Resend API rejected RESEND_API_KEY (401)" in result.detail
    assert "RESEND_API_KEY" in result.fix
    assert "re_revoked_key" not in result.detail


async def test_resend_that_is_down_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "resend_api_key", SecretStr(resend_server.API_KEY))
    monkeypatch.setattr(settings, "resend_api_url", f"http://127.0.0.1:{unused_port()}")

    result = await doctor("email", online=True)

    assert result.status == "fail"
    assert "could not reach the Resend API" in result.detail


# --- anthropic ---------------------------------------------------------------------------------


async def test_the_ai_assistant_not_configured_is_skipped() -> None:
    result = await doctor("anthropic", online=True)

    assert result.status == "skip"
    assert "ANTHROPIC_API_KEY" in result.detail


async def test_claude_is_not_contacted_without_online(monkeypatch: pytest.MonkeyPatch) -> None:
    async with anthropic_server.running_fake_anthropic() as fake:
        anthropic_server.point_settings_at(fake, monkeypatch)

        result = await doctor("anthropic")

    assert result.status == "ok"
    assert "not contacted" in result.detail
    assert fake.requests == []


async def test_claude_answering_one_token_is_ok(monkeypatch: pytest.MonkeyPatch) -> None:
    async with anthropic_server.running_fake_anthropic() as fake:
        anthropic_server.point_settings_at(fake, monkeypatch)

        result = await doctor("anthropic", online=True)

    assert result.status == "ok"
    assert f"{anthropic_server.MODEL} answers at {fake.url}" in result.detail
    assert [request.json()["max_tokens"] for request in fake.requests] == [1]


async def test_claude_refusing_the_key_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    async with anthropic_server.running_fake_anthropic() as fake:
        anthropic_server.point_settings_at(fake, monkeypatch)
        monkeypatch.setattr(settings, "anthropic_api_key", SecretStr("sk-ant-wrong-key-000"))

        result = await doctor("anthropic", online=True)

    assert result.status == "fail"
    assert "Anthropic rejected the API key (401" in result.detail
    assert "ANTHROPIC_API_KEY" in result.fix
    assert "sk-ant-wrong-key-000" not in result.detail


async def test_claude_that_is_down_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "anthropic_api_key", SecretStr(anthropic_server.API_KEY))
    monkeypatch.setattr(settings, "anthropic_base_url", f"http://127.0.0.1:{unused_port()}")

    result = await doctor("anthropic", online=True)

    assert result.status == "fail"
    assert "Could not reach Claude" in result.detail


async def test_claude_that_never_answers_fails_instead_of_hanging(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with anthropic_server.running_fake_anthropic() as fake:
        anthropic_server.point_settings_at(fake, monkeypatch, timeout_s=1.0)
        fake.stall()

        result = await doctor("anthropic", online=True)

    assert result.status == "fail"
    assert "did not answer within 1 seconds" in result.detail


# --- API token ---------------------------------------------------------------------------------


async def test_no_token_is_needed_on_loopback() -> None:
    result = await doctor("api token")

    assert result.status == "ok"
    assert "HOST=127.0.0.1 is reachable from this machine only" in result.detail


async def test_a_token_protects_a_public_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "host", "0.0.0.0")
    monkeypatch.setattr(settings, "api_token", SecretStr("a-long-random-token"))

    result = await doctor("api token")

    assert result.status == "ok"
    assert "a-long-random-token" not in result.detail


async def test_a_public_address_without_a_token_is_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Only possible with ALLOW_INSECURE_PUBLIC_BIND=true: the settings refuse it otherwise.
    monkeypatch.setattr(settings, "host", "0.0.0.0")
    monkeypatch.setattr(settings, "allow_insecure_public_bind", True)

    result = await doctor("api token")

    assert result.status == "warn"
    assert "HOST=0.0.0.0 is reachable from other machines" in result.detail
    assert "API_TOKEN" in result.fix
    assert not failed([result])
