"""Wire format of /api/ai: the application-question assistant."""

from __future__ import annotations

import uuid

from pydantic import Field

from app.schemas.common import RequestModel, ResponseModel

QUESTION_MAX_LENGTH = 4000
MIN_WORDS = 10
MAX_WORDS = 1000
DEFAULT_WORDS = 200


class AnswerRequest(RequestModel):
    """Body of `POST /api/ai/answer`."""

    question: str = Field(
        min_length=1,
        max_length=QUESTION_MAX_LENGTH,
        description="The application question, as the form asks it.",
        examples=["Why do you want to work at Acme?"],
    )
    job_id: uuid.UUID | None = Field(
        default=None, description="The job the application is for, so the answer can fit it."
    )
    max_words: int = Field(
        default=DEFAULT_WORDS,
        ge=MIN_WORDS,
        le=MAX_WORDS,
        description="The longest answer wanted, in words.",
    )


class AnswerUsage(ResponseModel):
    input_tokens: int
    output_tokens: int


class AnswerResponse(ResponseModel):
    answer: str = Field(description="The drafted answer, plain text, in your own voice.")
    model: str = Field(description="The Claude model that wrote it.")
    usage: AnswerUsage


class AIStatusResponse(ResponseModel):
    configured: bool = Field(description="Whether ANTHROPIC_API_KEY is set.")
    model: str = Field(description="The Claude model answers are drafted with (ANTHROPIC_MODEL).")
