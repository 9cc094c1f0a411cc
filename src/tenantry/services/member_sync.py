"""The members of one account as a network describes them, applied as a diff.

`apply_members` compares what the network sends with what is stored and writes only what
differs: new users, changed users, new or changed memberships, removed members. It reads in a
constant number of statements and writes in batches, whatever the number of users (a network
replaces thousands at once), inside the caller's transaction; a call that changes nothing
writes nothing.

Rules, beyond each field's own (`domain.network`):
- users are found by the network's id for them (`id_from_network`, unique in the network);
  users created here are network-managed: they sign in through the network, never directly;
- a user who logs in directly (`can_login_via_platform`) is never changed here: listing one
  exactly as the integration shows them is accepted and does nothing, anything else about
  them is refused, and a full replacement leaves such members where they are;
- each address belongs to one user; an address may move between users of the same call;
- the core's rules hold: the role must exist for the account and not exceed the actor's own,
  the multi-account rules for users joining, the account keeps an admin if it had one, and
  nobody removes themselves or the account's owner;
- a network-managed user removed from their last account is deleted.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tenantry.domain import memberships as rules
from tenantry.domain.accounts import Account
from tenantry.domain.errors import MESSAGES, DomainError, ErrorCode
from tenantry.domain.ids import new_user_id
from tenantry.domain.managed import (
    BLANK,
    TAKEN,
    InvalidNetworkInput,
    NetworkUserSpec,
    Path,
    Problem,
    apply_spec,
    audit_fields,
    shown_emails,
    shown_names,
    spec_fields,
    user_fields,
)
from tenantry.domain.memberships import UNRESTRICTED, Membership, MembershipStatus
from tenantry.domain.roles import Role
from tenantry.domain.users import User, UserStatus
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.members import Member
from tenantry.services.policy import (
    OwnerChange,
    check_grantable,
    check_may_join,
    check_may_manage,
    check_owner_kept,
    check_removable,
    is_acting_admin,
    readable_accounts,
    roles_of,
)
from tenantry.services.ports import UnitOfWork

# Holds a user's primary address while another user of the same call takes it over.
_MOVING_DOMAIN = "moving.invalid"

Target = tuple[NetworkUserSpec, User | None, Role]


@dataclass(slots=True)
class MembersOutcome:
    """The account's members afterwards (joining order), who joined in this call, and the
    changed users before and after, keyed by `id_from_network`, for the audit trail."""

    members: list[Member]
    joined: set[str] = field(default_factory=set)
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.before or self.after)


@dataclass(slots=True)
class _Plan:
    new_users: list[User] = field(default_factory=list)
    changed_users: list[User] = field(default_factory=list)
    new_memberships: list[Membership] = field(default_factory=list)
    changed_memberships: list[Membership] = field(default_factory=list)
    removed: list[tuple[User, Membership]] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    users: dict[str, User] = field(default_factory=dict)  # every listed user, as they will be
    previous: dict[str, set[str]] = field(default_factory=dict)  # changed users' old addresses
    demotions: list[Path] = field(default_factory=list)


def apply_members(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    network: Account,
    account: Account,
    actor_role: Role,
    specs: Sequence[NetworkUserSpec],
    *,
    replace: bool = False,
    remove: Collection[str] = (),
    base: Path = (),
) -> MembersOutcome:
    """Make `account`'s members match `specs`: add or update each, and remove the users in
    `remove` (by user id) or, with `replace`, every network-managed member not listed.
    Every problem is reported at once, under `base` when it concerns no listed user."""
    roles = roles_of(ctx, uow, account)
    current = uow.network.members([account.id]).get(account.id, [])
    by_id = {user.id: (user, membership) for user, membership in current}
    # The listed users already in the account are in `current`; only the others are looked up.
    known: dict[str, User] = {}
    for user, _ in current:
        if user.id_from_network and user.network_account_id == network.id:
            known[user.id_from_network] = user
    wanted = {s.id_from_network for s in specs if s.id_from_network} - known.keys()
    if wanted:
        known.update(uow.network.users_by_network_ids(network.id, wanted))
    problems: list[Problem] = []
    targets = _targets(ctx, account, actor_role, specs, current, known, roles, problems)

    plan = _Plan()
    if replace:
        listed = {user.id for _, user, _ in targets if user is not None}
        remove = {
            u.id
            for u, _ in current
            if u.is_network_managed and u.network_account_id == network.id and u.id not in listed
        }
    plan.removed = [by_id[user_id] for user_id in remove if user_id in by_id]
    joining = {u.id for _, u, _ in targets if u is not None and u.id not in by_id}
    placements = uow.network.placements({*joining, *(u.id for u, _ in plan.removed)})
    for user, membership in plan.removed:
        check_may_manage(ctx, uow, account, actor_role, membership, roles=roles)
        try:
            check_removable(account, user.id, actor)
        except DomainError as error:
            problems.append(Problem(base, error.message, error.code))
        others = [a for _, a in placements.get(user.id, []) if a.id != account.id]
        if not others and user.is_network_managed and user.network_account_id == network.id:
            plan.orphans.append(user.id)
    _check_addresses(uow, targets, plan, problems)

    outcome = MembersOutcome([])
    now = ctx.now()
    # Members who join in one call join in the order listed: their joining times are apart
    # by a microsecond each, the order every list of members is read in.
    joined_at = (now + timedelta(microseconds=n) for n in itertools.count())
    rewritten: dict[str, Path] = {}
    for spec, original, role in targets:
        user_changed = False
        if original is None:
            user = _new_user(spec, network, now)
            plan.new_users.append(user)
        elif spec_fields(spec) == user_fields(original):
            user = original
        else:
            user = dataclasses.replace(
                original, notification_emails=list(original.notification_emails)
            )
            apply_spec(user, spec)
            user_changed = True
        plan.users[user.id] = user
        old_role: Role | None = None
        existing = by_id.get(user.id)
        if existing is None:
            elsewhere = [(m, a) for m, a in placements.get(user.id, []) if a.id != account.id]
            try:
                check_may_join(ctx, account, user, elsewhere)
            except DomainError as error:
                problems.append(Problem(spec.email_paths[0], error.message, error.code))
                continue
            plan.new_memberships.append(
                Membership(
                    user.id,
                    account.id,
                    role.key,
                    MembershipStatus.ACTIVE,
                    UNRESTRICTED,
                    next(joined_at),
                )
            )
            outcome.joined.add(user.id)
        else:
            old_membership = existing[1]
            membership = dataclasses.replace(
                old_membership, role_key=role.key, status=MembershipStatus.ACTIVE
            )
            if membership == old_membership and not user_changed:
                continue
            check_may_manage(ctx, uow, account, actor_role, old_membership, roles=roles)
            old_role = roles.get(old_membership.role_key, ctx.roles.admin)
            if membership != old_membership:
                try:
                    rules.check_scope_for_role(role, membership.scope)
                    if role.key != old_membership.role_key:
                        check_owner_kept(account, user.id, OwnerChange.DEMOTE)
                except DomainError as error:
                    problems.append(Problem((*spec.path, "role"), error.message, error.code))
                    continue
                plan.changed_memberships.append(membership)
                if old_role.is_admin_like and not role.is_admin_like:
                    plan.demotions.append((*spec.path, "role"))
        key = spec.id_from_network or user.id
        if original is not None:
            if user_changed:
                plan.changed_users.append(user)
                plan.previous[user.id] = _addresses(original)
                rewritten[user.id] = spec.path
            outcome.before[key] = _snapshot(ctx, original, old_role)
        outcome.after[key] = _snapshot(ctx, user, role)

    _check_reach(ctx, uow, actor, account, rewritten, problems)
    final = _final_members(ctx, current, plan, roles)
    _check_keeps_an_admin(current, final, roles, plan, base, problems)
    if problems:
        raise InvalidNetworkInput(problems)
    for user, membership in plan.removed:
        role = roles.get(membership.role_key, ctx.roles.admin)
        outcome.before[user.id_from_network or user.id] = _snapshot(ctx, user, role)
    _write(uow, account, plan)
    outcome.members = final
    return outcome


# -- checks --------------------------------------------------------------------------------------


def _check_reach(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    account: Account,
    rewritten: dict[str, Path],
    problems: list[Problem],
) -> None:
    """The network rewrites the people it signs in only while every account they work in is
    within its reach (the home rule of `policy.check_may_edit_identity`): an advertiser that
    turned partner management off keeps its members as they are. Two statements, however
    many users are rewritten, and none when nobody is."""
    if not rewritten:
        return
    placements = uow.network.placements(rewritten)
    elsewhere = {
        a.id
        for held in placements.values()
        for m, a in held
        if m.status is MembershipStatus.ACTIVE and a.id != account.id
    }
    reached = readable_accounts(ctx, uow, actor, elsewhere, with_members=True)
    for user_id, path in rewritten.items():
        if any(a.id in elsewhere and a.id not in reached for _, a in placements.get(user_id, [])):
            problems.append(
                Problem(
                    (*path, "email_address"),
                    MESSAGES[ErrorCode.NOT_IDENTITY_OWNER],
                    ErrorCode.NOT_IDENTITY_OWNER,
                )
            )


def _targets(
    ctx: ServiceContext,
    account: Account,
    actor_role: Role,
    specs: Sequence[NetworkUserSpec],
    current: Sequence[tuple[User, Membership]],
    known: dict[str, User],
    roles: dict[str, Role],
    problems: list[Problem],
) -> list[Target]:
    """Each listed user with the stored user it names (None: a new one) and its role. A user
    who logs in directly is left out: listed as shown, or refused."""
    members = {user.id: (user, membership) for user, membership in current}
    platform_by_email = {u.email: u for u, _ in current if not u.is_network_managed}
    targets: list[Target] = []
    for spec in specs:
        role = _role(ctx, roles, account, actor_role, spec, problems)
        if spec.id_from_network is None:
            user = platform_by_email.get(spec.email)
            if user is None:
                problems.append(Problem((*spec.path, "id_from_network"), BLANK))
                continue
        else:
            user = known.get(spec.id_from_network)
        if role is None:
            continue
        if user is not None and not user.is_network_managed:
            if not _as_shown(user, members.get(user.id), spec, role):
                problems.append(
                    Problem(
                        (*spec.path, "can_login_via_platform"),
                        MESSAGES[ErrorCode.NETWORK_MANAGED_ONLY],
                        ErrorCode.NETWORK_MANAGED_ONLY,
                    )
                )
            continue
        targets.append((spec, user, role))
    return targets


def _role(
    ctx: ServiceContext,
    roles: dict[str, Role],
    account: Account,
    actor_role: Role,
    spec: NetworkUserSpec,
    problems: list[Problem],
) -> Role | None:
    """The role a listed user gets: the catalogue's role of that Invoca name (Super when the
    input names none), if it exists for the account and the actor may grant it."""
    key = ctx.roles.admin.key if spec.role is None else ctx.roles.key_for("invoca", spec.role)
    role = roles.get(key) if key else None
    where = (*spec.path, "role")
    if role is None:
        names = ", ".join(ctx.roles.names_in("invoca"))
        problems.append(Problem(where, f"must be one of {names}", ErrorCode.UNKNOWN_ROLE))
        return None
    try:
        rules.check_role_for_account(role, account)
    except DomainError as error:
        problems.append(Problem(where, error.message, error.code))
        return None
    check_grantable(actor_role, role)
    return role


def _as_shown(
    user: User, member: tuple[User, Membership] | None, spec: NetworkUserSpec, role: Role
) -> bool:
    """Whether a user who logs in directly is listed exactly as the integration shows them."""
    if member is None or member[1].role_key != role.key:
        return False
    first, last = shown_names(user)
    return (
        spec.id_from_network == user.id_from_network
        and list(spec.emails) == shown_emails(user)
        and (spec.first_name, spec.last_name) == (first, last)
        and spec.contact_country_code == user.contact_country_code
        and spec.contact_phone_number == user.contact_phone_number
        and spec.oauth_refresh_token == user.oauth_refresh_token
        and all(
            spec.notifications[f] == bool(user.notifications.get(f)) for f in spec.notifications
        )
    )


def _check_addresses(
    uow: UnitOfWork, targets: Sequence[Target], plan: _Plan, problems: list[Problem]
) -> None:
    """Each address a listed user gets is theirs already, free, or given up in this call (by
    another listed user, or by a user deleted in it)."""
    claims: list[tuple[Path, str, str | None]] = []
    final: dict[str, set[str]] = {}
    for spec, user, _ in targets:
        held = _addresses(user) if user is not None else set()
        if user is not None:
            final[user.id] = {e.address for e in spec.emails}
        claims += [
            (where, e.address, user.id if user else None)
            for e, where in zip(spec.emails, spec.email_paths, strict=True)
            if e.address not in held
        ]
    if not claims:
        return
    owners = uow.network.address_owners({address for _, address, _ in claims})
    freed = set(plan.orphans)

    def holds(owner: str, address: str, claimant: str | None) -> bool:
        """Whether `owner` still holds `address` once the call is done."""
        return owner != claimant and owner not in freed and address in final.get(owner, {address})

    strangers = {
        owner
        for _, address, claimant in claims
        for owner in owners.get(address, ())
        if holds(owner, address, claimant) and owner not in final
    }
    platform = {u.id for u in uow.users.find_many(strangers).values() if not u.is_network_managed}
    for where, address, claimant in claims:
        holders = [o for o in owners.get(address, ()) if holds(o, address, claimant)]
        if any(o in platform for o in holders):
            message = MESSAGES[ErrorCode.NETWORK_MANAGED_ONLY]
            problems.append(Problem(where, message, ErrorCode.NETWORK_MANAGED_ONLY))
        elif holders:
            problems.append(Problem(where, TAKEN, ErrorCode.ID_TAKEN))


def _check_keeps_an_admin(
    current: Sequence[tuple[User, Membership]],
    final: Sequence[Member],
    roles: dict[str, Role],
    plan: _Plan,
    base: Path,
    problems: list[Problem],
) -> None:
    """An account that had an admin who can act keeps one: the batch form of the rule that
    the last admin can't be removed or demoted."""

    def acting_admin(user: User, membership: Membership, role: Role | None) -> bool:
        return role is not None and is_acting_admin(role, membership, user)

    had = any(acting_admin(u, m, roles.get(m.role_key)) for u, m in current)
    keeps = any(acting_admin(m.user, m.membership, m.role) for m in final)
    if had and not keeps:
        where = plan.demotions[0] if plan.demotions else base
        problems.append(Problem(where, MESSAGES[ErrorCode.LAST_ADMIN], ErrorCode.LAST_ADMIN))


