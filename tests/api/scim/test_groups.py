"""Groups are the account's roles; membership is a user's role in the account."""

from __future__ import annotations

from typing import Any

from factories import make_member
from scim_support import GROUP, Scim, error_of

BASE = "marketing_limited"  # the catalogue's least-privileged role for advertiser accounts


def member_ids(scim: Scim, key: str) -> set[str]:
    group = scim.get(f"/Groups/{key}").json()
    return {m["value"] for m in group.get("members", [])}


def test_adding_and_removing_members_changes_roles(scim: Scim) -> None:
    user = scim.create_user()
    assert scim.role_of(user["id"]) == BASE
    added = scim.patch(
        "/Groups/manage", {"op": "add", "path": "members", "value": [{"value": user["id"]}]}
    )
    assert added.status_code == 200, added.text
    assert scim.role_of(user["id"]) == "manage"
    assert user["id"] in {m["value"] for m in added.json()["members"]}
    assert user["id"] not in member_ids(scim, BASE)
    assert scim.get(f"/Users/{user['id']}").json()["groups"][0]["value"] == "manage"
    # Okta's form: a filter in the path.
    removed = scim.patch(
        "/Groups/manage", {"op": "remove", "path": f'members[value eq "{user["id"]}"]'}
    )
    assert removed.status_code == 200, removed.text
    assert scim.role_of(user["id"]) == BASE  # the role is gone; the user stays in the account
    assert "scim" in scim.faces(user["id"])


def test_entra_removes_members_with_a_value(scim: Scim) -> None:
    user = scim.create_user()
    scim.patch("/Groups/view", {"op": "Add", "path": "members", "value": [{"value": user["id"]}]})
    response = scim.patch(
        "/Groups/view", {"op": "Remove", "path": "members", "value": [{"value": user["id"]}]}
    )
    assert response.status_code == 200, response.text
    assert scim.role_of(user["id"]) == BASE


def test_the_base_group_keeps_its_members(scim: Scim) -> None:
    user = scim.create_user()
    refused = scim.patch(BASE_PATH, {"op": "remove", "path": f'members[value eq "{user["id"]}"]'})
    error_of(refused, 400, "mutability")
    assert scim.role_of(user["id"]) == BASE


BASE_PATH = f"/Groups/{BASE}"


def test_a_group_takes_only_the_accounts_own_users(scim: Scim) -> None:
    # A group's members are Users of this account: another account's user id is as unknown
    # here as a made-up one (it must not add them, nor reveal that they exist).
    outsider = make_member(scim.ctx, scim.world.b, role="view")
    for stranger in (outsider.id, "nobody"):
        refused = scim.patch(
            "/Groups/view", {"op": "add", "path": "members", "value": [{"value": stranger}]}
        )
        error_of(refused, 400, "invalidValue")
        assert refused.json()["detail"] == f"members: There is no user with the id {stranger}."
    assert scim.role_of(outsider.id) is None


def test_the_last_admin_stays_an_admin(scim: Scim) -> None:
    refused = scim.patch(
        "/Groups/admin", {"op": "remove", "path": f'members[value eq "{scim.admin.id}"]'}
    )
    error_of(refused, 409)
    assert scim.role_of(scim.admin.id) == "admin"


def test_create_rename_replace_and_delete_a_group(scim: Scim) -> None:
    ann, bob = scim.create_user(), scim.create_user()
    created = scim.post(
        "/Groups",
        {
            "schemas": [GROUP],
            "displayName": "Data Team",
            "externalId": "g1",
            "members": [{"value": ann["id"]}],
        },
    )
    assert created.status_code == 201, created.text
    group: dict[str, Any] = created.json()
    assert group["id"] == "data_team"
    assert "externalId" not in group
    assert scim.role_of(ann["id"]) == "data_team"
    error_of(
        scim.post("/Groups", {"schemas": [GROUP], "displayName": "data team"}), 409, "uniqueness"
    )
    renamed = scim.patch("/Groups/data_team", {"op": "replace", "value": {"displayName": "Data"}})
    assert renamed.json()["displayName"] == "Data"
    replaced = scim.put(
        "/Groups/data_team",
        {"schemas": [GROUP], "displayName": "Data", "members": [{"value": bob["id"]}]},
        headers={"If-Match": renamed.headers["etag"]},
    )
    assert replaced.status_code == 200, replaced.text
    assert {m["value"] for m in replaced.json()["members"]} == {bob["id"]}
    assert scim.role_of(ann["id"]) == BASE
    error_of(scim.delete("/Groups/data_team", headers={"If-Match": renamed.headers["etag"]}), 412)
    assert scim.delete("/Groups/data_team").status_code == 204
    assert scim.role_of(bob["id"]) == BASE
    error_of(scim.get("/Groups/data_team"), 404)


def test_predefined_groups_keep_their_names(scim: Scim) -> None:
    error_of(
        scim.patch("/Groups/admin", {"op": "replace", "path": "displayName", "value": "Boss"}),
        400,
        "mutability",
    )
    error_of(scim.delete("/Groups/admin"), 400, "mutability")


def test_another_account_sees_its_own_members(scim: Scim) -> None:
    other = scim.token_for(scim.world.b)
    admins = scim.get("/Groups/admin", token=other).json()
    assert scim.admin.id not in {m["value"] for m in admins["members"]}
    user = scim.create_user()
    sneaky = scim.patch(
        "/Groups/admin",
        {"op": "remove", "path": f'members[value eq "{scim.admin.id}"]'},
        token=other,
    )
    assert sneaky.status_code == 200  # nothing of this account is in that account's group
    assert scim.role_of(scim.admin.id) == "admin"
    assert scim.role_of(user["id"]) == BASE
