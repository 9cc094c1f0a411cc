"""What `member_sync` checks of a network's list of members before it writes anything: which
user each entry names and the role it gets, addresses moving between users, the actor's reach
over the users it rewrites, and that the account keeps an admin. Each check adds its problems
to a list, so that a call learns about all of them at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tenantry.domain import memberships as rules
from tenantry.domain.accounts import Account
from tenantry.domain.errors import MESSAGES, DomainError, ErrorCode
from tenantry.domain.managed import (
    BLANK,
    TAKEN,
    ManagedUserSpec,
    Path,
    Problem,
    addresses_of,
    is_described_by,
)
from tenantry.domain.memberships import Membership, MembershipStatus
from tenantry.domain.roles import Role
from tenantry.domain.users import User, UserStatus
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.member_sync_changes import MembershipPlan
from tenantry.services.policy import check_grantable, is_acting_admin, readable_accounts
from tenantry.services.ports import UnitOfWork

Target = tuple[ManagedUserSpec, User | None, Role]


@dataclass(slots=True)
class SyncPlan:
    """What a call changes: the users' own rows, written by `member_sync`, and the
    memberships, handed to the membership changes service (`member_sync_changes`)."""

    changed_users: list[User] = field(default_factory=list)
    memberships: MembershipPlan = field(default_factory=MembershipPlan)
    removed: list[tuple[User, Membership]] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    users: dict[str, User] = field(default_factory=dict)  # listed users who exist, as they will be
    previous: dict[str, set[str]] = field(default_factory=dict)  # changed users' old addresses
    demotions: list[Path] = field(default_factory=list)


def check_reach(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    account: Account,
    rewritten: dict[str, Path],
    problems: list[Problem],
) -> None:
    """The network rewrites the people it signs in only while every account they work in is
    within its reach (the home rule of `check_may_edit_identity`): an advertiser that
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


def listed_targets(
    account: Account,
    actor_role: Role,
    specs: Sequence[ManagedUserSpec],
    current: Sequence[tuple[User, Membership]],
    known: dict[str, User],
    roles: dict[str, Role],
    problems: list[Problem],
) -> list[Target]:
    """Each listed user with the stored user it names (None: a new one) and its role. A user
    who logs in directly is left out: listed exactly as they are (role included), or refused."""
    roles_held = {user.id: membership.role_key for user, membership in current}
    platform_by_email = {u.email: u for u, _ in current if not u.is_network_managed}
    targets: list[Target] = []
    for spec in specs:
        role = _role(roles, account, actor_role, spec, problems)
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
            if roles_held.get(user.id) != role.key or not is_described_by(user, spec):
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
    roles: dict[str, Role],
    account: Account,
    actor_role: Role,
    spec: ManagedUserSpec,
    problems: list[Problem],
) -> Role | None:
    """The role a listed user gets, if it exists for the account and the actor may grant it."""
    role = roles.get(spec.role_key)
    where = (*spec.path, "role")
    if role is None:
        message = MESSAGES[ErrorCode.UNKNOWN_ROLE]
        problems.append(Problem(where, message, ErrorCode.UNKNOWN_ROLE))
        return None
    try:
        rules.check_role_for_account(role, account)
    except DomainError as error:
        problems.append(Problem(where, error.message, error.code))
        return None
    check_grantable(actor_role, role)
    return role


def check_addresses(
    uow: UnitOfWork, targets: Sequence[Target], plan: SyncPlan, problems: list[Problem]
) -> None:
    """Each address a listed user gets is theirs already, free, or given up in this call (by
    another listed user, or by a user deleted in it)."""
    claims: list[tuple[Path, str, str | None]] = []
    final: dict[str, set[str]] = {}
    for spec, user, _ in targets:
        held = addresses_of(user) if user is not None else set()
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


def check_keeps_an_admin(
    current: Sequence[tuple[User, Membership]],
    plan: SyncPlan,
    roles: dict[str, Role],
    unknown: Role,
    base: Path,
    problems: list[Problem],
) -> None:
    """An account that had an admin who can act keeps one once the plan is made: the batch
    form of the rule that the last admin can't be removed or demoted. A stored role the
    account does not know counts as `unknown` (the admin role) once the plan is made."""

    def acting_admin(user: User, membership: Membership, role: Role | None) -> bool:
        return role is not None and is_acting_admin(role, membership, user)

    if not any(acting_admin(u, m, roles.get(m.role_key)) for u, m in current):
        return
    removed = {u.id for u, _ in plan.removed}
    changed = {m.user_id: m for _, m, _ in plan.memberships.role_changes}
    for user, membership in current:
        if user.id not in removed:
            membership = changed.get(user.id, membership)
            role = roles.get(membership.role_key, unknown)
            if acting_admin(plan.users.get(user.id, user), membership, role):
                return
    # Who joins joins active; a new user is active at once.
    for _, joining, role in plan.memberships.joins:
        if role.is_admin_like and (joining is None or joining.status is UserStatus.ACTIVATED):
            return
    where = plan.demotions[0] if plan.demotions else base
    problems.append(Problem(where, MESSAGES[ErrorCode.LAST_ADMIN], ErrorCode.LAST_ADMIN))
