"""/api/ai: status and drafted answers, through the real SDK against a local Messages API."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import settings
from tests.factories import make_job
from tests.fakes.anthropic_server import (
    MODEL,
    FakeAnthropic,
    point_settings_at,
    presented_key,
    running_fake_anthropic,
)

QUESTION = "Tell us about a system you are proud of building."


@pytest.fixture(scope="module")
async def _claude_server() -> AsyncIterator[FakeAnthropic]:
    async with running_fake_anthropic() as server:
        yield server


@pytest.fixture
def claude(_claude_server: FakeAnthropic, monkeypatch: pytest.MonkeyPatch) -> FakeAnthropic:
    """The fake Messages API, answering normally, with the assistant pointed at it."""
    _claude_server.reset()
    point_settings_at(_claude_server, monkeypatch)
    return _claude_server


async def _ask(client: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await client.post("/api/ai/answer", json={"question": QUESTION, **body})


def _sent_prompt(claude: FakeAnthropic) -> str:
    content = claude.last_body()["messages"][0]["content"]
    return content if isinstance(content, str) else content[0]["text"]


async def test_status_says_whether_a_key_is_set_and_which_model(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "anthropic_api_key", None)
    monkeypatch.setattr(settings, "anthropic_model", "claude-opus-4-7")
    off = await client.get("/api/ai/status")
    monkeypatch.setattr(settings, "anthropic_api_key", SecretStr("sk-ant-some-key"))
    on = await client.get("/api/ai/status")

    assert off.status_code == on.status_code == 200
    assert off.json() == {"configured": False, "model": "claude-opus-4-7"}
    assert on.json() == {"configured": True, "model": "claude-opus-4-7"}


async def test_an_answer_is_drafted_from_the_profile_and_the_job(
    client: httpx.AsyncClient, session: AsyncSession, claude: FakeAnthropic
) -> None:
    profile = {
        "first_name": "Katherine",
        "last_name": "Johnson",
        "phone": "+1 555 0199",
        "gender": "GENDER-MARKER-F",
        "ethnicity": "ETHNICITY-MARKER",
        "skills": ["Orbital mechanics", "FORTRAN"],
        "summary": "Mathematician who checks the machines.",
    }
    assert (await client.put("/api/profile", json=profile)).status_code == 200
    experience = {"company": "NASA Langley", "title": "Research Mathematician"}
    assert (await client.post("/api/profile/experience", json=experience)).status_code == 201
    job = await make_job(
        session,
        title="Trajectory Analyst",
        company="Mercury Program",
        description="Compute launch windows and re-entry paths by hand and by machine.",
    )
    claude.answer("I computed the trajectory for the first American orbital flight.")

    response = await _ask(client, job_id=str(job.id), max_words=80)

    assert response.status_code == 200
    drafted = response.json()
    assert drafted["answer"] == "I computed the trajectory for the first American orbital flight."
    assert drafted["model"] == MODEL
    assert set(drafted["usage"]) == {"input_tokens", "output_tokens"}
    assert drafted["usage"]["input_tokens"] > 0
    assert drafted["usage"]["output_tokens"] > 0
    assert presented_key(claude.requests[0]) == claude.api_key
    body = claude.last_body()
    assert body["model"] == MODEL
    assert "first person" in body["system"]
    prompt = _sent_prompt(claude)
    for fact in (
        "Katherine Johnson",
        "Orbital mechanics, FORTRAN",
        "Research Mathematician at NASA Langley",
        "Trajectory Analyst",
        "Mercury Program",
        "launch windows",
        QUESTION,
        "at most 80 words",
    ):
        assert fact in prompt
    sent = claude.requests[0].body.decode()
    for private in ("GENDER-MARKER", "ETHNICITY-MARKER", "555 0199"):
        assert private not in sent


async def test_the_default_word_limit_is_200(
    client: httpx.AsyncClient, claude: FakeAnthropic
) -> None:
    assert (await _ask(client)).status_code == 200
    assert "at most 200 words" in _sent_prompt(claude)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"question": ""}, "question"),
        ({"question": "   \n "}, "question"),
        ({"question": "x" * 20_000}, "question"),
        ({"question": "x" * 4001}, "question"),
        ({}, "question"),
        ({"question": QUESTION, "max_words": 9}, "max_words"),
        ({"question": QUESTION, "max_words": 1001}, "max_words"),
        ({"question": QUESTION, "max_words": "lots"}, "max_words"),
        ({"question": QUESTION, "job_id": "not-a-uuid"}, "job_id"),
        ({"question": QUESTION, "temperature": 2}, "temperature"),
    ],
)
async def test_bad_requests_are_422_naming_the_field(
    client: httpx.AsyncClient, claude: FakeAnthropic, body: dict[str, Any], field: str
) -> None:
    response = await client.post("/api/ai/answer", json=body)

    assert response.status_code == 422
    assert field in response.json()["detail"]
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert claude.requests == []


async def test_a_question_of_4000_characters_is_accepted(
    client: httpx.AsyncClient, claude: FakeAnthropic
) -> None:
    response = await _ask(client, question="  " + "y" * 4000 + "  ")

    assert response.status_code == 200


async def test_an_unknown_job_is_404(client: httpx.AsyncClient, claude: FakeAnthropic) -> None:
    job_id = uuid.uuid4()

    response = await _ask(client, job_id=str(job_id))

    assert response.status_code == 404
    assert str(job_id) in response.json()["detail"]
    assert claude.requests == []


async def test_without_a_key_it_is_503_saying_how_to_enable_it(
    client: httpx.AsyncClient, claude: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "anthropic_api_key", None)

    response = await _ask(client)

    assert response.status_code == 503
    assert response.json()["error"] == "service_unavailable"
    assert "set ANTHROPIC_API_KEY" in response.json()["detail"]
    assert claude.requests == []


def _script_overloaded(claude: FakeAnthropic) -> None:
    claude.overloaded()


def _script_rate_limited(claude: FakeAnthropic) -> None:
    claude.rate_limited()


def _script_server_error(claude: FakeAnthropic) -> None:
    claude.fail(500, "api_error", f"Internal server error (key {claude.api_key} saw trouble)")


def _script_forbidden(claude: FakeAnthropic) -> None:
    claude.fail(403, "permission_error", "Your API key does not have permission.")


def _script_malformed(claude: FakeAnthropic) -> None:
    claude.malformed()


@pytest.mark.parametrize(
    ("script", "status", "error", "says"),
    [
        (_script_overloaded, 503, "service_unavailable", "Claude is overloaded"),
        (_script_rate_limited, 503, "service_unavailable", "rate limit"),
        (_script_server_error, 502, "upstream_error", "Internal server error"),
        (_script_forbidden, 502, "upstream_error", "rejected the API key"),
        (_script_malformed, 502, "upstream_error", "not a Messages API answer"),
    ],
)
async def test_upstream_failures_are_reported_without_the_key(
    client: httpx.AsyncClient,
    claude: FakeAnthropic,
    script: Any,
    status: int,
    error: str,
    says: str,
) -> None:
    script(claude)

    response = await _ask(client)

    assert response.status_code == status
    assert response.json()["error"] == error
    assert says in response.json()["detail"]
    assert claude.api_key not in response.text


async def test_a_wrong_key_is_502_saying_it_was_rejected(
    client: httpx.AsyncClient, claude: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "anthropic_api_key", SecretStr("sk-ant-revoked-key-99"))

    response = await _ask(client)

    assert response.status_code == 502
    assert "rejected the API key" in response.json()["detail"]
    assert "ANTHROPIC_API_KEY" in response.json()["detail"]
    assert "sk-ant-revoked-key-99" not in response.text


async def test_no_answer_in_time_is_504(
    client: httpx.AsyncClient, claude: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "anthropic_timeout_s", 0.5)
    claude.stall()

    response = await _ask(client)

    assert response.status_code == 504
    assert response.json()["error"] == "upstream_timeout"
    assert "did not answer within 0.5 seconds" in response.json()["detail"]


async def test_an_empty_answer_is_502(client: httpx.AsyncClient, claude: FakeAnthropic) -> None:
    claude.answer("")

    response = await _ask(client)

    assert response.status_code == 502
    assert "empty answer" in response.json()["detail"]
