"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives.

Plain, or offering STARTTLS with a throwaway self-signed certificate (made with `openssl`), and
optionally asking for a login. It runs in aiosmtpd's own thread and event loop.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from app.config import settings


@dataclass(frozen=True)
class Received:
    """One message as the server received it."""

    mail_from: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def part(self, subtype: str) -> str:
        """The text of the `text/<subtype>` part."""
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        assert body.get_content_subtype() == subtype, f"no text/{subtype} part"
        return str(body.get_content())


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        """Verifies as usual, trusting this certificate (it names 127.0.0.1)."""
        return ssl.create_default_context(cafile=str(self.cert))


def make_certificate(directory: Path) -> Certificate:
    """A self-signed certificate for 127.0.0.1, valid for a day."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return Certificate(cert=cert, key=key)


class _Sink:
    def __init__(self) -> None:
        self.received: list[Received] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class FakeSmtp:
    """The running server: `port`, what it `received`, and the logins it saw."""

    def __init__(self, controller: Controller, sink: _Sink, logins: list[str]) -> None:
        self._controller = controller
        self._sink = sink
        self.logins = logins
        self.port: int = controller.port

    @property
    def received(self) -> list[Received]:
        return list(self._sink.received)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextlib.asynccontextmanager
async def running_smtp(
    *, certificate: Certificate | None = None, login: tuple[str, str] | None = None
) -> AsyncIterator[FakeSmtp]:
    """Serve SMTP; with `certificate` STARTTLS is offered and required, with `login` so is AUTH."""
    sink = _Sink()
    logins: list[str] = []

    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        assert login is not None
        ok = (data.login.decode(), data.password.decode()) == login
        if ok:
            logins.append(data.login.decode())
        # handled=False: aiosmtpd then answers 535 itself (True would leave the client waiting).
        return AuthResult(success=ok, handled=False)

    options: dict[str, Any] = {}
    if certificate is not None:
        options.update(tls_context=certificate.server_context(), require_starttls=True)
    if login is not None:
        options.update(authenticator=authenticate, auth_required=True)
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port(), **options)
    controller.start()
    try:
        yield FakeSmtp(controller, sink, logins)
    finally:
        controller.stop()


def point_settings_at(server: FakeSmtp, monkeypatch: pytest.MonkeyPatch) -> None:
    """Send mail through this server with no login (undone after the test)."""
    monkeypatch.setattr(settings, "smtp_host", "127.0.0.1")
    monkeypatch.setattr(settings, "smtp_port", server.port)
