"""Networks: a network's own users and its advertisers' users, as the network integration
documents them (the network's ids, full replacements, idempotent upserts).

A network is a top-level partner account, named by its account id. Its credentials (API
accounts and API tokens whose home is the network) reach the network and the advertisers it
manages, never another network; a user acting without such a home needs a role in the
network. Reading takes what reading an account takes; changing users takes managing users in
the account concerned. Each call is one transaction with one audit event, written only when
something changed, so repeating a call adds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tenantry.domain.accounts import Account, AccountKind
from tenantry.domain.errors import ErrorCode, Forbidden, InvalidInput, NotFound
from tenantry.domain.ids import is_account_id
from tenantry.domain.managed import (
    BLANK,
    MAX_USERS_PER_CALL,
    InvalidNetworkInput,
    ManagedUserSpec,
    at_most,
    is_valid_identifier,
)
from tenantry.domain.roles import Need, Role
from tenantry.services.context import Actor, ServiceContext, record
from tenantry.services.member_sync import MembersOutcome, apply_members
from tenantry.services.members import LIST_CAP, Member
from tenantry.services.policy import Requirement, role_in
from tenantry.services.policy_roles import roles_named
from tenantry.services.ports import UnitOfWork


@dataclass(slots=True)
class NetworkView:
    network: Account
    members: list[Member]


@dataclass(slots=True)
class UpsertedMember:
    member: Member
    created: bool


# -- finding the network and its advertisers ----------------------------------------------------


def open_network(
    ctx: ServiceContext, uow: UnitOfWork, actor: Actor, network_id: str, need: Requirement
) -> tuple[Account, Role]:
    """The network and the actor's role in it. Credentials of another account are refused
    before anything is looked up, so they learn nothing about other networks."""
    if actor.home_account_id is not None and actor.home_account_id != network_id:
        raise Forbidden(ErrorCode.FORBIDDEN, "This token does not belong to this network.")
    network = uow.accounts.find(network_id) if is_account_id(network_id) else None
    if network is None or network.kind is not AccountKind.PARTNER or network.parent_id:
        raise NotFound(ErrorCode.ACCOUNT_NOT_FOUND, field="network_id")
    role = role_in(ctx, uow, actor, [network])
    if role is None or not role.allows(need):
        raise Forbidden(ErrorCode.FORBIDDEN)
    return network, role


def find_advertiser(uow: UnitOfWork, network: Account, id_from_network: str) -> Account | None:
    """The network's advertiser with that id, if any."""
    if not is_valid_identifier(id_from_network):
        return None
    account = uow.accounts.find_by_network_id(network.id, id_from_network)
    return account if account is not None and account.kind is AccountKind.ADVERTISER else None


def open_advertiser(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    network: Account,
    id_from_network: str,
    need: Requirement,
) -> tuple[Account, Role]:
    """The network's advertiser and the actor's role in it (usually inherited from the
    network), or not found."""
    account = find_advertiser(uow, network, id_from_network)
    if account is None:
        raise NotFound(ErrorCode.ACCOUNT_NOT_FOUND, field="advertiser_id")
    role = role_in(ctx, uow, actor, [account, network])
    if role is None or not role.allows(need):
        raise Forbidden(ErrorCode.FORBIDDEN, account_id=account.id)
    return account, role


def members_of(ctx: ServiceContext, uow: UnitOfWork, account: Account) -> list[Member]:
    """Every member of the account with their role, in joining order."""
    rows = uow.network.members([account.id]).get(account.id, [])
    roles = roles_named(ctx, uow, account, (m.role_key for _, m in rows))
    return [Member(u, m, roles[m.role_key]) for u, m in rows]


def record_members(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    account: Account,
    outcome: MembersOutcome,
    *,
    target: tuple[str, str] | None = None,
) -> None:
    """One audit event for the users a call changed, when it changed any."""
    if not outcome.changed:
        return
    target_type, target_id = target or ("account", account.id)
    record(
        ctx,
        uow,
        actor,
        action,
        target_type=target_type,
        target_id=target_id,
        account_id=account.id,
        before={"users": outcome.before},
        after={"users": outcome.after},
    )


# -- the network's own users --------------------------------------------------------------------


def get_network(ctx: ServiceContext, actor: Actor, network_id: str) -> NetworkView:
    """The network with every member, in joining order."""
    with ctx.uow(readonly=True) as uow:
        network, _ = open_network(ctx, uow, actor, network_id, Need.READ_ACCOUNT)
        return NetworkView(network, members_of(ctx, uow, network))


