"""Mail goes out through a real SMTP server on 127.0.0.1, in every security mode."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime
from pathlib import Path

import pytest
import trustme

from tenantry.mail import SmtpMailer
from tenantry.services.mail import DeliveryFailed, InvitationMail, PasswordResetMail
from tenantry.settings import Settings

from mailserver import smtp_server

LINK = "http://testserver/auth/verify/?token=abc123&et=inv&email=new@example.com"
INVITATION = InvitationMail(
    to="new@example.com",
    link=LINK,
    account_name="Acme <Ads>",
    role_name="manage",
    invited_by="admin@example.com",
    expires_at=datetime(2030, 1, 8, 12, 0, tzinfo=UTC),
)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


def mailer(port: int, **settings: object) -> SmtpMailer:
    return SmtpMailer(
        Settings(
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_from="tenantry <no-reply@tenantry.test>",
            **settings,  # type: ignore[arg-type]
        )
    )


def test_an_invitation_is_multipart_text_and_html_with_the_link() -> None:
    with smtp_server() as (inbox, port):
        mailer(port, smtp_security="none").send_invitation(INVITATION)
    message = inbox.only()
    assert message["To"] == "new@example.com"
    assert message["Subject"] == "You are invited to Acme <Ads>"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    assert LINK in text.get_content()
    assert "admin@example.com invited you to Acme <Ads> as manage" in text.get_content()
    html_content = html.get_content()
    assert LINK.replace("&", "&amp;") in html_content
    assert "Acme &lt;Ads&gt;" in html_content  # escaped in HTML
    assert "08 January 2030" in text.get_content()


def test_a_password_reset_mail() -> None:
    with smtp_server() as (inbox, port):
        mailer(port, smtp_security="none").send_password_reset(
            PasswordResetMail(
                "u@example.com", "http://testserver/auth/reset/?token=x", INVITATION.expires_at
            )
        )
    message = inbox.only()
    assert message["Subject"] == "Reset your password"
    body = message.get_body(("plain",))
    assert body is not None
    assert "http://testserver/auth/reset/?token=x" in body.get_content()


def test_starttls_with_login(ca: trustme.CA, ca_file: Path) -> None:
    with smtp_server(
        tls_context=server_tls(ca), require_starttls=True, credentials=("mailer", "s3cret")
    ) as (inbox, port):
        mailer(
            port,
            smtp_security="starttls",
            smtp_ca_file=ca_file,
            smtp_username="mailer",
            smtp_password="s3cret",
        ).send_invitation(INVITATION)
    assert inbox.only()["To"] == "new@example.com"


def test_wrong_smtp_password_is_a_delivery_failure(ca: trustme.CA, ca_file: Path) -> None:
    with (
        smtp_server(
            tls_context=server_tls(ca), require_starttls=True, credentials=("mailer", "s3cret")
        ) as (inbox, port),
        pytest.raises(DeliveryFailed),
    ):
        mailer(
            port,
            smtp_security="starttls",
            smtp_ca_file=ca_file,
            smtp_username="mailer",
            smtp_password="wrong",
        ).send_invitation(INVITATION)
    assert inbox.messages == []


def test_implicit_tls(ca: trustme.CA, ca_file: Path) -> None:
    with smtp_server(ssl_context=server_tls(ca)) as (inbox, port):
        mailer(port, smtp_security="tls", smtp_ca_file=ca_file).send_invitation(INVITATION)
    assert inbox.only()["Subject"].startswith("You are invited")


def test_an_untrusted_certificate_is_refused(ca: trustme.CA) -> None:
    with (
        smtp_server(ssl_context=server_tls(ca)) as (inbox, port),
        pytest.raises(DeliveryFailed),
    ):
        mailer(port, smtp_security="tls").send_invitation(INVITATION)
    assert inbox.messages == []


def test_an_unreachable_server_is_a_delivery_failure() -> None:
    from mailserver import free_port

    with pytest.raises(DeliveryFailed):
        mailer(free_port(), smtp_security="none", smtp_timeout_seconds=2).send_invitation(
            INVITATION
        )
