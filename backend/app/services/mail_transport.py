"""Sending one email: through the Resend API or an SMTP server, retried while the failure is
temporary. Which one is used follows the settings (SPEC §6): Resend when RESEND_API_KEY is set,
else SMTP when SMTP_HOST is set, else no email at all.
"""

from __future__ import annotations

import asyncio
import ipaddress
import smtplib
import ssl
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Literal, Protocol

import httpx
import structlog

from app.config import settings

log = structlog.get_logger("hunter.mail")

DEFAULT_SENDER = "Hunter <hunter@localhost>"
# Three attempts in all; tests shorten these.
RETRY_DELAYS_S: Sequence[float] = (1.0, 3.0)
RESEND_TIMEOUT_S = 15.0
SMTP_TIMEOUT_S = 30.0

TransportName = Literal["resend", "smtp"]


@dataclass(frozen=True)
class Email:
    """One message, in plain text and HTML. `key` identifies it across retries (Resend uses it
    as the idempotency key, so a retry after a lost answer does not mail it twice)."""

    sender: str
    recipients: tuple[str, ...]
    subject: str
    text: str
    html: str
    key: str = field(default_factory=lambda: uuid.uuid4().hex)


class MailError(Exception):
    """The message was not sent; `reason` says why in words a person can act on."""

    def __init__(self, reason: str, *, temporary: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.temporary = temporary


class MailTransport(Protocol):
    name: TransportName
    timeout_s: float

    async def send(self, email: Email) -> None:
        """Hand the message over, or raise MailError."""

    async def check(self) -> None:
        """Show the server accepts Hunter (reachable, credentials good) without sending mail."""


def sender() -> str:
    return settings.notification_from_email.strip() or DEFAULT_SENDER


def configured_recipients() -> list[str]:
    """NOTIFICATION_TO_EMAIL, which may list several addresses separated by commas."""
    return [part.strip() for part in settings.notification_to_email.split(",") if part.strip()]


def configured_transport() -> MailTransport | None:
    """The transport the settings ask for, or None when email is not configured."""
    if settings.resend_api_key is not None and settings.resend_api_key.get_secret_value():
        return ResendTransport(settings.resend_api_url, settings.resend_api_key.get_secret_value())
    if settings.smtp_host:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
        return SmtpTransport(
            settings.smtp_host, settings.smtp_port, user=settings.smtp_user, password=password
        )
    return None


async def send_with_retries(
    transport: MailTransport, email: Email, *, delays: Sequence[float] | None = None
) -> None:
    """Send `email`, retrying temporary failures after each of `delays`; raise the last error."""
    waits = list(RETRY_DELAYS_S if delays is None else delays)
    attempt = 0
    while True:
        attempt += 1
        try:
            await transport.send(email)
        except MailError as exc:
            if not exc.temporary or not waits:
                raise
            log.warning(
                "mail_send_retrying", transport=transport.name, attempt=attempt, reason=exc.reason
            )
            await asyncio.sleep(waits.pop(0))
        else:
            log.info("mail_sent", transport=transport.name, subject=email.subject, attempt=attempt)
            return


# --- Resend ------------------------------------------------------------------------------------


class ResendTransport:
    """`POST {RESEND_API_URL}/emails` with the API key as a bearer token."""

    name: TransportName = "resend"

    def __init__(self, api_url: str, api_key: str, *, timeout_s: float = RESEND_TIMEOUT_S) -> None:
        self.endpoint = f"{api_url.rstrip('/')}/emails"
        self._api_key = api_key
        self.timeout_s = timeout_s

    async def send(self, email: Email) -> None:
        body = {
            "from": email.sender,
            "to": list(email.recipients),
            "subject": email.subject,
            "html": email.html,
            "text": email.text,
        }
        response = await self._post(body, {"Idempotency-Key": email.key})
        if response.is_success:
            return
        status = response.status_code
        raise MailError(
            f"the Resend API refused the message ({status}): {_resend_reason(response)}",
            temporary=status == 429 or status >= 500,
        )

    async def check(self) -> None:
        # An empty message: Resend checks the key first (401/403) and then refuses the
        # message itself (422), so a 422 means the key was accepted and nothing was sent.
        response = await self._post({}, {})
        if response.is_success or response.status_code == 422:
            return
        status = response.status_code
        if status in (401, 403):
            raise MailError(
                f"the Resend API rejected RESEND_API_KEY ({status}): {_resend_reason(response)}",
                temporary=False,
            )
        raise MailError(
            f"the Resend API answered {status}: {_resend_reason(response)}",
            temporary=status == 429 or status >= 500,
        )

    async def _post(self, body: Mapping[str, object], headers: dict[str, str]) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._api_key}", **headers}
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as client:
                return await client.post(self.endpoint, json=body, headers=headers)
        except httpx.TimeoutException:
            raise MailError(
                f"the Resend API did not answer within {self.timeout_s:g} s", temporary=True
            ) from None
        except httpx.HTTPError as exc:
            raise MailError(
                f"could not reach the Resend API at {self.endpoint}: {exc}", temporary=True
            ) from None


