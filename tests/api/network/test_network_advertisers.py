"""`/advertisers.json`: advertiser accounts under the network, keyed by the network's id, with
approval status, sites, users and custom data, upserted idempotently."""

from __future__ import annotations

from typing import Any

import pytest

from tenantry.domain.accounts import AccountKind
from tenantry.services.context import ServiceContext

from factories import make_member
from network_support import Net, advertiser_body, user_body

# The vendor's "create an advertiser with users" example, as printed (read-only fields and the
# advertiser's refresh token included: they are ignored).
VENDOR_EXAMPLE: dict[str, Any] = {
    "name": "NFL Tickets Exchange",
    "id_from_network": "cFUyYnFHy",
    "oauth_refresh_token": "7464644784457575757494930303",
    "approval_status": "Approved",
    "web_integration_phone_number": "8004377950",
    "default_creative_id_from_network": "222",
    "users": [
        {
            "id_from_network": "549494858585cFUyYnFHyiYA42TrpM",
            "email_address": "chris@nfltix.com",
            "first_name": "Chris",
            "last_name": "Dean",
            "contact_phone_number": "8055555555",
            "oauth_refresh_token": "556588585858585858585858858",
            "role": "Manager",
        },
        {
            "id_from_network": "694940505055cFUyYnFHyiYA42TrpM",
            "email_address": "jim@nfltix.com",
            "first_name": "Jim",
            "last_name": "Williams",
            "contact_phone_number": "2135555555",
            "oauth_refresh_token": "4222424241628298228222",
            "role": "Observer",
        },
    ],
    "sites": [
        {"id_from_network": "315", "name": "315.blog.com"},
        {"id_from_network": "996", "name": "996.blog.com"},
    ],
    "custom_data": {"channel": "Offline lead"},
}


def test_the_documents_create_example(net: Net) -> None:
    response = net.post("/advertisers.json", json=VENDOR_EXAMPLE)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id_from_network"] == "cFUyYnFHy"
    assert body["name"] == "NFL Tickets Exchange"
    assert body["approval_status"] == "Approved"
    assert body["sites"] == VENDOR_EXAMPLE["sites"]
    assert body["custom_data"] == {"channel": "Offline lead"}
    assert [u["id_from_network"] for u in body["users"]] == [
        "549494858585cFUyYnFHyiYA42TrpM",
        "694940505055cFUyYnFHyiYA42TrpM",
    ]
    assert [u["role"] for u in body["users"]] == ["Manager", "Observer"]
    assert body["users"][0]["email_settings"] == [
        {"email_address": "chris@nfltix.com", "use_for_notifications": True}
    ]
    # Read-only fields are not taken from the input.
    assert body["web_integration_phone_number"] is None
    assert body["default_creative_id_from_network"] is None
    assert body["object_url"].endswith(
        f"/api/2019-05-01/{net.network.id}/advertisers/cFUyYnFHy.json"
    )
    assert isinstance(body["id"], str)
    assert net.get("/advertisers/cFUyYnFHy.json").json() == body
    assert net.get("/advertisers.json").json() == [body]


def test_posting_again_updates_changing_nothing(net: Net) -> None:
    first = net.post("/advertisers.json", json=VENDOR_EXAMPLE)
    events = len(net.audit())
    again = net.post("/advertisers.json", json=VENDOR_EXAMPLE)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert len(net.audit()) == events


