"""`GET /roles`: every role of the account, predefined and custom, with its capabilities by
section and the users holding it."""

from __future__ import annotations

from typing import Any

import pytest

from tenantry.services import roles

from bulk_support import RATE_LIMIT_HEADERS, Bulk
from factories import OPERATOR, make_member, unique_email


def roles_by_name(bulk: Bulk) -> dict[str, dict[str, Any]]:
    response = bulk.get_roles()
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"roles"}
    return {r["name"]: r for r in body["roles"]}


def test_the_shape(bulk: Bulk) -> None:
    response = bulk.get_roles()
    assert all(response.headers.get(h) for h in RATE_LIMIT_HEADERS)
    for role in response.json()["roles"]:
        assert set(role) == {"name", "type", "capabilities", "user_count", "users"}
        assert role["type"] in ("predefined", "custom")
        for section in role["capabilities"]:
            assert set(section) == {"section", "capabilities"}
            for capability in section["capabilities"]:
                assert set(capability) == {"name", "access_level"}
                assert capability["access_level"] in ("blocked", "read", "all")
        for user in role["users"]:
            assert set(user) == {"email", "name"}


def test_predefined_roles_by_their_appsflyer_names(bulk: Bulk) -> None:
    shown = roles_by_name(bulk)
    assert list(shown) == [
        "admin",
        "team_manager",
        "view",
        "contributor",
        "marketing_lead",
        "marketing",
        "marketing_limited",
        "accounting",
        "security",
        "qa",
    ]
    assert all(r["type"] == "predefined" for r in shown.values())


def test_capabilities_by_section_in_catalogue_order(bulk: Bulk) -> None:
    admin = roles_by_name(bulk)["admin"]
    sections = bulk.ctx.roles.sections
    assert [s["section"] for s in admin["capabilities"]] == list(sections)
    for section in admin["capabilities"]:
        assert [c["name"] for c in section["capabilities"]] == list(sections[section["section"]])
        assert {c["access_level"] for c in section["capabilities"]} == {"all"}
    manager = roles_by_name(bulk)["team_manager"]
    levels = {
        (s["section"], c["name"]): c["access_level"]
        for s in manager["capabilities"]
        for c in s["capabilities"]
    }
    assert levels[("user_management", "users")] == "all"
    assert levels[("user_management", "admins")] == "blocked"
    assert levels[("account", "settings")] == "read"


def test_users_per_role(bulk: Bulk) -> None:
    analysts = [make_member(bulk.ctx, bulk.account, role="marketing") for _ in range(2)]
    make_member(bulk.ctx, bulk.world.b, role="qa")  # another account's user
    shown = roles_by_name(bulk)
    assert shown["admin"]["users"] == [{"email": bulk.admin.email, "name": bulk.admin.name}]
    assert sorted(u["email"] for u in shown["marketing"]["users"]) == sorted(
        u.email for u in analysts
    )
    assert shown["qa"]["users"] == []
    assert (shown["admin"]["user_count"], shown["marketing"]["user_count"]) == (1, 2)
    assert shown["qa"]["user_count"] == 0


def test_a_role_held_by_many_lists_the_first_holders_and_counts_them_all(
    bulk: Bulk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(roles, "HOLDERS_LISTED", 2)
    # Made in the same second, holders are listed by address.
    now = bulk.ctx.now()
    monkeypatch.setattr(bulk.ctx, "clock", lambda: now)
    emails = [unique_email(f"analyst-{letter}") for letter in "cab"]
    for email in emails:
        make_member(bulk.ctx, bulk.account, role="marketing", email=email)
    shown = roles_by_name(bulk)
    assert shown["marketing"]["user_count"] == 3
    assert [u["email"] for u in shown["marketing"]["users"]] == sorted(emails)[:2]
    assert shown["admin"]["user_count"] == len(shown["admin"]["users"]) == 1


def test_custom_roles(bulk: Bulk) -> None:
    bulk.add_analyst_role({"data": {"reports": "read", "raw_data": "all"}})
    roles.create_custom_role(
        bulk.ctx, OPERATOR, bulk.world.b.id, key="b_only", display_name="B", capabilities={}
    )
    holder = make_member(bulk.ctx, bulk.account, role="analyst")
    shown = roles_by_name(bulk)
    assert "b_only" not in shown
    analyst = shown["analyst"]
    assert analyst["type"] == "custom"
    assert analyst["users"] == [{"email": holder.email, "name": holder.name}]
    data = next(s for s in analyst["capabilities"] if s["section"] == "data")
    levels = {c["name"]: c["access_level"] for c in data["capabilities"]}
    assert levels == {
        "apps": "blocked",
        "reports": "read",
        "raw_data": "all",
        "integrations": "blocked",
        "pixels": "blocked",
    }
