"""Invitations: renew, revoke, list and accept, and every way a link stops working."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from tenantry.domain.errors import ErrorCode, Forbidden, InvalidInput, NotFound
from tenantry.domain.invitations import InvitationStatus
from tenantry.domain.memberships import MembershipStatus
from tenantry.domain.users import User, UserStatus
from tenantry.services import invitations, members
from tenantry.services.context import ServiceContext
from tenantry.services.delivery import invitation_link
from tenantry.services.invitations import INVALID_LINK
from tenantry.services.members import AddedMember, NewMember

from factories import OPERATOR, World, as_user, make_member, set_policy, unique_email

STRONG_PASSWORD = "Correct-Horse-9-Battery"


@dataclass
class Clock:
    """A clock the test moves by hand."""

    at: datetime

    def __call__(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at += delta


@pytest.fixture
def clock(ctx: ServiceContext) -> Clock:
    moving = Clock(ctx.now())
    ctx.clock = moving
    return moving


def invite(ctx: ServiceContext, world: World, email: str | None = None) -> AddedMember:
    added = members.add_member(
        ctx,
        as_user(world.a_admin),
        world.a.id,
        NewMember(email=email or unique_email("invitee"), role_key="marketing"),
    )
    assert added.invitation_token is not None
    return added


def state(ctx: ServiceContext, added: AddedMember) -> tuple[User, MembershipStatus, int]:
    """The user, their membership status and the number of audit events: what must not move."""
    with ctx.uow(readonly=True) as uow:
        user = uow.users.get(added.user.id)
        membership = uow.memberships.find(added.user.id, added.membership.account_id)
        events = len(uow.audit.query(account_ids=None, limit=10_000))
    assert membership is not None
    return user, membership.status, events


def assert_refused(ctx: ServiceContext, token: str, email: str, added: AddedMember) -> None:
    before = state(ctx, added)
    with pytest.raises(InvalidInput) as caught:
        invitations.accept_invitation(ctx, token, email, STRONG_PASSWORD)
    assert caught.value.message == INVALID_LINK
    assert caught.value.field == "token"
    assert state(ctx, added) == before


def test_accepting_activates_user_and_membership(ctx: ServiceContext, world: World) -> None:
    added = invite(ctx, world)
    assert added.invitation_token is not None
    user = invitations.accept_invitation(
        ctx, added.invitation_token, f"  {added.user.email.upper()} ", STRONG_PASSWORD
    )
    assert user.status is UserStatus.ACTIVATED
    assert int(user.status) == 1
    stored, membership_status, _ = state(ctx, added)
    assert stored.status is UserStatus.ACTIVATED
    assert membership_status is MembershipStatus.ACTIVE
    assert stored.password_hash is not None
    assert STRONG_PASSWORD not in stored.password_hash
    assert ctx.passwords.verify(stored.password_hash, STRONG_PASSWORD)
    views = invitations.list_invitations(ctx, as_user(world.a_admin), world.a.id)
    assert [v.status for v in views if v.invitation.user_id == added.user.id] == [
        InvitationStatus.ACCEPTED
    ]


@pytest.mark.parametrize(
    "password",
    [None, "short1A!", "alllowercaseletters", "{local}-2024-X!"],
    ids=["missing", "short", "one-kind", "contains-email"],
)
def test_weak_passwords_are_refused_and_the_link_still_works(
    ctx: ServiceContext, world: World, password: str | None
) -> None:
    added = invite(ctx, world)
    assert added.invitation_token is not None
    if password is not None:
        password = password.format(local=added.user.email.split("@")[0].upper())
    before = state(ctx, added)
    with pytest.raises(InvalidInput) as caught:
        invitations.accept_invitation(ctx, added.invitation_token, added.user.email, password)
    assert caught.value.code is ErrorCode.WEAK_PASSWORD
    assert state(ctx, added) == before
    invitations.accept_invitation(ctx, added.invitation_token, added.user.email, STRONG_PASSWORD)


def test_a_used_link_is_refused(ctx: ServiceContext, world: World) -> None:
    added = invite(ctx, world)
    assert added.invitation_token is not None
    invitations.accept_invitation(ctx, added.invitation_token, added.user.email, STRONG_PASSWORD)
    assert_refused(ctx, added.invitation_token, added.user.email, added)


def test_renewing_kills_the_old_link(ctx: ServiceContext, world: World) -> None:
    added = invite(ctx, world)
    assert added.invitation_token is not None
    fresh = invitations.renew_invitation(
        ctx, as_user(world.a_admin), world.a.id, added.user.email.upper()
    )
    assert fresh != added.invitation_token
    assert_refused(ctx, added.invitation_token, added.user.email, added)
    user = invitations.accept_invitation(ctx, fresh, added.user.email, STRONG_PASSWORD)
    assert user.status is UserStatus.ACTIVATED


def test_renewing_for_an_active_member_or_a_stranger_is_refused(
    ctx: ServiceContext, world: World
) -> None:
    active = make_member(ctx, world.a, role="qa")
    with pytest.raises(InvalidInput):
        invitations.renew_invitation(ctx, OPERATOR, world.a.id, active.email)
    with pytest.raises(NotFound):
        invitations.renew_invitation(ctx, OPERATOR, world.a.id, world.b_admin.email)
    with pytest.raises(NotFound):
        invitations.renew_invitation(ctx, OPERATOR, world.a.id, "nobody@example.com")


def test_revoked_link_is_refused(ctx: ServiceContext, world: World) -> None:
    added = invite(ctx, world)
    assert added.invitation_token is not None
    assert invitations.revoke_invitation(ctx, OPERATOR, world.a.id, added.user.email) == 1
    assert invitations.revoke_invitation(ctx, OPERATOR, world.a.id, added.user.email) == 0
    assert_refused(ctx, added.invitation_token, added.user.email, added)
    views = invitations.list_invitations(ctx, OPERATOR, world.a.id)
    assert [v.status for v in views if v.invitation.user_id == added.user.id] == [
        InvitationStatus.REVOKED
    ]


def test_expired_link_is_refused(ctx: ServiceContext, world: World, clock: Clock) -> None:
    added = invite(ctx, world)
    assert added.invitation_token is not None
    ttl = timedelta(days=ctx.settings.invitation_ttl_days)
    clock.advance(ttl - timedelta(seconds=1))
    views = invitations.list_invitations(ctx, OPERATOR, world.a.id)
    assert [v.status for v in views if v.invitation.user_id == added.user.id] == [
        InvitationStatus.PENDING
    ]
    clock.advance(timedelta(seconds=1))
    assert_refused(ctx, added.invitation_token, added.user.email, added)
    # A renewed link runs from the moment it is made.
    fresh = invitations.renew_invitation(ctx, OPERATOR, world.a.id, added.user.email)
    clock.advance(ttl - timedelta(seconds=1))
    invitations.accept_invitation(ctx, fresh, added.user.email, STRONG_PASSWORD)


def test_the_account_sets_how_long_links_last(
    ctx: ServiceContext, world: World, clock: Clock
) -> None:
    set_policy(ctx, world.a.id, invitation_ttl_days=1)
    added = invite(ctx, world)
    assert added.invitation_token is not None
    clock.advance(timedelta(days=1))
    assert_refused(ctx, added.invitation_token, added.user.email, added)


def _flip(text: str, position: int) -> str:
    char = text[position]
    return text[:position] + ("B" if char == "A" else "A") + text[position + 1 :]


@pytest.mark.parametrize("how", ["first-char", "last-char", "truncated", "extended", "empty"])
def test_tampered_tokens_are_refused(ctx: ServiceContext, world: World, how: str) -> None:
    added = invite(ctx, world)
    token = added.invitation_token
    assert token is not None
    tampered = {
        "first-char": _flip(token, 0),
        "last-char": _flip(token, -1),
        "truncated": token[:-1],
        "extended": token + "A",
        "empty": "",
    }[how]
    assert_refused(ctx, tampered, added.user.email, added)
    invitations.accept_invitation(ctx, token, added.user.email, STRONG_PASSWORD)


@pytest.mark.parametrize("email", ["someone.else@example.com", "not an email", ""])
def test_a_link_only_works_for_its_own_address(
    ctx: ServiceContext, world: World, email: str
) -> None:
    added = invite(ctx, world)
    assert added.invitation_token is not None
    assert_refused(ctx, added.invitation_token, email, added)


def test_accepting_records_who_accepted(ctx: ServiceContext, world: World) -> None:
    added = invite(ctx, world)
    assert added.invitation_token is not None
    invitations.accept_invitation(
        ctx, added.invitation_token, added.user.email, STRONG_PASSWORD, face="graphql"
    )
    with ctx.uow(readonly=True) as uow:
        event = uow.audit.query(account_ids=[world.a.id], limit=1)[0]
    assert event.action == "invitation.accept"
    assert event.actor_id == added.user.id
    assert event.actor_kind == "user"
    assert event.face == "graphql"
    assert event.target_id == added.user.id


def test_invitation_link_carries_token_and_email(ctx: ServiceContext, world: World) -> None:
    added = invite(ctx, world, email="demi+ads@example.com")
    assert added.invitation_token is not None
    link = invitation_link(ctx, added.invitation_token, added.user.email)
    assert link.startswith("http://testserver/auth/verify/?")
    assert f"token={added.invitation_token}" in link
    assert "et=inv" in link
    assert "email=demi%2Bads@example.com" in link


def test_only_user_managers_see_invitations(ctx: ServiceContext, world: World) -> None:
    viewer = make_member(ctx, world.a, role="view")
    invite(ctx, world)
    with pytest.raises(Forbidden):
        invitations.list_invitations(ctx, as_user(viewer), world.a.id)
    with pytest.raises(Forbidden):
        invitations.revoke_invitation(ctx, as_user(world.b_admin), world.a.id, "x@example.com")
