"""Custom roles: made per account, used like predefined ones, deleted once nobody holds them."""

from __future__ import annotations

import pytest

from tenantry.domain import roles as domain_roles
from tenantry.domain.errors import Conflict, ErrorCode, Forbidden, InvalidInput, NotFound
from tenantry.domain.roles import AccessLevel, Need
from tenantry.services import members, provisioning_groups, roles
from tenantry.services.context import ServiceContext
from tenantry.services.members import NewMember

from factories import OPERATOR, World, as_user, make_member, unique_email

ANALYST = {
    "user_management": {"users": "read"},
    "data": {"reports": "all", "raw_data": "read"},
}
SUPERVISOR = {
    "user_management": {"users": "all", "admins": "all"},
    "account": {"settings": "read"},
}


def test_a_custom_role_is_created_and_listed(ctx: ServiceContext, world: World) -> None:
    admin = as_user(world.a_admin)
    role = roles.create_custom_role(
        ctx, admin, world.a.id, key="analyst", display_name=" Analyst ", capabilities=ANALYST
    )
    assert role.is_custom
    assert role.account_id == world.a.id
    assert role.display_name == "Analyst"
    listed = {r.role.key: r for r in roles.list_roles(ctx, admin, world.a.id)}
    assert "analyst" in listed
    assert "admin" in listed
    stored = listed["analyst"].role
    assert stored.level("data", "reports") is AccessLevel.ALL
    assert stored.level("data", "raw_data") is AccessLevel.READ
    assert stored.level("account", "settings") is AccessLevel.BLOCKED
    assert [u.id for u in listed["admin"].users] == [world.a_admin.id]
    assert "analyst" not in {r.role.key for r in roles.list_roles(ctx, OPERATOR, world.b.id)}


def test_a_custom_role_is_used_like_a_predefined_one(ctx: ServiceContext, world: World) -> None:
    roles.create_custom_role(
        ctx, OPERATOR, world.a.id, key="analyst", display_name="Analyst", capabilities=ANALYST
    )
    added = members.add_member(
        ctx,
        as_user(world.a_admin),
        world.a.id,
        NewMember(email=unique_email(), role_key="analyst", geos=["us"]),
    )
    assert added.role.key == "analyst"
    member = members.get_member(ctx, OPERATOR, world.a.id, added.user.id)
    assert member.role.key == "analyst"
    assert member.role.allows(Need.READ_ACCOUNT)
    assert not member.role.allows(Need.MANAGE_USERS)
    holders = {r.role.key: r.users for r in roles.list_roles(ctx, OPERATOR, world.a.id)}
    assert [u.id for u in holders["analyst"]] == [added.user.id]
    # Another account does not know it.
    with pytest.raises(InvalidInput) as caught:
        members.add_member(
            ctx, OPERATOR, world.b.id, NewMember(email=unique_email(), role_key="analyst")
        )
    assert caught.value.code is ErrorCode.UNKNOWN_ROLE


def test_a_role_in_use_is_not_deleted(ctx: ServiceContext, world: World) -> None:
    roles.create_custom_role(
        ctx, OPERATOR, world.a.id, key="analyst", display_name="Analyst", capabilities=ANALYST
    )
    holder = make_member(ctx, world.a, role="analyst", active=False)
    with pytest.raises(Conflict):
        roles.delete_custom_role(ctx, as_user(world.a_admin), world.a.id, "analyst")
    assert "analyst" in {r.role.key for r in roles.list_roles(ctx, OPERATOR, world.a.id)}
    members.remove_member(ctx, as_user(world.a_admin), world.a.id, holder.id)
    roles.delete_custom_role(ctx, as_user(world.a_admin), world.a.id, "analyst")
    assert "analyst" not in {r.role.key for r in roles.list_roles(ctx, OPERATOR, world.a.id)}
    with pytest.raises(NotFound):
        roles.delete_custom_role(ctx, OPERATOR, world.a.id, "analyst")
    with pytest.raises(InvalidInput):
        members.add_member(
            ctx, OPERATOR, world.a.id, NewMember(email=unique_email(), role_key="analyst")
        )


