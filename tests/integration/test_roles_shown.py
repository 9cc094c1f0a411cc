"""The role every face shows a member holding, read apart from the permission checks: the
role the policy grants, a predefined one wherever it is held; and a key that names no role
of the account (taken away while a read ran) shown as a role granting nothing, by every
listing alike, while the writes still treat it as strictly as an admin's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tenantry.domain.errors import DomainError, Forbidden
from tenantry.domain.roles import Need
from tenantry.services import managed_users, members, provisioning, roles, tenant_members
from tenantry.services.catalogues import load_role_catalogue
from tenantry.services.context import ServiceContext
from tenantry.services.policy import require
from tenantry.settings import CATALOGUE_DIR

from factories import OPERATOR, World, as_user, make_member

ANALYST = {"data": {"reports": "all"}}


def _restrict(ctx: ServiceContext, tmp_path: Path, key: str, kinds: list[str]) -> None:
    """The deployment narrows a predefined role to some kinds after members got it (a
    catalogue change, as test_role_not_applicable_to_the_account_kind makes one)."""
    doc = json.loads((CATALOGUE_DIR / "roles.json").read_text(encoding="utf-8"))
    for role in doc["roles"]:
        if role["key"] == key:
            role["account_kinds"] = kinds
    path = tmp_path / "roles.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    ctx.roles = load_role_catalogue(path)


def test_a_kind_restricted_predefined_role_is_listed_as_the_role_that_grants(
    ctx: ServiceContext, world: World, tmp_path: Path
) -> None:
    holder = make_member(ctx, world.host, role="manage")  # host is the (partner) network
    _restrict(ctx, tmp_path, "manage", ["advertiser"])

    # What the member may really do in the partner account: `manage`'s capabilities.
    with ctx.uow(readonly=True) as uow:
        _, granted = require(ctx, uow, as_user(holder), world.host.id, Need.MANAGE_USERS)
    assert granted.key == "manage"
    assert granted.capabilities

    single = members.get_member(ctx, OPERATOR, world.host.id, holder.id).role
    graphql = tenant_members.tenant_members(ctx, OPERATOR, world.host.id, at_most=100)
    in_graphql = {h.account.id: h.role for h in graphql.held[holder.id]}[world.host.id]
    assert single.capabilities == granted.capabilities
    assert in_graphql.capabilities == granted.capabilities

    page = members.list_members(ctx, OPERATOR, world.host.id, limit=100).items
    everyone = members.list_all_members(ctx, OPERATOR, world.host.id)
    scim = provisioning.get_user(ctx, OPERATOR, world.host.id, holder.id).role
    network = managed_users.get_network(ctx, OPERATOR, world.host.id).members
    shown = {
        "list_members (bulk GET paged, GraphQL usersConnection)": {m.user.id: m.role for m in page}[
            holder.id
        ],
        "list_all_members (bulk GET)": {m.user.id: m.role for m in everyone}[holder.id],
        "provisioning (SCIM)": scim,
        "managed_users.members_of (network API)": {m.user.id: m.role for m in network}[holder.id],
    }
    wrong = {
        face: (role.key, role.capabilities, role.is_custom)
        for face, role in shown.items()
        if role.capabilities != granted.capabilities
    }
    assert not wrong, wrong


def test_the_bulk_face_names_a_kind_restricted_role_as_it_grants(
    ctx: ServiceContext, world: World, tmp_path: Path
) -> None:
    from tenantry.entrypoints.bulk_rest import views

    holder = make_member(ctx, world.host, role="manage")
    _restrict(ctx, tmp_path, "manage", ["advertiser"])
    everyone = members.list_all_members(ctx, OPERATOR, world.host.id)
    shown = {m.user.id: views.user_view(ctx.roles, m) for m in everyone}[holder.id]
    assert shown["role"] == "team_manager", shown  # the face's name for `manage`


# -- a role key naming no role never loosens a write ---------------------------------------------


def _dangling(ctx: ServiceContext, world: World) -> str:
    """A member of A holding `analyst`, a custom role that no longer exists."""
    roles.create_custom_role(
        ctx, OPERATOR, world.a.id, key="analyst", display_name="Analyst", capabilities=ANALYST
    )
    holder = make_member(ctx, world.a, role="analyst")
    with ctx.uow() as uow:
        uow.custom_roles.delete(world.a.id, "analyst")
    listed = {m.user.id: m.role for m in members.list_all_members(ctx, OPERATOR, world.a.id)}
    assert listed[holder.id].capabilities == {}  # shown as granting nothing (by design)
    return holder.id


@pytest.mark.parametrize("change", ["change_role", "remove", "deactivate"])
def test_a_manager_still_may_not_act_on_a_member_whose_role_names_nothing(
    ctx: ServiceContext, world: World, change: str
) -> None:
    holder_id = _dangling(ctx, world)
    manager = as_user(make_member(ctx, world.a, role="manage"))
    act = {
        "change_role": lambda: members.change_role(ctx, manager, world.a.id, holder_id, "view"),
        "remove": lambda: members.remove_member(ctx, manager, world.a.id, holder_id),
        "deactivate": lambda: members.set_user_active(ctx, manager, world.a.id, holder_id, False),
    }[change]
    with pytest.raises((Forbidden, DomainError)):
        act()
    with ctx.uow(readonly=True) as uow:
        kept = uow.memberships.find(holder_id, world.a.id)
    assert kept is not None
    assert kept.role_key == "analyst"


def test_a_member_whose_role_names_nothing_grants_nothing(
    ctx: ServiceContext, world: World
) -> None:
    holder_id = _dangling(ctx, world)
    with ctx.uow(readonly=True) as uow:
        holder = uow.users.get(holder_id)
    with pytest.raises(Forbidden):
        members.list_members(ctx, as_user(holder), world.a.id)


def test_graphql_users_and_users_connection_agree_on_a_role_naming_nothing(
    ctx: ServiceContext, world: World
) -> None:
    """`Tenant.users` (tenant_members) and `usersConnection`'s `User.roles`
    (directory.placements_of) show the same role."""
    from tenantry.services import directory

    holder_id = _dangling(ctx, world)
    users = tenant_members.tenant_members(ctx, OPERATOR, world.a.id, at_most=100)
    in_users = {h.account.id: h.role.key for h in users.held[holder_id]}[world.a.id]
    placed = directory.placements_of(ctx, OPERATOR, [holder_id])[holder_id].placements
    in_connection = {p.account.id: p.role.key for p in placed}[world.a.id]
    assert in_users == in_connection == "analyst", (in_users, in_connection)
