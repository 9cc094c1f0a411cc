"""The account security policy service on both engines: who may change it, what it stores and
audits, whom a stricter policy affects, and where its settings bite (new members' domains,
invitation and console session lifetimes)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tenantry.domain.account_policy import KEEP, Breach, PolicyChanges
from tenantry.domain.accounts import Account, SsoMode
from tenantry.domain.auth import SESSION_LIFETIME, SecondFactor
from tenantry.domain.errors import Conflict, ErrorCode, Forbidden, InvalidInput
from tenantry.services import accounts, auth, invitations, members
from tenantry.services.account_policy import PolicyUpdate, update_account_policy
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.members import NewMember
from tenantry.services.passwords import Argon2Hasher

from factories import OPERATOR, World, as_user, make_account, make_member, stored

PASSWORD = "Correct-Horse-42-battery"
ORIGIN = auth.Origin(source="192.0.2.1", user_agent="test")


class Clock:
    def __init__(self, ctx: ServiceContext) -> None:
        self.now = ctx.now()

    def __call__(self) -> object:
        return self.now


def policy_events(ctx: ServiceContext) -> list:  # type: ignore[type-arg]
    with ctx.uow(readonly=True) as uow:
        return uow.audit.query(account_ids=None, action="account.policy_update")


def change(ctx: ServiceContext, actor: Actor, account: Account, **values: object) -> PolicyUpdate:
    return update_account_policy(ctx, actor, account.id, PolicyChanges(**values))  # type: ignore[arg-type]


def emails_of(update: PolicyUpdate, breach: Breach) -> list[str]:
    [found] = [a for a in update.affected if a.breach is breach]
    assert found.total == len(found.members)
    return [m.email for m in found.members]


def confirm_second_factor(ctx: ServiceContext, user_id: str) -> None:
    with ctx.uow() as uow:
        uow.auth.replace_second_factor(
            SecondFactor(user_id, "JBSWY3DPEHPK3PXP", ctx.now(), None, ctx.now())
        )


def test_an_admin_changes_every_setting_and_it_is_audited(
    ctx: ServiceContext, world: World
) -> None:
    update = change(
        ctx,
        as_user(world.a_admin),
        world.a,
        multi_account_users=False,
        two_factor_required=True,
        sso_mode=SsoMode.REQUIRED,
        invitation_ttl_days=3,
        allowed_email_domains=[" Example.COM ", "bücher.example.", "example.com", ""],
        session_lifetime_minutes=30,
    )
    account = accounts.get_account(ctx, OPERATOR, world.a.id)
    assert update.account == account
    assert (account.multi_account_users, account.two_factor_required) == (False, True)
    assert (account.sso_mode, account.sso_enabled, account.sso_required) == (
        SsoMode.REQUIRED,
        True,
        True,
    )
    assert account.invitation_ttl_days == 3
    assert account.allowed_email_domains == ("example.com", "xn--bcher-kva.example")
    assert account.session_lifetime_minutes == 30
    [event] = policy_events(ctx)
    assert event.actor_id == world.a_admin.id
    assert event.account_id == world.a.id
    assert event.before["two_factor_required"] is False
    assert event.before["sso_mode"] == "off"
    assert event.after["sso_mode"] == "required"
    assert event.after["allowed_email_domains"] == ["example.com", "xn--bcher-kva.example"]
    # Back to the defaults: lifetimes None, any domain, SSO off.
    change(
        ctx,
        OPERATOR,
        world.a,
        sso_mode=SsoMode.OFF,
        invitation_ttl_days=None,
        allowed_email_domains=[],
        session_lifetime_minutes=None,
    )
    account = accounts.get_account(ctx, OPERATOR, world.a.id)
    assert (account.sso_enabled, account.sso_required) == (False, False)
    assert account.invitation_ttl_days is None
    assert account.allowed_email_domains == ()
    assert account.session_lifetime_minutes is None


def test_a_change_that_changes_nothing_is_not_audited(ctx: ServiceContext, world: World) -> None:
    update = change(ctx, OPERATOR, world.a, multi_account_users=True, invitation_ttl_days=KEEP)
    assert update.affected == []
    assert policy_events(ctx) == []


def test_a_parent_with_partner_reach_may_change_it(ctx: ServiceContext, world: World) -> None:
    change(ctx, as_user(world.host_admin), world.a, two_factor_required=True)
    assert accounts.get_account(ctx, OPERATOR, world.a.id).two_factor_required


def test_who_may_not_change_it(ctx: ServiceContext, world: World) -> None:
    manager = make_member(ctx, world.a, role="manage")
    walled = make_account(
        ctx, parent=world.host, can_partner_manage=False, admin_email="own-admin@example.com"
    )
    before = stored(ctx)
    for actor, account in (
        (as_user(world.b_admin), world.a),  # another account's admin
        (as_user(manager), world.a),  # a manage member
        (as_user(world.host_admin), walled),  # a parent without partner reach
    ):
        with pytest.raises(Forbidden):
            change(ctx, actor, account, two_factor_required=True)
    assert stored(ctx) == before


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"invitation_ttl_days": 0}, "invitation_days"),
        ({"invitation_ttl_days": 91}, "invitation_days"),
        ({"session_lifetime_minutes": 4}, "session_minutes"),
        ({"session_lifetime_minutes": 721}, "session_minutes"),
        ({"allowed_email_domains": ["example"]}, "allowed_email_domains"),
        ({"allowed_email_domains": ["exa mple.com"]}, "allowed_email_domains"),
        ({"allowed_email_domains": ["-bad.com"]}, "allowed_email_domains"),
        ({"allowed_email_domains": ["a..com"]}, "allowed_email_domains"),
        ({"allowed_email_domains": ["xn--a.com"]}, "allowed_email_domains"),
        ({"allowed_email_domains": ["*.example.com"]}, "allowed_email_domains"),
        ({"allowed_email_domains": [f"d{n}.example" for n in range(51)]}, "allowed_email_domains"),
    ],
)
def test_bad_values_are_refused_and_change_nothing(
    ctx: ServiceContext, world: World, values: dict[str, object], field: str
) -> None:
    before = stored(ctx)
    with pytest.raises(InvalidInput) as refused:
        change(ctx, OPERATOR, world.a, two_factor_required=True, **values)
    assert refused.value.field == field
    assert stored(ctx) == before


def test_the_answer_lists_the_members_a_stricter_policy_affects(
    ctx: ServiceContext, world: World
) -> None:
    secured = make_member(ctx, world.a, role="view", email="secured@example.com")
    confirm_second_factor(ctx, secured.id)
    confirm_second_factor(ctx, world.a_admin.id)
    twice = make_member(ctx, world.a, role="view", email="twice@other.example")
    make_member(ctx, world.b, role="view", email=twice.email)
    pending = make_member(ctx, world.a, role="view", email="pending@example.com", active=False)
    update = change(
        ctx,
        OPERATOR,
        world.a,
        two_factor_required=True,
        multi_account_users=False,
        allowed_email_domains=["example.com"],
        sso_mode=SsoMode.REQUIRED,
    )
    assert emails_of(update, Breach.WITHOUT_TWO_FACTOR) == sorted([pending.email, twice.email])
    assert emails_of(update, Breach.IN_OTHER_ACCOUNTS) == [twice.email]
    assert emails_of(update, Breach.OUTSIDE_ALLOWED_DOMAINS) == [twice.email]
    assert emails_of(update, Breach.NEEDS_SSO) == sorted(
        [world.a_admin.email, secured.email, twice.email, pending.email]
    )
    # They all keep their memberships.
    assert len(members.list_all_members(ctx, OPERATOR, world.a.id)) == 4
    [event] = policy_events(ctx)
    assert event.after["affected_members"] == {
        "without_two_factor": 2,
        "in_other_accounts": 1,
        "outside_allowed_domains": 1,
        "needs_sso": 4,
    }
    # Tightening again what is already on names nobody.
    assert change(ctx, OPERATOR, world.a, two_factor_required=True).affected == []


def test_allowed_domains_refuse_new_members_only(ctx: ServiceContext, world: World) -> None:
    outside = make_member(ctx, world.a, role="view", email="outsider@elsewhere.example")
    change(ctx, OPERATOR, world.a, allowed_email_domains=["Example.com"])
    with pytest.raises(Conflict) as refused:
        members.add_member(ctx, OPERATOR, world.a.id, NewMember("new@elsewhere.example", "view"))
    assert refused.value.code is ErrorCode.EMAIL_DOMAIN_NOT_ALLOWED
    assert refused.value.message == (
        "This user can't be added because this account only accepts addresses at example.com."
    )
    # A subdomain is another domain; an existing identity is refused alike.
    elsewhere = make_member(ctx, world.b, role="view", email="known@elsewhere.example")
    for email in ("new@eu.example.com", elsewhere.email):
        with pytest.raises(Conflict):
            members.add_member(ctx, OPERATOR, world.a.id, NewMember(email, "view"))
    added = members.add_member(ctx, OPERATOR, world.a.id, NewMember("New@EXAMPLE.com", "view"))
    assert added.user.email == "new@example.com"
    emails = {m.user.email for m in members.list_all_members(ctx, OPERATOR, world.a.id)}
    assert {outside.email, "new@example.com"} <= emails
    assert "new@elsewhere.example" not in emails


@pytest.fixture
def timed(ctx: ServiceContext) -> tuple[ServiceContext, Clock]:
    ctx.passwords = Argon2Hasher(time_cost=1, memory_cost=1024)
    clock = Clock(ctx)
    ctx.clock = clock  # type: ignore[assignment]
    return ctx, clock


def test_invitations_last_the_accounts_invitation_lifetime(
    timed: tuple[ServiceContext, Clock], world: World
) -> None:
    ctx, _ = timed
    change(ctx, OPERATOR, world.a, invitation_ttl_days=2)
    members.add_member(ctx, OPERATOR, world.a.id, NewMember("invited@example.com", "view"))
    with ctx.uow(readonly=True) as uow:
        user = uow.users.find_by_email("invited@example.com")
        assert user is not None
        [invitation] = uow.invitations.open_for(user.id, world.a.id)
    assert invitation.expires_at == ctx.now() + timedelta(days=2)


def _password_user(ctx: ServiceContext, account: Account) -> str:
    user = make_member(ctx, account, role="view")
    with ctx.uow() as uow:
        user.password_hash = ctx.passwords.hash(PASSWORD)
        uow.users.update(user)
    return user.email


def test_the_strictest_account_bounds_new_sessions(
    timed: tuple[ServiceContext, Clock], world: World
) -> None:
    ctx, _ = timed
    email = _password_user(ctx, world.a)
    assert auth.sign_in(ctx, email, PASSWORD, ORIGIN).expires_at == ctx.now() + SESSION_LIFETIME
    make_member(ctx, world.b, role="view", email=email)
    change(ctx, OPERATOR, world.a, session_lifetime_minutes=120)
    change(ctx, OPERATOR, world.b, session_lifetime_minutes=45)
    issued = auth.sign_in(ctx, email, PASSWORD, ORIGIN)
    assert issued.expires_at == ctx.now() + timedelta(minutes=45)


def test_a_shorter_lifetime_ends_longer_sessions_now(
    timed: tuple[ServiceContext, Clock], world: World
) -> None:
    ctx, clock = timed
    email = _password_user(ctx, world.a)
    outsider = _password_user(ctx, world.b)
    cookie = auth.sign_in(ctx, email, PASSWORD, ORIGIN).cookie
    unbound = auth.sign_in(ctx, outsider, PASSWORD, ORIGIN).cookie
    clock.now += timedelta(minutes=20)
    update = change(ctx, as_user(world.a_admin), world.a, session_lifetime_minutes=30)
    assert update.sessions_shortened == 1
    assert auth.authenticate_session(ctx, cookie) is not None
    clock.now += timedelta(minutes=11)  # 31 minutes after signing in
    assert auth.authenticate_session(ctx, cookie) is None
    assert auth.authenticate_session(ctx, unbound) is not None
    update = change(ctx, as_user(world.a_admin), world.a, session_lifetime_minutes=5)
    assert update.sessions_shortened == 0  # nothing live is longer any more


def test_joining_a_stricter_account_while_signed_in_shortens_the_session(
    timed: tuple[ServiceContext, Clock], world: World
) -> None:
    ctx, clock = timed
    email = _password_user(ctx, world.a)
    cookie = auth.sign_in(ctx, email, PASSWORD, ORIGIN).cookie
    change(ctx, OPERATOR, world.b, session_lifetime_minutes=15)
    added = members.add_member(ctx, OPERATOR, world.b.id, NewMember(email, "view"))
    assert added.invitation_token is not None
    # An invitation not accepted yet binds nobody.
    assert auth.sign_in(ctx, email, PASSWORD, ORIGIN).expires_at == ctx.now() + SESSION_LIFETIME
    clock.now += timedelta(minutes=10)
    signed_in = auth.authenticate_session(ctx, cookie)
    assert signed_in is not None
    invitations.accept_invitation(
        ctx, added.invitation_token, email, None, signed_in_user_id=signed_in.user.id
    )
    assert auth.authenticate_session(ctx, cookie) is not None
    clock.now += timedelta(minutes=6)  # 16 minutes after signing in
    assert auth.authenticate_session(ctx, cookie) is None
