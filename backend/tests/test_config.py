"""Settings are validated at start-up with messages that name the variable."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import SecretStr, ValidationError

from app.config import Settings
from app.logging import redact_secrets


def test_public_bind_without_token_is_refused() -> None:
    with pytest.raises(ValidationError, match="API_TOKEN"):
        Settings(host="0.0.0.0", api_token=None)


def test_public_bind_with_token_or_explicit_opt_out_is_allowed() -> None:
    assert not Settings(host="0.0.0.0", api_token=SecretStr("a-long-token")).binds_to_loopback
    Settings(host="0.0.0.0", allow_insecure_public_bind=True)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_hosts_need_no_token(host: str) -> None:
    assert Settings(host=host).binds_to_loopback


@pytest.mark.parametrize(
    ("field", "value", "variable"),
    [
        ("database_url", "mysql://x", "DATABASE_URL"),
        ("redis_url", "http://x", "REDIS_URL"),
        ("greenhouse_api_url", "ftp://x", "GREENHOUSE_API_URL"),
        ("lever_api_url", "https://api.lever.co/v0", "LEVER_API_URL"),
        ("log_level", "LOUD", "LOG_LEVEL"),
        ("port", 70000, "port"),
        ("max_upload_mb", 0, "max_upload_mb"),
        ("sqlite_cache_mb", 0, "sqlite_cache_mb"),
    ],
)
def test_nonsense_is_rejected_naming_the_variable(field: str, value: object, variable: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(**{field: value})  # type: ignore[arg-type]
    assert variable in str(caught.value)


def test_plain_postgres_urls_get_the_async_driver() -> None:
    url = Settings(database_url="postgres://u@h/db").database_url
    assert url == "postgresql+asyncpg://u@h/db"


def test_cors_origins_read_from_a_comma_separated_variable() -> None:
    assert Settings(cors_origins="http://a.test, http://b.test").cors_origins == [  # type: ignore[arg-type]
        "http://a.test",
        "http://b.test",
    ]


def test_secrets_are_redacted_from_log_events() -> None:
    event = redact_secrets(None, "info", {"event": "x", "api_token": "s3cret", "Password": "p"})
    assert event == {"event": "x", "api_token": "[redacted]", "Password": "[redacted]"}


def test_cli_refuses_to_serve_publicly_without_a_token() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app", "serve", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"},
        check=False,
    )
    assert result.returncode == 2
    assert "API_TOKEN" in result.stderr
