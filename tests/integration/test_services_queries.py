"""Reads issue a fixed number of SQL statements, however many rows they return (no N+1)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tenantry.domain.errors import Forbidden
from tenantry.domain.roles import Need, Role
from tenantry.services import members, roles
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.members import NewMember
from tenantry.services.policy import require
from tenantry.storage.repositories.roles import SqlCustomRoleRepository

from factories import OPERATOR, World, as_user, make_account, make_member, statements, unique_email

ANALYST = {"data": {"reports": "all"}}


def fill(ctx: ServiceContext, account_id: str, count: int) -> None:
    for index in range(count):
        members.add_member(
            ctx,
            OPERATOR,
            account_id,
            NewMember(
                email=unique_email("bulk"),
                role_key=("qa", "marketing", "view")[index % 3],
                geos=["us"] if index % 2 else None,
            ),
        )


def statements_for(ctx: ServiceContext, call: Callable[[], object]) -> list[str]:
    call()  # warm up: first-use work (dialect checks, caches) is not the read's own cost
    with statements(ctx) as sent:
        call()
    return sent


@pytest.mark.parametrize("actor_kind", ["admin", "partner"])
def test_list_members_costs_the_same_for_5_and_50_members(
    ctx: ServiceContext, world: World, actor_kind: str
) -> None:
    small = make_account(ctx, parent=world.host)
    large = make_account(ctx, parent=world.host)
    small_admin = make_member(ctx, small, role="admin")
    large_admin = make_member(ctx, large, role="admin")
    fill(ctx, small.id, 4)
    fill(ctx, large.id, 49)

    def actor(admin: object) -> Actor:
        return as_user(world.host_admin if actor_kind == "partner" else admin)  # type: ignore[arg-type]

    def list_small() -> object:
        page = members.list_members(ctx, actor(small_admin), small.id, limit=100)
        assert len(page.items) == 5
        return page

    def list_large() -> object:
        page = members.list_members(ctx, actor(large_admin), large.id, limit=100)
        assert len(page.items) == 50
        return page

    few = statements_for(ctx, list_small)
    many = statements_for(ctx, list_large)
    assert len(few) == len(many)
    assert len(many) <= 6, many


def test_list_roles_costs_the_same_for_5_and_50_members(ctx: ServiceContext, world: World) -> None:
    fill(ctx, world.a.id, 4)
    fill(ctx, world.b.id, 49)
    few = statements_for(ctx, lambda: roles.list_roles(ctx, OPERATOR, world.a.id))
    many = statements_for(ctx, lambda: roles.list_roles(ctx, OPERATOR, world.b.id))
    assert len(few) == len(many)


def _custom_role_reads(sent: list[str]) -> list[str]:
    return [s for s in sent if "FROM custom_roles" in s]


def test_a_page_of_members_reads_the_accounts_own_roles_only_when_one_of_them_holds_one(
    ctx: ServiceContext, world: World
) -> None:
    fill(ctx, world.a.id, 6)
    roles.create_custom_role(
        ctx, OPERATOR, world.a.id, key="analyst", display_name="Analyst", capabilities=ANALYST
    )

    def page() -> members.MemberPage:
        return members.list_members(ctx, as_user(world.a_admin), world.a.id, limit=100)

    sent = statements_for(ctx, page)
    assert not _custom_role_reads(sent), sent
    assert {m.role.key for m in page().items} <= {"admin", "qa", "marketing", "view"}

    held = make_member(ctx, world.a, role="analyst")
    sent = statements_for(ctx, page)
    assert len(_custom_role_reads(sent)) == 1, sent
    shown = {m.user.id: m.role for m in page().items}
    assert (shown[held.id].key, shown[held.id].display_name) == ("analyst", "Analyst")
    everyone = members.list_all_members(ctx, as_user(world.a_admin), world.a.id)
    assert {m.user.id: m.role.display_name for m in everyone}[held.id] == "Analyst"


def test_a_chain_handed_in_for_another_account_is_read_afresh(
    ctx: ServiceContext, world: World
) -> None:
    # An admin of B, with B's chain (theirs to act in), asking about A: the right is checked
    # on A's own chain, and refused.
    with ctx.uow(readonly=True) as uow:
        chain_of_b = uow.accounts.chain(world.b.id)
        with pytest.raises(Forbidden):
            require(
                ctx, uow, as_user(world.b_admin), world.a.id, Need.READ_ACCOUNT, chain=chain_of_b
            )
        account, _ = require(
            ctx, uow, as_user(world.b_admin), world.b.id, Need.READ_ACCOUNT, chain=chain_of_b
        )
    assert account.id == world.b.id


def _taken_away_while_read(
    ctx: ServiceContext, world: World, holder_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Just before the account's own roles are read: another admin, in transactions of
    their own, makes the holder of `analyst` a viewer and deletes the role."""
    read = SqlCustomRoleRepository.for_account
    armed = [True]

    def for_account(self: SqlCustomRoleRepository, account_id: str) -> list[Role]:
        if armed.pop() if armed else False:
            members.change_role(ctx, OPERATOR, world.a.id, holder_id, "view")
            roles.delete_custom_role(ctx, OPERATOR, world.a.id, "analyst")
        return read(self, account_id)

    monkeypatch.setattr(SqlCustomRoleRepository, "for_account", for_account)


@pytest.mark.parametrize("listing", ["all", "page"])
def test_a_role_taken_away_while_members_are_read_is_shown_as_granting_nothing(
    ctx: ServiceContext, world: World, monkeypatch: pytest.MonkeyPatch, listing: str
) -> None:
    roles.create_custom_role(
        ctx, OPERATOR, world.a.id, key="analyst", display_name="Analyst", capabilities=ANALYST
    )
    holder = make_member(ctx, world.a, role="analyst")
    _taken_away_while_read(ctx, world, holder.id, monkeypatch)
    viewer = as_user(world.a_admin)
    if listing == "all":
        shown = members.list_all_members(ctx, viewer, world.a.id)
    else:
        shown = members.list_members(ctx, viewer, world.a.id, limit=100).items
    role = {m.user.id: m.role for m in shown}[holder.id]
    # Read before the change, the member still holds `analyst`, which the account no longer
    # has: shown by its key, allowing nothing, and never as admin (as it once was).
    assert (role.key, role.capabilities) == ("analyst", {}), role
