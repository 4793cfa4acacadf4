"""Draft answers to application questions with Claude, in the person's own voice.

The prompt is built from the profile and, when given, the job. Only what helps answer an
application question goes into it: the EEO answers (gender, ethnicity, veteran and disability
status) and contact details (email, phone, links) never leave the machine through it. They are
not needed to answer a question, and the person's data should not travel further than it must.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import settings
from app.errors import AppError, NotFound, ServiceUnavailable, UpstreamError, UpstreamTimeout
from app.models import Job, UserProfile
from app.services import profile as profiles

if TYPE_CHECKING:
    import anthropic

# The SDK is imported where it is used: loading it costs the API process about 60 MB and
# several seconds at start-up, for a feature a person may never turn on.

log = structlog.get_logger(__name__)

# At DEBUG the SDK logs every request's options, prompt included; the prompt is the person's
# data, so its logger never goes below INFO, whatever LOG_LEVEL (or ANTHROPIC_LOG) says.
logging.getLogger("anthropic").setLevel(logging.INFO)

# Room for a long job posting without paying for (or drowning the question in) a huge one.
JOB_DESCRIPTION_BUDGET = 6000
SUMMARY_BUDGET = 3000
EXPERIENCE_DESCRIPTION_BUDGET = 1500
# A retry is worth one attempt at most: the person is waiting for the answer.
MAX_RETRIES = 1
# The SDK's timeout is per attempt; this backstop bounds the whole call, retries included.
DEADLINE_MARGIN_S = 1.0
UPSTREAM_REASON_LIMIT = 300

SYSTEM_PROMPT = """\
You draft answers to job application questions for the applicant described in the user's \
message. Write as the applicant, in the first person ("I"), in a natural, confident and \
specific voice.

Rules:
- Use only facts given about the applicant and the job. Never invent employers, titles, dates, \
degrees, figures, skills or achievements. When the facts do not cover something, answer \
honestly with what is known instead of making it up.
- When a job is given, connect the applicant's experience to what that job asks for.
- Reply with the answer itself in plain text: no preamble, no title, no sign-off, no notes to \
the applicant, no Markdown formatting.
- Keep within the word limit given with the question."""


@dataclass(frozen=True)
class DraftAnswer:
    """Claude's draft, with the model that wrote it and the tokens it took."""

    answer: str
    model: str
    input_tokens: int
    output_tokens: int


def is_configured() -> bool:
    return settings.anthropic_api_key is not None


async def answer_question(
    session: AsyncSession, question: str, *, job_id: uuid.UUID | None, max_words: int
) -> DraftAnswer:
    """Draft an answer to `question` from the profile (and the job, when given)."""
    if settings.anthropic_api_key is None:
        raise ServiceUnavailable(
            "The AI assistant is not configured: set ANTHROPIC_API_KEY (in the environment or "
            "in Hunter's .env file) to an Anthropic API key and restart Hunter."
        )
    job = None
    if job_id is not None:
        job = await session.get(Job, job_id)
        if job is None:
            raise NotFound(f"Job {job_id} not found")
    profile = await profiles.get_profile(session)
    prompt = build_user_prompt(profile, job, question, max_words)
    return await _ask_claude(
        settings.anthropic_api_key.get_secret_value(), prompt, max_tokens=max_tokens_for(max_words)
    )


def max_tokens_for(max_words: int) -> int:
    """Enough tokens for `max_words` English words (~1.3 tokens each) with room to finish."""
    return max_words * 2 + 100


def build_user_prompt(profile: UserProfile, job: Job | None, question: str, max_words: int) -> str:
    """The facts and the question; the stable instructions live in SYSTEM_PROMPT."""
    sections = [f"<applicant>\n{_describe_applicant(profile)}\n</applicant>"]
    if job is not None:
        sections.append(f"<job>\n{_describe_job(job)}\n</job>")
    sections.append(f"<question>\n{question.strip()}\n</question>")
    sections.append(f"Answer the question as the applicant in at most {max_words} words.")
    return "\n\n".join(sections)


