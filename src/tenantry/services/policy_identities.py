"""The policy on identities: whose profile and address an actor may change, which users an
actor may see, who the operators are, and which memberships elsewhere the multi-account
rules weigh. Grants come from `policy`; this module only asks it."""

from __future__ import annotations

from collections.abc import Sequence

from tenantry.domain import memberships as rules
from tenantry.domain.accounts import Account
from tenantry.domain.errors import ErrorCode, Forbidden, NotFound
from tenantry.domain.invitations import Invitation
from tenantry.domain.memberships import Membership, MembershipStatus
from tenantry.domain.roles import Need
from tenantry.domain.users import User, UserStatus
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.policy import is_the_person, may_grant, readable_accounts, role_in
from tenantry.services.policy_reach import reach_of
from tenantry.services.policy_roles import resolve_role
from tenantry.services.ports import UnitOfWork


def memberships_weighed_elsewhere(
    ctx: ServiceContext, uow: UnitOfWork, user: User, account_id: str
) -> list[tuple[Membership, Account]]:
    """The user's memberships in other accounts that the AppsFlyer multi-account rules weigh
    (`memberships.check_can_join`): those the person accepted, and, while the identity itself
    has never accepted anything, invitations of other accounts that are still open ("pending
    in another account"). An invitation to an identity that is in use elsewhere gates
    nothing: otherwise any account could lock a person out of every other one by inviting
    them, and that the person never agreed to."""
    held = uow.memberships.elsewhere(user.id, account_id)
    gating = user.status is UserStatus.PENDING and any(
        m.status is MembershipStatus.PENDING for m, _ in held
    )
    invitations = uow.invitations.open_for_user(user.id) if gating else []
    return weighed_elsewhere(ctx, user, held, invitations)


def weighed_elsewhere(
    ctx: ServiceContext,
    user: User,
    held: Sequence[tuple[Membership, Account]],
    open_invitations: Sequence[Invitation],
) -> list[tuple[Membership, Account]]:
    """`memberships_weighed_elsewhere` from what a caller read already: the user's memberships
    in the other accounts, and the user's open invitations."""
    now = ctx.now()

    def weighed(membership: Membership, account: Account) -> bool:
        if membership.status is MembershipStatus.ACTIVE:
            return True
        if user.status is not UserStatus.PENDING:
            return False
        return any(i.account_id == account.id and i.expires_at > now for i in open_invitations)

    return [(m, a) for m, a in held if weighed(m, a)]


def check_may_join(
    ctx: ServiceContext,
    account: Account,
    user: User,
    held: Sequence[tuple[Membership, Account]],
    open_invitations: Sequence[Invitation] = (),
) -> None:
    """The multi-account rules (`memberships.check_can_join`) for an identity that exists
    joining `account`, over what `weighed_elsewhere` weighs of its memberships elsewhere."""
    rules.check_can_join(account, weighed_elsewhere(ctx, user, held, open_invitations))


def check_may_edit_identity(
    ctx: ServiceContext, uow: UnitOfWork, actor: Actor, user: User, *, address: bool
) -> None:
    """Profile, address, password and second factor are the person's own, or an admin's of
    the identity's home account while every account the identity belongs to (pending
    invitations grant nothing and don't count) is within that admin's reach, and the person's
    role is nowhere above the admin's. A credential someone else made to act as the person is
    not the person. Someone else never moves the `address` of an account owner, nor of a
    person who secures their login with a second factor: with the address goes the login."""
    if actor.is_system or is_the_person(actor, user):
        return
    home = user.home_account_id
    held = [m for m in uow.memberships.for_user(user.id) if m.status is MembershipStatus.ACTIVE]
    if (
        home is None
        or not _admin_in(ctx, uow, actor, home)
        or not all(_admin_over(ctx, uow, actor, m) for m in held)
    ):
        raise Forbidden(ErrorCode.NOT_IDENTITY_OWNER, field="userName")
    owns = set(uow.accounts.owned_by(user.id)) & {m.account_id for m in held}
    if address and (owns or uow.passkeys.has_second_factor(user.id)):
        raise Forbidden(
            ErrorCode.NOT_IDENTITY_OWNER,
            "Only the person can change the address of an account owner or of a login "
            "secured with a second factor.",
            field="userName",
        )


def _admin_over(ctx: ServiceContext, uow: UnitOfWork, actor: Actor, m: Membership) -> bool:
    chain = uow.accounts.chain(m.account_id)
    role = role_in(ctx, uow, actor, chain)
    theirs = resolve_role(ctx, uow, chain[0], m.role_key) if chain else None
    return (
        role is not None
        and role.allows(Need.MANAGE_ADMINS)
        and (theirs is None or may_grant(role, theirs))
    )


def check_may_see_user(ctx: ServiceContext, uow: UnitOfWork, actor: Actor, user_id: str) -> User:
    """The user, for an actor who may read the members of an account the user belongs to;
    NotFound otherwise, so that an id tells a stranger nothing (not even an address)."""
    user = uow.users.find(user_id)
    if user is not None and not actor.is_system:
        accounts = [m.account_id for m in uow.memberships.for_user(user.id, reach_of(actor))]
        if not readable_accounts(ctx, uow, actor, accounts, with_members=True):
            user = None
    if user is None:
        raise NotFound(ErrorCode.USER_NOT_FOUND, field="userId")
    return user


def is_operator(ctx: ServiceContext, uow: UnitOfWork, actor: Actor) -> bool:
    """The deployment's operators, who see state that spans every account (mail waiting to go
    out): the system actor, and the admins of the first top-level account (`tenantry init`'s)."""
    if actor.is_system:
        return True
    root = uow.accounts.first_root()
    return root is not None and _admin_in(ctx, uow, actor, root.id)


def _admin_in(ctx: ServiceContext, uow: UnitOfWork, actor: Actor, account_id: str) -> bool:
    role = role_in(ctx, uow, actor, uow.accounts.chain(account_id))
    return role is not None and role.allows(Need.MANAGE_ADMINS)
