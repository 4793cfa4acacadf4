"""The container image and the compose stack keep their promises (Docker is not needed).

The compose file is read the way `docker compose` reads it, `${VAR...}` interpolation included,
so these tests see what a user who runs `cp .env.example .env && docker compose up -d` gets.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings
from tests.scrapers.local_server import LocalServer, Reply

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
DOCKERFILE = REPO_ROOT / "backend" / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / "backend" / ".dockerignore"
ENV_EXAMPLE = REPO_ROOT / ".env.example"

HUNTER_ROLES = {"migrate": "migrate", "api": "serve", "worker": "worker", "beat": "beat"}
SECRET_WORDS = ("PASSWORD", "TOKEN", "SECRET", "KEY", "AUTH")
# What a user puts in .env before `docker compose up`.
FILLED_IN = {
    "POSTGRES_PASSWORD": "pgsecret123",
    "REDIS_PASSWORD": "redissecret123",
    "API_TOKEN": "a-long-api-token",
}

# Compose's interpolation: $$ escapes a dollar; ${NAME}, ${NAME:-default}, ${NAME-default},
# ${NAME:?message} and ${NAME?message} (the colon forms also treat an empty value as unset).
VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<name>[A-Za-z_]\w*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\})"
)


class MissingVariable(Exception):
    """What `docker compose` stops with when a `${NAME:?message}` variable is not set."""


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """`value` with every `${...}` in its strings replaced as compose replaces them."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name, op, arg = match["name"], match["op"] or "", match["arg"] or ""
        given = env.get(name)
        unset = given is None or (op.startswith(":") and given == "")
        if unset and op.endswith("?"):
            raise MissingVariable(f"{name}: {arg}")
        if unset and op.endswith("-"):
            return arg
        return given or ""

    return VARIABLE.sub(replace, value)


def raw_compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


def compose(env: Mapping[str, str] = FILLED_IN) -> dict[str, Any]:
    """The stack as compose sees it with `env` in .env (defaults for everything else)."""
    resolved: dict[str, Any] = interpolate(raw_compose(), env)
    return resolved


def services(env: Mapping[str, str] = FILLED_IN) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose(env)["services"]
    return found


