"""A group is shown with at most `MEMBERS_LISTED` members: a larger one is read without them,
and its members are paged through as Users. Changes to it still work, all or nothing, and their
versions still cover every member. The cap is lowered here so that a few users pass it."""

from __future__ import annotations

import pytest

from tenantry.services import provisioning_groups

from factories import statements
from scim_support import Scim, error_of

BASE = "marketing_limited"  # every new SCIM user's group


@pytest.fixture
def crowded(scim: Scim, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Three users in the base group, whose cap is two."""
    monkeypatch.setattr(provisioning_groups, "MEMBERS_LISTED", 2)
    return [scim.create_user()["id"] for _ in range(3)]


def test_a_group_past_the_cap_says_how_to_read_it(scim: Scim, crowded: list[str]) -> None:
    for path in (f"/Groups/{BASE}", "/Groups"):
        detail = error_of(scim.get(path), 400, "tooMany")
        assert "more than 2 members" in detail
        assert "excludedAttributes=members" in detail
        assert f'groups.value eq "{BASE}"' in detail

    alone = scim.get(f"/Groups/{BASE}", params={"excludedAttributes": "members"})
    assert alone.status_code == 200, alone.text
    assert "members" not in alone.json()
    listed = scim.get("/Groups", params={"excludedAttributes": "members"})
    assert listed.status_code == 200, listed.text
    assert BASE in {g["id"] for g in listed.json()["Resources"]}

    # Other groups are still listed with their members, when the large one is not shown.
    view = next(g for g in listed.json()["Resources"] if g["id"] == "view")
    one = scim.get("/Groups", params={"filter": f'displayName eq "{view["displayName"]}"'})
    assert one.status_code == 200, one.text
    assert [g["id"] for g in one.json()["Resources"]] == ["view"]
    # A filter on members cannot be answered without the large group's members.
    on_members = scim.get("/Groups", params={"filter": f'members.value eq "{crowded[0]}"'})
    error_of(on_members, 400, "tooMany")

    # What the error points to pages through every member.
    found = scim.find(f'groups.value eq "{BASE}"')
    assert {u["id"] for u in found} == set(crowded)


def test_smaller_groups_still_list_their_members(scim: Scim, crowded: list[str]) -> None:
    moved = scim.patch(
        "/Groups/view", {"op": "add", "path": "members", "value": [{"value": crowded[0]}]}
    )
    assert moved.status_code == 200, moved.text
    assert [m["value"] for m in moved.json()["members"]] == [crowded[0]]
    group = scim.get("/Groups/view").json()
    assert [m["value"] for m in group["members"]] == [crowded[0]]


def test_changes_to_a_group_past_the_cap_answer_without_its_members(
    scim: Scim, crowded: list[str]
) -> None:
    newcomer = scim.create_user()["id"]  # a fourth member of the base group
    scim.patch("/Groups/view", {"op": "add", "path": "members", "value": [{"value": newcomer}]})
    back = scim.patch(
        f"/Groups/{BASE}", {"op": "add", "path": "members", "value": [{"value": newcomer}]}
    )
    assert back.status_code == 200, back.text
    assert "members" not in back.json()
    assert scim.role_of(newcomer) == BASE
    # Its version covers every member: it is the one a change must name, and a change to
    # the members makes it stale.
    version = back.headers["ETag"]
    assert back.json()["meta"]["version"] == version
    current = scim.patch(
        f"/Groups/{BASE}",
        {"op": "add", "path": "members", "value": [{"value": newcomer}]},
        headers={"If-Match": version},
    )
    assert current.status_code == 200, current.text
    scim.patch("/Groups/view", {"op": "add", "path": "members", "value": [{"value": newcomer}]})
    stale = scim.patch(
        f"/Groups/{BASE}",
        {"op": "add", "path": "members", "value": [{"value": newcomer}]},
        headers={"If-Match": version},
    )
    error_of(stale, 412)
    assert scim.role_of(newcomer) == "view"


def test_reading_a_group_reads_no_more_than_the_cap(scim: Scim, crowded: list[str]) -> None:
    with statements(scim.ctx) as sent:
        error_of(scim.get(f"/Groups/{BASE}"), 400, "tooMany")
    reads = [s for s in sent if "memberships.role_key =" in s and "SELECT" in s]
    assert reads, sent
    assert all("LIMIT" in s for s in reads), reads


def test_a_patch_carries_at_most_1000_operations(scim: Scim) -> None:
    user = scim.create_user()["id"]
    add = {"op": "add", "path": "members", "value": [{"value": user}]}
    refused = scim.patch("/Groups/view", *([add] * 1_001))
    assert "at most 1,000 operations" in error_of(refused, 400, "tooMany")
    assert scim.role_of(user) == BASE  # nothing was applied
    accepted = scim.patch("/Groups/view", *([add] * 1_000))
    assert accepted.status_code == 200, accepted.text
    assert scim.role_of(user) == "view"
