"""/api/ai endpoints: Claude drafts answers to application questions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.api.deps import SessionDep
from app.api.errors import ErrorResponse
from app.config import settings
from app.schemas.ai import AIStatusResponse, AnswerRequest, AnswerResponse, AnswerUsage
from app.services import ai_assistant

router = APIRouter(tags=["ai"])

_ANSWER_ERRORS: dict[int | str, dict[str, Any]] = {
    502: {"model": ErrorResponse, "description": "Claude failed or rejected the API key"},
    503: {"model": ErrorResponse, "description": "Not configured, overloaded or rate limited"},
    504: {"model": ErrorResponse, "description": "No answer within ANTHROPIC_TIMEOUT_S"},
}


@router.get("/ai/status", response_model=AIStatusResponse)
async def ai_status() -> AIStatusResponse:
    """Whether the assistant can be used (ANTHROPIC_API_KEY is set) and which model it uses."""
    return AIStatusResponse(configured=ai_assistant.is_configured(), model=settings.anthropic_model)


@router.post("/ai/answer", response_model=AnswerResponse, responses=_ANSWER_ERRORS)
async def answer_question(session: SessionDep, body: AnswerRequest) -> AnswerResponse:
    """Draft an answer to an application question, written as you, by Claude.

    The draft draws on your profile (summary, skills, work experience, education, location
    and work authorization) and, with `job_id`, on that job's posting. Your EEO answers and
    contact details are never sent. Review the draft before you use it.
    """
    draft = await ai_assistant.answer_question(
        session, body.question, job_id=body.job_id, max_words=body.max_words
    )
    return AnswerResponse(
        answer=draft.answer,
        model=draft.model,
        usage=AnswerUsage(input_tokens=draft.input_tokens, output_tokens=draft.output_tokens),
    )