def variables_read() -> list[re.Match[str]]:
    return [m for m in VARIABLE.finditer(COMPOSE_FILE.read_text()) if m["name"]]


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n(\s*#.*\n)*", " ", DOCKERFILE.read_text())
    pairs = []
    for line in joined.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, arguments = stripped.partition(" ")
            pairs.append((keyword.upper(), arguments.strip()))
    return pairs


def final_stage() -> list[tuple[str, str]]:
    """The instructions of the image that ships (after the last FROM)."""
    pairs = dockerfile_instructions()
    last_from = max(i for i, (keyword, _) in enumerate(pairs) if keyword == "FROM")
    return pairs[last_from:]


# --- the compose stack -------------------------------------------------------------------------


def test_only_the_api_is_published_and_on_loopback_by_default() -> None:
    stack = services()
    published = {name for name, service in stack.items() if service.get("ports")}
    assert published == {"api"}
    assert stack["api"]["ports"] == ["127.0.0.1:8000:8000"]


def test_the_published_address_and_port_can_be_changed_from_env() -> None:
    env = {**FILLED_IN, "HUNTER_BIND_ADDRESS": "192.0.2.10", "HUNTER_PORT": "9000"}
    assert services(env)["api"]["ports"] == ["192.0.2.10:9000:8000"]


def test_postgres_and_redis_are_reachable_only_inside_the_stack() -> None:
    stack = services()
    for name in ("postgres", "redis"):
        assert "ports" not in stack[name], f"{name} must not publish a port"
        assert stack[name].get("network_mode") != "host"


@pytest.mark.parametrize("secret", sorted(FILLED_IN))
@pytest.mark.parametrize("given", [None, ""], ids=["unset", "empty"])
def test_the_stack_refuses_to_start_without_each_secret(secret: str, given: str | None) -> None:
    env = {name: value for name, value in FILLED_IN.items() if name != secret}
    if given is not None:
        env[secret] = given
    with pytest.raises(MissingVariable, match=rf"^{secret}: set {secret} in \.env"):
        compose(env)


def test_every_secret_variable_must_be_given_and_has_no_default() -> None:
    secrets = [m for m in variables_read() if any(w in m["name"] for w in SECRET_WORDS)]
    assert {m["name"] for m in secrets} == set(FILLED_IN)
    for match in secrets:
        assert match["op"] == ":?", f"{match[0]} must use ${{{match['name']}:?message}}"


def test_every_variable_has_a_default_or_a_message() -> None:
    for match in variables_read():
        assert match["op"] in (":-", ":?"), f"{match[0]} would silently become empty"
        assert match["arg"], f"{match[0]} needs a default or a message"


def test_no_secret_is_written_in_the_compose_file() -> None:
    for name, service in services(dict.fromkeys(FILLED_IN, "<from .env>")).items():
        for variable, value in dict(service.get("environment") or {}).items():
            if any(word in variable for word in SECRET_WORDS):
                assert "<from .env>" in str(value), f"{name}.{variable} is not taken from .env"


def test_every_hunter_role_runs_from_the_same_image() -> None:
    stack = services()
    hunters = {name: stack[name] for name in HUNTER_ROLES}
    assert len({(s["image"], str(s["build"])) for s in hunters.values()}) == 1
    assert hunters["api"]["build"] == "./backend"
    assert (COMPOSE_FILE.parent / "backend" / "Dockerfile").is_file()
    for name, role in HUNTER_ROLES.items():
        assert hunters[name]["command"][0] == role
    others = {s.get("image") for n, s in stack.items() if n not in HUNTER_ROLES}
    assert hunters["api"]["image"] not in others


def test_the_roles_the_stack_runs_are_hunter_commands() -> None:
    runner = CliRunner()
    stack = services()
    for name in HUNTER_ROLES:
        role, *options = stack[name]["command"]
        shown = runner.invoke(cli, [role, "--help"])
        assert shown.exit_code == 0, shown.output
        for option in options:
            if option.startswith("--"):
                assert option in shown.output, f"`hunter {role}` has no {option}"


def test_worker_concurrency_comes_from_env() -> None:
    assert services()["worker"]["command"] == ["worker", "--concurrency", "2"]
    env = {**FILLED_IN, "WORKER_CONCURRENCY": "6"}
    assert services(env)["worker"]["command"] == ["worker", "--concurrency", "6"]


def test_uploads_and_database_live_on_named_volumes() -> None:
    stack = compose()
    named = set(stack["volumes"])
    api = stack["services"]["api"]
    uploads = api["environment"]["UPLOAD_DIR"]
    assert f"uploads:{uploads}" in api["volumes"]
    assert "postgres-data:/var/lib/postgresql/data" in stack["services"]["postgres"]["volumes"]
    assert {"uploads", "postgres-data"} <= named


def test_migrations_finish_before_anything_uses_the_database() -> None:
    stack = services()
    assert stack["migrate"]["restart"] == "no"
    assert stack["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("api", "worker", "beat"):
        needs = stack[name]["depends_on"]
        assert needs["migrate"] == {"condition": "service_completed_successfully"}
        assert needs["postgres"] == {"condition": "service_healthy"}
        assert needs["redis"] == {"condition": "service_healthy"}


def test_every_service_has_a_health_check_that_fits_it() -> None:
    stack = services()
    for name in ("postgres", "redis", "worker"):
        assert stack[name]["healthcheck"]["test"][0] == "CMD-SHELL", name
    assert "pg_isready" in stack["postgres"]["healthcheck"]["test"][1]
    assert "inspect ping" in stack["worker"]["healthcheck"]["test"][1]
    # The API keeps the image's HEALTHCHECK (GET /api/health); the one-shot migration and beat,
    # which serve nothing, turn it off explicitly.
    assert "healthcheck" not in stack["api"]
    for name in ("migrate", "beat"):
        assert stack[name]["healthcheck"] == {"disable": True}


def test_the_stack_gives_hunter_settings_it_accepts() -> None:
    environment = services()["api"]["environment"]
    fields = {name.upper() for name in Settings.model_fields}
    assert set(environment) <= fields, set(environment) - fields
    settings = Settings(_env_file=None, **{k.lower(): v for k, v in environment.items()})
    assert settings.distributed
    assert settings.host == "0.0.0.0"
    assert settings.effective_database_url.startswith("postgresql+asyncpg://hunter:pgsecret123@")
    assert settings.redis_url == "redis://:redissecret123@redis:6379/0"


def test_env_example_documents_every_compose_variable_without_a_secret() -> None:
    documented = dict(
        line.split("=", 1)
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line and not line.startswith("#")
    )
    for match in variables_read():
        assert match["name"] in documented, f"{match['name']} is missing from .env.example"
    for name in FILLED_IN:
        assert documented[name] == "", f".env.example must not ship a value for {name}"


# --- the image ---------------------------------------------------------------------------------


def test_the_image_runs_as_a_non_root_user() -> None:
    users = [arguments for keyword, arguments in final_stage() if keyword == "USER"]
    assert users, "the image needs a USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")


def health_check_command() -> list[str]:
    """The image's HEALTHCHECK command, as the container runs it."""
    (check,) = [arguments for keyword, arguments in final_stage() if keyword == "HEALTHCHECK"]
    command: list[str] = json.loads(check.split(" CMD ", 1)[1])
    return command


async def run_health_check(port: int) -> int:
    program, *arguments = health_check_command()
    assert program == "python"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *arguments,
        env={**os.environ, "PORT": str(port)},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await process.wait()


async def test_the_image_is_unhealthy_exactly_when_api_health_says_so() -> None:
    server = LocalServer()
    await server.start()
    try:
        # A missing browser only degrades scanning: still healthy.
        server.route("GET", "/api/health", Reply(json={"status": "degraded", "browser": "error"}))
        assert await run_health_check(server.port) == 0
        server.route("GET", "/api/health", Reply(503, json={"database": "error"}))
        assert await run_health_check(server.port) != 0
        assert [r.path for r in server.requests] == ["/api/health"] * 2
    finally:
        await server.stop()
    assert await run_health_check(server.port) != 0, "nothing listens: unhealthy"


def test_the_image_takes_chromium_from_debian_and_downloads_no_browser() -> None:
    text = DOCKERFILE.read_text()
    assert "playwright install" not in text
    runs = [arguments for keyword, arguments in final_stage() if keyword == "RUN"]
    assert any(re.search(r"apt-get install .*\bchromium\b", run) for run in runs)
    environment = " ".join(arguments for keyword, arguments in final_stage() if keyword == "ENV")
    assert "BROWSER_EXECUTABLE=/usr/bin/chromium" in environment


def test_the_image_leaves_build_tools_in_the_builder_stage() -> None:
    froms = [arguments for keyword, arguments in dockerfile_instructions() if keyword == "FROM"]
    assert len(froms) >= 2, "build in one stage and copy into the final one"
    shipped = " ".join(arguments for _, arguments in final_stage())
    for tool in ("build-essential", "gcc", "python3-dev"):
        assert tool not in shipped
    assert "requirements.txt" in DOCKERFILE.read_text()


def test_the_image_serves_every_role_with_its_migrations() -> None:
    stage = final_stage()
    entrypoint = [arguments for keyword, arguments in stage if keyword == "ENTRYPOINT"]
    assert json.loads(entrypoint[-1])[-1] == "hunter"
    command = [arguments for keyword, arguments in stage if keyword == "CMD"]
    assert json.loads(command[-1]) == ["serve"]
    copied = " ".join(arguments for keyword, arguments in stage if keyword == "COPY")
    for needed in ("alembic.ini", "alembic", "app"):
        assert needed in copied
    allowed = DOCKERIGNORE.read_text().splitlines()
    for needed in ("!requirements.txt", "!alembic.ini", "!alembic/", "!app/"):
        assert needed in allowed
    assert "*" in allowed, ".dockerignore should let in only what the image needs"
