"""Explaining access: what a person may do in an account, and what grants each right, read
from the same `policy.grant_in` every service asks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tenantry.domain.accounts import Account
from tenantry.domain.errors import ErrorCode, NotFound
from tenantry.domain.memberships import MembershipStatus
from tenantry.domain.roles import AccessLevel, Need
from tenantry.domain.users import User, UserStatus, normalize_email
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.policy import Grant, GrantSource, Requirement, grant_in, require
from tenantry.services.ports import UnitOfWork


def explain_access(
    ctx: ServiceContext,
    actor: Actor,
    account_id: str,
    *,
    email: str | None = None,
    user_id: str | None = None,
) -> Explanation:
    """What the user (by address or id) may do in the account, line by line with the
    membership or inheritance that grants it: the policy's own answer, not a copy of it.

    Whoever may read the account may ask about its members; the operator about anyone
    (a partner's admin who reaches the account by inheritance, say)."""
    with ctx.uow(readonly=True) as uow:
        account, _ = require(ctx, uow, actor, account_id, Need.READ_ACCOUNT)
        if email is not None:
            user = uow.users.find_by_email(normalize_email(email))
        else:
            user = uow.users.find(user_id or "")
        if user is None or (
            not actor.is_system and uow.memberships.find(user.id, account.id) is None
        ):
            raise NotFound(ErrorCode.USER_NOT_FOUND, field="user")
        return explain(ctx, uow, user, account)


ACTIONS: tuple[tuple[str, Requirement], ...] = (
    ("read the account and its members", Need.READ_ACCOUNT),
    ("add, change and remove members", Need.MANAGE_USERS),
    ("manage admins (roles up to their own)", Need.MANAGE_ADMINS),
    ("change the account's settings and apps", Need.MANAGE_SETTINGS),
    ("see API accounts and API tokens", Need.READ_API_ACCESS),
    ("create API accounts and API tokens", Need.MANAGE_API_ACCESS),
    ("see child accounts", Need.READ_CHILD_ACCOUNTS),
    ("create and manage child accounts", Need.MANAGE_CHILD_ACCOUNTS),
    ("read the audit log", Need.READ_AUDIT),
)


@dataclass(frozen=True, slots=True)
class Permission:
    """One thing a person may do in an account, and what grants it."""

    action: str
    capability: str
    level: AccessLevel
    granted_by: str


@dataclass(frozen=True, slots=True)
class Explanation:
    account: Account
    user: User
    grant: Grant | None
    permissions: list[Permission]
    notes: list[str]


def explain(ctx: ServiceContext, uow: UnitOfWork, user: User, account: Account) -> Explanation:
    """What `user` may do in `account`, each line with the membership or inheritance that
    grants it, from the same `grant_in` every service asks."""
    chain = uow.accounts.chain(account.id)
    person = Actor.for_user(user.id, user.email)
    grant = grant_in(ctx, uow, person, chain)
    notes = _notes(uow, user, account, chain, grant)
    if grant is None or grant.closed or user.status is not UserStatus.ACTIVATED:
        return Explanation(account, user, grant, [], notes)
    source = _describe(grant, chain)
    permissions = [
        Permission(action, f"{need[0]}.{need[1]}", grant.role.level(need[0], need[1]), source)
        for action, need in ACTIONS
        if grant.role.allows(need)
    ]
    named = {f"{n[0]}.{n[1]}" for _, n in ACTIONS}
    for section, caps in sorted(ctx.roles.sections.items()):
        for capability in caps:
            level = grant.role.level(section, capability)
            name = f"{section}.{capability}"
            if level > AccessLevel.BLOCKED and name not in named:
                action = f"{section.replace('_', ' ')}: {capability.replace('_', ' ')}"
                permissions.append(Permission(action, name, level, source))
    return Explanation(account, user, grant, permissions, notes)


def _describe(grant: Grant, chain: Sequence[Account]) -> str:
    held = grant.held_in
    assert held is not None
    role = f"{grant.role.display_name} ({grant.role.key})"
    if grant.source is GrantSource.MEMBERSHIP:
        return f"membership in {held.name} [{held.id}] as {role}"
    below = chain[: [a.id for a in chain].index(held.id)]
    path = " → ".join(f"{a.name} [{a.id}]" for a in reversed(below))
    return (
        f"membership in {held.name} [{held.id}] as {role}, inherited down through "
        f"partner management to {path}"
    )


def _notes(
    uow: UnitOfWork, user: User, account: Account, chain: Sequence[Account], grant: Grant | None
) -> list[str]:
    notes = []
    own = uow.memberships.find(user.id, account.id)
    if own is not None and own.status is MembershipStatus.PENDING:
        notes.append("their membership here is pending until they accept the invitation")
    if user.status is UserStatus.DEACTIVATED:
        notes.append("the user is deactivated: nothing is granted")
    elif user.status is UserStatus.PENDING:
        notes.append("the user has not accepted an invitation yet: nothing is granted")
    if account.owner_user_id == user.id:
        notes.append("owner of the account: can't be removed, deactivated or demoted")
    if grant is not None and grant.closed:
        notes.append("the account granting the role is deactivated (or below one): nothing")
    if grant is None:
        blocked = [a for a in chain[:-1] if not a.can_partner_manage]
        if blocked:
            notes.append(
                f"partner management is off in {blocked[0].name} [{blocked[0].id}]: "
                "no role is inherited from above it"
            )
        notes.append("no active membership here or above grants a role")
    if user.home_account_id == account.id:
        notes.append("this account is the identity's home: its admins may edit the profile")
    return notes
