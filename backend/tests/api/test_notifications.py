"""POST /api/notifications/test: a person checks that Hunter can mail them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import settings
from tests.factories import make_profile
from tests.fakes import resend_server, smtp_server
from tests.fakes.resend_server import FakeResend, running_fake_resend
from tests.fakes.smtp_server import FakeSmtp, running_smtp
from tests.scrapers.local_server import unused_port

URL = "/api/notifications/test"


@pytest.fixture(autouse=True)
def _no_mail_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "resend_api_key", None)
    monkeypatch.setattr(settings, "smtp_host", "")
    monkeypatch.setattr(settings, "notification_to_email", "me@example.com")
    monkeypatch.setattr(settings, "notification_from_email", "")


@pytest.fixture
async def smtp(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeSmtp]:
    async with running_smtp() as server:
        smtp_server.point_settings_at(server, monkeypatch)
        yield server


@pytest.fixture
async def resend(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeResend]:
    async with running_fake_resend() as server:
        resend_server.point_settings_at(server, monkeypatch)
        yield server


async def test_without_any_mail_settings_it_says_what_to_configure(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(URL)

    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "service_unavailable"
    assert "RESEND_API_KEY" in body["detail"]
    assert "SMTP_HOST" in body["detail"]


async def test_without_a_recipient_it_asks_for_one(
    client: httpx.AsyncClient, smtp: FakeSmtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "notification_to_email", "")

    response = await client.post(URL)

    assert response.status_code == 503
    assert "NOTIFICATION_TO_EMAIL" in response.json()["detail"]
    assert smtp.received == []


async def test_it_sends_through_smtp(client: httpx.AsyncClient, smtp: FakeSmtp) -> None:
    response = await client.post(URL)

    assert response.status_code == 200
    assert response.json() == {"sent": True, "transport": "smtp"}
    [mail] = smtp.received
    assert mail.recipients == ["me@example.com"]
    assert mail.subject == "Hunter: test message"
    assert "test message from Hunter" in mail.part("plain")
    assert "test message from Hunter" in mail.part("html")


async def test_it_falls_back_to_the_profiles_email(
    client: httpx.AsyncClient,
    session: AsyncSession,
    smtp: FakeSmtp,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings, "notification_to_email", "")
    await make_profile(session, email="ada@example.com")

    response = await client.post(URL)

    assert response.status_code == 200
    assert smtp.received[0].recipients == ["ada@example.com"]


async def test_an_unreachable_smtp_server_is_a_bad_gateway(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "smtp_host", "127.0.0.1")
    port = unused_port()
    monkeypatch.setattr(settings, "smtp_port", port)

    response = await client.post(URL)

    assert response.status_code == 502
    assert f"could not reach the SMTP server 127.0.0.1:{port}" in response.json()["detail"]


async def test_it_sends_through_resend_when_its_key_is_set(
    client: httpx.AsyncClient, resend: FakeResend, smtp: FakeSmtp
) -> None:
    response = await client.post(URL)

    assert response.status_code == 200
    assert response.json() == {"sent": True, "transport": "resend"}
    [request] = resend.requests
    assert request.headers["authorization"] == f"Bearer {resend_server.API_KEY}"
    body = request.json()
    assert body["to"] == ["me@example.com"]
    assert body["from"] == "Hunter <hunter@localhost>"
    assert body["subject"] == "Hunter: test message"
    assert smtp.received == []  # Resend wins when both are configured


async def test_a_refusal_by_resend_is_a_bad_gateway_with_its_reason(
    client: httpx.AsyncClient, resend: FakeResend
) -> None:
    resend.fail(403, "You can only send testing emails to your own email address.")

    response = await client.post(URL)

    assert response.status_code == 502
    body = response.json()
    assert body["error"] == "upstream_error"
    assert "(403): You can only send testing emails" in body["detail"]


async def test_a_wrong_resend_key_is_reported(
    client: httpx.AsyncClient, resend: FakeResend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "resend_api_key", SecretStr("re_wrong"))

    response = await client.post(URL)

    assert response.status_code == 502
    assert "(401): Missing or invalid API key" in response.json()["detail"]
