"""The request sequences Okta and Entra ID send, replayed as they send them."""

from __future__ import annotations

from factories import unique_email
from scim_support import ENTERPRISE, GROUP, PATCH_OP, SEARCH, USER, Scim


def test_okta_sequence(scim: Scim) -> None:
    email = unique_email("okta")
    # Okta looks the user up by userName, then creates them.
    lookup = scim.get(
        "/Users", params={"filter": f'userName eq "{email}"', "startIndex": 1, "count": 100}
    )
    assert lookup.json()["totalResults"] == 0
    created = scim.post(
        "/Users",
        {
            "schemas": [USER],
            "userName": email,
            "name": {"givenName": "Okta", "familyName": "User"},
            "emails": [{"primary": True, "value": email, "type": "work"}],
            "displayName": "Okta User",
            "locale": "en-US",
            "externalId": "00ujl29u0le5T6Aj10h7",
            "groups": [],
            "password": "never-stored",
            "active": True,
        },
    )
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    found = scim.get("/Users", params={"filter": f'userName eq "{email.upper()}"'}).json()
    assert [u["id"] for u in found["Resources"]] == [user_id]
    # Profile push: a full PUT.
    put = scim.put(
        f"/Users/{user_id}",
        {
            "schemas": [USER],
            "id": user_id,
            "userName": email,
            "name": {"givenName": "Okta", "familyName": "Renamed"},
            "emails": [{"primary": True, "value": email, "type": "work"}],
            "displayName": "Okta Renamed",
            "externalId": "00ujl29u0le5T6Aj10h7",
            "active": True,
        },
    )
    assert put.json()["name"]["familyName"] == "Renamed"
    # Group push: create the group, add the member, remove them.
    group = scim.post(
        "/Groups", {"schemas": [GROUP], "displayName": "Okta Pushed", "members": []}
    ).json()
    add = scim.request(
        "PATCH",
        f"/Groups/{group['id']}",
        json={
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "add", "path": "members", "value": [{"value": user_id, "display": email}]}
            ],
        },
    )
    assert add.status_code == 200, add.text
    assert scim.role_of(user_id) == group["id"]
    remove = scim.patch(
        f"/Groups/{group['id']}", {"op": "remove", "path": f'members[value eq "{user_id}"]'}
    )
    assert remove.status_code == 200
    # Deprovisioning: active=false through PATCH.
    off = scim.patch(f"/Users/{user_id}", {"op": "replace", "value": {"active": False}})
    assert off.json()["active"] is False
    assert scim.faces(user_id) == {"scim"}


def test_entra_id_sequence(scim: Scim) -> None:
    email = unique_email("entra")
    lookup = scim.get("/Users", params={"filter": f'userName eq "{email}"'})
    assert lookup.json()["Resources"] == []
    created = scim.post(
        "/Users",
        {
            "schemas": [USER, ENTERPRISE],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": email,
            "active": True,
            "displayName": "Entra User",
            "title": "Engineer",
            "emails": [{"primary": True, "type": "work", "value": email}],
            "preferredLanguage": "en-US",
            "name": {"formatted": "Entra User", "familyName": "User", "givenName": "Entra"},
            "addresses": [{"type": "work", "country": "US"}],
            "phoneNumbers": [{"type": "mobile", "value": "+1 555 0100"}],
            ENTERPRISE: {"department": "Engineering", "employeeNumber": "42"},
        },
    )
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    assert created.json()[ENTERPRISE] == {"department": "Engineering"}
    by_external = scim.get(
        "/Users", params={"filter": 'externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"'}
    ).json()
    assert [u["id"] for u in by_external["Resources"]] == [user_id]
    # Attribute changes, as Entra batches them.
    changed = scim.patch(
        f"/Users/{user_id}",
        {"op": "Replace", "path": "displayName", "value": "Entra Renamed"},
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": email},
        {"op": "Add", "path": f"{ENTERPRISE}:department", "value": "Platform"},
        {"op": "Replace", "path": "title", "value": "Lead"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["displayName"] == "Entra Renamed"
    # Groups: look up by name, create, add and remove members.
    assert (
        scim.get(
            "/Groups",
            params={"filter": 'displayName eq "Entra Group"', "excludedAttributes": "members"},
        ).json()["totalResults"]
        == 0
    )
    group = scim.post(
        "/Groups",
        {
            "schemas": [GROUP],
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "Entra Group",
            "members": [],
        },
    ).json()
    scim.patch(
        f"/Groups/{group['id']}", {"op": "Add", "path": "members", "value": [{"value": user_id}]}
    )
    assert scim.role_of(user_id) == group["id"]
    scim.patch(
        f"/Groups/{group['id']}", {"op": "Remove", "path": "members", "value": [{"value": user_id}]}
    )
    assert scim.role_of(user_id) != group["id"]
    # Disabling the user in Entra: PATCH active with a string, capitalised op.
    off = scim.patch(f"/Users/{user_id}", {"op": "Replace", "path": "active", "value": "False"})
    assert off.json()["active"] is False
    searched = scim.post(
        "/Users/.search", {"schemas": [SEARCH], "filter": "active eq false"}
    ).json()
    assert user_id in {u["id"] for u in searched["Resources"]}
    assert scim.faces(user_id) == {"scim"}
