"""The role catalogue: predefined roles, their capabilities and the name each face uses."""

from __future__ import annotations

import pytest

from tenantry.domain.accounts import AccountKind
from tenantry.domain.errors import InvalidInput
from tenantry.domain.roles import (
    AccessLevel,
    Need,
    Role,
    RoleCatalogue,
    parse_capabilities,
    validate_role_key,
)
from tenantry.services.catalogues import load_role_catalogue
from tenantry.settings import CATALOGUE_DIR


@pytest.fixture(scope="module")
def catalogue() -> RoleCatalogue:
    return load_role_catalogue(CATALOGUE_DIR / "roles.json")


@pytest.mark.parametrize(
    ("face", "name", "key"),
    [
        ("capig", "admin", "admin"),
        ("capig", "manage", "manage"),
        ("capig", "view", "view"),
        ("appsflyer", "admin", "admin"),
        ("appsflyer", "team_manager", "manage"),
        ("appsflyer", "contributor", "member"),
        ("appsflyer", "marketing", "marketing"),
        ("appsflyer", "marketing_lead", "marketing_lead"),
        ("appsflyer", "marketing_limited", "marketing_limited"),
        ("appsflyer", "accounting", "accounting"),
        ("appsflyer", "security", "security"),
        ("appsflyer", "qa", "qa"),
        ("invoca", "Super", "admin"),
        ("invoca", "Manager", "manage"),
        ("invoca", "Member", "member"),
        ("invoca", "Observer", "view"),
    ],
)
def test_face_names_resolve_to_role_keys(
    catalogue: RoleCatalogue, face: str, name: str, key: str
) -> None:
    assert catalogue.key_for(face, name) == key
    assert catalogue.key_for(face, name.upper()) == key
    assert catalogue.key_for(face, name.lower()) == key


@pytest.mark.parametrize(
    ("face", "name"),
    [
        ("capig", "team_manager"),
        ("capig", "Super"),
        ("capig", "marketing"),
        ("appsflyer", "manage"),
        ("appsflyer", "view"),
        ("appsflyer", "Super"),
        ("invoca", "admin"),
        ("invoca", "user"),
        ("invoca", "marketing"),
    ],
)
def test_a_face_does_not_know_the_other_faces_names(
    catalogue: RoleCatalogue, face: str, name: str
) -> None:
    assert catalogue.key_for(face, name) is None


@pytest.mark.parametrize(
    ("face", "key", "shown"),
    [
        ("capig", "manage", "manage"),
        ("appsflyer", "manage", "team_manager"),
        ("invoca", "manage", "Manager"),
        ("invoca", "admin", "Super"),
        ("appsflyer", "view", "view"),  # no AppsFlyer name: the key
        ("capig", "marketing", "marketing"),
        ("invoca", "qa", "qa"),
    ],
)
def test_face_name_is_the_face_own_name_or_the_key(
    catalogue: RoleCatalogue, face: str, key: str, shown: str
) -> None:
    role = catalogue.find(key)
    assert role is not None
    assert catalogue.face_name(face, role) == shown


def test_the_shipped_catalogue_has_the_documented_roles(catalogue: RoleCatalogue) -> None:
    assert {r.key for r in catalogue} == {
        "admin",
        "manage",
        "view",
        "member",
        "marketing",
        "marketing_lead",
        "marketing_limited",
        "accounting",
        "security",
        "qa",
    }
    unrestricted = {r.key for r in catalogue if r.unrestricted_scope}
    assert unrestricted == {"admin", "security"}
    assert catalogue.admin_like_keys == {"admin"}
    assert catalogue.admin.key == "admin"
    assert "admin" in catalogue
    assert "nope" not in catalogue
    assert catalogue.find("nope") is None


