"""API accounts, access tokens and API tokens: issuing, authenticating, throttling, revoking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from tenantry.domain import credentials as domain_credentials
from tenantry.domain.accounts import Account, AccountKind
from tenantry.domain.errors import (
    Conflict,
    ErrorCode,
    Forbidden,
    InvalidInput,
    Throttled,
    Unauthenticated,
)
from tenantry.services import credentials, members, roles
from tenantry.services.context import Actor, ActorKind, ServiceContext
from tenantry.services.members import NewMember
from tenantry.storage.repositories import credentials as credential_rows

from factories import OPERATOR, World, as_user, make_account, make_member, unique_email


@dataclass
class Clock:
    at: datetime

    def __call__(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at += delta


@pytest.fixture
def clock(ctx: ServiceContext) -> Clock:
    # Start one second into a window of the old fixed kind, so tests can place failures
    # against its boundary.
    window = ctx.settings.token_failure_window_seconds
    now = ctx.now()
    start = datetime.fromtimestamp(int(now.timestamp()) // window * window, tz=now.tzinfo)
    moving = Clock(start + timedelta(seconds=1))
    ctx.clock = moving
    return moving


_names = iter(range(1, 1_000_000))


def client_name() -> str:
    return f"client{next(_names)}"


def api_account(ctx: ServiceContext, account_id: str) -> tuple[str, str]:
    created, secret = credentials.create_api_account(ctx, OPERATOR, account_id, client_name())
    return created.client_id, secret


# -- API accounts and access tokens ------------------------------------------------------------


def test_client_credentials_give_an_api_account_actor(ctx: ServiceContext, world: World) -> None:
    client_id, secret = api_account(ctx, world.a.id)
    issued = credentials.issue_access_token(ctx, client_id, secret, source="10.0.0.1")
    assert issued.expires_in == ctx.settings.access_token_ttl_seconds
    actor = credentials.authenticate(ctx, issued.token, face="graphql", request_id="req-1")
    assert actor.kind is ActorKind.API_ACCOUNT
    assert actor.id == client_id
    assert actor.home_account_id == world.a.id
    assert actor.user_id is None
    assert actor.face == "graphql"
    assert actor.request_id == "req-1"
    # It acts as an admin of its own account, and nowhere else.
    page = members.list_members(ctx, actor, world.a.id)
    assert [m.user.id for m in page.items] == [world.a_admin.id]
    with pytest.raises(Forbidden):
        members.list_members(ctx, actor, world.b.id)
    with pytest.raises(Forbidden):
        members.list_members(ctx, actor, world.host.id)


def test_the_secret_is_stored_only_as_a_digest(ctx: ServiceContext, world: World) -> None:
    client_id, secret = api_account(ctx, world.a.id)
    stored = credentials.list_api_accounts(ctx, OPERATOR, world.a.id)
    assert [a.client_id for a in stored] == [client_id]
    assert secret not in stored[0].secret_hash
    assert len(stored[0].secret_hash) == 64


def test_a_partner_api_account_reaches_its_advertisers(ctx: ServiceContext, world: World) -> None:
    client_id, secret = api_account(ctx, world.host.id)
    token = credentials.issue_access_token(ctx, client_id, secret).token
    actor = credentials.authenticate(ctx, token, face="graphql")
    added = members.add_member(
        ctx, actor, world.b.id, NewMember(email=unique_email(), role_key="marketing")
    )
    assert added.membership.account_id == world.b.id


@pytest.mark.parametrize("case", ["wrong-secret", "unknown-client", "empty-secret"])
def test_bad_client_credentials_are_refused(
    ctx: ServiceContext, world: World, clock: Clock, case: str
) -> None:
    client_id, secret = api_account(ctx, world.a.id)
    presented = {
        "wrong-secret": (client_id, secret + "x"),
        "unknown-client": ("nosuchclient", secret),
        "empty-secret": (client_id, ""),
    }[case]
    with pytest.raises(Unauthenticated):
        credentials.issue_access_token(ctx, *presented, source="10.0.0.2")


def test_repeated_failures_throttle_even_the_right_secret(
    ctx: ServiceContext, world: World, clock: Clock
) -> None:
    client_id, secret = api_account(ctx, world.a.id)
    limit = ctx.settings.token_failures_per_window
    for _ in range(limit):
        with pytest.raises(Unauthenticated):
            credentials.issue_access_token(ctx, client_id, "wrong", source="10.0.0.3")
    with pytest.raises(Throttled) as caught:
        credentials.issue_access_token(ctx, client_id, secret, source="10.0.0.3")
    assert caught.value.code is ErrorCode.THROTTLED
    # Only that address: failing there does not lock the client out everywhere.
    elsewhere = credentials.issue_access_token(ctx, client_id, secret, source="10.0.0.4")
    assert credentials.authenticate(ctx, elsewhere.token, face="graphql").id == client_id
    # Once the window is over, the right secret works again.
    clock.advance(timedelta(seconds=ctx.settings.token_failure_window_seconds))
    issued = credentials.issue_access_token(ctx, client_id, secret, source="10.0.0.3")
    assert credentials.authenticate(ctx, issued.token, face="graphql").id == client_id


def test_failures_just_before_a_window_turns_over_still_throttle(
    ctx: ServiceContext, world: World, clock: Clock
) -> None:
    client_id, secret = api_account(ctx, world.a.id)
    window = timedelta(seconds=ctx.settings.token_failure_window_seconds)
    clock.advance(window - timedelta(seconds=3))  # the fixture starts a window: near its end
    for _ in range(ctx.settings.token_failures_per_window):
        with pytest.raises(Unauthenticated):
            credentials.issue_access_token(ctx, client_id, "wrong", source="10.0.0.9")
    clock.advance(timedelta(seconds=5))
    with pytest.raises(Throttled):
        credentials.issue_access_token(ctx, client_id, secret, source="10.0.0.9")


def test_failures_below_the_limit_do_not_throttle(
    ctx: ServiceContext, world: World, clock: Clock
) -> None:
    client_id, secret = api_account(ctx, world.a.id)
    for _ in range(ctx.settings.token_failures_per_window - 1):
        with pytest.raises(Unauthenticated):
            credentials.issue_access_token(ctx, client_id, "wrong", source="10.0.0.5")
    credentials.issue_access_token(ctx, client_id, secret, source="10.0.0.5")


def test_one_address_failing_on_many_clients_is_throttled(
    ctx: ServiceContext, world: World, clock: Clock
) -> None:
    client_id, secret = api_account(ctx, world.a.id)
    for _ in range(ctx.settings.token_failures_per_window):
        with pytest.raises(Unauthenticated):
            credentials.issue_access_token(ctx, client_name(), "guess", source="10.9.9.9")
    with pytest.raises(Throttled):
        credentials.issue_access_token(ctx, client_id, secret, source="10.9.9.9")
    credentials.issue_access_token(ctx, client_id, secret, source="10.0.0.6")


def test_a_revoked_api_account_loses_its_tokens(ctx: ServiceContext, world: World) -> None:
    client_id, secret = api_account(ctx, world.a.id)
    token = credentials.issue_access_token(ctx, client_id, secret).token
    credentials.authenticate(ctx, token, face="graphql")
    credentials.revoke_api_account(ctx, as_user(world.a_admin), world.a.id, client_id)
    with pytest.raises(Unauthenticated):
        credentials.authenticate(ctx, token, face="graphql")
    with pytest.raises(Unauthenticated):
        credentials.issue_access_token(ctx, client_id, secret, source="10.0.0.7")


def test_access_tokens_expire(ctx: ServiceContext, world: World, clock: Clock) -> None:
    client_id, secret = api_account(ctx, world.a.id)
    token = credentials.issue_access_token(ctx, client_id, secret).token
    clock.advance(timedelta(seconds=ctx.settings.access_token_ttl_seconds - 1))
    credentials.authenticate(ctx, token, face="graphql")
    clock.advance(timedelta(seconds=1))
    with pytest.raises(Unauthenticated):
        credentials.authenticate(ctx, token, face="graphql")


@pytest.mark.parametrize("how", ["secret", "key", "prefix", "garbage", "empty"])
def test_tampered_access_tokens_are_refused(ctx: ServiceContext, world: World, how: str) -> None:
    client_id, secret = api_account(ctx, world.a.id)
    token = credentials.issue_access_token(ctx, client_id, secret).token
    prefix, key, token_secret = token.split("_", 2)
    tampered = {
        "secret": f"{prefix}_{key}_{token_secret[:-1]}{'B' if token_secret[-1] == 'A' else 'A'}",
        "key": f"{prefix}_{'0' * len(key)}_{token_secret}",
        "prefix": f"tnt_{key}_{token_secret}",
        "garbage": "Bearer " + token,
        "empty": "",
    }[how]
    with pytest.raises(Unauthenticated):
        credentials.authenticate(ctx, tampered, face="graphql")


def test_client_ids_are_unique(ctx: ServiceContext, world: World) -> None:
    client_id, _ = api_account(ctx, world.a.id)
    with pytest.raises(Conflict) as caught:
        credentials.create_api_account(ctx, OPERATOR, world.b.id, client_id)
    assert caught.value.code is ErrorCode.ID_TAKEN


def test_client_id_with_a_trailing_newline_is_invalid(ctx: ServiceContext, world: World) -> None:
    with pytest.raises(InvalidInput):
        credentials.create_api_account(ctx, OPERATOR, world.a.id, "A" * 20 + "\n")


def test_only_admins_manage_api_access(ctx: ServiceContext, world: World) -> None:
    manager = make_member(ctx, world.a, role="manage")
    with pytest.raises(Forbidden):
        credentials.create_api_account(ctx, as_user(manager), world.a.id, client_name())
    with pytest.raises(Forbidden):
        credentials.create_api_account(ctx, as_user(world.b_admin), world.a.id, client_name())
    assert credentials.list_api_accounts(ctx, OPERATOR, world.a.id) == []


# -- API tokens --------------------------------------------------------------------------------


def test_an_api_token_acts_as_its_user(ctx: ServiceContext, world: World) -> None:
    worker = make_member(ctx, world.a, role="marketing")
    api_token, token, user = credentials.create_api_token(
        ctx, as_user(world.a_admin), world.a.id, user_email=worker.email, name="nightly sync"
    )
    assert user.id == worker.id
    assert api_token.name == "nightly sync"
    assert token.split("_")[1] == api_token.key
    actor = credentials.authenticate(ctx, token, face="bulk", request_id="r-9")
    assert actor.kind is ActorKind.API_TOKEN
    assert actor.user_id == worker.id
    assert actor.label == worker.email
    assert actor.home_account_id == world.a.id
    assert actor.request_id == "r-9"
    # A marketing user reads members but adds nobody, and so does their token.
    members.list_members(ctx, actor, world.a.id)
    with pytest.raises(Forbidden):
        members.add_member(ctx, actor, world.a.id, NewMember(email=unique_email(), role_key="qa"))


def test_an_api_token_defaults_to_the_first_admin(ctx: ServiceContext, world: World) -> None:
    _, token, user = credentials.create_api_token(ctx, OPERATOR, world.a.id)
    assert user.id == world.a_admin.id
    assert credentials.authenticate(ctx, token, face="bulk").user_id == world.a_admin.id


def test_an_api_token_stays_in_its_account(ctx: ServiceContext, world: World) -> None:
    # The same person administers a and b; a token made in a must not reach b.
    both = make_member(ctx, world.a, role="admin")
    make_member(ctx, world.b, role="admin", email=both.email)
    members.list_members(ctx, as_user(both), world.b.id)
    _, token, _ = credentials.create_api_token(ctx, OPERATOR, world.a.id, user_email=both.email)
    actor = credentials.authenticate(ctx, token, face="bulk")
    members.list_members(ctx, actor, world.a.id)
    with pytest.raises(Forbidden):
        members.list_members(ctx, actor, world.b.id)


def test_a_revoked_api_token_fails(ctx: ServiceContext, world: World) -> None:
    api_token, token, _ = credentials.create_api_token(ctx, OPERATOR, world.a.id)
    credentials.authenticate(ctx, token, face="bulk")
    credentials.revoke_api_token(ctx, as_user(world.a_admin), world.a.id, api_token.key)
    with pytest.raises(Unauthenticated):
        credentials.authenticate(ctx, token, face="bulk")


def test_an_expired_api_token_fails(ctx: ServiceContext, world: World, clock: Clock) -> None:
    expires = clock.at + timedelta(days=30)
    _, token, _ = credentials.create_api_token(ctx, OPERATOR, world.a.id, expires_at=expires)
    clock.advance(timedelta(days=30) - timedelta(seconds=1))
    credentials.authenticate(ctx, token, face="bulk")
    clock.advance(timedelta(seconds=1))
    with pytest.raises(Unauthenticated) as caught:
        credentials.authenticate(ctx, token, face="bulk")
    assert caught.value.message == "The token has expired."


def test_a_deactivated_user_token_fails(ctx: ServiceContext, world: World) -> None:
    worker = make_member(ctx, world.a, role="marketing")
    _, token, _ = credentials.create_api_token(ctx, OPERATOR, world.a.id, user_email=worker.email)
    members.set_user_active(ctx, OPERATOR, world.a.id, worker.id, False)
    with pytest.raises(Unauthenticated):
        credentials.authenticate(ctx, token, face="bulk")


def test_a_token_stops_working_when_its_user_expires(
    ctx: ServiceContext, world: World, clock: Clock
) -> None:
    worker = make_member(ctx, world.a, role="marketing")
    _, token, _ = credentials.create_api_token(ctx, OPERATOR, world.a.id, user_email=worker.email)
    with ctx.uow() as uow:
        worker.expires_on = clock.at.date() + timedelta(days=1)
        uow.users.update(worker)
    clock.advance(timedelta(days=1))
    assert credentials.authenticate(ctx, token, face="bulk").user_id == worker.id  # its last day
    clock.advance(timedelta(days=1))
    with pytest.raises(Unauthenticated) as caught:
        credentials.authenticate(ctx, token, face="bulk")
    assert caught.value.message == "The token's user has expired."


def _integrator_role(ctx: ServiceContext, account: Account) -> str:
    """A custom role with API access and nothing else of note: no admin, no user changes."""
    roles.create_custom_role(
        ctx,
        OPERATOR,
        account.id,
        key="integrator",
        display_name="Integrator",
        capabilities={"account": {"api_access": "all"}, "user_management": {"users": "read"}},
    )
    return "integrator"


def test_api_access_alone_mints_no_token_acting_as_an_admin(
    ctx: ServiceContext, world: World
) -> None:
    integrator = make_member(ctx, world.a, role=_integrator_role(ctx, world.a))
    actor = as_user(integrator)
    for named in (world.a_admin.email, None):  # by name, and the default (the first admin)
        with pytest.raises(Forbidden) as caught:
            credentials.create_api_token(ctx, actor, world.a.id, user_email=named)
        assert caught.value.field == "user"
    assert credentials.list_api_tokens(ctx, OPERATOR, world.a.id) == []
    # Acting as themselves, or as someone whose role gives nothing more, is theirs to do.
    _, token, user = credentials.create_api_token(
        ctx, actor, world.a.id, user_email=integrator.email
    )
    assert user.id == integrator.id
    assert credentials.authenticate(ctx, token, face="bulk").user_id == integrator.id
    # An admin may name anyone.
    credentials.create_api_token(ctx, as_user(world.a_admin), world.a.id, user_email=None)


def test_a_token_acts_with_its_users_role_in_its_own_account_only(
    ctx: ServiceContext, world: World
) -> None:
    """Below its account, a token has the role it inherits there, not the stronger one its
    user holds in a child: minting checks the role in the token's account only."""
    role = _integrator_role(ctx, world.host)
    agency = make_account(ctx, parent=world.host, kind=AccountKind.AGENCY)
    minter = make_member(ctx, world.host, role=role)
    peer = make_member(ctx, world.host, role=role)
    make_member(ctx, agency, role="admin", email=peer.email)  # the peer is the agency's admin
    _, token, _ = credentials.create_api_token(
        ctx, as_user(minter), world.host.id, user_email=peer.email
    )
    acting = credentials.authenticate(ctx, token, face="bulk")
    with pytest.raises(Forbidden):
        members.add_member(ctx, acting, agency.id, NewMember(unique_email("new"), "admin"))
    # The peer, signed in as themselves, is the agency's admin as before.
    added = members.add_member(ctx, as_user(peer), agency.id, NewMember(unique_email(), "view"))
    assert added.membership.account_id == agency.id


