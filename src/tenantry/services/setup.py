"""First start: the host partner account, its admin and an API account, made once."""

from __future__ import annotations

from dataclasses import dataclass

from tenantry.domain.accounts import Account, AccountKind, validate_account_name
from tenantry.domain.credentials import ApiAccount, validate_client_id
from tenantry.domain.ids import hash_secret, new_account_id, new_secret, new_user_id
from tenantry.domain.memberships import Membership, MembershipStatus
from tenantry.domain.roles import ADMIN
from tenantry.domain.users import User, UserStatus, normalize_email
from tenantry.services.context import Actor, ServiceContext, record
from tenantry.services.passwords import generate_password
from tenantry.services.ports import UnitOfWork


@dataclass(slots=True)
class InitResult:
    created: bool
    account_id: str
    admin_email: str
    client_id: str | None
    admin_password: str | None = None
    client_secret: str | None = None


def initialize(
    ctx: ServiceContext,
    *,
    account_name: str = "Host",
    admin_email: str = "admin@example.com",
    client_id: str = "tenantryadmin",
) -> InitResult:
    """Create the host account with an admin (one-time password) and an API account.

    Safe to run again: when a host account exists, nothing changes and no secret is shown.
    """
    actor = Actor.system(face="cli", label="tenantry init")
    email = normalize_email(admin_email)
    client_id = validate_client_id(client_id)
    with ctx.uow() as uow:
        host = uow.accounts.first_root()
        if host is not None:
            return _existing(uow, host)
        now = ctx.now()
        password = generate_password()
        secret = new_secret(32)
        account = Account(
            id=new_account_id(),
            name=validate_account_name(account_name),
            kind=AccountKind.PARTNER,
            created_at=now,
        )
        user, is_new = _admin(ctx, uow, email, password)
        account.owner_user_id = user.id
        uow.accounts.add(account)
        if is_new:
            user.home_account_id = account.id
            uow.users.add(user)
        uow.memberships.add(
            Membership(user.id, account.id, ADMIN, MembershipStatus.ACTIVE, created_at=now)
        )
        uow.api_accounts.add(
            ApiAccount(
                id=None,
                account_id=account.id,
                client_id=client_id,
                secret_hash=hash_secret(secret),
                role_key=ADMIN,
                created_by=actor.label,
                created_at=now,
            )
        )
        record(
            ctx,
            uow,
            actor,
            "system.init",
            target_type="account",
            target_id=account.id,
            account_id=account.id,
            after={"admin": email, "client_id": client_id},
        )
    return InitResult(True, account.id, user.email, client_id, password, secret)


def _existing(uow: UnitOfWork, host: Account) -> InitResult:
    """What a second run reports: the host account, its first admin and API account."""
    admin_id = uow.memberships.first_with_roles(host.id, [ADMIN])
    admin = uow.users.find(admin_id) if admin_id else None
    api_accounts = uow.api_accounts.for_account(host.id)
    return InitResult(
        created=False,
        account_id=host.id,
        admin_email=admin.email if admin else "",
        client_id=api_accounts[0].client_id if api_accounts else None,
    )


def _admin(ctx: ServiceContext, uow: UnitOfWork, email: str, password: str) -> tuple[User, bool]:
    """The host's first admin: the identity with that address, which gets the new password
    and is activated, or a new one, not stored yet (True)."""
    existing = uow.users.find_by_email(email)
    if existing is not None:
        existing.password_hash = ctx.passwords.hash(password)
        existing.status = UserStatus.ACTIVATED
        uow.users.update(existing)
        return existing, False
    new = User(
        id=new_user_id(),
        email=email,
        name="Administrator",
        status=UserStatus.ACTIVATED,
        password_hash=ctx.passwords.hash(password),
        created_at=ctx.now(),
    )
    return new, True
