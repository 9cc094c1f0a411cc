"""A network's advertisers: advertiser accounts under the network, each keyed by the network's
id for it, with an approval status, sites and users, created and updated as idempotent upserts.

Creating, updating and deleting advertisers takes managing the network's child accounts;
replacing an advertiser's users takes managing users in the advertiser as well. An update
replaces the sites, and the users when they are given (leaving `users` or `custom_data` out
keeps them as they are). Deleting an advertiser deletes the network-managed users who
belonged to no other account.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tenantry.domain import accounts as account_rules
from tenantry.domain.accounts import Account, AccountKind
from tenantry.domain.errors import Conflict, ErrorCode, Forbidden, InvalidInput
from tenantry.domain.ids import new_account_id
from tenantry.domain.managed import (
    TAKEN,
    AdvertiserProfile,
    AdvertiserSpec,
    InvalidNetworkInput,
    ManagedUserSpec,
    Problem,
)
from tenantry.domain.roles import Need
from tenantry.services import webhook_events
from tenantry.services.context import Actor, ServiceContext, record
from tenantry.services.managed_users import (
    find_advertiser,
    members_of,
    open_advertiser,
    open_network,
)
from tenantry.services.member_sync import MembersOutcome, apply_members
from tenantry.services.members import LIST_CAP, Member
from tenantry.services.policy import readable_accounts, role_in
from tenantry.services.ports import UnitOfWork

PAGE = 500


@dataclass(slots=True)
class AdvertiserView:
    account: Account
    profile: AdvertiserProfile
    members: list[Member]


@dataclass(slots=True)
class UpsertedAdvertiser:
    advertiser: AdvertiserView
    created: bool


def snapshot(account: Account, profile: AdvertiserProfile) -> dict[str, Any]:
    return {
        "id_from_network": account.id_from_network,
        "name": account.name,
        "approval_status": profile.approval_status.value,
        "sites": [[s.id_from_network, s.name] for s in profile.sites],
        "custom_data": dict(account.custom_data),
    }


# -- reading -------------------------------------------------------------------------------------


def list_advertisers(ctx: ServiceContext, actor: Actor, network_id: str) -> list[AdvertiserView]:
    """Every advertiser of the network the actor may read, by `id_from_network`, read a page
    at a time in one transaction, a constant number of statements per page."""
    views: list[AdvertiserView] = []
    with ctx.uow(readonly=True) as uow:
        network, _ = open_network(ctx, uow, actor, network_id, Need.READ_ACCOUNT)
        after: str | None = None
        while True:
            page = uow.network.advertisers(network.id, limit=PAGE, after=after)
            readable = readable_accounts(ctx, uow, actor, [a.id for a in page], with_members=True)
            views += _views(ctx, uow, [a for a in page if a.id in readable])
            if len(views) > LIST_CAP:
                raise InvalidInput(
                    ErrorCode.INVALID_INPUT,
                    f"The network has more than {LIST_CAP:,} advertisers: too many for one"
                    " answer; read them one at a time by id_from_network.",
                    field="advertisers",
                )
            if len(page) < PAGE:
                return views
            after = page[-1].id_from_network


def get_advertiser(
    ctx: ServiceContext, actor: Actor, network_id: str, advertiser_id: str
) -> AdvertiserView:
    with ctx.uow(readonly=True) as uow:
        network, _ = open_network(ctx, uow, actor, network_id, Need.READ_ACCOUNT)
        account, _ = open_advertiser(ctx, uow, actor, network, advertiser_id, Need.READ_ACCOUNT)
        return _views(ctx, uow, [account])[0]


def _views(ctx: ServiceContext, uow: UnitOfWork, page: list[Account]) -> list[AdvertiserView]:
    ids = [a.id for a in page]
    profiles = uow.network.profiles(ids)
    members = uow.network.members(ids)
    custom = uow.custom_roles.for_accounts(ids)
    views = []
    for account in page:
        roles = {r.key: r for r in ctx.roles} | {r.key: r for r in custom.get(account.id, [])}
        views.append(
            AdvertiserView(
                account,
                profiles.get(account.id) or AdvertiserProfile(account.id),
                [
                    Member(u, m, roles.get(m.role_key, ctx.roles.admin))
                    for u, m in members.get(account.id, [])
                ],
            )
        )
    return views


# -- changing ------------------------------------------------------------------------------------


def upsert_advertiser(
    ctx: ServiceContext, actor: Actor, network_id: str, spec: AdvertiserSpec
) -> UpsertedAdvertiser:
    """Create the advertiser, or update it when the network's id names one. One transaction
    and one audit event, none when nothing changed."""
    name = account_rules.validate_account_name(spec.name)
    with ctx.uow() as uow:
        network, network_role = open_network(ctx, uow, actor, network_id, Need.READ_ACCOUNT)
        if not network_role.allows(Need.MANAGE_CHILD_ACCOUNTS):
            raise Forbidden(ErrorCode.FORBIDDEN, account_id=network.id)
        problems: list[Problem] = []
        account = _named_advertiser(uow, network, spec.id_from_network, name, problems)
        # The network renames its advertisers as a parent does (accounts.update_account), but
        # the answer lists the members only to who may read them: one that turned partner
        # management off keeps them to itself, as on GET.
        shown = account is None or _may_read(ctx, uow, actor, network, account)
        created = account is None
        if created and problems:
            raise InvalidNetworkInput(problems)
        profile = AdvertiserProfile(
            account.id if account else "", spec.approval_status, list(spec.sites)
        )
        before: dict[str, Any] | None = None
        if account is None:
            account = _create(ctx, uow, network, spec, name, profile)
        else:
            account, before = _update(uow, account, spec, name, profile, write=not problems)
        outcome = MembersOutcome(members_of(ctx, uow, account) if not created and shown else [])
        if spec.users is not None:
            try:
                outcome = _replace_users(ctx, uow, actor, network, account, spec.users)
            except InvalidNetworkInput as error:
                problems += error.problems
        if problems:
            raise InvalidNetworkInput(problems)
        after = snapshot(account, profile)
        if created or after != before or outcome.changed:
            record(
                ctx,
                uow,
                actor,
                "network.advertiser.create" if created else "network.advertiser.update",
                target_type="account",
                target_id=account.id,
                account_id=account.id,
                before=None if before is None else {**before, "users": outcome.before},
                after={**after, "users": outcome.after},
            )
        members = outcome.members if shown else []
        return UpsertedAdvertiser(AdvertiserView(account, profile, members), created)


def _may_read(
    ctx: ServiceContext, uow: UnitOfWork, actor: Actor, network: Account, account: Account
) -> bool:
    role = role_in(ctx, uow, actor, [account, network])
    return role is not None and role.allows(Need.READ_ACCOUNT)


def _named_advertiser(
    uow: UnitOfWork, network: Account, id_from_network: str, name: str, problems: list[Problem]
) -> Account | None:
    """The network's advertiser with that id, if any; its name must be no other's."""
    account = uow.accounts.find_by_network_id(network.id, id_from_network)
    if account is not None and account.kind is not AccountKind.ADVERTISER:
        raise InvalidNetworkInput.one(("id_from_network",), TAKEN)
    namesake = uow.network.find_advertiser_by_name(network.id, name)
    if namesake is not None and (account is None or namesake.id != account.id):
        problems.append(Problem(("name",), TAKEN, ErrorCode.ID_TAKEN))
    return account


def _create(
    ctx: ServiceContext,
    uow: UnitOfWork,
    network: Account,
    spec: AdvertiserSpec,
    name: str,
    profile: AdvertiserProfile,
) -> Account:
    account = Account(
        id=new_account_id(),
        name=name,
        kind=AccountKind.ADVERTISER,
        parent_id=network.id,
        id_from_network=spec.id_from_network,
        custom_data=dict(spec.custom_data or {}),
        created_at=ctx.now(),
    )
    account_rules.check_parent(account.kind, network)
    profile.account_id = account.id
    uow.accounts.add(account)
    uow.network.save_profile(profile)
    return account


def _update(
    uow: UnitOfWork,
    account: Account,
    spec: AdvertiserSpec,
    name: str,
    profile: AdvertiserProfile,
    *,
    write: bool,
) -> tuple[Account, dict[str, Any]]:
    """The advertiser as the spec describes it (written when `write`), and its snapshot
    before. Leaving `custom_data` out keeps it."""
    old_profile = uow.network.profiles([account.id]).get(account.id)
    before = snapshot(account, old_profile or AdvertiserProfile(account.id))
    updated = dataclasses.replace(
        account,
        name=name,
        custom_data=account.custom_data if spec.custom_data is None else spec.custom_data,
    )
    if write and updated != account:
        uow.accounts.update(updated)
    if write and profile != old_profile:
        uow.network.save_profile(profile)
    return updated, before


def _replace_users(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    network: Account,
    account: Account,
    specs: Sequence[ManagedUserSpec],
) -> MembersOutcome:
    role = role_in(ctx, uow, actor, [account, network])
    if role is None or not role.allows(Need.MANAGE_USERS):
        raise Forbidden(ErrorCode.FORBIDDEN, account_id=account.id)
    return apply_members(
        ctx, uow, actor, network, account, role, specs, replace=True, base=("users",)
    )


def delete_advertiser(
    ctx: ServiceContext, actor: Actor, network_id: str, advertiser_id: str
) -> None:
    """Delete the advertiser with its memberships, and its network-managed users who belong
    to no other account; nothing happens when there is no such advertiser."""
    with ctx.uow() as uow:
        network, network_role = open_network(ctx, uow, actor, network_id, Need.READ_ACCOUNT)
        if not network_role.allows(Need.MANAGE_CHILD_ACCOUNTS):
            raise Forbidden(ErrorCode.FORBIDDEN, account_id=network.id)
        account = find_advertiser(uow, network, advertiser_id)
        if account is None:
            return
        if uow.accounts.has_children(account.id):
            raise Conflict(ErrorCode.ACCOUNT_HAS_CHILDREN, field="id_from_network")
        view = _views(ctx, uow, [account])[0]
        managed = [
            m.user.id
            for m in view.members
            if m.user.is_network_managed and m.user.network_account_id == network.id
        ]
        placements = uow.network.placements(managed)
        orphans = [
            user_id
            for user_id in managed
            if all(a.id == account.id for _, a in placements.get(user_id, []))
        ]
        uow.network.delete_memberships(account.id, [m.user.id for m in view.members])
        uow.network.delete_users(orphans)
        uow.network.delete_profile(account.id)
        # Its network's webhooks hear its deletion; what no longer hears it is given up on.
        webhook_events.account_leaving(ctx, uow, account.id)
        uow.accounts.delete(account.id)
        record(
            ctx,
            uow,
            actor,
            "network.advertiser.delete",
            target_type="account",
            target_id=account.id,
            account_id=account.id,
            before={
                **snapshot(account, view.profile),
                "users": sorted(m.user.id_from_network or m.user.id for m in view.members),
                "deleted_users": sorted(orphans),
            },
        )