def test_a_token_acts_only_as_an_active_member(ctx: ServiceContext, world: World) -> None:
    pending = make_member(ctx, world.a, role="marketing", active=False)
    for email in (pending.email, world.b_admin.email):
        with pytest.raises(InvalidInput):
            credentials.create_api_token(ctx, OPERATOR, world.a.id, user_email=email)
    assert credentials.list_api_tokens(ctx, OPERATOR, world.a.id) == []


def test_a_tampered_api_token_fails(ctx: ServiceContext, world: World) -> None:
    _, token, _ = credentials.create_api_token(ctx, OPERATOR, world.a.id)
    with pytest.raises(Unauthenticated):
        credentials.authenticate(ctx, token[:-2], face="bulk")
    with pytest.raises(Unauthenticated):
        credentials.authenticate(ctx, token.replace("tnt_", "tna_", 1), face="bulk")


def test_use_is_remembered_without_writing_on_every_call(
    ctx: ServiceContext, world: World, clock: Clock
) -> None:
    api_token, token, _ = credentials.create_api_token(ctx, OPERATOR, world.a.id)
    credentials.authenticate(ctx, token, face="bulk")
    first = credentials.list_api_tokens(ctx, OPERATOR, world.a.id)[0].last_used_at
    assert first == clock.at
    clock.advance(timedelta(seconds=10))
    credentials.authenticate(ctx, token, face="bulk")
    assert credentials.list_api_tokens(ctx, OPERATOR, world.a.id)[0].last_used_at == first
    clock.advance(credentials.TOUCH_INTERVAL)
    credentials.authenticate(ctx, token, face="bulk")
    assert credentials.list_api_tokens(ctx, OPERATOR, world.a.id)[0].last_used_at == clock.at
    assert api_token.key == credentials.list_api_tokens(ctx, OPERATOR, world.a.id)[0].key


