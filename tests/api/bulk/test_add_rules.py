"""Every rule and message of AppsFlyer's add table, one test each, word for word. A refused
user is not added; when nobody was added the answer is 422 with the per-user errors."""

from __future__ import annotations

from typing import Any

import pytest

from tenantry.domain.accounts import AccountKind
from tenantry.services import accounts

from bulk_support import Bulk, add_message, make_kind, new_user
from factories import OPERATOR, make_member

# -- invalid data ------------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "two@@example.com", "", " "])
def test_invalid_email(bulk: Bulk, email: str) -> None:
    assert add_message(bulk, new_user(email)) == "Invalid email address."


def test_user_already_in_this_account(bulk: Bulk) -> None:
    existing = make_member(bulk.ctx, bulk.account, role="qa")
    response = bulk.add([new_user(existing.email.upper())])
    assert response.json()["errors"][0]["message"] == "This user already exists in this account."


# -- adding users to multiple accounts ---------------------------------------------------------


def test_pending_in_another_account(bulk: Bulk) -> None:
    pending = make_member(bulk.ctx, bulk.world.b, role="qa", active=False)
    message = add_message(bulk, new_user(pending.email))
    assert (
        message == 'This user can\'t be added because their status is "pending" in another account.'
    )


def test_advertiser_user_to_an_agency_account(bulk: Bulk) -> None:
    agency = make_kind(bulk, AccountKind.AGENCY)
    user = make_member(bulk.ctx, bulk.world.b, role="qa")
    message = add_message(bulk, new_user(user.email), token=bulk.token_for(agency))
    assert (
        message == "A user from an advertiser account can't be added to agency or partner accounts."
    )


def test_advertiser_user_to_a_partner_account(bulk: Bulk) -> None:
    partner = make_kind(bulk, AccountKind.PARTNER)
    user = make_member(bulk.ctx, bulk.world.b, role="qa")
    message = add_message(bulk, new_user(user.email), token=bulk.token_for(partner))
    assert (
        message == "A user from an advertiser account can't be added to agency or partner accounts."
    )


@pytest.mark.parametrize("kind", [AccountKind.AGENCY, AccountKind.PARTNER])
def test_agency_or_partner_user_to_an_advertiser_account(bulk: Bulk, kind: AccountKind) -> None:
    user = make_member(bulk.ctx, make_kind(bulk, kind), role="qa")
    message = add_message(bulk, new_user(user.email))
    assert message == (
        "A user from an agency or a partner account can't be added to an advertiser account."
    )


def test_user_in_an_account_without_multi_account_users(bulk: Bulk) -> None:
    user = make_member(bulk.ctx, bulk.world.b, role="qa")
    bulk.change(bulk.world.b, multi_account_users=False)
    message = add_message(bulk, new_user(user.email))
    assert message == (
        "This user is in another account that doesn't currently support users in multiple accounts."
    )


def test_this_account_without_multi_account_users(bulk: Bulk) -> None:
    user = make_member(bulk.ctx, bulk.world.b, role="qa")
    bulk.change(bulk.account, multi_account_users=False)
    message = add_message(bulk, new_user(user.email))
    assert message == "This account doesn't currently support adding users in multiple accounts."


def test_user_in_an_account_with_sso(bulk: Bulk) -> None:
    user = make_member(bulk.ctx, bulk.world.b, role="qa")
    bulk.change(bulk.world.b, sso_enabled=True)
    message = add_message(bulk, new_user(user.email))
    assert message == "This user can't be added because they're in an account that uses SSO."


def test_this_account_with_sso(bulk: Bulk) -> None:
    user = make_member(bulk.ctx, bulk.world.b, role="qa")
    bulk.change(bulk.account, sso_enabled=True)
    message = add_message(bulk, new_user(user.email))
    assert message == "This user can't be added because this account uses SSO."


def test_user_in_an_account_with_2fa(bulk: Bulk) -> None:
    user = make_member(bulk.ctx, bulk.world.b, role="qa")
    bulk.change(bulk.world.b, two_factor_required=True)
    message = add_message(bulk, new_user(user.email))
    assert message == "This user can't be added because they're in an account that uses 2FA."


