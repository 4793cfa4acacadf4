"""Hunter's settings: read once from the environment (and `.env`), validated at start-up."""

from __future__ import annotations

import ipaddress
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATA_DIR = Path.home() / ".local" / "share" / "hunter"
REPO_ROOT = Path(__file__).resolve().parents[2]


def env_files() -> tuple[Path, ...]:
    """`.env` at the repository root, then in the working directory (later ones win).

    HUNTER_ENV_FILE names one file instead; set it empty to read none (the tests do).
    """
    chosen = os.environ.get("HUNTER_ENV_FILE")
    if chosen is not None:
        return (Path(chosen),) if chosen else ()
    return (REPO_ROOT / ".env", Path.cwd() / ".env")


class LogFormat(StrEnum):
    console = "console"
    json = "json"


def _bare_origin(value: str, variable: str) -> str:
    """Accept `scheme://host[:port]` only, so paths can be appended predictably."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{variable} must look like https://host[:port], got {value!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{variable} must be a bare scheme://host[:port] without a path")
    return f"{parts.scheme}://{parts.netloc}"


class Settings(BaseSettings):
    """Every variable Hunter reads; `.env.example` documents each one."""

    model_config = SettingsConfigDict(
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        case_sensitive=False,
    )

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = ""
    redis_url: str = ""
    # SQLite's page cache in MB, shared out among the connections the server keeps open. The
    # operating system caches the file too: this saves copying pages, mostly for big scans.
    sqlite_cache_mb: Annotated[int, Field(ge=1, le=4096)] = 32

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8000
    api_token: SecretStr | None = None
    allow_insecure_public_bind: bool = False
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["http://localhost:5173", "http://127.0.0.1:5173"]
    )

    log_level: str = "INFO"
    log_format: LogFormat = LogFormat.console

    upload_dir: Path | None = None
    max_upload_mb: Annotated[int, Field(ge=1, le=100)] = 10

    resend_api_key: SecretStr | None = None
    resend_api_url: str = "https://api.resend.com"
    notification_from_email: str = ""
    notification_to_email: str = ""
    notify_min_score: Annotated[int, Field(ge=0, le=100)] = 60
    smtp_host: str = ""
    smtp_port: Annotated[int, Field(ge=1, le=65535)] = 587
    smtp_user: str = ""
    smtp_password: SecretStr | None = None

    anthropic_api_key: SecretStr | None = None
    anthropic_model: str = "claude-sonnet-4-6"
    anthropic_base_url: str | None = None
    anthropic_timeout_s: Annotated[float, Field(gt=0, le=600)] = 60.0

    browser_executable: str = ""
    playwright_headless: bool = True
    greenhouse_api_url: str = "https://boards-api.greenhouse.io"
    lever_api_url: str = "https://api.lever.co"
    ashby_api_url: str = "https://api.ashbyhq.com"
    scraper_user_agent: str = "Hunter/0.1 (self-hosted job search; +https://github.com/hunter)"
    scraper_max_concurrency_per_host: Annotated[int, Field(ge=1, le=32)] = 2
    scraper_timeout_s: Annotated[float, Field(gt=0, le=300)] = 20.0

    scan_concurrency: Annotated[int, Field(ge=1, le=32)] = 10
    # How often due boards are looked for and queued (both modes; beat's schedule in distributed).
    schedule_check_seconds: Annotated[float, Field(ge=1, le=3600)] = 60.0
    # How long a stopping `serve` or `worker` lets running scans finish before handing them back.
    shutdown_grace_seconds: Annotated[float, Field(ge=0, le=3600)] = 20.0

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("data_dir", "upload_dir", mode="before")
    @classmethod
    def _expand_home(cls, value: Any) -> Any:
        return Path(value).expanduser() if isinstance(value, str) and value else value

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value:
            return value
        if value.startswith(("postgres://", "postgresql://")):
            # People paste the URL their host gives them; use the async driver for it.
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://", "sqlite://")):
            raise ValueError(
                "DATABASE_URL must be a sqlite+aiosqlite:// or postgresql+asyncpg:// URL"
            )
        if value.startswith("sqlite://"):
            return "sqlite+aiosqlite://" + value.split("://", 1)[1]
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("REDIS_URL must be a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("resend_api_url", "greenhouse_api_url", "lever_api_url", "ashby_api_url")
    @classmethod
    def _check_api_origin(cls, value: str, info: Any) -> str:
        return _bare_origin(value, str(info.field_name).upper())

    @field_validator("anthropic_base_url")
    @classmethod
    def _check_anthropic_base_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("ANTHROPIC_BASE_URL must be an http(s) URL")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _check_public_bind(self) -> Settings:
        exposed = not self.binds_to_loopback and self.api_token is None
        if exposed and not self.allow_insecure_public_bind:
            raise ValueError(
                f"HOST={self.host} is reachable from other machines but API_TOKEN is not set; "
                "set API_TOKEN, or set ALLOW_INSECURE_PUBLIC_BIND=true to serve anyway"
            )
        if self.api_token is not None and len(self.api_token.get_secret_value()) < 8:
            raise ValueError("API_TOKEN must be at least 8 characters long")
        return self

    @property
    def binds_to_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    @property
    def effective_database_url(self) -> str:
        """The configured database, or the embedded SQLite file under the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'hunter.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def distributed(self) -> bool:
        """Distributed mode (Celery + Redis pub/sub) is on exactly when REDIS_URL is set."""
        return bool(self.redis_url)

    @property
    def effective_upload_dir(self) -> Path:
        return self.upload_dir or self.data_dir / "uploads"

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024


settings = Settings(_env_file=env_files())
