"""Users: create, read, replace, delete, versions, and the core's rules with their SCIM errors."""

from __future__ import annotations

from tenantry.domain.accounts import AccountKind
from tenantry.services import members

from factories import OPERATOR, make_account, make_member, set_policy, unique_email
from scim_support import ENTERPRISE, USER, Scim, error_of, new_user


def test_create_read_replace_delete(scim: Scim) -> None:
    email = unique_email("Crud")
    created = scim.post(
        "/Users", new_user(email, externalId="00u1", **{ENTERPRISE: {"department": "Sales"}})
    )
    assert created.status_code == 201, created.text
    body = created.json()
    user_id = body["id"]
    assert created.headers["location"] == f"http://testserver/scim/v2/Users/{user_id}"
    assert created.headers["etag"] == body["meta"]["version"]
    assert body["meta"]["version"].startswith('W/"')
    assert body["userName"] == email.lower()
    assert body["emails"] == [{"value": email.lower(), "type": "work"}]
    assert body["name"] == {"givenName": "Barbara", "familyName": "Jensen"}
    assert body["externalId"] == "00u1"
    assert body[ENTERPRISE] == {"department": "Sales"}
    assert body["active"] is True
    assert body["groups"][0]["value"] == scim.role_of(user_id)

    fetched = scim.get(f"/Users/{user_id}")
    assert fetched.json() == body

    replaced = scim.put(
        f"/Users/{user_id}",
        {
            "schemas": [USER],
            "userName": email,
            "emails": [{"value": email, "type": "work"}],
            "name": {"givenName": "Babs"},
            "active": True,
        },
    )
    assert replaced.status_code == 200, replaced.text
    after = replaced.json()
    assert after["name"] == {"givenName": "Babs"}
    assert "displayName" not in after
    assert "externalId" not in after
    assert ENTERPRISE not in after
    assert after["meta"]["version"] != body["meta"]["version"]

    assert scim.delete(f"/Users/{user_id}").status_code == 204
    error_of(scim.get(f"/Users/{user_id}"), 404)
    assert scim.role_of(user_id) is None
    assert "scim" in scim.faces(user_id)


def test_user_name_comes_from_emails_when_it_is_no_address(scim: Scim) -> None:
    email = unique_email("alias")
    body = scim.create_user(userName="bjensen", emails=[{"value": email, "type": "work"}])
    assert body["userName"] == email


def test_every_change_is_audited_with_the_scim_face(scim: Scim) -> None:
    user = scim.create_user()
    scim.patch(f"/Users/{user['id']}", {"op": "replace", "value": {"active": False}})
    scim.delete(f"/Users/{user['id']}")
    assert scim.faces(user["id"]) == {"scim"}


def test_if_match_guards_writes(scim: Scim) -> None:
    user = scim.create_user()
    path, version = f"/Users/{user['id']}", user["meta"]["version"]
    stale = scim.patch(
        path,
        {"op": "replace", "path": "displayName", "value": "A"},
        headers={"If-Match": 'W/"stale"'},
    )
    error_of(stale, 412)
    fresh = scim.patch(
        path, {"op": "replace", "path": "displayName", "value": "A"}, headers={"If-Match": version}
    )
    assert fresh.status_code == 200
    error_of(scim.delete(path, headers={"If-Match": version}), 412)
    not_modified = scim.get(path, headers={"If-None-Match": fresh.headers["etag"]})
    assert not_modified.status_code == 304
    assert scim.delete(path, headers={"If-Match": fresh.headers["etag"]}).status_code == 204


def test_uniqueness(scim: Scim) -> None:
    user = scim.create_user(externalId="dup")
    error_of(scim.post("/Users", new_user(user["userName"])), 409, "uniqueness")
    error_of(scim.post("/Users", new_user(externalId="dup")), 409, "uniqueness")
    other = scim.create_user()
    taken = scim.patch(
        f"/Users/{other['id']}", {"op": "replace", "path": "userName", "value": user["userName"]}
    )
    error_of(taken, 409, "uniqueness")


def test_bad_values_are_invalid_value(scim: Scim) -> None:
    error_of(scim.post("/Users", new_user(userName="x", emails=[])), 400, "invalidValue")
    error_of(scim.post("/Users", new_user(name={"givenName": "x" * 101})), 400, "invalidValue")
    user = scim.create_user()
    refused = scim.patch(
        f"/Users/{user['id']}", {"op": "add", "path": "groups", "value": [{"value": "admin"}]}
    )
    error_of(refused, 400, "mutability")


def test_the_core_rules_hold(scim: Scim) -> None:
    admin = scim.admin
    deactivate = {"op": "replace", "path": "active", "value": False}
    # The token acts as this admin: nobody deactivates or deletes themselves.
    error_of(scim.patch(f"/Users/{admin.id}", deactivate), 409)
    error_of(scim.delete(f"/Users/{admin.id}"), 409)
    # Another admin's token may not take away the account's last active admin either.
    second = scim.token_for(scim.account, role="admin")
    scim.patch(f"/Users/{admin.id}", deactivate, token=second)
    second_admin = next(
        m.user.id
        for m in members.list_all_members(scim.ctx, OPERATOR, scim.account.id)
        if m.role.key == "admin" and m.user.id != admin.id
    )
    error_of(scim.patch(f"/Users/{second_admin}", deactivate, token=second), 409)
    # A manager can't act on an admin.
    manager = scim.token_for(scim.account, role="manage")
    error_of(scim.delete(f"/Users/{second_admin}", token=manager), 403)
    # A viewer reads but does not write.
    viewer = scim.token_for(scim.account, role="view")
    assert scim.get("/Users", token=viewer).status_code == 200
    error_of(scim.post("/Users", new_user(), token=viewer), 403)


def test_the_owner_stays(scim: Scim) -> None:
    owner = make_member(scim.ctx, scim.account, role="view")
    with scim.ctx.uow() as uow:  # no face sets an owner; the first admin is one
        account = uow.accounts.get(scim.account.id)
        account.owner_user_id = owner.id
        uow.accounts.update(account)
    detail = error_of(scim.delete(f"/Users/{owner.id}"), 409)
    assert "owner" in detail


def test_multi_account_rules_hold(scim: Scim) -> None:
    agency = make_account(scim.ctx, parent=scim.world.host, kind=AccountKind.AGENCY)
    agency_user = make_member(scim.ctx, agency, role="view")
    detail = error_of(scim.post("/Users", new_user(agency_user.email)), 409)
    assert "agency" in detail
    sso = make_account(scim.ctx, parent=scim.world.host)
    token = scim.token_for(sso)
    set_policy(scim.ctx, sso.id, sso_enabled=True)
    elsewhere = make_member(scim.ctx, scim.world.b, role="view")
    detail = error_of(scim.post("/Users", new_user(elsewhere.email), token=token), 409)
    assert "SSO" in detail


def test_another_accounts_token_never_reaches_this_account(scim: Scim) -> None:
    user = scim.create_user()
    other = scim.token_for(scim.world.b)
    path = f"/Users/{user['id']}"
    error_of(scim.get(path, token=other), 404)
    error_of(
        scim.patch(path, {"op": "replace", "path": "active", "value": False}, token=other), 404
    )
    error_of(scim.delete(path, token=other), 404)
    listed = scim.get("/Users", token=other).json()
    assert user["id"] not in {r["id"] for r in listed["Resources"]}
    assert scim.get(path).json()["active"] is True
    mine = scim.get("/Users").json()
    assert {r["id"] for r in mine["Resources"]} >= {user["id"], scim.admin.id}
    assert scim.world.b_admin.id not in {r["id"] for r in mine["Resources"]}