def replace_network_users(
    ctx: ServiceContext, actor: Actor, network_id: str, specs: Sequence[ManagedUserSpec]
) -> NetworkView:
    """Make the network's users the listed ones: add and update them, remove every other
    network-managed member (users who log in directly stay). One transaction, written as a
    diff: only what changes is written."""
    if len(specs) > MAX_USERS_PER_CALL:
        raise InvalidNetworkInput.one(("users",), at_most(MAX_USERS_PER_CALL, "users in one call"))
    with ctx.uow() as uow:
        network, role = open_network(ctx, uow, actor, network_id, Need.MANAGE_USERS)
        outcome = apply_members(
            ctx, uow, actor, network, network, role, specs, replace=True, base=("users",)
        )
        record_members(ctx, uow, actor, "network.users.replace", network, outcome)
        return NetworkView(network, outcome.members)


# -- an advertiser's users, one at a time --------------------------------------------------------


def list_advertiser_users(
    ctx: ServiceContext, actor: Actor, network_id: str, advertiser_id: str
) -> list[Member]:
    with ctx.uow(readonly=True) as uow:
        network, _ = open_network(ctx, uow, actor, network_id, Need.READ_ACCOUNT)
        account, _ = open_advertiser(ctx, uow, actor, network, advertiser_id, Need.READ_ACCOUNT)
        if uow.memberships.count(account.id) > LIST_CAP:
            raise InvalidInput(
                ErrorCode.INVALID_INPUT,
                f"The advertiser has more than {LIST_CAP:,} users: too many for one answer;"
                " read them one at a time by id_from_network.",
                field="users",
            )
        return members_of(ctx, uow, account)


def get_advertiser_user(
    ctx: ServiceContext, actor: Actor, network_id: str, advertiser_id: str, user_id: str
) -> Member:
    with ctx.uow(readonly=True) as uow:
        network, _ = open_network(ctx, uow, actor, network_id, Need.READ_ACCOUNT)
        account, _ = open_advertiser(ctx, uow, actor, network, advertiser_id, Need.READ_ACCOUNT)
        member = _member(ctx, uow, network, account, user_id)
        if member is None:
            raise NotFound(ErrorCode.USER_NOT_FOUND, field="user_id")
        return member


def upsert_advertiser_user(
    ctx: ServiceContext,
    actor: Actor,
    network_id: str,
    advertiser_id: str,
    spec: ManagedUserSpec,
) -> UpsertedMember:
    """Create the advertiser's user, or update it when it exists (by `id_from_network`, which
    the spec must give). `created` tells which."""
    if spec.id_from_network is None:
        raise InvalidNetworkInput.one((*spec.path, "id_from_network"), BLANK)
    with ctx.uow() as uow:
        network, _ = open_network(ctx, uow, actor, network_id, Need.READ_ACCOUNT)
        account, role = open_advertiser(ctx, uow, actor, network, advertiser_id, Need.MANAGE_USERS)
        outcome = apply_members(ctx, uow, actor, network, account, role, [spec])
        member = next(m for m in outcome.members if m.user.id_from_network == spec.id_from_network)
        record_members(
            ctx,
            uow,
            actor,
            "network.advertiser_user.upsert",
            account,
            outcome,
            target=("user", member.user.id),
        )
        return UpsertedMember(member, member.user.id in outcome.joined)


def delete_advertiser_user(
    ctx: ServiceContext, actor: Actor, network_id: str, advertiser_id: str, user_id: str
) -> None:
    """Take the user out of the advertiser (deleting them when it was their last account);
    nothing happens when they are not in it."""
    with ctx.uow() as uow:
        network, _ = open_network(ctx, uow, actor, network_id, Need.READ_ACCOUNT)
        account, role = open_advertiser(ctx, uow, actor, network, advertiser_id, Need.MANAGE_USERS)
        member = _member(ctx, uow, network, account, user_id)
        if member is None:
            return
        if not member.user.is_network_managed:
            raise Forbidden(ErrorCode.NETWORK_MANAGED_ONLY, field="can_login_via_platform")
        outcome = apply_members(
            ctx, uow, actor, network, account, role, [], remove=[member.user.id]
        )
        record_members(
            ctx,
            uow,
            actor,
            "network.advertiser_user.delete",
            account,
            outcome,
            target=("user", member.user.id),
        )


def _member(
    ctx: ServiceContext, uow: UnitOfWork, network: Account, account: Account, user_id: str
) -> Member | None:
    if not is_valid_identifier(user_id):
        return None
    user = uow.network.users_by_network_ids(network.id, [user_id]).get(user_id)
    if user is None:
        return None
    membership = uow.memberships.find(user.id, account.id)
    if membership is None:
        return None
    role = roles_named(ctx, uow, account, [membership.role_key])[membership.role_key]
    return Member(user, membership, role)