def test_this_account_with_2fa(bulk: Bulk) -> None:
    user = make_member(bulk.ctx, bulk.world.b, role="qa")
    bulk.change(bulk.account, two_factor_required=True)
    message = add_message(bulk, new_user(user.email))
    assert message == "This user can't be added because this account uses 2FA."


def test_sso_and_2fa_only_matter_for_users_in_several_accounts(bulk: Bulk) -> None:
    bulk.change(bulk.account, sso_enabled=True, two_factor_required=True)
    response = bulk.add([new_user()])
    assert response.status_code == 200, response.text
    assert response.json()["errors"] == []


# -- mistakes in the parameters ----------------------------------------------------------------


@pytest.mark.parametrize("username", ["Demi <Smith>", "demi@smith", "Demi; Smith", "tab\there"])
def test_invalid_username_characters(bulk: Bulk, username: str) -> None:
    message = add_message(bulk, new_user(username=username))
    assert message == "Invalid characters were used in the username."


def test_the_documented_username_characters_are_valid(bulk: Bulk) -> None:
    response = bulk.add([new_user(username="Dan-Smith_2 (ops) [EU] `x` Zoë.Ünal")])
    assert response.status_code == 200, response.text
    assert response.json()["data"][0]["username"] == "Dan-Smith_2 (ops) [EU] `x` Zoë.Ünal"


def test_username_over_100_characters(bulk: Bulk) -> None:
    message = add_message(bulk, new_user(username="a" * 101))
    assert message == "The username exceeded the 100-character limit."
    assert bulk.add([new_user(username="a" * 100)]).status_code == 200


@pytest.mark.parametrize("role", ["boss", "", "team manager", "advertiser-admin-ABCDEFGH"])
def test_unknown_role(bulk: Bulk, role: str) -> None:
    message = add_message(bulk, new_user(role=role))
    assert message == "The role was either misspelled or doesn\u2019t exist."


def test_another_accounts_custom_role_is_unknown(bulk: Bulk) -> None:
    from tenantry.services import roles

    roles.create_custom_role(
        bulk.ctx, OPERATOR, bulk.world.b.id, key="b_only", display_name="B only", capabilities={}
    )
    message = add_message(bulk, new_user(role="b_only"))
    assert message == "The role was either misspelled or doesn\u2019t exist."


def test_unknown_app_ids(bulk: Bulk) -> None:
    accounts.add_app(bulk.ctx, OPERATOR, bulk.account.id, "my_app1")
    user = new_user(app_ids=["my_app1", "my_app2"], allow_access_to_all_future_apps=False)
    message = add_message(bulk, user)
    assert (
        message == "One or more app IDs were either misspelled or don\u2019t exist in your account."
    )


def test_all_future_apps_without_all_apps(bulk: Bulk) -> None:
    accounts.add_app(bulk.ctx, OPERATOR, bulk.account.id, "my_app1")
    message = add_message(bulk, new_user(app_ids=["my_app1"]))
    assert message == (
        '"Allow access to all future apps" can be "true" only when there is access to all app IDs.'
    )


def test_all_future_apps_with_no_apps(bulk: Bulk) -> None:
    message = add_message(bulk, new_user(app_ids=[]))
    assert message.startswith('"Allow access to all future apps" can be "true" only')


def test_unknown_media_sources(bulk: Bulk) -> None:
    message = add_message(bulk, new_user(media_sources=["amplitude", "carrier_pigeon"]))
    assert message == "One or more media sources were either misspelled or don\u2019t exist."


def test_unknown_geos(bulk: Bulk) -> None:
    message = add_message(bulk, new_user(geos=["angola", "narnia"]))
    assert message == "One or more geos were either misspelled or don\u2019t exist."


@pytest.mark.parametrize("role", ["admin", "security", "ADMIN"])
@pytest.mark.parametrize(
    "restriction",
    [
        {"media_sources": ["amplitude"]},
        {"geos": ["aruba"]},
        {"app_ids": [], "allow_access_to_all_future_apps": False},
        {"allow_access_to_all_future_apps": False},
    ],
)
def test_admin_and_security_roles_with_restrictions(
    bulk: Bulk, role: str, restriction: dict[str, Any]
) -> None:
    message = add_message(bulk, new_user(role=role, **restriction))
    assert message == (
        "Admin and Security roles must have unrestricted access to apps, media sources, and "
        "geos. These fields must be empty."
    )