def test_admin_can_do_everything_and_view_only_reads(catalogue: RoleCatalogue) -> None:
    admin, manager, viewer = catalogue.admin, catalogue.find("manage"), catalogue.find("view")
    assert manager is not None
    assert viewer is not None
    needs = [v for k, v in vars(Need).items() if not k.startswith("_")]
    assert all(admin.allows(need) for need in needs)
    assert manager.allows(Need.MANAGE_USERS)
    assert not manager.allows(Need.MANAGE_ADMINS)
    assert viewer.allows(Need.READ_ACCOUNT)
    assert not viewer.allows(Need.MANAGE_USERS)


def _role(key: str, **names: str | None) -> Role:
    return Role(
        key=key, display_name=key, capabilities={}, names={d: n for d, n in names.items() if n}
    )


def test_a_catalogue_without_admin_is_refused() -> None:
    with pytest.raises(ValueError, match="admin"):
        RoleCatalogue({}, [_role("manage")])


def test_the_domain_knows_no_dialect_aliases() -> None:
    # CAPIG's `user` action is the CAPIG face's reading of `manage`, not the catalogue's.
    with_manage = RoleCatalogue({}, [_role("admin"), _role("manage", capig="manage")])
    assert with_manage.key_for("capig", "user") is None
    assert with_manage.names_in("capig") == ["manage"]


def test_level_defaults_to_blocked() -> None:
    role = Role(
        key="r",
        display_name="R",
        capabilities={"data": {"reports": AccessLevel.READ}},
        account_kinds=frozenset({AccountKind.ADVERTISER}),
    )
    assert role.level("data", "reports") is AccessLevel.READ
    assert role.level("data", "raw_data") is AccessLevel.BLOCKED
    assert role.level("nothing", "here") is AccessLevel.BLOCKED
    assert role.applies_to(AccountKind.ADVERTISER)
    assert not role.applies_to(AccountKind.PARTNER)
    assert not role.is_custom


@pytest.mark.parametrize("key", ["ab", "team_lead", "r2d2", "a" * 40])
def test_role_keys(key: str) -> None:
    assert validate_role_key(key) == key


@pytest.mark.parametrize("key", ["", "a", "A_b", "1abc", "_ab", "a-b", "a b", "a" * 41])
def test_bad_role_keys(key: str) -> None:
    with pytest.raises(InvalidInput):
        validate_role_key(key)


def test_parse_capabilities_checks_sections_names_and_levels(catalogue: RoleCatalogue) -> None:
    parsed = parse_capabilities({"data": {"reports": "All", "apps": "read"}}, catalogue.sections)
    assert parsed == {"data": {"reports": AccessLevel.ALL, "apps": AccessLevel.READ}}
    for bad in (
        {"nope": {"reports": "all"}},
        {"data": {"nope": "all"}},
        {"data": {"reports": "write"}},
    ):
        with pytest.raises(InvalidInput):
            parse_capabilities(bad, catalogue.sections)


# -- limiting a role to another (what a credential may do as its user) -------------------------


def test_a_role_within_its_ceiling_is_itself(catalogue: RoleCatalogue) -> None:
    view, admin = catalogue.find("view"), catalogue.admin
    assert view is not None
    assert view.limited_to(admin) is view


def test_a_role_above_its_ceiling_is_the_ceiling(catalogue: RoleCatalogue) -> None:
    view = catalogue.find("view")
    assert view is not None
    assert catalogue.admin.limited_to(view) is view


def test_crossing_roles_keep_the_lower_level_of_each_capability() -> None:
    users = Role("users", "Users", {"user_management": {"users": AccessLevel.ALL}})
    apps = Role(
        "apps",
        "Apps",
        {"user_management": {"users": AccessLevel.READ}, "data": {"apps": AccessLevel.ALL}},
    )
    limited = users.limited_to(apps)
    assert limited.level("user_management", "users") is AccessLevel.READ
    assert limited.level("data", "apps") is AccessLevel.BLOCKED
    assert not limited.exceeds(users)
    assert not limited.exceeds(apps)
    assert not limited.allows(Need.MANAGE_USERS)
