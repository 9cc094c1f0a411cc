"""Configuring an account's identity provider through the one policy: its admins, or a parent's
with partner reach; the role for newcomers must be one the actor may grant; audited, the
secret kept encrypted and never answered."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pydantic import SecretStr

from tenantry.domain.errors import Forbidden, InvalidInput
from tenantry.services import accounts, credentials, roles, sso_config
from tenantry.services.accounts import AccountChanges
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.sso_config import ProviderSettings
from tenantry.services.sso_rules import requires_single_sign_on
from tenantry.services.sso_secrets import unseal

from factories import OPERATOR, World, make_member

SETTINGS = ProviderSettings(
    issuer="https://idp.example.com",
    client_id="tenantry",
    client_secret="s3cret-value",
    domains=["example.com"],
)


def as_user(user: object) -> Actor:
    return Actor.for_user(user.id, user.email)  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def secret_key(ctx: ServiceContext) -> None:
    ctx.settings.secret_key = SecretStr("k" * 40)


def test_the_accounts_admin_and_the_parents_admin_set_it(ctx: ServiceContext, world: World) -> None:
    view = sso_config.set_identity_provider(ctx, as_user(world.a_admin), world.a.id, SETTINGS)
    assert view.client_id == "tenantry"
    assert not hasattr(view, "client_secret")
    again = sso_config.set_identity_provider(
        ctx,
        as_user(world.host_admin),
        world.a.id,
        replace(SETTINGS, client_secret=None, jit_role_key="admin"),
    )
    assert again.jit_role_key == "admin"
    with ctx.uow(readonly=True) as uow:
        stored = uow.single_sign_on.find(world.a.id)
    assert stored is not None
    assert unseal(ctx.settings, stored.client_secret) == "s3cret-value"  # kept
    assert sso_config.identity_provider(ctx, as_user(world.a_admin), world.a.id) == again


def test_others_may_not(ctx: ServiceContext, world: World) -> None:
    manager = make_member(ctx, world.a, role="manage")
    other_admin = world.b_admin
    for actor in (as_user(manager), as_user(other_admin)):
        with pytest.raises(Forbidden):
            sso_config.set_identity_provider(ctx, actor, world.a.id, SETTINGS)
        with pytest.raises(Forbidden):
            sso_config.identity_provider(ctx, actor, world.a.id)
    sso_config.set_identity_provider(ctx, OPERATOR, world.a.id, SETTINGS)
    with pytest.raises(Forbidden):
        sso_config.remove_identity_provider(ctx, as_user(manager), world.a.id)
    # Partner management switched off: the parent's admin no longer reaches it.
    accounts.update_account(ctx, OPERATOR, world.a.id, AccountChanges(can_partner_manage=False))
    with pytest.raises(Forbidden):
        sso_config.remove_identity_provider(ctx, as_user(world.host_admin), world.a.id)


def test_the_role_for_newcomers_is_one_the_actor_may_grant(
    ctx: ServiceContext, world: World
) -> None:
    roles.create_custom_role(
        ctx,
        OPERATOR,
        world.a.id,
        key="settings_keeper",
        display_name="Settings keeper",
        capabilities={"account": {"settings": "all"}},
    )
    keeper = as_user(make_member(ctx, world.a, role="settings_keeper"))
    wanted = replace(SETTINGS, jit_role_key="admin")
    with pytest.raises(Forbidden):
        sso_config.set_identity_provider(ctx, keeper, world.a.id, wanted)
    with pytest.raises(InvalidInput):
        sso_config.set_identity_provider(
            ctx,
            OPERATOR,
            world.a.id,
            replace(SETTINGS, jit_role_key="nope"),
        )
    made = sso_config.set_identity_provider(ctx, keeper, world.a.id, SETTINGS)
    assert made.jit_role_key is None


def test_without_the_servers_secret_key_nothing_is_stored(
    ctx: ServiceContext, world: World
) -> None:
    ctx.settings.secret_key = None
    with pytest.raises(InvalidInput, match="TENANTRY_SECRET_KEY"):
        sso_config.set_identity_provider(ctx, OPERATOR, world.a.id, SETTINGS)
    with ctx.uow(readonly=True) as uow:
        assert uow.single_sign_on.find(world.a.id) is None


def test_requiring_sso_leaves_api_tokens_working(ctx: ServiceContext, world: World) -> None:
    admin = world.a_admin
    _, token, _ = credentials.create_api_token(ctx, OPERATOR, world.a.id, user_email=admin.email)
    with ctx.uow() as uow:
        account = uow.accounts.get(world.a.id)
        account.sso_enabled = account.sso_required = True
        uow.accounts.update(account)
        user = uow.users.get(admin.id)
        assert requires_single_sign_on(uow, user)  # no password sign-in nor reset for them
    actor = credentials.authenticate(ctx, token, face="test")
    assert actor.user_id == admin.id
    assert [a.id for a in accounts.list_accounts(ctx, actor, limit=10)] == [world.a.id]
