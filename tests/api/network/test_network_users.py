"""`/network.json`: the network's users as a full replacement (POST 201, PUT 200), a diff that
leaves users who log in directly alone, and changes nothing when repeated."""

from __future__ import annotations

from typing import Any

import pytest

from tenantry.services.context import ServiceContext

from factories import make_member
from network_support import Net, user_body


def users_of(net: Net) -> dict[str | None, dict[str, Any]]:
    response = net.get("/network.json")
    assert response.status_code == 200, response.text
    return {u["id_from_network"]: u for u in response.json()["users"]}


@pytest.mark.parametrize(("method", "status"), [("POST", 201), ("PUT", 200)])
def test_post_and_put_replace_the_users(net: Net, method: str, status: int) -> None:
    users = [user_body("u1", role="Manager"), user_body("u2")]
    response = net.request(method, "/network.json", json={"users": users})
    assert response.status_code == status, response.text
    body = response.json()
    assert body["name"] == net.network.name
    shown = {u["id_from_network"]: u for u in body["users"]}
    assert shown["u1"]["role"] == "Manager"
    assert shown["u2"]["role"] == "Member"
    assert all(not shown[i]["can_login_via_platform"] for i in ("u1", "u2"))
    assert users_of(net) == shown


def test_users_left_out_are_removed_and_users_who_log_in_directly_stay(net: Net) -> None:
    net.put("/network.json", json={"users": [user_body("u1"), user_body("u2")]})
    response = net.put("/network.json", json={"users": [user_body("u2", first_name="Sam")]})
    assert response.status_code == 200
    users = users_of(net)
    assert set(users) == {None, "u2"}  # None: the host's admin, who logs in directly
    assert users[None]["can_login_via_platform"] is True
    assert users["u2"]["first_name"] == "Sam"


def test_an_empty_list_removes_every_network_managed_user(net: Net) -> None:
    net.put("/network.json", json={"users": [user_body("u1"), user_body("u2")]})
    assert net.put("/network.json", json={"users": []}).status_code == 200
    assert set(users_of(net)) == {None}


def test_repeating_a_replacement_changes_nothing_and_adds_no_audit_event(net: Net) -> None:
    body = {"users": [user_body("u1"), user_body("u2", role="Observer")]}
    first = net.put("/network.json", json=body)
    events = len(net.audit())
    again = net.post("/network.json", json=body)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert len(net.audit()) == events


def test_one_audit_event_per_replacement_without_the_refresh_token(net: Net) -> None:
    body = {"users": [user_body("u1", oauth_refresh_token="secret-refresh-token")]}
    net.put("/network.json", json=body)
    event = net.audit()[0]
    assert event.action == "network.users.replace"
    assert event.face == "network_rest"
    assert event.after is not None
    assert event.after["users"]["u1"]["oauth_refresh_token"] == "[set]"
    assert "secret-refresh-token" not in repr(event)


def test_the_documents_invalid_address_example(net: Net) -> None:
    # The vendor's own example, request and answer as printed.
    body = {
        "users": [
            {
                "id_from_network": "549494858585cFUyYnFHyiYA42TrpM",
                "email_address": "chris@",
                "first_name": "Chris",
                "last_name": "Dean",
                "phone_number": "8004377950",
                "role": "Manager",
            }
        ]
    }
    response = net.put("/network.json", json=body)
    assert response.status_code == 403
    assert response.json() == {"errors": {"users": [{"email_address": ["is invalid"]}]}}


def test_the_documents_create_network_users_example(net: Net) -> None:
    body = {
        "users": [
            {
                "id_from_network": "549494858585cFUyYnFHyiYA42TrpM",
                "email_address": "chris@nfltix.com",
                "first_name": "Chris",
                "last_name": "Dean",
                "phone_number": "8004377950",
                "role": "Manager",
            },
            {
                "id_from_network": "694940505055cFUyYnFHyiYA42TrpM",
                "email_address": "jim@nfltix.com",
                "first_name": "Jim",
                "last_name": "Williams",
                "phone_number": "8004377950",
                "role": "Observer",
            },
        ]
    }
    response = net.post("/network.json", json=body)
    assert response.status_code == 201, response.text
    chris = users_of(net)["549494858585cFUyYnFHyiYA42TrpM"]
    assert chris["email_settings"] == [
        {"email_address": "chris@nfltix.com", "use_for_notifications": True}
    ]
    assert chris["contact_phone_number"] == "8004377950"


def test_problems_are_nested_where_they_are(net: Net) -> None:
    users = [
        user_body("ok"),
        user_body(
            "bad",
            email_settings=[
                {"email_address": "fine@example.com", "use_for_notifications": True},
                {"email_address": "not an address", "use_for_notifications": False},
            ],
            last_name=None,
        ),
        user_body("ok", role="Boss"),
    ]
    response = net.put("/network.json", json={"users": users})
    assert response.status_code == 403
    assert response.json() == {
        "errors": {
            "users": [
                {},
                {
                    "email_settings": [{}, {"email_address": ["is invalid"]}],
                    "last_name": ["can't be blank"],
                },
                {"id_from_network": ["is listed twice"]},
            ]
        }
    }
    assert set(users_of(net)) == {None}  # nothing was written


