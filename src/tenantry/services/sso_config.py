"""Configuring an account's identity provider (OpenID Connect single sign-on).

An admin of the account, or of a parent whose partner management reaches it, sets, reads and
removes it (`Need.MANAGE_SETTINGS`, through the one policy). The e-mail domains it serves are
the operator's to assign (`policy_accounts.check_may_assign_provider_domains`): an admin may
change everything else. The role given to people who arrive for the first time must be one the
configuring actor may grant. The client secret is stored
encrypted (`sso_secrets`) and never answered, nor written to the audit trail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tenantry.domain import sso as rules
from tenantry.domain.errors import Conflict, DomainError, ErrorCode, InvalidInput, NotFound
from tenantry.domain.memberships import check_role_for_account
from tenantry.domain.roles import Need, Role
from tenantry.domain.sso import IdentityProvider
from tenantry.services.context import Actor, ServiceContext, record
from tenantry.services.policy import check_grantable, may_grant, require
from tenantry.services.policy_accounts import check_may_assign_provider_domains
from tenantry.services.policy_roles import roles_of, usable_role
from tenantry.services.ports import UnitOfWork
from tenantry.services.sso_secrets import seal

NO_PROVIDER = "This account has no identity provider."


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    """What an admin sets; `client_secret` None keeps the stored one (on a change), and so
    does `domains` None (none, for a new provider)."""

    issuer: str
    client_id: str
    client_secret: str | None
    domains: Sequence[str] | None = None
    scopes: Sequence[str] | None = None
    jit_role_key: str | None = None
    require_verified_email: bool = True


@dataclass(frozen=True, slots=True)
class ProviderView:
    """An identity provider as every face shows it: never with its secret."""

    account_id: str
    issuer: str
    client_id: str
    scopes: tuple[str, ...]
    domains: tuple[str, ...]
    jit_role_key: str | None
    require_verified_email: bool
    created_at: datetime
    updated_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "issuer": self.issuer,
            "client_id": self.client_id,
            "scopes": list(self.scopes),
            "domains": list(self.domains),
            "jit_role": self.jit_role_key,
            "require_verified_email": self.require_verified_email,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


def view_of(provider: IdentityProvider) -> ProviderView:
    return ProviderView(
        account_id=provider.account_id,
        issuer=provider.issuer,
        client_id=provider.client_id,
        scopes=provider.scopes,
        domains=provider.domains,
        jit_role_key=provider.jit_role_key,
        require_verified_email=provider.require_verified_email,
        created_at=provider.created_at,
        updated_at=provider.updated_at,
    )


def set_identity_provider(
    ctx: ServiceContext, actor: Actor, account_id: str, wanted: ProviderSettings
) -> ProviderView:
    """Create or replace the account's identity provider; audited without its secret."""
    issuer = rules.validate_issuer(wanted.issuer, allow_insecure=ctx.settings.sso_allow_insecure)
    client_id = rules.validate_client_id(wanted.client_id)
    scopes = rules.validate_scopes(wanted.scopes)
    now = ctx.now()
    with ctx.uow() as uow:
        account, actor_role = require(ctx, uow, actor, account_id, Need.MANAGE_SETTINGS)
        jit_role_key = None
        if wanted.jit_role_key:
            role = usable_role(ctx, uow, account, wanted.jit_role_key.strip())
            check_grantable(actor_role, role, field="jitRole")
            jit_role_key = role.key
        before = uow.single_sign_on.find(account.id)
        held = before.domains if before is not None else ()
        domains = held if wanted.domains is None else rules.validate_domains(wanted.domains)
        check_may_assign_provider_domains(actor, held, domains)
        _check_domains_free(uow, account.id, domains)
        secret = _sealed_secret(ctx, wanted, before)
        provider = IdentityProvider(
            account_id=account.id,
            issuer=issuer,
            client_id=client_id,
            client_secret=secret,
            scopes=scopes,
            domains=domains,
            jit_role_key=jit_role_key,
            require_verified_email=wanted.require_verified_email,
            created_at=before.created_at if before is not None else now,
            updated_at=now,
        )
        uow.single_sign_on.save(provider, new=before is None)
        record(
            ctx,
            uow,
            actor,
            "account.sso_set",
            target_type="account",
            target_id=account.id,
            account_id=account.id,
            before=_audited(before),
            after={
                **(_audited(provider) or {}),
                "client_secret_changed": wanted.client_secret is not None,
            },
        )
        return view_of(provider)


def _check_domains_free(uow: UnitOfWork, account_id: str, domains: tuple[str, ...]) -> None:
    """One domain, one provider: those another account's provider serves are refused."""
    held = {
        domain
        for domain, holder in uow.single_sign_on.domain_holders(domains).items()
        if holder != account_id
    }
    if held:
        raise Conflict(
            ErrorCode.CONFLICT,
            f"Another account's identity provider serves {', '.join(sorted(held))}.",
            field="domains",
        )


def _sealed_secret(
    ctx: ServiceContext, wanted: ProviderSettings, before: IdentityProvider | None
) -> str:
    if wanted.client_secret is not None:
        return seal(ctx.settings, rules.validate_client_secret(wanted.client_secret))
    if before is not None:
        return before.client_secret
    raise InvalidInput(ErrorCode.INVALID_INPUT, "Give the client secret.", field="clientSecret")


def identity_provider(ctx: ServiceContext, actor: Actor, account_id: str) -> ProviderView | None:
    """The account's identity provider, without its secret; None when it has none."""
    with ctx.uow(readonly=True) as uow:
        account, _ = require(ctx, uow, actor, account_id, Need.MANAGE_SETTINGS)
        provider = uow.single_sign_on.find(account.id)
        return view_of(provider) if provider is not None else None


def identity_provider_form(
    ctx: ServiceContext, actor: Actor, account_id: str
) -> tuple[ProviderView | None, list[Role]]:
    """The account's identity provider (without its secret), and the roles the actor may
    choose for newcomers: those of the account that it may grant."""
    with ctx.uow(readonly=True) as uow:
        account, actor_role = require(ctx, uow, actor, account_id, Need.MANAGE_SETTINGS)
        provider = uow.single_sign_on.find(account.id)
        choices = []
        for role in roles_of(ctx, uow, account).values():
            try:
                check_role_for_account(role, account)
            except DomainError:
                continue
            if may_grant(actor_role, role):
                choices.append(role)
        return (view_of(provider) if provider is not None else None), choices


def remove_identity_provider(ctx: ServiceContext, actor: Actor, account_id: str) -> None:
    """Remove the account's identity provider: its domains sign in with a password again."""
    with ctx.uow() as uow:
        account, _ = require(ctx, uow, actor, account_id, Need.MANAGE_SETTINGS)
        before = uow.single_sign_on.find(account.id)
        if before is None or not uow.single_sign_on.delete(account.id):
            raise NotFound(ErrorCode.NOT_FOUND, NO_PROVIDER, account_id=account.id)
        record(
            ctx,
            uow,
            actor,
            "account.sso_removed",
            target_type="account",
            target_id=account.id,
            account_id=account.id,
            before=_audited(before),
        )


def _audited(provider: IdentityProvider | None) -> dict[str, Any] | None:
    if provider is None:
        return None
    data = view_of(provider).as_dict()
    data.pop("created_at")
    data.pop("updated_at")
    return data
