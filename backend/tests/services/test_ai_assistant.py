"""The AI assistant through the real Anthropic SDK, against a local Messages API server."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import settings
from app.errors import NotFound, ServiceUnavailable, UpstreamError, UpstreamTimeout
from app.models import Education, Job, UserProfile, WorkExperience
from app.services import ai_assistant
from app.services.ai_assistant import JOB_DESCRIPTION_BUDGET, answer_question, clip
from tests.factories import make_job, make_profile
from tests.fakes.anthropic_server import (
    MODEL,
    FakeAnthropic,
    point_settings_at,
    presented_key,
    running_fake_anthropic,
)
from tests.scrapers.local_server import unused_port

QUESTION = "Why do you want to work at Initech?"


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


async def _person(session: AsyncSession) -> UserProfile:
    profile = await make_profile(
        session,
        first_name="Grace",
        last_name="Hopper",
        email="grace@example.com",
        phone="+1 555 0100",
        linkedin_url="https://linkedin.example/grace",
        city="Arlington",
        region="VA",
        country="USA",
        summary="Engineer who turns research compilers into products.",
        skills=["Python", "COBOL", "PostgreSQL"],
        us_citizen=True,
        sponsorship_needed=False,
        gender="GENDER-MARKER-F",
        ethnicity="ETHNICITY-MARKER",
        veteran_status="VETERAN-MARKER",
        disability_status="DISABILITY-MARKER",
    )
    session.add_all(
        [
            WorkExperience(
                profile_id=profile.id,
                company="Eckert-Mauchly",
                title="Senior Mathematician",
                start_date="1949-01",
                end_date="present",
                description="Wrote the first compiler, A-0.",
            ),
            Education(
                profile_id=profile.id,
                school="Yale University",
                degree="PhD",
                field_of_study="Mathematics",
                graduation_year=1934,
            ),
        ]
    )
    await session.flush()
    return profile


async def _initech_job(session: AsyncSession, **fields: Any) -> Job:
    values: dict[str, Any] = {
        "title": "Staff Compiler Engineer",
        "company": "Initech",
        "location": "Austin, TX",
        "description": "You will own our TPS report compiler end to end.",
    }
    return await make_job(session, **{**values, **fields})


def _user_message(body: dict[str, Any]) -> str:
    """The one user message of a Messages API request body."""
    messages = body["messages"]
    assert len(messages) == 1
    assert messages[0]["role"] == "user"
    content = messages[0]["content"]
    return content if isinstance(content, str) else content[0]["text"]


async def test_the_request_carries_the_key_model_instructions_and_facts(
    session: AsyncSession, claude: FakeAnthropic
) -> None:
    await _person(session)
    job = await _initech_job(session)

    await answer_question(session, QUESTION, job_id=job.id, max_words=120)

    assert len(claude.requests) == 1
    assert presented_key(claude.requests[0]) == claude.api_key
    body = claude.last_body()
    assert body["model"] == MODEL
    assert body["system"] == ai_assistant.SYSTEM_PROMPT
    assert "first person" in body["system"]
    prompt = _user_message(claude.last_body())
    for fact in (
        "Grace Hopper",
        "Python, COBOL, PostgreSQL",
        "Senior Mathematician at Eckert-Mauchly (1949-01 to present)",
        "Wrote the first compiler",
        "PhD in Mathematics, Yale University (1934)",
        "Arlington, VA, USA",
        "US citizen; needs no visa sponsorship",
        "turns research compilers into products",
        "Staff Compiler Engineer",
        "Initech",
        "TPS report compiler",
        QUESTION,
    ):
        assert fact in prompt


async def test_eeo_answers_and_contact_details_never_leave_the_machine(
    session: AsyncSession, claude: FakeAnthropic
) -> None:
    await _person(session)

    await answer_question(session, QUESTION, job_id=None, max_words=200)

    sent = claude.requests[0].body.decode()
    for private in (
        "GENDER-MARKER",
        "ETHNICITY-MARKER",
        "VETERAN-MARKER",
        "DISABILITY-MARKER",
        "555 0100",
        "grace@example.com",
        "linkedin.example",
    ):
        assert private not in sent


async def test_the_word_limit_is_asked_for_and_bounds_the_tokens(
    session: AsyncSession, claude: FakeAnthropic
) -> None:
    await _person(session)

    await answer_question(session, QUESTION, job_id=None, max_words=50)
    short = claude.last_body()
    await answer_question(session, QUESTION, job_id=None, max_words=500)
    long = claude.last_body()

    assert "at most 50 words" in _user_message(short)
    assert "at most 500 words" in _user_message(long)
    assert 50 < short["max_tokens"] < long["max_tokens"]
    assert long["max_tokens"] >= 500


async def test_a_long_job_description_is_cut_at_a_word_with_an_ellipsis(
    session: AsyncSession, claude: FakeAnthropic
) -> None:
    description = "Start of the posting. " + "compilers and reports " * 2000 + "THE-VERY-END"
    job = await _initech_job(session, description=description)

    await answer_question(session, QUESTION, job_id=job.id, max_words=200)

    prompt = _user_message(claude.last_body())
    excerpt = prompt.split("Description:\n", 1)[1].split("\n</job>", 1)[0]
    assert excerpt.startswith("Start of the posting.")
    assert "THE-VERY-END" not in prompt
    assert excerpt.endswith(("compilers…", "and…", "reports…"))
    assert len(excerpt) <= JOB_DESCRIPTION_BUDGET


def test_clip_keeps_short_text_and_cuts_long_text_between_words() -> None:
    assert clip("  short text  ", 100) == "short text"
    clipped = clip("alpha beta gamma delta", 13)
    assert clipped == "alpha beta…"
    assert len(clipped) <= 13
    assert clip("x" * 50, 10) == "x" * 9 + "…"


async def test_the_answer_model_and_usage_come_back(
    session: AsyncSession, claude: FakeAnthropic
) -> None:
    claude.answer("  I built compilers for thirty years.\n")

    draft = await answer_question(session, QUESTION, job_id=None, max_words=200)

    assert draft.answer == "I built compilers for thirty years."
    assert draft.model == MODEL
    assert draft.input_tokens > 0
    assert draft.output_tokens > 0


async def test_an_empty_answer_is_an_upstream_error(
    session: AsyncSession, claude: FakeAnthropic
) -> None:
    claude.answer("", stop_reason="max_tokens")

    with pytest.raises(UpstreamError, match="empty answer"):
        await answer_question(session, QUESTION, job_id=None, max_words=200)


async def test_without_a_key_it_says_how_to_enable_it_and_sends_nothing(
    session: AsyncSession, claude: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "anthropic_api_key", None)

    with pytest.raises(ServiceUnavailable, match="ANTHROPIC_API_KEY") as raised:
        await answer_question(session, QUESTION, job_id=None, max_words=200)

    assert "set ANTHROPIC_API_KEY" in raised.value.message
    assert claude.requests == []
    assert ai_assistant.is_configured() is False


async def test_an_unknown_job_is_not_found(session: AsyncSession, claude: FakeAnthropic) -> None:
    with pytest.raises(NotFound):
        await answer_question(session, QUESTION, job_id=uuid.uuid4(), max_words=200)
    assert claude.requests == []


async def test_overloaded_claude_is_unavailable_for_now(
    session: AsyncSession, claude: FakeAnthropic
) -> None:
    claude.overloaded()

    with pytest.raises(ServiceUnavailable, match="overloaded") as raised:
        await answer_question(session, QUESTION, job_id=None, max_words=200)

    assert "try again" in raised.value.message
    # One retry, then the person is told; never an endless loop.
    assert len(claude.requests) == 2


async def test_one_overloaded_reply_is_retried_once(
    session: AsyncSession, claude: FakeAnthropic
) -> None:
    claude.overloaded()
    claude.then_answer("I would bring decades of compiler work.")

    draft = await answer_question(session, QUESTION, job_id=None, max_words=200)

    assert draft.answer == "I would bring decades of compiler work."


async def test_a_rejected_key_is_reported_without_the_key(
    session: AsyncSession, claude: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "anthropic_api_key", SecretStr("sk-ant-wrong-key-42"))

    with pytest.raises(UpstreamError, match="rejected the API key") as raised:
        await answer_question(session, QUESTION, job_id=None, max_words=200)

    assert "ANTHROPIC_API_KEY" in raised.value.message
    assert "sk-ant-wrong-key-42" not in raised.value.message


async def test_a_forbidden_key_is_reported_as_rejected(
    session: AsyncSession, claude: FakeAnthropic
) -> None:
    claude.fail(403, "permission_error", "Your API key does not have permission.")

    with pytest.raises(UpstreamError, match="rejected the API key") as raised:
        await answer_question(session, QUESTION, job_id=None, max_words=200)

    assert "does not have permission" in raised.value.message


async def test_a_rate_limit_is_unavailable_for_now(
    session: AsyncSession, claude: FakeAnthropic
) -> None:
    claude.rate_limited()

    with pytest.raises(ServiceUnavailable, match="rate limit"):
        await answer_question(session, QUESTION, job_id=None, max_words=200)


async def test_an_upstream_failure_gives_its_reason_but_never_the_key(
    session: AsyncSession, claude: FakeAnthropic
) -> None:
    claude.fail(500, "api_error", f"Internal failure while handling key {claude.api_key}")

    with pytest.raises(UpstreamError) as raised:
        await answer_question(session, QUESTION, job_id=None, max_words=200)

    assert raised.value.status_code == 502
    assert "Internal failure" in raised.value.message
    assert "(500)" in raised.value.message
    assert claude.api_key not in raised.value.message


async def test_a_bad_request_is_an_upstream_error_with_its_reason(
    session: AsyncSession, claude: FakeAnthropic
) -> None:
    claude.fail(400, "invalid_request_error", "model: unknown model 'claude-nonesuch'")

    with pytest.raises(UpstreamError, match="unknown model 'claude-nonesuch'"):
        await answer_question(session, QUESTION, job_id=None, max_words=200)


async def test_no_answer_within_the_timeout_is_an_upstream_timeout(
    session: AsyncSession, claude: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "anthropic_timeout_s", 0.5)
    claude.stall()

    with pytest.raises(UpstreamTimeout, match=r"did not answer within 0\.5 seconds"):
        await answer_question(session, QUESTION, job_id=None, max_words=200)


async def test_a_response_that_is_not_json_is_an_upstream_error(
    session: AsyncSession, claude: FakeAnthropic
) -> None:
    claude.malformed()

    with pytest.raises(UpstreamError, match="not a Messages API answer"):
        await answer_question(session, QUESTION, job_id=None, max_words=200)


async def test_json_that_is_not_a_message_is_an_upstream_error(
    session: AsyncSession, claude: FakeAnthropic
) -> None:
    claude.misshapen()

    with pytest.raises(UpstreamError, match="not a Messages API answer"):
        await answer_question(session, QUESTION, job_id=None, max_words=200)


async def test_an_unreachable_server_is_an_upstream_error(
    session: AsyncSession, claude: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "anthropic_base_url", f"http://127.0.0.1:{unused_port()}")

    with pytest.raises(UpstreamError, match="Could not reach Claude"):
        await answer_question(session, QUESTION, job_id=None, max_words=200)


async def test_neither_the_key_nor_the_prompt_is_logged(
    session: AsyncSession, claude: FakeAnthropic, caplog: pytest.LogCaptureFixture
) -> None:
    await _person(session)
    caplog.set_level(logging.DEBUG)

    await answer_question(
        session, "What is your secret-question-marker?", job_id=None, max_words=50
    )
    claude.fail(500, "api_error", "boom")
    with pytest.raises(UpstreamError):
        await answer_question(session, QUESTION, job_id=None, max_words=50)

    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert "ai_answer_requested" in logged  # the call itself is logged, by its sizes
    assert claude.api_key not in logged
    assert "secret-question-marker" not in logged
    assert "Grace Hopper" not in logged