def test_put_creates_a_missing_advertiser_and_answers_200(net: Net) -> None:
    body = advertiser_body()
    del body["id_from_network"]
    response = net.put("/advertisers/from-url.json", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["id_from_network"] == "from-url"


def test_the_bodys_id_takes_precedence_over_the_urls(net: Net) -> None:
    response = net.put("/advertisers/from-url.json", json=advertiser_body("from-body"))
    assert response.status_code == 200
    assert response.json()["id_from_network"] == "from-body"
    assert net.get("/advertisers/from-url.json").status_code == 404


def test_post_to_an_advertisers_url(net: Net) -> None:
    body = advertiser_body()
    del body["id_from_network"]
    assert net.post("/advertisers/at-url.json", json=body).status_code == 201
    assert net.post("/advertisers/at-url.json", json=body).status_code == 200


def test_an_update_replaces_sites_and_users(net: Net) -> None:
    net.post("/advertisers.json", json=VENDOR_EXAMPLE)
    update = {
        **VENDOR_EXAMPLE,
        "users": VENDOR_EXAMPLE["users"][:1],
        "sites": VENDOR_EXAMPLE["sites"][1:],
        "approval_status": "Suspended",
    }
    response = net.put("/advertisers/cFUyYnFHy.json", json=update)
    assert response.status_code == 200
    body = response.json()
    assert body["sites"] == [{"id_from_network": "996", "name": "996.blog.com"}]
    assert [u["first_name"] for u in body["users"]] == ["Chris"]
    assert body["approval_status"] == "Suspended"


def test_users_and_custom_data_left_out_stay(net: Net) -> None:
    net.post("/advertisers.json", json=VENDOR_EXAMPLE)
    update = {k: v for k, v in VENDOR_EXAMPLE.items() if k not in ("users", "custom_data")}
    body = net.put("/advertisers/cFUyYnFHy.json", json={**update, "name": "NFL Tix"}).json()
    assert body["name"] == "NFL Tix"
    assert len(body["users"]) == 2
    assert body["custom_data"] == {"channel": "Offline lead"}


def test_the_advertiser_is_an_advertiser_account_under_the_network(
    net: Net, ctx: ServiceContext
) -> None:
    created = net.post("/advertisers.json", json=VENDOR_EXAMPLE).json()
    with ctx.uow(readonly=True) as uow:
        account = uow.accounts.get(created["id"])
    assert account.kind is AccountKind.ADVERTISER
    assert account.parent_id == net.network.id
    assert account.id_from_network == "cFUyYnFHy"


def test_a_wrapped_advertiser_is_accepted(net: Net) -> None:
    response = net.post("/advertisers.json", json={"advertiser": advertiser_body("wrapped")})
    assert response.status_code == 201
    assert response.json()["id_from_network"] == "wrapped"


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"name": None}, {"name": ["can't be blank"]}),
        ({"name": "  "}, {"name": ["can't be blank"]}),
        ({"id_from_network": None}, {"id_from_network": ["can't be blank"]}),
        ({"sites": []}, {"sites": ["can't be blank"]}),
        ({"sites": [{"name": "x"}]}, {"sites": [{"id_from_network": ["can't be blank"]}]}),
        (
            {"sites": [{"id_from_network": "1"}, {"id_from_network": 1}]},
            {"sites": [{}, {"id_from_network": ["is listed twice"]}]},
        ),
        (
            {"approval_status": "Pending"},
            {
                "approval_status": [
                    "must be one of Applied, Approved, Declined, Suspended, Archived"
                ]
            },
        ),
        ({"custom_data": {"channel": 5}}, {"custom_data": {"channel": ["must be a string"]}}),
        ({"custom_data": []}, {"custom_data": ["must be an object"]}),
        (
            {"users": [{"id_from_network": "u", "email_address": "x@example.com"}]},
            {"users": [{"first_name": ["can't be blank"], "last_name": ["can't be blank"]}]},
        ),
    ],
)
def test_invalid_advertisers(net: Net, change: dict[str, Any], errors: dict[str, Any]) -> None:
    body = advertiser_body("adv")
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    response = net.post("/advertisers.json", json=body)
    assert response.status_code == 403, response.text
    assert response.json() == {"errors": errors}
    assert net.get("/advertisers.json").json() == []


def test_names_are_unique_in_the_network(net: Net) -> None:
    net.post("/advertisers.json", json=advertiser_body("a", name="Acme"))
    response = net.post("/advertisers.json", json=advertiser_body("b", name="ACME"))
    assert response.status_code == 403
    assert response.json() == {"errors": {"name": ["has already been taken"]}}
    # Renaming itself to its own name (in another case) is fine.
    assert net.put("/advertisers/a.json", json=advertiser_body("a", name="acme")).status_code == 200


def test_delete_an_advertiser(net: Net, ctx: ServiceContext) -> None:
    net.post("/advertisers.json", json=VENDOR_EXAMPLE)
    net.post("/advertisers.json", json=advertiser_body("other", users=[VENDOR_EXAMPLE["users"][1]]))
    response = net.delete("/advertisers/cFUyYnFHy.json")
    assert (response.status_code, response.json()) == (200, {})
    assert net.get("/advertisers/cFUyYnFHy.json").status_code == 404
    with ctx.uow(readonly=True) as uow:
        # Chris belonged to no other account and is gone; Jim is still in the other one.
        known = uow.network.users_by_network_ids(
            net.network.id, ["549494858585cFUyYnFHyiYA42TrpM", "694940505055cFUyYnFHyiYA42TrpM"]
        )
    assert set(known) == {"694940505055cFUyYnFHyiYA42TrpM"}
    again = net.delete("/advertisers/cFUyYnFHy.json")
    assert (again.status_code, again.json()) == (200, {})
    assert net.audit()[0].action == "network.advertiser.delete"


def test_an_unknown_advertiser_is_not_found(net: Net) -> None:
    for path in ("/advertisers/nope.json", "/advertisers/nope/users.json"):
        response = net.get(path)
        assert response.status_code == 404
        assert response.json() == {
            "errors": {
                "invalid_data": f"Could not find Advertiser nope for network {net.network.id}",
                "class": "RecordNotFound",
            }
        }


def test_advertisers_list_in_id_order_with_every_member(net: Net, ctx: ServiceContext) -> None:
    for name in ("b", "a", "c"):
        net.post("/advertisers.json", json=advertiser_body(name, users=[user_body()]))
    account = net.advertiser("d")
    member = make_member(ctx, account, role="view")
    listed = net.get("/advertisers.json").json()
    assert [a["id_from_network"] for a in listed] == ["a", "b", "c", "d"]
    assert [len(a["users"]) for a in listed] == [1, 1, 1, 1]
    shown = listed[3]["users"][0]
    assert shown["can_login_via_platform"] is True
    assert shown["email_settings"][0]["email_address"] == member.email


def test_replacing_users_leaves_users_who_log_in_directly(net: Net, ctx: ServiceContext) -> None:
    account = net.advertiser("adv", users=[user_body("u1")])
    member = make_member(ctx, account, role="admin")
    body = net.put(
        "/advertisers/adv.json", json=advertiser_body("adv", name="Same", users=[])
    ).json()
    assert [u["email_settings"][0]["email_address"] for u in body["users"]] == [member.email]
