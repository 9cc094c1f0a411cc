"""The SMTP side of `services.mail.Mailer`: multipart text + HTML messages from templates."""

from __future__ import annotations

import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from tenantry.services.mail import (
    AddressChangedMail,
    DeliveryFailed,
    InvitationMail,
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

    def send_invitation(self, mail: InvitationMail) -> None:
        subject = (
            f"You are invited to {mail.account_name}" if mail.account_name else "You are invited"
        )
        self._send(mail.to, subject, "invitation", mail=mail)

    def send_password_reset(self, mail: PasswordResetMail) -> None:
        self._send(mail.to, "Reset your password", "password_reset", mail=mail)

    def send_address_changed(self, mail: AddressChangedMail) -> None:
        self._send(mail.to, "Your sign-in address was changed", "address_changed", mail=mail)

    def _send(self, to: str, subject: str, template: str, **context: Any) -> None:
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
        try:
            with self._connect() as smtp:
                if settings.smtp_username:
                    smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryFailed(f"{type(error).__name__}: {error}") from error

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        context = ssl.create_default_context()
        if settings.smtp_ca_file:
            context.load_verify_locations(settings.smtp_ca_file)
        host, port, timeout = self.host, settings.smtp_port, settings.smtp_timeout_seconds
        if settings.smtp_security == "tls":
            return smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        smtp = smtplib.SMTP(host, port, timeout=timeout)
        if settings.smtp_security == "starttls":
            smtp.starttls(context=context)
        return smtp
