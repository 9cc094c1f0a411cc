"""Listing users and groups: filters (every operator), sorting, paging, attributes, .search."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scim_support import SEARCH, Scim, error_of


@pytest.fixture
def people(scim: Scim) -> dict[str, dict[str, Any]]:
    """Three users besides the admin: ann (external id A-1), bob (deactivated), cyd."""
    made = {}
    for key, external in (("ann", "A-1"), ("bob", "B-2"), ("cyd", None)):
        fields: dict[str, Any] = {"displayName": f"{key.title()} Person"}
        if external:
            fields["externalId"] = external
        made[key] = scim.create_user(f"{key}.q@example.org", **fields)
    scim.patch(f"/Users/{made['bob']['id']}", {"op": "replace", "value": {"active": False}})
    return made


def names(found: list[dict[str, Any]]) -> set[str]:
    return {u["userName"].split(".")[0] for u in found if u["userName"].endswith("q@example.org")}


@pytest.mark.parametrize(
    ("scim_filter", "expected"),
    [
        ('userName eq "ANN.q@example.org"', {"ann"}),
        ('userName ne "ann.q@example.org"', {"bob", "cyd"}),
        ('userName co ".Q@"', {"ann", "bob", "cyd"}),
        ('userName sw "b"', {"bob"}),
        ('userName ew "q@example.org"', {"ann", "bob", "cyd"}),
        ('userName gt "bob.q@example.org"', {"cyd"}),
        ('userName ge "bob.q@example.org"', {"bob", "cyd"}),
        ('userName lt "bob.q@example.org"', {"ann"}),
        ('userName le "bob.q@example.org"', {"ann", "bob"}),
        ('emails.value eq "cyd.q@example.org"', {"cyd"}),
        ('emails[type eq "work" and value sw "ann"]', {"ann"}),
        # Every user's one address is their work address; its type ignores case.
        ('emails.type eq "WORK" and userName sw "b"', {"bob"}),
        ('emails.type ne "work"', set()),
        ('emails[type co "or"] and not (emails.type sw "x")', {"ann", "bob", "cyd"}),
        ("not (emails.type pr)", set()),
        ('externalId eq "A-1"', {"ann"}),
        ('externalId eq "a-1"', set()),
        ("externalId pr", {"ann", "bob"}),
        ("not (externalId pr)", {"cyd"}),
        ('displayName co "person"', {"ann", "bob", "cyd"}),
        ("active eq false", {"bob"}),
        ('active eq true and userName sw "c"', {"cyd"}),
        ('userName sw "a" or userName sw "c"', {"ann", "cyd"}),
        ('not (userName sw "a" or userName sw "c")', {"bob"}),
        ('name.givenName eq "barbara" and externalId ne "A-1"', {"bob", "cyd"}),
    ],
)
def test_filters(
    scim: Scim, people: dict[str, dict[str, Any]], scim_filter: str, expected: set[str]
) -> None:
    assert names(scim.find(scim_filter)) == expected


def test_filters_on_id_and_times(scim: Scim, people: dict[str, dict[str, Any]]) -> None:
    ann = people["ann"]
    assert names(scim.find(f'id eq "{ann["id"]}"')) == {"ann"}
    modified = datetime.fromisoformat(people["bob"]["meta"]["created"])
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    earlier = (modified - timedelta(hours=1)).isoformat()
    assert names(scim.find(f'meta.lastModified gt "{earlier}"')) == {"ann", "bob", "cyd"}
    assert names(scim.find(f'meta.lastModified ge "{later}"')) == set()
    assert names(scim.find(f'meta.lastModified lt "{later}"')) == {"ann", "bob", "cyd"}
    assert names(scim.find(f'meta.lastModified le "{earlier}"')) == set()
    assert names(scim.find(f'meta.created gt "{earlier}"')) == {"ann", "bob", "cyd"}
    # bob's deactivation came after cyd joined: only bob changed since.
    since = scim.get(f"/Users/{people['cyd']['id']}").json()["meta"]["lastModified"]
    assert names(scim.find(f'meta.lastModified gt "{since}"')) == {"bob"}


def test_invalid_filters(scim: Scim) -> None:
    for bad in (
        "userName eq",
        'nickName eq "x"',
        "active gt true",
        'meta.created co "2"',
        # No UTC time at the calendar's edges (a review saw a 500 here).
        'meta.created gt "9999-12-31T23:59:59-14:00"',
        'meta.lastModified lt "0001-01-01T00:00:00+14:00"',
    ):
        error_of(scim.get("/Users", params={"filter": bad}), 400, "invalidFilter")


def test_sorting_and_paging(scim: Scim, people: dict[str, dict[str, Any]]) -> None:
    mine = 'userName ew "q@example.org"'

    def page(**params: Any) -> dict[str, Any]:
        response = scim.get("/Users", params={"filter": mine, **params})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    down = page(sortBy="userName", sortOrder="descending")
    assert [u["userName"][0] for u in down["Resources"]] == ["c", "b", "a"]
    second = page(sortBy="userName", startIndex=2, count=1)
    assert second["totalResults"] == 3
    assert second["startIndex"] == 2
    assert second["itemsPerPage"] == 1
    assert second["Resources"][0]["userName"].startswith("bob")
    assert page(count=0)["Resources"] == []
    assert page(count=0)["totalResults"] == 3
    by_external = page(sortBy="externalId")
    assert [u.get("externalId") for u in by_external["Resources"]] == ["A-1", "B-2", None]
    assert len(page(sortBy="meta.lastModified")["Resources"]) == 3
    # The same for everyone: the joining order.
    by_type = page(sortBy="emails.type", sortOrder="descending")
    assert [u["userName"][0] for u in by_type["Resources"]] == ["a", "b", "c"]


def test_attributes(scim: Scim, people: dict[str, dict[str, Any]]) -> None:
    listed = scim.get(
        "/Users", params={"filter": 'externalId eq "A-1"', "attributes": "userName,active"}
    )
    (only,) = listed.json()["Resources"]
    assert set(only) == {"schemas", "id", "userName", "active"}
    one = scim.get(f"/Users/{people['ann']['id']}", params={"excludedAttributes": "emails,groups"})
    assert "emails" not in one.json()
    assert "groups" not in one.json()
    assert one.json()["userName"].startswith("ann")


def test_search_with_post(scim: Scim, people: dict[str, dict[str, Any]]) -> None:
    body = {
        "schemas": [SEARCH],
        "filter": 'displayName sw "ann"',
        "attributes": ["displayName"],
        "startIndex": 1,
        "count": 10,
    }
    found = scim.post("/Users/.search", body).json()
    assert found["totalResults"] == 1
    assert found["Resources"][0]["displayName"] == "Ann Person"
    either = 'displayName sw "ann" or displayName eq "admin"'
    everything = scim.post("/.search", {"schemas": [SEARCH], "filter": either}).json()
    shown = {(r["schemas"][0].rsplit(":", 1)[1], r["displayName"]) for r in everything["Resources"]}
    assert shown == {("User", "Ann Person"), ("Group", "Admin")}
    assert everything["totalResults"] == 2


def test_groups_by_display_name(scim: Scim) -> None:
    (admins,) = scim.find('displayName eq "admin"', "/Groups")
    assert admins["id"] == "admin"
    assert scim.admin.id in {m["value"] for m in admins["members"]}
    slim = scim.get("/Groups", params={"excludedAttributes": "members", "sortBy": "displayName"})
    groups = slim.json()["Resources"]
    assert all("members" not in g for g in groups)
    assert [g["displayName"] for g in groups] == sorted(
        (g["displayName"] for g in groups), key=str.lower
    )
    error_of(scim.get("/Groups", params={"filter": "displayName eq"}), 400, "invalidFilter")