@pytest.mark.parametrize(
    "item",
    [
        pytest.param({"username": 5}, id="username-not-a-string"),
        pytest.param({"allow_access_to_all_future_apps": "true"}, id="flag-as-a-string"),
        pytest.param({"geos": "angola"}, id="geos-not-an-array"),
        pytest.param({"app_ids": [1, 2]}, id="app-ids-not-strings"),
        pytest.param({"media_sources": {"a": 1}}, id="media-sources-an-object"),
        pytest.param({"department": ["x"]}, id="department-an-array"),
        pytest.param({"role": None}, id="role-null"),
        pytest.param({"nickname": "Demi"}, id="unknown-field"),
        pytest.param({"department": "x" * 201}, id="department-too-long"),
        # (A NUL is refused before the face: test_robustness.py.)
        pytest.param({"department": "Ops\tTeam"}, id="department-with-a-tab"),
    ],
)
def test_invalid_field_scheme(bulk: Bulk, item: dict[str, Any]) -> None:
    assert add_message(bulk, new_user(**item)) == "Invalid field scheme."


@pytest.mark.parametrize(
    "missing", ["username", "email", "role", "allow_access_to_all_future_apps"]
)
def test_a_missing_required_field_is_an_invalid_field_scheme(bulk: Bulk, missing: str) -> None:
    user = new_user()
    del user[missing]
    response = bulk.add([user])
    error = response.json()["errors"][0]
    assert response.status_code == 422
    assert error == {"index": 0, "email": user.get("email", ""), "message": "Invalid field scheme."}


@pytest.mark.parametrize("item", [None, 7, "user@example.com", ["a"]])
def test_an_item_that_is_not_an_object_is_an_invalid_field_scheme(bulk: Bulk, item: object) -> None:
    response = bulk.add([item, new_user()])
    assert response.status_code == 200, response.text
    assert response.json()["errors"] == [
        {"index": 0, "email": "", "message": "Invalid field scheme."}
    ]


# -- other issues ------------------------------------------------------------------------------


def test_more_than_20_users(bulk: Bulk) -> None:
    response = bulk.add([new_user() for _ in range(21)])
    assert response.status_code == 400
    assert response.json() == {
        "message": "Exceeded the limit of adding 20 users in a single API call."
    }
    assert bulk.emails() == {bulk.admin.email}


def test_more_than_20_malformed_users(bulk: Bulk) -> None:
    response = bulk.add([{"nope": n} for n in range(21)])
    assert response.status_code == 400
    assert response.json() == {
        "message": "Exceeded the limit of adding 20 users in a single API call."
    }


def test_20_users_in_one_call(bulk: Bulk) -> None:
    users = [new_user() for _ in range(20)]
    response = bulk.add(users)
    assert response.status_code == 200, response.text
    assert len(response.json()["data"]) == 20
    assert bulk.emails() == {bulk.admin.email, *(u["email"] for u in users)}


def test_a_member_who_may_not_manage_users_has_a_permissions_problem(bulk: Bulk) -> None:
    response = bulk.add([new_user()], token=bulk.token_for(bulk.account, role="marketing"))
    assert response.status_code == 401
    assert response.json() == {"message": "There was a problem with permissions for this account."}


def test_a_team_manager_is_not_an_account_admin(bulk: Bulk) -> None:
    response = bulk.add([new_user()], token=bulk.token_for(bulk.account, role="manage"))
    assert response.status_code == 401
    assert response.json() == {"message": "There was a problem with permissions for this account."}


def test_the_sample_address_of_the_documents_is_valid(bulk: Bulk) -> None:
    # The AppsFlyer document's sample has an underscore in the domain and a trailing space.
    response = bulk.add([new_user("my_company@my_company.com ")])
    assert response.status_code == 200, response.text
    assert "my_company@my_company.com" in bulk.emails()