# -- building and writing ------------------------------------------------------------------------


def _new_user(spec: NetworkUserSpec, network: Account, now: datetime) -> User:
    """A network-managed user: active at once, signs in through the network, never directly."""
    user = User(
        id=new_user_id(),
        email=spec.email,
        status=UserStatus.ACTIVATED,
        can_login_via_platform=False,
        network_account_id=network.id,
        id_from_network=spec.id_from_network,
        created_at=now,
        home_account_id=network.id,
    )
    apply_spec(user, spec)
    return user


def _addresses(user: User) -> set[str]:
    return {user.email, *(e.address for e in user.notification_emails)}


def _snapshot(ctx: ServiceContext, user: User, role: Role | None) -> dict[str, Any]:
    data = audit_fields(user)
    data["id"] = user.id
    if role is not None:
        data["role"] = ctx.roles.face_name("invoca", role)
    return data


def _final_members(
    ctx: ServiceContext,
    current: Sequence[tuple[User, Membership]],
    plan: _Plan,
    roles: dict[str, Role],
) -> list[Member]:
    """The account's members once the plan is written, in joining order."""
    removed = {u.id for u, _ in plan.removed}
    memberships = {m.user_id: m for m in (*plan.new_memberships, *plan.changed_memberships)}
    final: list[Member] = []
    for user, membership in current:
        if user.id not in removed:
            membership = memberships.pop(user.id, membership)
            role = roles.get(membership.role_key, ctx.roles.admin)
            final.append(Member(plan.users.get(user.id, user), membership, role))
    for membership in memberships.values():
        role = roles.get(membership.role_key, ctx.roles.admin)
        final.append(Member(plan.users[membership.user_id], membership, role))
    return final


def _write(uow: UnitOfWork, account: Account, plan: _Plan) -> None:
    """Removals first, so that what they free can be taken; a changed user whose address
    another user of the call takes lets go of its addresses before anyone takes them."""
    network = uow.network
    if plan.removed:
        network.delete_memberships(account.id, [u.id for u, _ in plan.removed])
    if plan.orphans:
        network.delete_users(plan.orphans)
    taker = {a: u.id for u in (*plan.changed_users, *plan.new_users) for a in _addresses(u)}
    holders = [
        dataclasses.replace(u, email=f"{u.id}@{_MOVING_DOMAIN}", notification_emails=[])
        for u in plan.changed_users
        if any(taker.get(a, u.id) != u.id for a in plan.previous[u.id])
    ]
    if holders:
        network.update_users(holders)
    network.update_users(plan.changed_users)
    network.add_users(plan.new_users)
    network.add_memberships(plan.new_memberships)
    network.update_memberships(plan.changed_memberships)
