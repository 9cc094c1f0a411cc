"""Every user field round-trips, with the documents' rules and defaults; read-only fields are
ignored; an update is a complete copy of the user."""

from __future__ import annotations

from typing import Any

import pytest

from tenantry.services.context import ServiceContext

from network_support import Net, user_body

FLAGS = (
    "notify_on_budgets",
    "notify_on_campaign_applications",
    "notify_on_campaign_expirations",
    "notify_on_creative_duplication_requests",
    "notify_on_network_announcements",
    "notify_on_performance_notifications",
    "notify_on_monthly_campaign_performance_reports",
    "notify_on_weekly_campaign_performance_reports",
    "notify_on_call_activities",
)


@pytest.fixture
def put_user(net: Net) -> Any:
    net.advertiser("adv")

    def put(user: dict[str, Any], user_id: str = "u1") -> Any:
        return net.put(f"/advertisers/adv/users/{user_id}.json", json={"user": user})

    return put


def test_every_field_round_trips(net: Net, put_user: Any) -> None:
    user = {
        "id_from_network": "u1",
        "email_settings": [
            {"email_address": "first@example.com", "use_for_notifications": False},
            {"email_address": "second@example.com", "use_for_notifications": True},
        ],
        "first_name": "Grace",
        "contact_country_code": "44",
        "last_name": "Hopper",
        "role": "Observer",
        "oauth_refresh_token": "refresh-1",
        "contact_phone_number": "+442071234567",
        **{flag: i % 2 == 0 for i, flag in enumerate(FLAGS)},
    }
    response = put_user(user)
    assert response.status_code == 200, response.text
    assert response.json() == {**user, "can_login_via_platform": False}
    assert net.get("/advertisers/adv/users/u1.json").json() == response.json()


def test_the_first_address_is_the_users_e_mail(
    net: Net, ctx: ServiceContext, put_user: Any
) -> None:
    put_user(
        user_body(
            "u1",
            email_settings=[
                {"email_address": "Main@Example.com", "use_for_notifications": False},
                {"email_address": "alerts@example.com", "use_for_notifications": True},
            ],
        )
    )
    with ctx.uow(readonly=True) as uow:
        user = uow.network.users_by_network_ids(net.network.id, ["u1"])["u1"]
    assert user.email == "main@example.com"
    assert [e.address for e in user.notification_emails] == [
        "main@example.com",
        "alerts@example.com",
    ]
    assert not user.can_login_via_platform


def test_defaults(put_user: Any) -> None:
    body = put_user(user_body("u1", role=None)).json()
    assert body["role"] == "Super"
    assert all(body[flag] is False for flag in FLAGS)
    assert body["contact_phone_number"] is None
    assert body["contact_country_code"] is None
    assert body["oauth_refresh_token"] is None


def test_read_only_fields_are_ignored(put_user: Any) -> None:
    body = put_user(user_body("u1", can_login_via_platform=True, id=5, surprise="x")).json()
    assert body["can_login_via_platform"] is False
    assert "surprise" not in body
    assert "id" not in body


def test_an_update_is_a_complete_copy(put_user: Any) -> None:
    put_user(
        user_body("u1", contact_phone_number="805-555-5555", notify_on_budgets=True, role="Manager")
    )
    body = put_user(user_body("u1")).json()
    assert body["contact_phone_number"] is None
    assert body["notify_on_budgets"] is False
    assert body["role"] == "Member"


@pytest.mark.parametrize(
    "phone",
    [
        "8056035555",
        "805-603-5555",
        "(805) 603-5555",
        "805.603.5555",
        "888\u2010603\u20103760",
        "+18056035555",
        "+44 20 7123 4567",
    ],
)
def test_phone_numbers_are_kept_as_written(put_user: Any, phone: str) -> None:
    response = put_user(user_body("u1", contact_phone_number=phone))
    assert response.status_code == 200, response.text
    assert response.json()["contact_phone_number"] == phone


def test_phone_number_is_another_name_for_contact_phone_number(put_user: Any) -> None:
    assert put_user(user_body("u1", phone_number="8004377950")).json()["contact_phone_number"] == (
        "8004377950"
    )


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"contact_phone_number": "555-1234"}, {"contact_phone_number": ["is invalid"]}),
        ({"contact_phone_number": "0123456789"}, {"contact_phone_number": ["is invalid"]}),
        ({"contact_phone_number": "+0123"}, {"contact_phone_number": ["is invalid"]}),
        ({"phone_number": "12"}, {"phone_number": ["is invalid"]}),
        ({"contact_country_code": "one"}, {"contact_country_code": ["is invalid"]}),
        ({"first_name": None}, {"first_name": ["can't be blank"]}),
        ({"last_name": ""}, {"last_name": ["can't be blank"]}),
        ({"first_name": 7}, {"first_name": ["must be a string"]}),
        ({"first_name": "x" * 101}, {"first_name": ["is too long (maximum is 100 characters)"]}),
        # A tab reaches the field (the server refuses only what no field takes); a name refuses it.
        ({"last_name": "Tab\tByte"}, {"last_name": ["is invalid"]}),
        ({"role": "Super Admin"}, {"role": ["must be one of Super, Manager, Observer, Member"]}),
        ({"role": ""}, {"role": ["can't be blank"]}),
        ({"notify_on_budgets": "yes"}, {"notify_on_budgets": ["must be true or false"]}),
        ({"email_settings": []}, {"email_settings": ["can't be blank"]}),
        ({"email_settings": "a@example.com"}, {"email_settings": ["must be an array"]}),
        (
            {
                "email_settings": [
                    {"email_address": "a@example.com", "use_for_notifications": False}
                ]
            },
            {"email_settings": ["must have at least one address with use_for_notifications true"]},
        ),
        (
            {"email_settings": [{"email_address": "a@example.com"}]},
            {"email_settings": [{"use_for_notifications": ["must be true or false"]}]},
        ),
        (
            {
                "email_settings": [
                    {"email_address": "a@example.com", "use_for_notifications": True},
                    {"email_address": "A@example.com", "use_for_notifications": False},
                ]
            },
            {"email_settings": [{}, {"email_address": ["is listed twice"]}]},
        ),
        ({"email_settings": None, "email_address": "nope"}, {"email_address": ["is invalid"]}),
        ({"email_settings": None}, {"email_settings": ["can't be blank"]}),
        ({"oauth_refresh_token": 5}, {"oauth_refresh_token": ["must be a string"]}),
    ],
)
def test_invalid_users(
    net: Net, put_user: Any, change: dict[str, Any], errors: dict[str, Any]
) -> None:
    user = user_body("u1")
    user.update(change)
    user = {k: v for k, v in user.items() if v is not None or k == "first_name"}
    if change.get("first_name", "") is None:
        user.pop("first_name")
    response = put_user(user)
    assert response.status_code == 403, response.text
    assert response.json() == {"errors": errors}
    assert net.get("/advertisers/adv/users.json").json() == []


def test_the_urls_id_names_a_user_without_one_in_the_body(put_user: Any) -> None:
    user = user_body("ignored")
    del user["id_from_network"]
    assert put_user(user, "from-url").json()["id_from_network"] == "from-url"
