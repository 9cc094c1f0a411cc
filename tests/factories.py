"""Factories: build the accounts, users and credentials a test needs through the services."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from tenantry.domain.account_policy import PolicyChanges
from tenantry.domain.accounts import Account, AccountKind, SsoMode
from tenantry.domain.managed import AdvertiserSpec, ApprovalStatus, ManagedUserSpec, Site
from tenantry.domain.memberships import Membership, MembershipStatus
from tenantry.domain.users import NOTIFICATION_FLAGS, NotificationEmail, User, UserStatus
from tenantry.services import account_policy, accounts, members, setup
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.members import NewMember
from tenantry.services.membership_changes import apply_membership_changes
from tenantry.services.membership_commands import ChangeReport, RemoveMember

_numbers = itertools.count(1)


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}{next(_numbers)}@example.com"


OPERATOR = Actor.system(face="test")


def make_account(
    ctx: ServiceContext,
    *,
    parent: Account | None = None,
    kind: AccountKind = AccountKind.ADVERTISER,
    name: str | None = None,
    actor: Actor = OPERATOR,
    **options: object,
) -> Account:
    account = accounts.create_account(
        ctx,
        actor,
        name=name or f"Account {next(_numbers)}",
        kind=kind,
        parent_id=parent.id if parent else None,
        **options,  # type: ignore[arg-type]
    )
    return account


def write_joined(
    ctx: ServiceContext,
    users: Sequence[User],
    placements: Sequence[tuple[User, Account]],
    *,
    start: datetime,
) -> None:
    """Users and their active `view` memberships, written through the repositories in one
    unit of work (quick set-up for lists of many rows); the n-th placement joined n seconds
    after `start`."""
    with ctx.uow() as uow:
        uow.users.add_many(users)
        uow.memberships.add_many(
            [
                Membership(
                    user.id,
                    account.id,
                    "view",
                    MembershipStatus.ACTIVE,
                    created_at=start + timedelta(seconds=n),
                )
                for n, (user, account) in enumerate(placements)
            ]
        )


def add_in_batch(
    ctx: ServiceContext, actor: Actor, account_id: str, items: Sequence[tuple[int, NewMember]]
) -> ChangeReport:
    """A bulk add as the faces ask for one: each user on its own, at most the setting's
    number of users per call (`items` are numbered from 0, in order)."""
    limit = ctx.settings.member_batch_max_items
    changes = [member for _, member in items]
    return apply_membership_changes(ctx, actor, account_id, changes, max_items=limit)


def remove_in_batch(
    ctx: ServiceContext, actor: Actor, account_id: str, emails: Sequence[str]
) -> list[str]:
    """A bulk removal as the faces ask for one: by address, all or nothing; the ids removed."""
    changes = [RemoveMember(email=email) for email in emails]
    report = apply_membership_changes(ctx, actor, account_id, changes, all_or_nothing=True)
    return [removed.user.id for _, removed in report.applied]


def set_policy(ctx: ServiceContext, account_id: str, **settings: Any) -> Account:
    """Change an account's security policy as the operator, through the one service that
    changes it; `sso_enabled=True` stands for SSO allowed."""
    if "sso_enabled" in settings:
        settings["sso_mode"] = SsoMode.ALLOWED if settings.pop("sso_enabled") else SsoMode.OFF
    changes = PolicyChanges(**settings)
    return account_policy.update_account_policy(ctx, OPERATOR, account_id, changes).account


def make_member(
    ctx: ServiceContext,
    account: Account,
    *,
    role: str = "admin",
    email: str | None = None,
    active: bool = True,
    actor: Actor = OPERATOR,
    **spec: object,
) -> User:
    """Add a member; `active=True` marks them as having accepted their invitation."""
    added = members.add_member(
        ctx,
        actor,
        account.id,
        NewMember(email=email or unique_email(role), role_key=role, **spec),  # type: ignore[arg-type]
    )
    if active and added.membership.status is MembershipStatus.PENDING:
        activate(ctx, added.user.id, account.id)
    with ctx.uow(readonly=True) as uow:
        return uow.users.get(added.user.id)


def activate(ctx: ServiceContext, user_id: str, account_id: str) -> None:
    """What accepting the invitation does, without the link (for tests about other things)."""
    with ctx.uow() as uow:
        user = uow.users.get(user_id)
        user.status = UserStatus.ACTIVATED
        uow.users.update(user)
        membership = uow.memberships.find(user_id, account_id)
        assert membership is not None
        membership.status = MembershipStatus.ACTIVE
        uow.memberships.update(membership)


def managed_user(
    id_from_network: str | None,
    *,
    role: str = "admin",
    emails: tuple[str, ...] | None = None,
    path: tuple[str | int, ...] = (),
    **fields: Any,
) -> ManagedUserSpec:
    """A user as a network describes them (a command of the network services), with a role
    key and, by default, one address `<id_from_network>@example.com`."""
    addresses = emails or (f"{id_from_network}@example.com",)
    values: dict[str, Any] = {
        "first_name": "First",
        "last_name": id_from_network or "Last",
        "contact_country_code": None,
        "contact_phone_number": None,
        "oauth_refresh_token": None,
        "notifications": dict.fromkeys(NOTIFICATION_FLAGS, False),
        **fields,
    }
    return ManagedUserSpec(
        path=path,
        id_from_network=id_from_network,
        emails=tuple(NotificationEmail(a) for a in addresses),
        role_key=role,
        email_paths=tuple(
            (*path, "email_settings", n, "email_address") for n in range(len(addresses))
        ),
        **values,
    )


def listed_users(*specs: ManagedUserSpec) -> tuple[ManagedUserSpec, ...]:
    """`specs` as the `users` of one call: each at its place in the list."""
    return tuple(
        managed_user(
            s.id_from_network,
            role=s.role_key,
            emails=tuple(e.address for e in s.emails),
            path=("users", n),
            first_name=s.first_name,
            last_name=s.last_name,
            contact_country_code=s.contact_country_code,
            contact_phone_number=s.contact_phone_number,
            oauth_refresh_token=s.oauth_refresh_token,
            notifications=s.notifications,
        )
        for n, s in enumerate(specs)
    )


def advertiser_spec(
    id_from_network: str,
    *,
    name: str | None = None,
    users: tuple[ManagedUserSpec, ...] | list[ManagedUserSpec] | None = None,
    custom_data: dict[str, str] | None = None,
) -> AdvertiserSpec:
    """An advertiser as a network describes it, with one site."""
    return AdvertiserSpec(
        id_from_network=id_from_network,
        name=name or f"Advertiser {id_from_network}",
        approval_status=ApprovalStatus.APPROVED,
        sites=(Site("1"),),
        custom_data=custom_data,
        users=None if users is None else listed_users(*users),
    )


def as_user(user: User, face: str = "test") -> Actor:
    return Actor.for_user(user.id, user.email, face=face)


@dataclass
class World:
    """host (partner) → advertisers a and b, each with an active admin."""

    host: Account
    host_admin: User
    a: Account
    a_admin: User
    b: Account
    b_admin: User


def build_world(ctx: ServiceContext) -> World:
    init = setup.initialize(ctx, admin_email=unique_email("host-admin"))
    with ctx.uow(readonly=True) as uow:
        host = uow.accounts.get(init.account_id)
        found = uow.users.find_by_email(init.admin_email)
        assert found is not None
        host_admin = found
    a = make_account(ctx, parent=host, name="Advertiser A")
    b = make_account(ctx, parent=host, name="Advertiser B")
    return World(
        host=host,
        host_admin=host_admin,
        a=a,
        a_admin=make_member(ctx, a, role="admin"),
        b=b,
        b_admin=make_member(ctx, b, role="admin"),
    )


@contextmanager
def statements(ctx: ServiceContext) -> Iterator[list[str]]:
    """The SQL sent to the database while the block runs (an executemany counts once)."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    engine: sa.Engine = ctx.uow.engine  # type: ignore[attr-defined]
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def stored(ctx: ServiceContext) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to show that a refused request changed nothing at all."""
    from tenantry.storage.tables import metadata

    engine: sa.Engine = ctx.uow.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        return {
            table.name: sorted((tuple(row) for row in conn.execute(sa.select(table))), key=repr)
            for table in metadata.sorted_tables
        }