def _resend_reason(response: httpx.Response) -> str:
    try:
        message = response.json().get("message")
    except (ValueError, AttributeError):
        message = None
    if isinstance(message, str) and message.strip():
        return message.strip()
    return response.reason_phrase or "no reason given"


# --- SMTP --------------------------------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def to_mime(email: Email) -> EmailMessage:
    """A multipart/alternative message: the plain text first, the HTML as the richer part."""
    message = EmailMessage()
    message["From"] = email.sender
    message["To"] = ", ".join(email.recipients)
    message["Subject"] = email.subject
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message


class SmtpTransport:
    """An SMTP server: implicit TLS on port 465, else STARTTLS whenever the server offers it;
    a login when a user is configured. Certificates are verified (`ssl_context` may trust more).

    The standard library's blocking client runs in a worker thread.
    """

    name: TransportName = "smtp"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        user: str = "",
        password: str = "",
        ssl_context: ssl.SSLContext | None = None,
        timeout_s: float = SMTP_TIMEOUT_S,
    ) -> None:
        self.host = host
        self.port = port
        self.user = user
        self._password = password
        self.ssl_context = ssl_context
        self.timeout_s = timeout_s

    async def send(self, email: Email) -> None:
        await asyncio.to_thread(self._send, to_mime(email))

    async def check(self) -> None:
        # The whole conversation (TLS, login) up to the message, then QUIT.
        await asyncio.to_thread(self._send, None)

    def _send(self, message: EmailMessage | None) -> None:
        where = f"the SMTP server {self.host}:{self.port}"
        try:
            self._deliver(message)
        except MailError:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            raise MailError(
                f"{where} rejected the login of SMTP_USER {self.user!r}: {_said(exc)}",
                temporary=False,
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise MailError(
                f"SMTP_USER is set but {where} offers no login (AUTH) on this connection",
                temporary=False,
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            refused = ", ".join(exc.recipients)
            raise MailError(f"{where} refused the recipients {refused}", temporary=False) from None
        except smtplib.SMTPResponseException as exc:
            # 4xx replies are "try again later"; 5xx are final.
            raise MailError(
                f"{where} refused the message: {_said(exc)}", temporary=exc.smtp_code < 500
            ) from None
        except smtplib.SMTPException as exc:
            raise MailError(f"{where} failed: {exc}", temporary=True) from None
        except ssl.SSLError as exc:
            raise MailError(
                f"TLS with {where} failed ({exc.reason or exc}); is its certificate valid?",
                temporary=False,
            ) from None
        except TimeoutError:
            raise MailError(
                f"{where} did not answer within {self.timeout_s:g} s", temporary=True
            ) from None
        except OSError as exc:
            raise MailError(f"could not reach {where}: {exc}", temporary=True) from None

    def _deliver(self, message: EmailMessage | None) -> None:
        context = self.ssl_context or ssl.create_default_context()
        client: smtplib.SMTP
        if self.port == 465:
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_s, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
        with client as smtp:
            smtp.ehlo()
            encrypted = self.port == 465
            if not encrypted and smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
                encrypted = True
            if self.user:
                if not encrypted and not _is_loopback(self.host):
                    raise MailError(
                        f"the SMTP server {self.host}:{self.port} does not offer STARTTLS; "
                        "refusing to send SMTP_PASSWORD unencrypted",
                        temporary=False,
                    )
                smtp.login(self.user, self._password)
            if message is not None:
                smtp.send_message(message)


def _said(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
    return f"{exc.smtp_code} {text}".strip()
