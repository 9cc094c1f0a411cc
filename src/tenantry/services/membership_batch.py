"""One batch of membership changes in one account: what it reads ahead, how each change is
decided, and what it writes.

`MembershipBatch.load` reads what every change of the batch needs, in a number of statements
that does not grow with the batch: the account's roles, the people the changes name
(`membership_reads`) and, only when a change needs them, the account's apps, its network, the
network ids already taken and the count of its active admins.

`apply` then decides one change in memory, in the batch's order, with the policy's own checks
(`services.policy`): a change sees what the changes before it made (an address added twice is
a member the second time; the admins removed so far are counted; those who join, join in
the batch's order). A refused change raises before it touches anything, so it leaves no
trace. `write` sends what was made, one statement per kind of row. Audit events are recorded
as each change is made (unless the caller records its own), for the unit of work to hold
back and write together.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tenantry.domain import memberships as rules
from tenantry.domain.account_policy import check_email_domain
from tenantry.domain.accounts import Account
from tenantry.domain.errors import Conflict, ErrorCode, InvalidInput, NotFound
from tenantry.domain.ids import hash_secret, new_secret, new_user_id
from tenantry.domain.invitations import Invitation
from tenantry.domain.memberships import Membership, MembershipStatus, Scope
from tenantry.domain.roles import Role
from tenantry.domain.users import (
    User,
    UserStatus,
    normalize_email,
    validate_department,
    validate_person_name,
    validate_username,
)
from tenantry.services.catalogues import normalize_geos, normalize_media_sources
from tenantry.services.context import Actor, ServiceContext, record
from tenantry.services.membership_commands import (
    AddedMember,
    ChangeRole,
    MembershipChange,
    NewMember,
    RemoveMember,
    ScopeRequest,
    membership_snapshot,
    user_snapshot,
)
from tenantry.services.membership_reads import PeopleRead, read_people, user_id_of
from tenantry.services.outbox import enqueue_invitations
from tenantry.services.policy import (
    OwnerChange,
    active_admin_count,
    check_admin_kept,
    check_grantable,
    check_may_manage,
    check_may_take_away,
    check_owner_kept,
    is_acting_admin,
)
from tenantry.services.policy_identities import check_may_join
from tenantry.services.policy_roles import resolve_role, roles_of, usable_role
from tenantry.services.ports import UnitOfWork


@dataclass(slots=True)
class _Invited:
    invitation: Invitation
    token: str
    address: str  # as the change wrote it: the mail goes to it


@dataclass(slots=True)
class _Writes:
    """What the batch made so far, to be written together."""

    users: list[User] = field(default_factory=list)
    inserted: dict[str, Membership] = field(default_factory=dict)
    updated: dict[str, Membership] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    revoked: set[str] = field(default_factory=set)  # their open invitations here are revoked
    invited: dict[str, _Invited] = field(default_factory=dict)


@dataclass(slots=True)
class MembershipBatch:
    ctx: ServiceContext
    uow: UnitOfWork
    actor: Actor
    account: Account
    actor_role: Role
    roles: dict[str, Role]
    reads: PeopleRead
    admins: int | None
    """The account's active admins, counted once and kept across the batch; None when no
    change of the batch could take an admin away."""
    network_ids_taken: set[str] = field(default_factory=set)
    audited: bool = True
    """Whether each change records its own audit event (a caller that records one event
    for the whole call, with every member before and after, turns it off)."""
    writes: _Writes = field(default_factory=_Writes)
    _apps: dict[str, str] | None = None
    _network: str | None = None
    _granted: dict[str, Role] = field(default_factory=dict)
    _joined: int = 0
    _started: datetime | None = None

    @classmethod
    def load(
        cls,
        ctx: ServiceContext,
        uow: UnitOfWork,
        actor: Actor,
        account: Account,
        actor_role: Role,
        changes: Sequence[MembershipChange],
        *,
        audited: bool = True,
    ) -> MembershipBatch:
        roles = roles_of(ctx, uow, account)
        reads = read_people(uow, account, changes)
        takes_away = any(not isinstance(c, NewMember) for c in changes)
        if takes_away:  # two batches must not each take away an admin the other counted
            uow.accounts.lock(account.id)
        admins = active_admin_count(ctx, uow, account, roles) if takes_away else None
        batch = cls(ctx, uow, actor, account, actor_role, roles, reads, admins, audited=audited)
        wanted = {
            c.id_from_network
            for c in changes
            if isinstance(c, NewMember) and c.network_managed and c.id_from_network
        }
        if wanted:
            taken = uow.network.users_by_network_ids(batch.network_id(), wanted)
            batch.network_ids_taken = set(taken)
        return batch

    def apply(self, change: MembershipChange) -> AddedMember:
        """Make one change, or raise why not (and then change nothing)."""
        if isinstance(change, NewMember):
            return self._add(change)
        if isinstance(change, ChangeRole):
            return self._change_role(change)
        return self._remove(change)

    def address_of(self, change: MembershipChange) -> str:
        """The address a change names, as sent; for one naming a user id, theirs if known."""
        if not isinstance(change, ChangeRole) and change.email is not None:
            return str(change.email)
        user = self.reads.by_id.get(user_id_of(change))
        return user.email if user is not None else ""

    # -- adding --------------------------------------------------------------------------------

    def _add(self, spec: NewMember) -> AddedMember:
        email = normalize_email(spec.email)
        username = validate_username(spec.username) if spec.username is not None else None
        validate_department(spec.department)
        role = self._grantable(spec.role_key)
        scope = self.scope(role, spec)
        user = self.reads.by_email.get(email)
        existed = user is not None
        if user is not None:
            self._check_joining(user)
        check_email_domain(self.account, email)
        if user is None:
            user = self._new_user(email, username, spec)
            self._created(user)
        # Consent: only people a network signs in join at once, inside that network (checked
        # above): they have no login here to accept with, and the network, their home, speaks
        # for them. Everyone else, an identity that exists already included, is pending until
        # its owner accepts this account's own invitation. A new person who arrives through the
        # account's identity provider asks to join by signing in, and joins at once.
        joins_now = user.is_network_managed or (spec.consented and not existed)
        membership = Membership(
            user_id=user.id,
            account_id=self.account.id,
            role_key=role.key,
            status=MembershipStatus.ACTIVE if joins_now else MembershipStatus.PENDING,
            scope=scope,
            created_at=self._joining_time(),
        )
        self._count(None, membership, user)
        self.reads.here[user.id] = membership
        self.writes.inserted[user.id] = membership
        token = None if joins_now else self._invite(user, role, spec.email.strip())
        self._record("membership.create", user.id, after=membership_snapshot(membership))
        return AddedMember(user, membership, role, existed, token)

    def _check_joining(self, user: User) -> None:
        """May a person who has an identity already join this account?"""
        if user.id in self.reads.here:
            raise Conflict(ErrorCode.ALREADY_MEMBER, field="email")
        # A network can rewrite the users it signs in: none of them may join an account outside
        # that network, where the network would then control one of its people.
        if user.network_account_id not in (None, self.network_id()):
            raise Conflict(ErrorCode.OTHER_NETWORK_USER, field="email")
        held = self.reads.elsewhere.get(user.id, [])
        invitations = self.reads.invitations.get(user.id, [])
        check_may_join(self.ctx, self.account, user, held, invitations)

    def _new_user(self, email: str, username: str | None, spec: NewMember) -> User:
        validate_person_name(spec.first_name, "first_name", "first name")
        validate_person_name(spec.last_name, "last_name", "last name")
        network_id = self.network_id() if spec.network_managed else None
        if network_id is not None and spec.id_from_network in self.network_ids_taken:
            raise Conflict(ErrorCode.ID_TAKEN, field="id_from_network")
        name = username or " ".join(p for p in (spec.first_name, spec.last_name) if p)
        return User(
            id=new_user_id(),
            email=email,
            name=name,
            first_name=spec.first_name,
            last_name=spec.last_name,
            department=spec.department,
            contact_country_code=spec.contact_country_code,
            contact_phone_number=spec.contact_phone_number,
            status=(
                UserStatus.ACTIVATED
                if spec.network_managed or spec.consented
                else UserStatus.PENDING
            ),
            expires_on=spec.expires_on,
            can_login_via_platform=not spec.network_managed,
            network_account_id=network_id,
            id_from_network=spec.id_from_network,
            notifications=dict(spec.notifications),
            notification_emails=list(spec.notification_emails),
            oauth_refresh_token=spec.oauth_refresh_token,
            created_at=self.ctx.now(),
            home_account_id=network_id or self.account.id,
        )

    def _created(self, user: User) -> None:
        self.writes.users.append(user)
        self.reads.by_email[user.email] = self.reads.by_id[user.id] = user
        if user.network_account_id is not None and user.id_from_network is not None:
            self.network_ids_taken.add(user.id_from_network)
        self._record("user.create", user.id, after=user_snapshot(user))

    def _invite(self, user: User, role: Role, address: str) -> str:
        token = new_secret(16)
        invitation = Invitation(
            id=None,
            email=user.email,
            user_id=user.id,
            account_id=self.account.id,
            role_key=role.key,
            token_hash=hash_secret(token),
            expires_at=self.ctx.invitation_expiry(self.account.invitation_ttl_days),
            invited_by=self.actor.label,
            created_at=self.ctx.now(),
        )
        self.writes.invited[user.id] = _Invited(invitation, token, address)
        return token

    # -- changing roles and removing -----------------------------------------------------------

    def _change_role(self, change: ChangeRole) -> AddedMember:
        membership = self.reads.here.get(change.user_id)
        if membership is None:
            raise NotFound(ErrorCode.USER_NOT_FOUND, field="user_id")
        user = self.reads.by_id[change.user_id]
        ctx, uow, account = self.ctx, self.uow, self.account
        check_may_manage(ctx, uow, account, self.actor_role, membership, roles=self.roles)
        new_role = self._grantable(change.role_key)
        if new_role.key != membership.role_key:
            check_owner_kept(account, user.id, OwnerChange.DEMOTE)
        check_admin_kept(
            ctx,
            uow,
            account,
            membership,
            new_role,
            user_active=user.status is UserStatus.ACTIVATED,
            active_admins=self.admins,
            roles=self.roles,
        )
        if change.scope is not None:
            scope = self.scope(new_role, change.scope)
        else:
            rules.check_scope_for_role(new_role, membership.scope)
            scope = membership.scope
        changed = dataclasses.replace(membership, role_key=new_role.key, scope=scope)
        self._count(membership, changed, user)
        self.reads.here[user.id] = changed
        made = self.writes.inserted if user.id in self.writes.inserted else self.writes.updated
        made[user.id] = changed
        self._record(
            "membership.change_role",
            user.id,
            before=membership_snapshot(membership),
            after=membership_snapshot(changed),
        )
        return AddedMember(user, changed, new_role)

    def _remove(self, change: RemoveMember) -> AddedMember:
        user, membership = self._removed_member(change)
        ctx, uow, account = self.ctx, self.uow, self.account
        check_may_manage(ctx, uow, account, self.actor_role, membership, roles=self.roles)
        check_may_take_away(
            ctx,
            uow,
            self.actor,
            account,
            membership,
            OwnerChange.REMOVE,
            user_active=user.status is UserStatus.ACTIVATED,
            active_admins=self.admins,
            roles=self.roles,
        )
        self._count(membership, None, user)
        del self.reads.here[user.id]
        writes = self.writes
        if writes.inserted.pop(user.id, None) is not None:
            writes.invited.pop(user.id, None)  # made by this batch: never written, never sent
        else:
            writes.updated.pop(user.id, None)
            writes.deleted.add(user.id)
            writes.revoked.add(user.id)
        self._record("membership.delete", user.id, before=membership_snapshot(membership))
        return AddedMember(user, membership, self._held(membership))

    def _removed_member(self, change: RemoveMember) -> tuple[User, Membership]:
        if change.email is not None:
            user = self.reads.by_email.get(normalize_email(change.email))
            membership = self.reads.here.get(user.id) if user is not None else None
            if user is None or membership is None:
                raise NotFound(ErrorCode.MEMBERSHIP_NOT_FOUND, field="email")
            return user, membership
        assert change.user_id is not None
        membership = self.reads.here.get(change.user_id)
        if membership is None:
            raise NotFound(ErrorCode.USER_NOT_FOUND, field="user_id")
        return self.reads.by_id[change.user_id], membership

    # -- what the changes share ----------------------------------------------------------------

    def _grantable(self, role_key: str) -> Role:
        """The role `role_key` names in the account, if the actor may grant it there (the
        answer for each key is kept: a batch names a few roles for many people)."""
        role = self._granted.get(role_key)
        if role is None:
            role = usable_role(self.ctx, self.uow, self.account, role_key, self.roles)
            check_grantable(self.actor_role, role)
            self._granted[role_key] = role
        return role

    def scope(self, role: Role, spec: ScopeRequest) -> Scope:
        """Check a scope against the account's apps and the catalogues (apps first, then media
        sources and countries), and against the role."""
        if spec.app_ids is not None:
            known = self.apps()
            if any(app not in known for app in spec.app_ids):
                raise InvalidInput(ErrorCode.UNKNOWN_APPS, field="app_ids")
        all_future = spec.all_future_apps
        if all_future is None:
            all_future = spec.app_ids is None
        scope = Scope.build(
            app_ids=spec.app_ids,
            all_future_apps=all_future,
            media_sources=normalize_media_sources(spec.media_sources or (), self.ctx.media_sources),
            geos=normalize_geos(spec.geos or ()),
        )
        rules.check_scope_for_role(role, scope)
        return scope

    def apps(self) -> dict[str, str]:
        if self._apps is None:
            self._apps = self.uow.apps.for_account(self.account.id)
        return self._apps

    def network_id(self) -> str:
        """The network that manages users of the account: the top account above it, or itself."""
        if self._network is None:
            account = self.account
            top = account if account.parent_id is None else self.uow.accounts.chain(account.id)[-1]
            self._network = top.id
        return self._network

    def _joining_time(self) -> datetime:
        """When the next member of the batch joins: those of one batch join a microsecond
        apart, in the batch's order, which is the order every list of members is read in."""
        if self._started is None:
            self._started = self.ctx.now()
        joined_at = self._started + timedelta(microseconds=self._joined)
        self._joined += 1
        return joined_at

    def _count(self, before: Membership | None, after: Membership | None, user: User) -> None:
        """Keep the count of active admins as the batch changes memberships."""
        if self.admins is None:
            return
        for membership, step in ((before, -1), (after, 1)):
            if membership is not None and is_acting_admin(self._held(membership), membership, user):
                self.admins += step

    def _held(self, membership: Membership) -> Role:
        """The role a membership holds (an unknown one counts as the admin role, as the policy
        counts it)."""
        role = resolve_role(self.ctx, self.uow, self.account, membership.role_key, self.roles)
        return role or self.ctx.roles.admin

    def _record(self, action: str, user_id: str, **states: dict[str, Any]) -> None:
        if not self.audited:
            return
        record(
            self.ctx,
            self.uow,
            self.actor,
            action,
            target_type="user",
            target_id=user_id,
            account_id=self.account.id,
            **states,
        )

    # -- writing -------------------------------------------------------------------------------

    def write(self) -> None:
        """Write what the batch made: one statement per kind of row, whatever its size."""
        uow, writes, account_id = self.uow, self.writes, self.account.id
        uow.users.add_many(writes.users)
        if writes.deleted:
            uow.memberships.delete_many(writes.deleted, account_id)
        if writes.revoked:
            uow.invitations.revoke_open(account_id, writes.revoked, self.ctx.now())
        uow.memberships.update_many(list(writes.updated.values()))
        uow.memberships.add_many(list(writes.inserted.values()))
        invited = list(writes.invited.values())
        uow.invitations.add_many([i.invitation for i in invited])
        enqueue_invitations(self.ctx, self.uow, [(i.token, i.address) for i in invited])
