"""The members of one account as a network describes them, applied as a diff.

`apply_members` compares what the network sends with what is stored and writes only what
differs: new users, changed users, new or changed memberships, removed members. It checks the
whole list first and reports every problem at once; then it writes the users' own rows and
hands the membership changes (joins, role changes, removals) to the membership changes
service (`member_sync_changes`), and deletes the users left in no account. It reads in a
constant number of statements and writes in batches, whatever the number of users (a network
replaces thousands at once), inside the caller's transaction; a call that changes nothing
writes nothing.

Rules, beyond each field's own (`domain.managed`):
- users are found by the network's id for them (`id_from_network`, unique in the network);
  users created here are network-managed: they sign in through the network, never directly;
- a user who logs in directly (`can_login_via_platform`) is never changed here: listing one
  exactly as they are (`managed.is_described_by`, role included) is accepted and does
  nothing, anything else about them is refused, and a full replacement leaves such members
  where they are;
- each address belongs to one user; an address may move between users of the same call;
- the core's rules hold: the role must exist for the account and not exceed the actor's own,
  the multi-account rules for users joining, the account keeps an admin if it had one, and
  nobody removes themselves or the account's owner;
- a network-managed user removed from their last account is deleted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from tenantry.domain import memberships as rules
from tenantry.domain.accounts import Account
from tenantry.domain.errors import DomainError
from tenantry.domain.managed import (
    InvalidNetworkInput,
    ManagedUserSpec,
    Path,
    Problem,
    addresses_of,
    apply_spec,
    audit_fields,
    spec_fields,
    user_fields,
)
from tenantry.domain.memberships import Membership
from tenantry.domain.roles import Role
from tenantry.domain.users import User
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.member_sync_changes import change_memberships
from tenantry.services.member_sync_checks import (
    SyncPlan,
    check_addresses,
    check_keeps_an_admin,
    check_reach,
    listed_targets,
)
from tenantry.services.members import Member
from tenantry.services.membership_commands import AddedMember
from tenantry.services.policy import (
    OwnerChange,
    check_may_manage,
    check_owner_kept,
    check_removable,
)
from tenantry.services.policy_identities import check_may_join
from tenantry.services.policy_roles import roles_of
from tenantry.services.ports import UnitOfWork

# Holds a user's primary address while another user of the same call takes it over.
_MOVING_DOMAIN = "moving.invalid"


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


def apply_members(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    network: Account,
    account: Account,
    actor_role: Role,
    specs: Sequence[ManagedUserSpec],
    *,
    replace: bool = False,
    remove: Collection[str] = (),
    base: Path = (),
) -> MembersOutcome:
    """Make `account`'s members match `specs`: add or update each, and remove the users in
    `remove` (by user id) or, with `replace`, every network-managed member not listed.
    Every problem is reported at once, under `base` when it concerns no listed user."""
    sync = _Sync(ctx, uow, actor, network, account, actor_role, base)
    targets = listed_targets(
        account, actor_role, specs, sync.current, sync.known_users(specs), sync.roles, sync.problems
    )
    if replace:
        listed = {user.id for _, user, _ in targets if user is not None}
        remove = {
            u.id
            for u, _ in sync.current
            if u.is_network_managed and u.network_account_id == network.id and u.id not in listed
        }
    joining = {u.id for _, u, _ in targets if u is not None and u.id not in sync.by_id}
    sync.plan_removals(remove, joining)
    check_addresses(uow, targets, sync.plan, sync.problems)
    for spec, original, role in targets:
        sync.plan_member(spec, original, role)
    return sync.finish()


class _Sync:
    """One `apply_members` call: what it read, the plan it makes, the problems it finds."""

    def __init__(
        self,
        ctx: ServiceContext,
        uow: UnitOfWork,
        actor: Actor,
        network: Account,
        account: Account,
        actor_role: Role,
        base: Path,
    ) -> None:
        self.ctx, self.uow, self.actor = ctx, uow, actor
        self.network, self.account, self.actor_role, self.base = network, account, actor_role, base
        uow.accounts.lock(account.id)  # the last-admin rule weighs the members read here
        self.roles = roles_of(ctx, uow, account)
        self.current = uow.network.members([account.id]).get(account.id, [])
        self.by_id = {user.id: (user, membership) for user, membership in self.current}
        self.problems: list[Problem] = []
        self.plan = SyncPlan()
        self.outcome = MembersOutcome([])
        self.placements: dict[str, list[tuple[Membership, Account]]] = {}
        self.rewritten: dict[str, Path] = {}

    def known_users(self, specs: Sequence[ManagedUserSpec]) -> dict[str, User]:
        """The network's users the specs name, by their network id: those in the account
        are read already; only the others are looked up."""
        known = {
            user.id_from_network: user
            for user, _ in self.current
            if user.id_from_network and user.network_account_id == self.network.id
        }
        wanted = {s.id_from_network for s in specs if s.id_from_network} - known.keys()
        if wanted:
            known.update(self.uow.network.users_by_network_ids(self.network.id, wanted))
        return known

    def plan_removals(self, remove: Collection[str], joining: set[str]) -> None:
        plan, account = self.plan, self.account
        plan.removed = [self.by_id[user_id] for user_id in remove if user_id in self.by_id]
        plan.memberships.removals = [user.id for user, _ in plan.removed]
        self.placements = self.uow.network.placements({*joining, *(u.id for u, _ in plan.removed)})
        for user, membership in plan.removed:
            check_may_manage(
                self.ctx, self.uow, account, self.actor_role, membership, roles=self.roles
            )
            try:
                check_removable(account, user.id, self.actor)
            except DomainError as error:
                self.problems.append(Problem(self.base, error.message, error.code))
            others = [a for _, a in self.placements.get(user.id, []) if a.id != account.id]
            managed_here = user.is_network_managed and user.network_account_id == self.network.id
            if not others and managed_here:
                plan.orphans.append(user.id)

    def plan_member(self, spec: ManagedUserSpec, original: User | None, role: Role) -> None:
        """The user as the spec describes them, and their membership with `role`."""
        if original is None:  # a new user (named by the network's id), made as they join
            self.plan.memberships.joins.append((spec, None, role))
            self.outcome.after[str(spec.id_from_network)] = {}  # its place, filled once made
            return
        user, user_changed = self._user(spec, original)
        self.plan.users[user.id] = user
        old_role: Role | None = None
        existing = self.by_id.get(user.id)
        if existing is None:
            if not self._join(spec, user, role):
                return
        else:
            planned = self._change(spec, role, existing[1], user_changed)
            if planned is None:
                return
            old_role = planned
        key = spec.id_from_network or user.id
        if user_changed:
            self.plan.changed_users.append(user)
            self.plan.previous[user.id] = addresses_of(original)
            self.rewritten[user.id] = spec.path
        self.outcome.before[key] = audit_fields(original, old_role)
        self.outcome.after[key] = audit_fields(user, role)

    def _user(self, spec: ManagedUserSpec, original: User) -> tuple[User, bool]:
        """The user after the spec (the original, or a changed copy), and whether they
        change."""
        if spec_fields(spec) == user_fields(original):
            return original, False
        user = dataclasses.replace(original, notification_emails=list(original.notification_emails))
        apply_spec(user, spec)
        return user, True

    def _join(self, spec: ManagedUserSpec, user: User, role: Role) -> bool:
        elsewhere = [(m, a) for m, a in self.placements.get(user.id, []) if a.id != self.account.id]
        try:
            check_may_join(self.ctx, self.account, user, elsewhere)
        except DomainError as error:
            self.problems.append(Problem(spec.email_paths[0], error.message, error.code))
            return False
        self.plan.memberships.joins.append((spec, user, role))
        return True

    def _change(
        self, spec: ManagedUserSpec, role: Role, old: Membership, user_changed: bool
    ) -> Role | None:
        """Plan the member's new role; their role before, or None when nothing is planned
        (nothing changes, or a problem was found). Members the network manages are active
        wherever they are (they join active), so only their role can change."""
        membership = dataclasses.replace(old, role_key=role.key)
        if membership == old and not user_changed:
            return None
        check_may_manage(self.ctx, self.uow, self.account, self.actor_role, old, roles=self.roles)
        old_role = self.roles.get(old.role_key, self.ctx.roles.admin)
        if membership != old:
            try:
                rules.check_scope_for_role(role, membership.scope)
                check_owner_kept(self.account, old.user_id, OwnerChange.DEMOTE)
            except DomainError as error:
                self.problems.append(Problem((*spec.path, "role"), error.message, error.code))
                return None
            self.plan.memberships.role_changes.append((spec, membership, role))
            if old_role.is_admin_like and not role.is_admin_like:
                self.plan.demotions.append((*spec.path, "role"))
        return old_role

    def finish(self) -> MembersOutcome:
        """Check what holds only of the whole plan, then make it, or report every problem."""
        ctx, uow, plan = self.ctx, self.uow, self.plan
        check_reach(ctx, uow, self.actor, self.account, self.rewritten, self.problems)
        admin = ctx.roles.admin
        check_keeps_an_admin(self.current, plan, self.roles, admin, self.base, self.problems)
        if self.problems:
            raise InvalidNetworkInput(self.problems)
        for user, membership in plan.removed:
            role = self.roles.get(membership.role_key, admin)
            self.outcome.before[user.id_from_network or user.id] = audit_fields(user, role)
        _write_users(uow, plan)
        made = change_memberships(
            ctx, uow, self.actor, self.account, self.actor_role, plan.memberships, self.base
        )
        if plan.orphans:
            uow.network.delete_users(plan.orphans)
        self.outcome.members = self._final_members(made)
        return self.outcome

    def _final_members(
        self, made: list[tuple[ManagedUserSpec | None, AddedMember]]
    ) -> list[Member]:
        """The account's members once the plan is made, in joining order; who joined is
        noted, and the new users enter the audit trail with the ids they were given."""
        plan, roles, admin = self.plan, self.roles, self.ctx.roles.admin
        removed = {u.id for u, _ in plan.removed}
        changed: dict[str, Member] = {}
        for spec, added in made:
            user_id = added.user.id
            if spec is None:  # a removal
                continue
            changed[user_id] = Member(
                plan.users.get(user_id, added.user), added.membership, added.role
            )
            if user_id not in self.by_id:
                self.outcome.joined.add(user_id)
                if user_id not in plan.users:
                    fields = audit_fields(added.user, added.role)
                    self.outcome.after[str(spec.id_from_network)] = fields
        final: list[Member] = []
        for user, membership in self.current:
            if user.id not in removed:
                member = changed.pop(user.id, None)
                if member is None:
                    role = roles.get(membership.role_key, admin)
                    member = Member(plan.users.get(user.id, user), membership, role)
                final.append(member)
        final.extend(changed.values())  # who joined, in the order listed
        return final


# -- writing the users' own rows -----------------------------------------------------------------


def _write_users(uow: UnitOfWork, plan: SyncPlan) -> None:
    """The users' own rows, before any membership changes: a user who gives up an address
    that another user of the call takes (a changed user, or one deleted in the call) lets
    go of its addresses first, then the changed users take theirs; the new users are made
    with their memberships. So the membership changes service reads each user as they will
    be, and finds an address free when it is."""
    network = uow.network
    taker: dict[str, str | None] = {}  # who holds each address a listed user takes (None: new)
    for spec, joining, _ in plan.memberships.joins:
        if joining is None:
            taker.update(dict.fromkeys((e.address for e in spec.emails), None))
    for user in plan.changed_users:
        taker.update(dict.fromkeys(addresses_of(user), user.id))
    orphans = set(plan.orphans)
    giving_up = [(u, plan.previous[u.id]) for u in plan.changed_users]
    giving_up += [(u, addresses_of(u)) for u, _ in plan.removed if u.id in orphans]
    holders = [
        dataclasses.replace(u, email=f"{u.id}@{_MOVING_DOMAIN}", notification_emails=[])
        for u, held in giving_up
        if any(taker.get(a, u.id) != u.id for a in held)
    ]
    if holders:
        network.update_users(holders)
    network.update_users(plan.changed_users)
