"""PATCH on users, in the forms Entra ID and Okta send."""

from __future__ import annotations

from typing import Any

from factories import unique_email
from scim_support import ENTERPRISE, Scim, error_of


def patched(scim: Scim, user: dict[str, Any], *operations: dict[str, Any]) -> dict[str, Any]:
    response = scim.patch(f"/Users/{user['id']}", *operations)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert scim.get(f"/Users/{user['id']}").json() == body
    return body


def test_active_without_a_path(scim: Scim) -> None:
    user = scim.create_user()
    assert patched(scim, user, {"op": "replace", "value": {"active": False}})["active"] is False
    assert patched(scim, user, {"op": "replace", "value": {"active": True}})["active"] is True


def test_entra_capitalised_ops_and_string_booleans(scim: Scim) -> None:
    user = scim.create_user()
    off = patched(scim, user, {"op": "Replace", "path": "active", "value": "False"})
    assert off["active"] is False
    on = patched(scim, user, {"op": "Replace", "path": "active", "value": "True"})
    assert on["active"] is True


def test_work_email_by_filter(scim: Scim) -> None:
    user = scim.create_user()
    address = unique_email("moved")
    body = patched(
        scim, user, {"op": "replace", "path": 'emails[type eq "work"].value', "value": address}
    )
    assert body["emails"] == [{"value": address, "type": "work"}]
    assert body["userName"] == address


def test_user_name_replace_changes_the_address(scim: Scim) -> None:
    user = scim.create_user()
    address = unique_email("renamed")
    body = patched(scim, user, {"op": "Replace", "path": "userName", "value": address})
    assert body["userName"] == address
    error_of(
        scim.patch(f"/Users/{user['id']}", {"op": "replace", "path": "userName", "value": "x"}),
        400,
        "invalidValue",
    )


def test_names_and_the_enterprise_department(scim: Scim) -> None:
    user = scim.create_user()
    body = patched(
        scim,
        user,
        {"op": "replace", "path": "name.givenName", "value": "Barb"},
        {"op": "add", "path": "name.familyName", "value": "Jensen-Smith"},
        {"op": "add", "path": f"{ENTERPRISE}:department", "value": "Research"},
        {"op": "replace", "path": "displayName", "value": "O'Brien, Barb"},
    )
    assert body["name"] == {"givenName": "Barb", "familyName": "Jensen-Smith"}
    assert body[ENTERPRISE] == {"department": "Research"}
    assert body["displayName"] == "O'Brien, Barb"
    removed = patched(
        scim,
        user,
        {"op": "remove", "path": "displayName"},
        {"op": "remove", "path": f"{ENTERPRISE}:department"},
    )
    assert "displayName" not in removed
    assert ENTERPRISE not in removed


def test_external_id(scim: Scim) -> None:
    user = scim.create_user()
    assert (
        patched(scim, user, {"op": "add", "path": "externalId", "value": "E1"})["externalId"]
        == "E1"
    )
    assert "externalId" not in patched(scim, user, {"op": "remove", "path": "externalId"})


def test_a_patch_is_all_or_nothing(scim: Scim) -> None:
    user = scim.create_user()
    response = scim.patch(
        f"/Users/{user['id']}",
        {"op": "replace", "path": "displayName", "value": "Changed"},
        {"op": "replace", "path": "name.givenName", "value": "x" * 101},
    )
    error_of(response, 400, "invalidValue")
    assert scim.get(f"/Users/{user['id']}").json()["displayName"] == user["displayName"]


def test_bad_patches(scim: Scim) -> None:
    path = f"/Users/{scim.create_user()['id']}"
    error_of(scim.patch(path), 400, "invalidValue")
    error_of(scim.patch(path, {"op": "jump", "path": "active"}), 400, "invalidValue")
    error_of(scim.patch(path, {"op": "remove"}), 400, "noTarget")
    error_of(scim.patch(path, {"op": "replace", "path": "emails[", "value": 1}), 400, "invalidPath")
