"""Sending one email over SMTP: STARTTLS with a verified certificate, and the login."""

from __future__ import annotations

import uuid

import pytest

from app.services.mail_transport import Email, MailError, SmtpTransport
from tests.fakes.smtp_server import Certificate, make_certificate, running_smtp
from tests.support import TMP


@pytest.fixture(scope="module")
def certificate() -> Certificate:
    directory = TMP / f"cert-{uuid.uuid4().hex[:8]}"
    directory.mkdir()
    return make_certificate(directory)


def _email(subject: str = "Hello") -> Email:
    return Email("Hunter <hunter@localhost>", ("me@example.com",), subject, "hi", "<p>hi</p>")


async def test_smtp_upgrades_to_tls_and_logs_in(certificate: Certificate) -> None:
    async with running_smtp(certificate=certificate, login=("hunter", "s3cret!")) as server:
        transport = SmtpTransport(
            "127.0.0.1",
            server.port,
            user="hunter",
            password="s3cret!",
            ssl_context=certificate.client_context(),
        )
        await transport.send(_email("Over TLS"))

        assert server.logins == ["hunter"]
        assert [mail.subject for mail in server.received] == ["Over TLS"]


async def test_a_wrong_smtp_password_is_a_final_failure(certificate: Certificate) -> None:
    async with running_smtp(certificate=certificate, login=("hunter", "s3cret!")) as server:
        transport = SmtpTransport(
            "127.0.0.1",
            server.port,
            user="hunter",
            password="nope",
            ssl_context=certificate.client_context(),
        )

        with pytest.raises(MailError) as failure:
            await transport.send(_email())

    assert not failure.value.temporary
    assert "rejected the login of SMTP_USER 'hunter'" in failure.value.reason
    assert server.received == []


async def test_an_untrusted_certificate_is_refused_by_default(certificate: Certificate) -> None:
    async with running_smtp(certificate=certificate) as server:
        transport = SmtpTransport("127.0.0.1", server.port)

        with pytest.raises(MailError) as failure:
            await transport.send(_email())

    assert not failure.value.temporary
    assert "TLS with the SMTP server" in failure.value.reason
    assert server.received == []