def test_actor_helpers() -> None:
    system = Actor.system(face="cli")
    assert system.is_system
    via = system.via("graphql", "req-2")
    assert (via.face, via.request_id) == ("graphql", "req-2")


def test_an_account_has_a_bounded_number_of_open_credentials(
    ctx: ServiceContext, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(domain_credentials, "MAX_OPEN_CREDENTIALS", 2)
    first, _ = api_account(ctx, world.a.id)
    api_account(ctx, world.a.id)
    with pytest.raises(Conflict, match="at most 2 API accounts"):
        api_account(ctx, world.a.id)
    credentials.revoke_api_account(ctx, OPERATOR, world.a.id, first)
    api_account(ctx, world.a.id)  # a revoked one leaves room
    api_account(ctx, world.b.id)  # another account has room of its own
    for _ in range(2):
        credentials.create_api_token(ctx, OPERATOR, world.a.id)
    with pytest.raises(Conflict, match="at most 2 API tokens"):
        credentials.create_api_token(ctx, OPERATOR, world.a.id)


def test_a_listing_shows_the_open_credentials_and_the_latest_revoked(
    ctx: ServiceContext, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(credential_rows, "REVOKED_LISTED", 1)
    made = [api_account(ctx, world.a.id)[0] for _ in range(4)]
    for client_id in made[:3]:
        credentials.revoke_api_account(ctx, OPERATOR, world.a.id, client_id)
    listed = credentials.list_api_accounts(ctx, OPERATOR, world.a.id)
    assert [a.client_id for a in listed] == [made[2], made[3]]
    tokens = [credentials.create_api_token(ctx, OPERATOR, world.a.id)[0] for _ in range(3)]
    for token in tokens[:2]:
        credentials.revoke_api_token(ctx, OPERATOR, world.a.id, token.key)
    shown = credentials.list_api_tokens_with_users(ctx, OPERATOR, world.a.id)
    assert [t.token.key for t in shown] == [tokens[1].key, tokens[2].key]
