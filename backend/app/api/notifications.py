"""/api/notifications: check that Hunter can mail you."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.api.deps import SessionDep
from app.api.errors import ErrorResponse
from app.schemas.notification import NotificationTestResponse
from app.services import notifier

router = APIRouter(tags=["notifications"])

_TEST_ERRORS: dict[int | str, dict[str, Any]] = {
    502: {"model": ErrorResponse, "description": "The mail provider refused or was unreachable"},
    503: {"model": ErrorResponse, "description": "Email is not configured, or has no recipient"},
}


@router.post("/notifications/test", response_model=NotificationTestResponse, responses=_TEST_ERRORS)
async def send_test_notification(session: SessionDep) -> NotificationTestResponse:
    """Send a short test message, so you can check your email settings.

    It goes to NOTIFICATION_TO_EMAIL (or your profile's email) through the Resend API when
    RESEND_API_KEY is set, else through the SMTP server SMTP_HOST. Answers 503 saying what to
    set when email is not configured, and 502 with the provider's reason when it refuses.
    """
    transport = await notifier.send_test_message(session)
    return NotificationTestResponse(sent=True, transport=transport)
