"""`tenantry outbox`: what waits to go out, and a sender run by the operator."""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner, Result

from tenantry.entrypoints.cli.main import build_cli
from tenantry.entrypoints.cli.outbox import NO_MAILER
from tenantry.mail import SmtpMailer
from tenantry.services.context import ServiceContext

from clitools import Cli, fast_composition, table_rows
from factories import World, make_member
from mailserver import Inbox


def _with_smtp(database_url: str, port: int, *args: str) -> Result:
    env: dict[str, Any] = {
        "NO_COLOR": "1",
        "COLUMNS": None,
        "TENANTRY_SMTP_HOST": "127.0.0.1",
        "TENANTRY_SMTP_PORT": str(port),
        "TENANTRY_SMTP_SECURITY": "none",
    }
    result = CliRunner(env=env).invoke(
        build_cli(fast_composition), ["--database-url", database_url, *args], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result


def test_without_smtp_no_mail_waits_and_only_webhooks_are_sent(cli: Cli, world: World) -> None:
    report = cli.json("outbox", "list")
    assert report == {
        "sending": False,
        "counts": {"pending": 0, "sent": 0, "failed": 0},
        "entries": [],
    }
    ran = cli("outbox", "run", "--once")
    assert ran.exit_code == 0
    assert ran.stderr.strip() == NO_MAILER + " Webhook deliveries are sent."
    assert "Sent 0 messages; 0 not delivered this time." in ran.stdout


def test_list_then_run_once_sends_what_waits(
    ctx: ServiceContext, world: World, database_url: str, mail_server: tuple[Inbox, int]
) -> None:
    inbox, port = mail_server
    ctx.settings.smtp_host = "127.0.0.1"
    ctx.settings.smtp_port = port
    ctx.settings.smtp_security = "none"
    ctx.mailer = SmtpMailer(ctx.settings)
    user = make_member(ctx, world.a, role="view", active=False)
    listed = _with_smtp(database_url, port, "outbox", "list", "--status", "pending")
    [row] = table_rows(listed.stdout)
    assert row[1:4] == ["mail.invitation", "pending", "0"]
    assert "1 pending, 0 sent, 0 failed" in listed.stdout
    ran = _with_smtp(database_url, port, "outbox", "run", "--once")
    assert "Sent 1 message; 0 not delivered this time." in ran.stdout
    assert inbox.only()["To"] == user.email
    sent = _with_smtp(database_url, port, "outbox", "list", "--status", "sent", "--json").stdout
    assert '"status": "sent"' in sent
    assert '"counts": {"pending": 0, "sent": 1, "failed": 0}' in sent
