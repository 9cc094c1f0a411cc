"""Partner management turned off by an account's own side stays off for the parent side:
whoever of the account's own may change its settings (an accepted admin, or a credential made
in the account itself) is what makes it the account's own decision."""

from __future__ import annotations

import pytest

from tenantry.domain.errors import ErrorCode, Forbidden
from tenantry.domain.users import UserStatus
from tenantry.services import accounts, credentials
from tenantry.services.accounts import AccountChanges
from tenantry.services.context import Actor, ServiceContext

from factories import OPERATOR, World, as_user, make_account, make_member

OFF, ON = AccountChanges(can_partner_manage=False), AccountChanges(can_partner_manage=True)


def _credential_actor(ctx: ServiceContext, maker: Actor, account_id: str, name: str) -> Actor:
    _, secret = credentials.create_api_account(ctx, maker, account_id, name, role_key="admin")
    issued = credentials.issue_access_token(ctx, name, secret)
    return credentials.authenticate(ctx, issued.token, face="graphql")


def test_an_account_run_by_its_own_api_account_keeps_its_parent_out(
    ctx: ServiceContext, world: World
) -> None:
    child = make_account(ctx, parent=world.host, name="Run by its API account")
    parent = as_user(world.host_admin)
    own = _credential_actor(ctx, OPERATOR, child.id, "childown")
    _credential_actor(ctx, parent, child.id, "fromabove")  # made from above: not its own
    accounts.update_account(ctx, own, child.id, OFF)
    with pytest.raises(Forbidden) as refused:
        accounts.update_account(ctx, parent, child.id, ON)
    assert refused.value.code is ErrorCode.PARTNER_MANAGE_LOCKED
    # With no one of its own left, the parent side may turn it on again.
    credentials.revoke_api_account(ctx, OPERATOR, child.id, "childown")
    assert accounts.update_account(ctx, parent, child.id, ON).can_partner_manage


def test_a_token_whose_user_left_keeps_nothing_locked(ctx: ServiceContext, world: World) -> None:
    """A token never acts above its user: once the user is no active admin there, it is no
    one of the account's own."""
    child = make_account(ctx, parent=world.host, name="Run by a token")
    holder = make_member(ctx, child, role="admin")
    _, key, _ = credentials.create_api_token(ctx, OPERATOR, child.id, user_email=holder.email)
    own = credentials.authenticate(ctx, key, face="graphql")
    accounts.update_account(ctx, own, child.id, OFF)
    parent = as_user(world.host_admin)
    with pytest.raises(Forbidden):
        accounts.update_account(ctx, parent, child.id, ON)
    # The services keep the last admin from being deactivated; the lock must not rely on it.
    with ctx.uow() as uow:
        holder.status = UserStatus.DEACTIVATED
        uow.users.update(holder)
    assert accounts.update_account(ctx, parent, child.id, ON).can_partner_manage
