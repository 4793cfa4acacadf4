"""Wire format of /api/notifications: checking the email settings."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.schemas.common import ResponseModel


class NotificationTestResponse(ResponseModel):
    """Answer of `POST /api/notifications/test`: the message was handed to the provider."""

    sent: bool = Field(description="Always true: failures answer with an error instead.")
    transport: Literal["resend", "smtp"] = Field(
        description="How it was sent: the Resend API (RESEND_API_KEY) or SMTP (SMTP_HOST)."
    )
