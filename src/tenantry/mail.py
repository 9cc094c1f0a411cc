"""The SMTP side of `services.mail.Mailer`: multipart text + HTML messages from templates."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from tenantry.services.mail import (
    AddressChangedMail,
    DeliveryFailed,
    InvitationMail,
    MailServerUnavailable,
    PasswordResetMail,
)
from tenantry.settings import Settings

_templates = Environment(
    loader=PackageLoader("tenantry", "templates/mail"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    keep_trailing_newline=True,
)


class SmtpMailer:
    """Sends through the SMTP server the settings name (`TENANTRY_SMTP_*`)."""

    def __init__(self, settings: Settings) -> None:
        if not settings.smtp_host:
            raise ValueError("SmtpMailer needs TENANTRY_SMTP_HOST")
        self.settings = settings
        self.host: str = settings.smtp_host

    @contextmanager
    def session(self) -> Iterator[SmtpSession]:
        session = SmtpSession(self)
        try:
            yield session
        finally:
            session.close()

    def send_invitation(self, mail: InvitationMail) -> None:
        with self.session() as session:
            session.send_invitation(mail)

    def send_password_reset(self, mail: PasswordResetMail) -> None:
        with self.session() as session:
            session.send_password_reset(mail)

    def send_address_changed(self, mail: AddressChangedMail) -> None:
        with self.session() as session:
            session.send_address_changed(mail)

    def message(self, to: str, subject: str, template: str, **context: Any) -> EmailMessage:
        settings = self.settings
        message = EmailMessage()
        message["From"] = settings.smtp_from
        message["To"] = to
        message["Subject"] = subject
        message["Message-ID"] = make_msgid(domain=settings.smtp_from.rpartition("@")[2] or None)
        message["Date"] = format_datetime(datetime.now(UTC))
        message.set_content(_templates.get_template(f"{template}.txt").render(**context))
        message.add_alternative(
            _templates.get_template(f"{template}.html").render(**context), subtype="html"
        )
        return message

    def connect(self) -> smtplib.SMTP:
        """A connection, secured and logged in as the settings say."""
        settings = self.settings
        context = ssl.create_default_context()
        if settings.smtp_ca_file:
            context.load_verify_locations(settings.smtp_ca_file)
        host, port, timeout = self.host, settings.smtp_port, settings.smtp_timeout_seconds
        if settings.smtp_security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        try:
            if settings.smtp_security == "starttls":
                smtp.starttls(context=context)
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        except BaseException:
            smtp.close()
            raise
        return smtp


class SmtpSession:
    """Mail sent through one connection, opened on the first mail; a connection that fails is
    dropped, and the next mail opens a new one."""

    def __init__(self, mailer: SmtpMailer) -> None:
        self._mailer = mailer
        self._smtp: smtplib.SMTP | None = None

    def send_invitation(self, mail: InvitationMail) -> None:
        subject = (
            f"You are invited to {mail.account_name}" if mail.account_name else "You are invited"
        )
        self._send(self._mailer.message(mail.to, subject, "invitation", mail=mail))

    def send_password_reset(self, mail: PasswordResetMail) -> None:
        self._send(
            self._mailer.message(mail.to, "Reset your password", "password_reset", mail=mail)
        )

    def send_address_changed(self, mail: AddressChangedMail) -> None:
        subject = "Your sign-in address was changed"
        self._send(self._mailer.message(mail.to, subject, "address_changed", mail=mail))

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()

    def _send(self, message: EmailMessage) -> None:
        try:
            if self._smtp is None:
                self._smtp = self._mailer.connect()
            self._smtp.send_message(message)
        except _REFUSED as error:
            # This message was refused; the connection is still good for the next one.
            raise DeliveryFailed(f"{type(error).__name__}: {error}") from error
        except (OSError, smtplib.SMTPException) as error:
            smtp, self._smtp = self._smtp, None
            if smtp is not None:
                smtp.close()
            raise MailServerUnavailable(f"{type(error).__name__}: {error}") from error


_REFUSED = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)