def test_problems_with_the_stored_state_come_once_the_input_is_well_formed(net: Net) -> None:
    response = net.put("/network.json", json={"users": [user_body("a"), user_body(role="Boss")]})
    assert response.status_code == 403
    assert response.json() == {
        "errors": {"users": [{}, {"role": ["must be one of Super, Manager, Observer, Member"]}]}
    }


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"users": ["can't be blank"]}),
        ({"users": {}}, {"users": ["must be an array"]}),
        ({"users": [1]}, {"users": [{"base": ["must be an object"]}]}),
    ],
)
def test_the_users_key(net: Net, body: dict[str, Any], errors: dict[str, Any]) -> None:
    response = net.put("/network.json", json=body)
    assert response.status_code == 403
    assert response.json() == {"errors": errors}


def test_a_user_who_logs_in_directly_is_not_changed(net: Net, ctx: ServiceContext) -> None:
    person = make_member(ctx, net.network, role="manage", first_name="Ada", last_name="Lovelace")
    assert person.can_login_via_platform
    admin = next(u for u in net.get("/network").json()["users"] if u["first_name"] == "Ada")
    # Listed exactly as shown: accepted, nothing changes.
    as_shown = {k: v for k, v in admin.items() if k != "id_from_network"}
    events = len(net.audit())
    response = net.put("/network.json", json={"users": [as_shown]})
    assert response.status_code == 200, response.text
    assert admin in net.get("/network").json()["users"]
    assert len(net.audit()) == events
    # Any change: refused, with a clear message.
    changed = {**as_shown, "role": "Observer"}
    response = net.put("/network.json", json={"users": [changed]})
    assert response.status_code == 403
    message = response.json()["errors"]["users"][0]["can_login_via_platform"][0]
    assert "only users whose login the network manages" in message


def test_an_address_of_a_user_who_logs_in_directly_is_refused(net: Net) -> None:
    admin_email = users_of(net)[None]["email_settings"][0]["email_address"]
    body = user_body(
        "u1", email_settings=[{"email_address": admin_email, "use_for_notifications": True}]
    )
    response = net.put("/network.json", json={"users": [body]})
    assert response.status_code == 403
    where = response.json()["errors"]["users"][0]["email_settings"][0]["email_address"]
    assert "logs in directly" in where[0]


def test_an_address_belongs_to_one_user(net: Net, ctx: ServiceContext) -> None:
    a = user_body("a")
    net.put("/network.json", json={"users": [a]})
    b = user_body("b", email_settings=a["email_settings"])
    response = net.put("/network.json", json={"users": [a, b]})
    assert response.status_code == 403
    assert response.json()["errors"]["users"][1] == {
        "email_settings": [{"email_address": ["has already been taken"]}]
    }


def test_addresses_can_swap_between_users_in_one_call(net: Net) -> None:
    a, b = user_body("a"), user_body("b")
    net.put("/network.json", json={"users": [a, b]})
    swapped = [
        {**a, "email_settings": b["email_settings"]},
        {**b, "email_settings": a["email_settings"]},
    ]
    response = net.put("/network.json", json={"users": swapped})
    assert response.status_code == 200, response.text
    users = users_of(net)
    assert users["a"]["email_settings"] == b["email_settings"]
    assert users["b"]["email_settings"] == a["email_settings"]


def test_an_address_moves_from_a_removed_user_to_a_new_one(net: Net) -> None:
    old = user_body("old")
    net.put("/network.json", json={"users": [old]})
    new = user_body("new", email_settings=old["email_settings"])
    response = net.put("/network.json", json={"users": [new]})
    assert response.status_code == 200, response.text
    assert set(users_of(net)) == {None, "new"}


def test_the_network_keeps_an_admin(net: Net, ctx: ServiceContext) -> None:
    # The host's admin logs in directly and stays; with network-managed admins only, the
    # last of them can't be removed.
    net.put("/network.json", json={"users": [user_body("boss", role="Super")]})
    with ctx.uow() as uow:
        uow.network.delete_memberships(net.network.id, [users_admin_id(net, ctx)])
    response = net.put("/network.json", json={"users": []})
    assert response.status_code == 403
    assert response.json() == {
        "errors": {"users": ["The last admin of an account can't be removed or demoted."]}
    }
    demote = net.put("/network.json", json={"users": [user_body("boss", role="Member")]})
    assert demote.status_code == 403
    assert "last admin" in demote.json()["errors"]["users"][0]["role"][0]


def users_admin_id(net: Net, ctx: ServiceContext) -> str:
    with ctx.uow(readonly=True) as uow:
        members = uow.network.members([net.network.id])[net.network.id]
    return next(u.id for u, _ in members if u.can_login_via_platform)


def test_a_network_user_in_an_advertiser_too_is_refused_by_the_core(
    net: Net, ctx: ServiceContext
) -> None:
    # The AppsFlyer document's rule, checked in the core: an advertiser's user can't join a partner.
    net.advertiser("adv")
    net.put("/advertisers/adv/users/u1.json", json={"user": user_body("u1")})
    response = net.put("/network.json", json={"users": [user_body("u1")]})
    assert response.status_code == 403
    message = response.json()["errors"]["users"][0]["email_settings"][0]["email_address"][0]
    assert "advertiser account" in message


def test_other_members_are_shown(net: Net, ctx: ServiceContext) -> None:
    member = make_member(ctx, net.network, role="manage")
    shown = [u for u in net.get("/network.json").json()["users"] if u["id_from_network"] is None]
    emails = {u["email_settings"][0]["email_address"] for u in shown}
    assert member.email in emails
