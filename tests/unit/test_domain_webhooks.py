"""The webhook rules that need no database: which events an audited change is, what they say,
which addresses are public, which URLs and event types an endpoint takes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tenantry.domain.accounts import Account, AccountKind, AccountStatus, reaches
from tenantry.domain.audit import AuditEvent
from tenantry.domain.errors import InvalidInput
from tenantry.domain.webhooks import (
    EventType,
    WebhookEndpoint,
    check_event_types,
    check_url,
    events_of,
    is_event,
    is_public_address,
    new_signing_secret,
)

AT = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def _audit(action: str, account_id: str | None = "acct0001", **states: Any) -> AuditEvent:
    return AuditEvent(
        action=action,
        target_type="user",
        target_id="u-1",
        account_id=account_id,
        actor_kind="api_token",
        actor_id="tok1",
        actor_label="script",
        face="scim",
        request_id="req-9",
        at=AT,
        actor_user_id="admin-1",
        actor_minted_by="ops@example.com",
        **states,
    )


@pytest.mark.parametrize(
    ("action", "after", "types"),
    [
        ("user.create", None, ["user.created"]),
        ("user.deactivate", None, ["user.updated"]),
        ("membership.create", {"status": "active"}, ["membership.created"]),
        ("membership.create", {"status": "pending"}, ["membership.created", "invitation.created"]),
        ("membership.change_role", None, ["membership.updated"]),
        ("membership.delete", None, ["membership.deleted"]),
        ("invitation.accept", None, ["invitation.accepted", "membership.updated"]),
        ("invitation.revoke", None, ["invitation.revoked"]),
        ("invitation.expire", None, ["invitation.expired"]),
        ("account.transfer_ownership", None, ["account.updated"]),
        ("network.advertiser.delete", None, ["account.deleted"]),
        ("api_token.revoke", None, ["api_credential.revoked"]),
        ("role.update", None, ["role.updated"]),
        ("auth.sign_in", None, []),
        ("traffic.report", None, []),
        ("webhook_endpoint.create", None, []),
    ],
)
def test_which_events_an_audited_change_is(
    action: str, after: dict[str, Any] | None, types: list[str]
) -> None:
    audit = _audit(action, after=after)
    assert [e.type.value for e in events_of(audit)] == types
    assert is_event(audit) is bool(types)


def test_an_event_says_who_made_the_change_where_and_through_what() -> None:
    [event] = events_of(_audit("membership.delete", before={"role": "view"}))
    assert event.body == {
        "type": "membership.deleted",
        "timestamp": "2026-12-02T10:00:00Z",
        "data": {
            "id": event.id,
            "account_id": "acct0001",
            "action": "membership.delete",
            "target": {"type": "user", "id": "u-1"},
            "before": {"role": "view"},
            "after": None,
            "actor": {
                "kind": "api_token",
                "id": "tok1",
                "label": "script",
                "user_id": "admin-1",
                "minted_by": "ops@example.com",
            },
            "face": "scim",
            "request_id": "req-9",
        },
    }
    assert event.id.startswith("msg_")


def test_a_change_about_no_account_is_no_event() -> None:
    assert events_of(_audit("user.update", account_id=None)) == []


def test_a_network_call_is_an_event_per_user() -> None:
    audit = _audit(
        "network.users.replace",
        before={
            "users": {
                "n1": {"id": "u1", "role": "member"},
                "n2": {"id": "u2", "role": "member"},
                "n3": {"id": "u3", "role": "member"},
            }
        },
        after={
            "users": {
                "n1": {"id": "u1", "role": "manage"},
                "n2": {"id": "u2", "role": "member", "first_name": "S"},
                "n4": {"id": "u4", "role": "member"},
            }
        },
    )
    found = {e.body["data"]["target"]["id_from_network"]: e.type for e in events_of(audit)}
    assert found == {
        "n1": EventType.MEMBERSHIP_UPDATED,
        "n2": EventType.USER_UPDATED,
        "n3": EventType.MEMBERSHIP_DELETED,
        "n4": EventType.MEMBERSHIP_CREATED,
    }


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 (an address judged, never bound)
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::7f00:1", False),
        ("::ffff:0:7f00:1", False),
        ("64:ff9b::a00:1", False),
        ("64:ff9b:1::7f00:1", False),
        ("64:ff9b::5db8:d70e", True),  # 93.184.215.14 through NAT64
        ("224.0.0.1", False),
        ("not an address", False),
    ],
)
def test_which_addresses_are_public(address: str, public: bool) -> None:
    assert is_public_address(address) is public


def test_urls_and_event_types() -> None:
    assert check_url("  https://hooks.example.org/x?y=1 ") == "https://hooks.example.org/x?y=1"
    for bad in ("", "https://", "mailto:a@b.c", "https://a b.example/", "x" * 2001):
        with pytest.raises(InvalidInput):
            check_url(bad)
    assert check_event_types(["role.deleted", " user.created", ""]) == (
        EventType.USER_CREATED,
        EventType.ROLE_DELETED,
    )
    with pytest.raises(InvalidInput, match=r"Unknown event types: nope\."):
        check_event_types(["nope"])


def test_a_signing_secret_is_a_standard_webhooks_one() -> None:
    from standardwebhooks.webhooks import Webhook

    secret = new_signing_secret()
    assert secret.startswith("whsec_")
    assert secret != new_signing_secret()
    Webhook(secret)  # the library takes it


# -- who hears an account ----------------------------------------------------------------------


def _chain(*links: tuple[str, bool, AccountStatus]) -> list[Account]:
    """Accounts nearest first: (id, lets its partner manage it, status)."""
    ids = [link[0] for link in links]
    return [
        Account(
            id,
            id,
            AccountKind.PARTNER,
            parent_id=ids[at + 1] if at + 1 < len(ids) else None,
            can_partner_manage=manageable,
            status=status,
        )
        for at, (id, manageable, status) in enumerate(links)
    ]


def _endpoint_of(account_id: str, *, children: bool, made_in: str | None = None) -> WebhookEndpoint:
    return WebhookEndpoint(
        "wh_1",
        account_id,
        "https://hooks.example.org/",
        (),
        True,
        children,
        "",
        AT,
        "x",
        AT,
        made_in,
    )


ON, OFF = AccountStatus.ACTIVE, AccountStatus.DEACTIVATED
CHILD_GRANDPARENT = _chain(("child", True, ON), ("parent", True, ON), ("root", True, ON))


@pytest.mark.parametrize(
    ("chain", "endpoint", "hears"),
    [
        (CHILD_GRANDPARENT, _endpoint_of("child", children=False), True),
        (CHILD_GRANDPARENT, _endpoint_of("parent", children=False), False),
        (CHILD_GRANDPARENT, _endpoint_of("root", children=True), True),
        (CHILD_GRANDPARENT, _endpoint_of("elsewhere", children=True), False),
        # The child lets nobody above manage it: no parent's endpoint hears it.
        (
            _chain(("child", False, ON), ("parent", True, ON)),
            _endpoint_of("parent", children=True),
            False,
        ),
        # A receiver chosen from the parent stops when the child cuts the parent off ...
        (
            _chain(("child", False, ON), ("parent", True, ON)),
            _endpoint_of("child", children=False, made_in="parent"),
            False,
        ),
        # ... and is heard while the parent reaches it.
        (CHILD_GRANDPARENT, _endpoint_of("child", children=False, made_in="root"), True),
        # Deactivated, or below a deactivated account: its endpoints hear nothing ...
        (
            _chain(("child", True, ON), ("parent", True, OFF)),
            _endpoint_of("child", children=False),
            False,
        ),
        # ... while an active account above still hears what it manages.
        (
            _chain(("child", True, OFF), ("parent", True, ON)),
            _endpoint_of("parent", children=True),
            True,
        ),
    ],
)
def test_who_hears_an_account(chain: list[Account], endpoint: WebhookEndpoint, hears: bool) -> None:
    assert endpoint.hears_account(chain) is hears


def test_reach_stops_at_the_first_account_that_keeps_its_partner_out() -> None:
    chain = _chain(("a", True, ON), ("b", False, ON), ("c", True, ON), ("d", True, ON))
    assert [reaches(chain, above) for above in ("a", "b", "c", "d", "z")] == [
        True,
        True,
        False,
        False,
        False,
    ]