def test_a_custom_admin_like_role_counts_as_an_admin(ctx: ServiceContext, world: World) -> None:
    roles.create_custom_role(
        ctx,
        OPERATOR,
        world.a.id,
        key="supervisor",
        display_name="Supervisor",
        capabilities=SUPERVISOR,
    )
    supervisor = make_member(ctx, world.a, role="supervisor")
    # With an active supervisor, the admin is no longer the last one who manages admins.
    changed = members.change_role(ctx, OPERATOR, world.a.id, world.a_admin.id, "view")
    assert changed.role.key == "view"
    with pytest.raises(Conflict) as caught:
        members.change_role(ctx, OPERATOR, world.a.id, supervisor.id, "view")
    assert caught.value.code is ErrorCode.LAST_ADMIN
    # A manager may not hand it out.
    manager = make_member(ctx, world.a, role="manage")
    with pytest.raises(Forbidden):
        members.add_member(
            ctx,
            as_user(manager),
            world.a.id,
            NewMember(email=unique_email(), role_key="supervisor"),
        )


@pytest.mark.parametrize(
    ("key", "capabilities"),
    [
        ("admin", ANALYST),
        ("marketing", ANALYST),
        ("Bad Key", ANALYST),
        ("x", ANALYST),
        ("analyst", {"nowhere": {"reports": "all"}}),
        ("analyst", {"data": {"teleport": "all"}}),
        ("analyst", {"data": {"reports": "write"}}),
    ],
)
def test_bad_custom_roles_are_refused(
    ctx: ServiceContext, world: World, key: str, capabilities: dict[str, dict[str, str]]
) -> None:
    with pytest.raises((InvalidInput, Conflict)):
        roles.create_custom_role(
            ctx, OPERATOR, world.a.id, key=key, display_name="X", capabilities=capabilities
        )
    assert {r.role.key for r in roles.list_roles(ctx, OPERATOR, world.a.id)} == {
        r.key for r in ctx.roles
    }


def test_custom_role_keys_are_unique_per_account(ctx: ServiceContext, world: World) -> None:
    roles.create_custom_role(
        ctx, OPERATOR, world.a.id, key="analyst", display_name="Analyst", capabilities=ANALYST
    )
    with pytest.raises(Conflict) as caught:
        roles.create_custom_role(
            ctx, OPERATOR, world.a.id, key="analyst", display_name="Again", capabilities=ANALYST
        )
    assert caught.value.code is ErrorCode.ID_TAKEN
    roles.create_custom_role(
        ctx, OPERATOR, world.b.id, key="analyst", display_name="Analyst", capabilities=ANALYST
    )


def test_only_admins_make_roles(ctx: ServiceContext, world: World) -> None:
    manager = make_member(ctx, world.a, role="manage")
    for actor in (as_user(manager), as_user(world.b_admin)):
        with pytest.raises(Forbidden):
            roles.create_custom_role(
                ctx, actor, world.a.id, key="analyst", display_name="A", capabilities=ANALYST
            )
    with pytest.raises(Forbidden):
        roles.list_roles(ctx, as_user(world.b_admin), world.a.id)


def test_an_account_has_a_bounded_number_of_custom_roles(
    ctx: ServiceContext, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(domain_roles, "MAX_CUSTOM_ROLES", 2)
    for key in ("first", "second"):
        roles.create_custom_role(
            ctx, OPERATOR, world.a.id, key=key, display_name=key, capabilities={}
        )
    with pytest.raises(Conflict, match="at most 2 custom roles"):
        roles.create_custom_role(
            ctx, OPERATOR, world.a.id, key="third", display_name="3", capabilities={}
        )
    with pytest.raises(Conflict, match="at most 2 custom roles"):
        provisioning_groups.create_group(ctx, OPERATOR, world.a.id, "Third")
    # Another account has room of its own.
    roles.create_custom_role(
        ctx, OPERATOR, world.b.id, key="first", display_name="1", capabilities={}
    )
