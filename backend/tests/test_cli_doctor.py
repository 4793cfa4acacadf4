"""`hunter doctor` as a person runs it: a real process, one line per check, the exit status."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from app.scrapers.browser import find_browser
from tests.scrapers.local_server import unused_port
from tests.support import TMP, require_service

# Everything the doctor reads that the test run's own environment might set.
_CLEARED = (
    "DATABASE_URL",
    "REDIS_URL",
    "API_TOKEN",
    "ALLOW_INSECURE_PUBLIC_BIND",
    "BROWSER_EXECUTABLE",
    "RESEND_API_KEY",
    "SMTP_HOST",
    "ANTHROPIC_API_KEY",
)


def doctor(*args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in _CLEARED}
    env.update({"HUNTER_ENV_FILE": "", "HOST": "127.0.0.1", "PYTHONIOENCODING": "utf-8"})
    env.update(variables)
    return subprocess.run(
        [sys.executable, "-m", "app", "doctor", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )


def line(output: str, name: str) -> str:
    """The report's line for the check `name`."""
    (found,) = [text for text in output.splitlines() if text[2:].split("  ")[0].strip() == name]
    return found


@pytest.fixture
def data_dir() -> Path:
    """A data directory holding a migrated SQLite database."""
    directory = TMP / f"doctor-{uuid.uuid4().hex[:8]}"
    migrated = subprocess.run(
        [sys.executable, "-m", "app", "migrate"],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **{key: value for key, value in os.environ.items() if key not in _CLEARED},
            "HUNTER_ENV_FILE": "",
            "DATA_DIR": str(directory),
        },
        check=False,
    )
    assert migrated.returncode == 0, migrated.stderr
    return directory


def test_a_working_setup_passes_and_exits_zero(data_dir: Path) -> None:
    require_service(find_browser() is not None, "Chromium")

    result = doctor(DATA_DIR=str(data_dir), UPLOAD_DIR=str(data_dir / "uploads"))

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert line(out, "configuration").startswith("✓")
    assert "embedded mode" in line(out, "configuration")
    assert line(out, "database").startswith("✓")
    assert f"SQLite at {data_dir / 'hunter.db'}, migrated to" in line(out, "database")
    assert line(out, "redis").startswith("-")
    assert line(out, "chromium").startswith("✓")
    assert line(out, "uploads").startswith("✓")
    assert "not configured" in line(out, "email")
    assert "not configured" in line(out, "anthropic")
    assert line(out, "api token").startswith("✓")
    assert "fix:" not in out
    assert "Everything Hunter needs is in order." in out


def test_a_public_address_without_a_token_is_a_warning_not_a_failure(data_dir: Path) -> None:
    require_service(find_browser() is not None, "Chromium")

    result = doctor(DATA_DIR=str(data_dir), HOST="0.0.0.0", ALLOW_INSECURE_PUBLIC_BIND="true")

    assert result.returncode == 0, result.stdout + result.stderr
    token = line(result.stdout, "api token")
    assert token.startswith("!")
    assert "HOST=0.0.0.0 is reachable from other machines" in token
    assert "→ fix: set API_TOKEN" in token


def test_an_invalid_configuration_is_reported_line_by_line() -> None:
    result = doctor(PORT="99999", LOG_LEVEL="loud")

    assert result.returncode == 1
    lines = [text for text in result.stdout.splitlines() if text.startswith("✗")]
    assert len(lines) == 2
    assert lines[0].startswith("✗ configuration  PORT: ")
    assert lines[1].startswith("✗ configuration  LOG_LEVEL: LOG_LEVEL must be one of")
    assert all("→ fix: correct it in the environment" in text for text in lines)
    assert "database" not in result.stdout  # nothing else can be checked without settings


def test_a_public_address_without_a_token_is_refused() -> None:
    result = doctor(HOST="0.0.0.0")

    assert result.returncode == 1
    assert "HOST=0.0.0.0 is reachable from other machines but API_TOKEN is not set" in (
        line(result.stdout, "configuration")
    )


def test_a_terminal_without_unicode_gets_plain_marks() -> None:
    result = doctor(HOST="0.0.0.0", PYTHONIOENCODING="ascii")

    assert result.returncode == 1
    assert result.stdout.startswith("xx configuration")
    assert "-> fix:" in result.stdout


def test_each_failing_check_gets_a_line_with_its_fix_and_a_non_zero_exit() -> None:
    blocker = TMP / f"a-file-{uuid.uuid4().hex[:8]}"
    blocker.write_text("not a directory")
    empty = TMP / f"empty-{uuid.uuid4().hex[:8]}"
    redis_port, smtp_port = unused_port(), unused_port()

    result = doctor(
        "--online",
        DATA_DIR=str(empty),
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        BROWSER_EXECUTABLE="/opt/nowhere/chromium",
        UPLOAD_DIR=str(blocker / "uploads"),
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp_port),
    )

    assert result.returncode == 1
    out = result.stdout
    assert line(out, "configuration").startswith("✓")
    assert "distributed mode" in line(out, "configuration")
    for name, fix in [
        ("database", "run `hunter migrate`"),
        ("redis", "start Redis, or unset REDIS_URL"),
        ("chromium", "set BROWSER_EXECUTABLE to Chromium's path"),
        ("uploads", "set UPLOAD_DIR"),
        ("email", "check SMTP_HOST"),
    ]:
        text = line(out, name)
        assert text.startswith("✗"), text
        assert f"→ fix: {fix}" in text
    assert f"127.0.0.1:{redis_port}" in line(out, "redis")
    assert line(out, "anthropic").startswith("-")
    assert "5 problems to fix before Hunter can work as configured." in out
    assert not (empty / "hunter.db").exists()  # the doctor looked, and created no database