def _describe_applicant(profile: UserProfile) -> str:
    lines: list[str] = []
    name = " ".join(part for part in (profile.first_name, profile.last_name) if part)
    if name:
        lines.append(f"Name: {name}")
    location = ", ".join(part for part in (profile.city, profile.region, profile.country) if part)
    if location:
        lines.append(f"Location: {location}")
    if profile.desired_title:
        lines.append(f"Role sought: {profile.desired_title}")
    authorization = _work_authorization(profile)
    if authorization:
        lines.append(f"Work authorization: {authorization}")
    if profile.summary:
        lines.append(f"Summary: {clip(profile.summary, SUMMARY_BUDGET)}")
    if profile.skills:
        lines.append(f"Skills: {', '.join(profile.skills)}")
    if profile.work_experience:
        lines.append("Work experience:")
        for item in profile.work_experience:
            dates = " to ".join(d for d in (item.start_date, item.end_date) if d)
            line = f"- {item.title} at {item.company}" + (f" ({dates})" if dates else "")
            if item.description:
                line += f": {clip(item.description, EXPERIENCE_DESCRIPTION_BUDGET)}"
            lines.append(line)
    if profile.education:
        lines.append("Education:")
        for school in profile.education:
            degree = " in ".join(d for d in (school.degree, school.field_of_study) if d)
            line = f"- {degree + ', ' if degree else ''}{school.school}"
            if school.graduation_year:
                line += f" ({school.graduation_year})"
            lines.append(line)
    return "\n".join(lines) or "(The applicant has not filled in a profile yet.)"


def _work_authorization(profile: UserProfile) -> str:
    facts = []
    if profile.us_citizen is not None:
        facts.append("US citizen" if profile.us_citizen else "not a US citizen")
    if profile.sponsorship_needed is not None:
        facts.append(
            "needs visa sponsorship" if profile.sponsorship_needed else "needs no visa sponsorship"
        )
    return "; ".join(facts)


def _describe_job(job: Job) -> str:
    lines = [f"Title: {job.title}"]
    if job.company:
        lines.append(f"Company: {job.company}")
    if job.location:
        lines.append(f"Location: {job.location}")
    if job.description:
        lines.append(f"Description:\n{clip(job.description, JOB_DESCRIPTION_BUDGET)}")
    return "\n".join(lines)


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at a word boundary, marked with an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    boundary = cut.rfind(" ")
    # A single enormous "word" (a URL, base64) is cut where it is rather than dropped.
    if boundary > limit // 2:
        cut = cut[:boundary]
    return cut.rstrip() + "…"


async def _ask_claude(api_key: str, prompt: str, *, max_tokens: int) -> DraftAnswer:
    timeout_s = settings.anthropic_timeout_s
    # Sizes only: the key and the prompt (the person's data) are never logged.
    log.info(
        "ai_answer_requested",
        model=settings.anthropic_model,
        system_chars=len(SYSTEM_PROMPT),
        prompt_chars=len(prompt),
        max_tokens=max_tokens,
    )
    import anthropic

    client = _client(api_key, timeout_s)
    try:
        async with client, asyncio.timeout(timeout_s + DEADLINE_MARGIN_S):
            message = await client.messages.create(
                model=settings.anthropic_model,
                max_tokens=max_tokens,
                system=SYSTEM_PROMPT,
                messages=[{"role": "user", "content": prompt}],
            )
    except (TimeoutError, anthropic.APITimeoutError) as exc:
        raise UpstreamTimeout(
            f"Claude did not answer within {timeout_s:g} seconds; try again, or raise "
            "ANTHROPIC_TIMEOUT_S."
        ) from exc
    except anthropic.APIError as exc:
        raise _translate(exc, api_key) from exc
    draft = _read_message(message)
    log.info(
        "ai_answer_drafted",
        model=draft.model,
        answer_chars=len(draft.answer),
        input_tokens=draft.input_tokens,
        output_tokens=draft.output_tokens,
    )
    return draft


