"""`tenantry webhooks`: the secret printed once, endpoints listed, changed, rotated and removed,
the delivery log read and a delivery sent again, and `tenantry outbox run` sending them."""

from __future__ import annotations

import pytest

from tenantry.domain.errors import MESSAGES, ErrorCode
from tenantry.services import accounts
from tenantry.services.context import ServiceContext

from clitools import Cli, table_rows
from factories import OPERATOR, World
from webhook_receiver import Receiver, receiver

__all__ = ["receiver"]  # a fixture, used by name


@pytest.fixture(autouse=True)
def _private_receivers_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads its settings from the environment, as an operator's would."""
    monkeypatch.setenv("TENANTRY_WEBHOOKS_ALLOW_PRIVATE", "1")


def test_add_prints_the_secret_once_and_outbox_run_delivers(
    cli: Cli, ctx: ServiceContext, world: World, receiver: Receiver
) -> None:
    added = cli.json(
        "webhooks",
        "add",
        "--account",
        world.a.id,
        "--url",
        receiver.url,
        "--events",
        "app.added, app.removed",
    )
    assert set(added) >= {"id", "secret", "account_id", "url", "event_types", "enabled"}
    assert added["secret"].startswith("whsec_")
    assert added["event_types"] == ["app.added", "app.removed"]

    listed = cli.ok("webhooks", "list", "--account", world.a.id).stdout
    assert added["secret"] not in listed
    [row] = table_rows(listed)
    assert row[0] == added["id"]
    assert row[2] == "app.added, app.removed"
    assert added["secret"] not in str(cli.json("webhooks", "list", "--account", world.a.id))

    accounts.add_app(ctx, OPERATOR, world.a.id, "com.example.cli")
    ran = cli.ok("outbox", "run", "--once")
    assert "Sent 1 message; 0 not delivered this time." in ran.stdout
    [event] = receiver.events(added["secret"])
    assert event["type"] == "app.added"

    log = cli.json("webhooks", "deliveries", added["id"])["deliveries"]
    assert [(d["event_type"], d["status"], d["attempts"], d["last_status_code"]) for d in log] == [
        ("app.added", "sent", 1, 204)
    ]
    table = cli.ok("webhooks", "deliveries", added["id"]).stdout
    assert table_rows(table)[0][1:6] == ["app.added", world.a.id, "sent", "1", "204"]

    again = cli.json("webhooks", "resend", str(log[0]["id"]))
    assert (again["status"], again["event_id"]) == ("pending", log[0]["event_id"])
    cli.ok("outbox", "run", "--once")
    assert [a.headers["webhook-id"] for a in receiver.arrivals] == [log[0]["event_id"]] * 2


def test_human_add_update_rotate_and_remove(cli: Cli, world: World, receiver: Receiver) -> None:
    output = cli.ok("webhooks", "add", "--account", world.host.id, "--url", receiver.url).stdout
    assert "shown once" in output
    [line] = [line for line in output.splitlines() if "Signing secret" in line]
    secret = line.strip("│ ").split()[-1]
    assert secret.startswith("whsec_")
    [endpoint] = cli.json("webhooks", "list", "--account", world.host.id)["endpoints"]
    assert endpoint["event_types"] == []

    changed = cli.json(
        "webhooks", "update", endpoint["id"], "--disable", "--events", "user.created"
    )
    assert (changed["enabled"], changed["event_types"]) == (False, ["user.created"])
    back = cli.json("webhooks", "update", endpoint["id"], "--enable", "--events", "all")
    assert (back["enabled"], back["event_types"]) == (True, [])

    rotated = cli.json("webhooks", "rotate-secret", endpoint["id"])
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != secret

    assert "Removed" in cli.ok("webhooks", "remove", endpoint["id"]).stdout
    assert cli.json("webhooks", "list", "--account", world.host.id)["endpoints"] == []
    gone = cli("webhooks", "remove", endpoint["id"])
    assert gone.exit_code == 1
    assert "No such webhook endpoint." in gone.stderr


def test_bad_input_is_an_error_not_a_traceback(cli: Cli, world: World) -> None:
    unknown = cli(
        "webhooks",
        "add",
        "--account",
        world.a.id,
        "--url",
        "https://x.invalid/h",
        "--events",
        "user.exploded",
    )
    assert unknown.exit_code == 1
    assert "Unknown event types: user.exploded" in unknown.stderr
    bad_url = cli("webhooks", "add", "--account", world.a.id, "--url", "ftp://x.invalid/h")
    assert bad_url.exit_code == 1
    missing = cli("webhooks", "list", "--account", "Nope1234")
    assert missing.exit_code == 1
    assert MESSAGES[ErrorCode.ACCOUNT_NOT_FOUND] in missing.stderr
