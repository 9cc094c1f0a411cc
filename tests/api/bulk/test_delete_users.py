"""`DELETE /users/{emails}`: all or nothing, 204 on success, 422 with an error per refused
e-mail, and the AppsFlyer document's delete messages word for word."""

from __future__ import annotations

import pytest

from tenantry.domain.accounts import AccountKind

from bulk_support import RATE_LIMIT_HEADERS, Bulk
from factories import make_account, make_member


def test_deleting_users(bulk: Bulk) -> None:
    doomed = [make_member(bulk.ctx, bulk.account, role="qa") for _ in range(3)]
    response = bulk.delete(",".join(u.email for u in doomed))
    assert response.status_code == 204
    assert response.content == b""
    assert all(response.headers.get(h) for h in RATE_LIMIT_HEADERS)
    assert bulk.emails() == {bulk.admin.email}


def test_addresses_in_any_case_with_spaces(bulk: Bulk) -> None:
    doomed = [make_member(bulk.ctx, bulk.account, role="qa") for _ in range(2)]
    response = bulk.delete(f" {doomed[0].email.upper()} , {doomed[1].email},")
    assert response.status_code == 204
    assert bulk.emails() == {bulk.admin.email}


def test_the_user_stays_in_their_other_accounts(bulk: Bulk) -> None:
    user = make_member(bulk.ctx, bulk.account, role="qa")
    make_member(bulk.ctx, bulk.world.b, role="qa", email=user.email)
    assert bulk.delete(user.email).status_code == 204
    assert user.email in bulk.emails(bulk.world.b)


def _refused(bulk: Bulk, emails: str) -> list[dict[str, object]]:
    before = bulk.emails()
    response = bulk.delete(emails)
    assert response.status_code == 422, response.text
    assert bulk.emails() == before  # nothing deleted
    errors: list[dict[str, object]] = response.json()["errors"]
    return errors


def test_invalid_email_address(bulk: Bulk) -> None:
    assert _refused(bulk, "not-an-email") == [
        {"index": 0, "email": "not-an-email", "message": "Invalid email address"}
    ]


def test_the_email_does_not_exist(bulk: Bulk) -> None:
    assert _refused(bulk, "nobody@example.com") == [
        {"index": 0, "email": "nobody@example.com", "message": "The email doesn\u2019t exist"}
    ]


def test_a_member_of_another_account_does_not_exist_here(bulk: Bulk) -> None:
    other = make_member(bulk.ctx, bulk.world.b, role="qa")
    assert _refused(bulk, other.email)[0]["message"] == "The email doesn\u2019t exist"
    assert other.email in bulk.emails(bulk.world.b)


@pytest.mark.parametrize("path", ["/users/", "/users", "/users/,", "/users/%20,%20"])
def test_invalid_input_without_emails(bulk: Bulk, path: str) -> None:
    response = bulk.request("DELETE", path)
    assert response.status_code == 400
    assert response.json() == {"message": "Invalid input"}
    assert all(response.headers.get(h) for h in RATE_LIMIT_HEADERS)


def test_the_account_owner(bulk: Bulk) -> None:
    owned = make_account(
        bulk.ctx,
        parent=bulk.world.host,
        kind=AccountKind.ADVERTISER,
        admin_email="owner@example.com",
    )
    token = bulk.token_for(owned)
    response = bulk.delete("owner@example.com", token=token)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"index": 0, "email": "owner@example.com", "message": "Can\u2019t delete account owner"}
    ]
    assert "owner@example.com" in bulk.emails(owned)


def test_ones_own_user(bulk: Bulk) -> None:
    assert _refused(bulk, bulk.admin.email) == [
        {"index": 0, "email": bulk.admin.email, "message": "Can\u2019t delete your own user"}
    ]


def test_all_or_nothing(bulk: Bulk) -> None:
    keep = [make_member(bulk.ctx, bulk.account, role="qa") for _ in range(2)]
    response = bulk.delete(f"{keep[0].email},bad,nobody@example.com,{keep[1].email}")
    assert response.status_code == 422
    body = response.json()
    assert body["message"] == "Some items were refused; nothing was changed."
    assert body["errors"] == [
        {"index": 1, "email": "bad", "message": "Invalid email address"},
        {"index": 2, "email": "nobody@example.com", "message": "The email doesn\u2019t exist"},
    ]
    assert {u.email for u in keep} <= bulk.emails()


def test_an_address_with_a_slash(bulk: Bulk) -> None:
    user = make_member(bulk.ctx, bulk.account, role="qa", email="a/b@example.com")
    assert bulk.delete("a%2Fb@example.com").status_code == 204
    assert user.email not in bulk.emails()


def test_a_member_who_is_not_an_admin_may_not_delete(bulk: Bulk) -> None:
    user = make_member(bulk.ctx, bulk.account, role="qa")
    response = bulk.delete(user.email, token=bulk.token_for(bulk.account, role="manage"))
    assert response.status_code == 401
    assert response.json() == {"message": "There was a problem with permissions for this account."}
    assert user.email in bulk.emails()