def _client(api_key: str, timeout_s: float) -> anthropic.AsyncAnthropic:
    import anthropic

    return anthropic.AsyncAnthropic(
        api_key=api_key,
        base_url=settings.anthropic_base_url,
        timeout=timeout_s,
        max_retries=MAX_RETRIES,
        # Tracing could copy request content to a collector; the prompt holds personal data.
        open_telemetry=False,
    )


async def check_connection(timeout_s: float) -> str:
    """Ask the configured model for one token, to show the key, model and base URL work.

    Returns the model that answered; raises the AppError a person can act on.
    """
    if settings.anthropic_api_key is None:
        raise ServiceUnavailable("ANTHROPIC_API_KEY is not set")
    import anthropic

    api_key = settings.anthropic_api_key.get_secret_value()
    try:
        async with _client(api_key, timeout_s) as client, asyncio.timeout(timeout_s):
            message = await client.messages.create(
                model=settings.anthropic_model,
                max_tokens=1,
                messages=[{"role": "user", "content": "Reply with OK."}],
            )
    except (TimeoutError, anthropic.APITimeoutError) as exc:
        raise UpstreamTimeout(f"Claude did not answer within {timeout_s:g} seconds") from exc
    except anthropic.APIError as exc:
        raise _translate(exc, api_key) from exc
    if not isinstance(message, anthropic.types.Message):
        raise UpstreamError("the answer was not a Messages API answer; check ANTHROPIC_BASE_URL")
    return str(message.model or settings.anthropic_model)


def _read_message(message: object) -> DraftAnswer:
    """The text of a Messages API answer; anything else (a proxy's HTML page...) is a 502."""
    from anthropic.types import Message, TextBlock

    # The SDK does not validate answers: a non-JSON body comes back as a string, and JSON of
    # another shape as a Message with missing fields.
    unreadable = UpstreamError(
        "Claude sent a response that is not a Messages API answer; check ANTHROPIC_BASE_URL, "
        "or try again."
    )
    if not isinstance(message, Message):
        raise unreadable
    try:
        blocks = list(message.content)
        input_tokens = int(message.usage.input_tokens)
        output_tokens = int(message.usage.output_tokens)
        model, stop_reason = message.model, message.stop_reason
    except (AttributeError, TypeError, ValueError) as exc:
        raise unreadable from exc
    answer = "\n\n".join(
        block.text.strip() for block in blocks if isinstance(block, TextBlock)
    ).strip()
    if not answer:
        raise UpstreamError(
            f"Claude returned an empty answer (stop reason: {stop_reason}); try again."
        )
    return DraftAnswer(
        answer=answer,
        model=str(model) if model else settings.anthropic_model,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
    )


def _translate(exc: anthropic.APIError, api_key: str) -> AppError:
    import anthropic

    """An SDK error as the error a person can act on, without the key in it."""
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        if status == 529 or isinstance(exc, anthropic.OverloadedError):
            return ServiceUnavailable("Claude is overloaded right now; try again in a minute.")
        reason = _reason(exc.api_message or exc.message, api_key)
        if status in (401, 403):
            return UpstreamError(
                f"Anthropic rejected the API key ({status}: {reason}); check ANTHROPIC_API_KEY."
            )
        if status == 429:
            return ServiceUnavailable(
                "Claude's rate limit for this API key was reached; try again shortly."
            )
        return UpstreamError(f"Claude request failed ({status}): {reason}")
    if isinstance(exc, anthropic.APIConnectionError):
        cause = exc.__cause__
        detail = f" ({_reason(str(cause), api_key)})" if cause is not None and str(cause) else ""
        return UpstreamError(f"Could not reach Claude{detail}; check the network connection.")
    # The response arrived but was not a Messages API answer.
    return UpstreamError(f"Claude sent an unreadable response: {_reason(exc.message, api_key)}")


def _reason(text: str, api_key: str) -> str:
    """An upstream message, short and with any echo of the key removed."""
    text = text.replace(api_key, "[redacted]").strip() or "no reason given"
    return text if len(text) <= UPSTREAM_REASON_LIMIT else text[:UPSTREAM_REASON_LIMIT] + "…"
