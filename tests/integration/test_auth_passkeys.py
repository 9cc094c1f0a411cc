"""Passkeys as a second factor, on both engines: registration and sign-in checked with real
WebAuthn answers from a software authenticator (real keys, real signatures), the challenge
bound to its session and used once, counters that must move forward, the account rules that
count a passkey as two-factor sign-in, and revocation when an address is proven."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tenantry.domain.account_policy import Breach, PolicyChanges
from tenantry.domain.accounts import Account
from tenantry.domain.auth import SessionStage, totp_code, totp_step
from tenantry.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from tenantry.domain.passkeys import (
    MAX_NAME_CHARS,
    MAX_PASSKEYS,
    normalize_passkey_name,
    relying_party,
)
from tenantry.services import account_policy, auth, auth_passkeys, auth_totp, identities
from tenantry.services.auth import SignedIn
from tenantry.services.context import ServiceContext

from factories import OPERATOR, World, make_member, set_policy
from passkey_authenticator import USER_PRESENT, SoftwareAuthenticator

ORIGIN = auth.Origin(source="192.0.2.1", user_agent="test", request_id="req-1")
PASSWORD = "Correct-Horse-42-battery"
SITE = "http://testserver"  # the tests' base URL: the relying party is `testserver`


def _person(ctx: ServiceContext, world: World, account: Account | None = None) -> str:
    user = make_member(ctx, account or world.a, role="manage")
    with ctx.uow() as uow:
        user.password_hash = ctx.passwords.hash(PASSWORD)
        uow.users.update(user)
    return user.email


def _signed_in(ctx: ServiceContext, email: str) -> SignedIn:
    issued = auth.sign_in(ctx, email, PASSWORD, ORIGIN)
    signed_in = auth.authenticate_session(ctx, issued.cookie)
    assert signed_in is not None
    return signed_in


def _add(
    ctx: ServiceContext, signed_in: SignedIn, name: str = "Laptop"
) -> tuple[SoftwareAuthenticator, auth_passkeys.PasskeyAdded]:
    device = SoftwareAuthenticator()
    options = auth_passkeys.start_passkey_registration(ctx, signed_in)
    added = auth_passkeys.add_passkey(ctx, signed_in, name, device.create(options, SITE), ORIGIN)
    return device, added


def _audit(ctx: ServiceContext, action: str) -> list[dict[str, object]]:
    with ctx.uow(readonly=True) as uow:
        return [e.after for e in uow.audit.query(account_ids=None, action=action, limit=50)]


def test_the_relying_party_is_the_base_urls_host() -> None:
    party = relying_party("https://Console.Example.com:8443/")
    assert party is not None
    assert (party.id, party.origin) == ("console.example.com", "https://console.example.com:8443")
    local = relying_party("http://localhost:8000")
    assert local is not None
    assert (local.id, local.origin) == ("localhost", "http://localhost:8000")
    # Browsers refuse an IP address as a passkey's site.
    assert relying_party("http://127.0.0.1:8000") is None
    assert relying_party("http://[::1]:8000") is None


def test_a_name_is_trimmed_printable_and_bounded() -> None:
    assert normalize_passkey_name(" Blue\tkey\x00 ") == "Blue key"
    assert normalize_passkey_name("é" * MAX_NAME_CHARS) == "é" * MAX_NAME_CHARS
    for bad in ("", " \n ", "\x00", "x" * (MAX_NAME_CHARS + 1)):
        with pytest.raises(InvalidInput):
            normalize_passkey_name(bad)


def test_a_passkey_is_added_then_asked_for_after_the_password(
    ctx: ServiceContext, world: World
) -> None:
    email = _person(ctx, world)
    signed_in = _signed_in(ctx, email)
    assert signed_in.stage is SessionStage.COMPLETE
    options = json.loads(auth_passkeys.start_passkey_registration(ctx, signed_in))
    assert options["rp"] == {"id": "testserver", "name": "tenantry"}
    assert options["authenticatorSelection"]["userVerification"] == "preferred"
    assert options["user"]["name"] == email
    device, added = _add(ctx, signed_in, "  My   laptop ")
    assert added.session is None  # already signed in: nothing to finish
    assert added.passkey.name == "My laptop"
    assert added.passkey.transports == ["hybrid", "internal"]
    assert _audit(ctx, "auth.passkey_add")[0]["passkeys"] == 1

    waiting = auth.sign_in(ctx, email, PASSWORD, ORIGIN)
    assert waiting.stage is SessionStage.CHALLENGE  # a passkey is two-factor sign-in
    pending = auth.authenticate_session(ctx, waiting.cookie)
    assert pending is not None
    assert pending.stage is SessionStage.CHALLENGE
    offered = auth_passkeys.start_passkey_sign_in(ctx, pending).passkey_options
    assert offered is not None
    assert [c["id"] for c in json.loads(offered)["allowCredentials"]] == [device.id]
    issued = auth_passkeys.sign_in_with_passkey(ctx, pending, device.get(offered, SITE), ORIGIN)
    assert issued.stage is SessionStage.COMPLETE
    assert auth.authenticate_session(ctx, waiting.cookie) is None  # the waiting one ended
    with ctx.uow(readonly=True) as uow:
        [stored] = uow.passkeys.for_user(signed_in.user.id)
    assert stored.sign_count == 1
    assert stored.last_used_at is not None
    assert _audit(ctx, "auth.sign_in")[0]["method"] == "passkey"


def test_a_challenge_works_once_for_its_own_session(ctx: ServiceContext, world: World) -> None:
    email = _person(ctx, world)
    device, _ = _add(ctx, _signed_in(ctx, email))
    first = auth.authenticate_session(ctx, auth.sign_in(ctx, email, PASSWORD, ORIGIN).cookie)
    other = auth.authenticate_session(ctx, auth.sign_in(ctx, email, PASSWORD, ORIGIN).cookie)
    assert first is not None
    assert other is not None
    options = auth_passkeys.start_passkey_sign_in(ctx, first).passkey_options
    assert options is not None
    answer = device.get(options, SITE)
    # Another session never had this challenge, even for the same person.
    with pytest.raises(Unauthenticated):
        auth_passkeys.sign_in_with_passkey(ctx, other, answer, ORIGIN)
    assert auth_passkeys.sign_in_with_passkey(ctx, first, answer, ORIGIN).stage is (
        SessionStage.COMPLETE
    )
    # The same answer again, in a session that asked for a challenge of its own since.
    assert auth_passkeys.start_passkey_sign_in(ctx, other).passkey_options is not None
    with pytest.raises(Unauthenticated):
        auth_passkeys.sign_in_with_passkey(ctx, other, answer, ORIGIN)
    # A wrong answer spends the challenge too: the right one cannot follow on it.
    options = auth_passkeys.start_passkey_sign_in(ctx, other).passkey_options
    assert options is not None
    with pytest.raises(Unauthenticated):
        auth_passkeys.sign_in_with_passkey(ctx, other, "{}", ORIGIN)
    with pytest.raises(Unauthenticated):
        auth_passkeys.sign_in_with_passkey(ctx, other, device.get(options, SITE), ORIGIN)
    failures = [e["reason"] for e in _audit(ctx, "auth.sign_in_failed")]
    assert failures == ["wrong_passkey"] * 4


def test_a_challenge_is_short_lived(ctx: ServiceContext, world: World) -> None:
    email = _person(ctx, world)
    device, _ = _add(ctx, _signed_in(ctx, email))
    pending = auth.authenticate_session(ctx, auth.sign_in(ctx, email, PASSWORD, ORIGIN).cookie)
    assert pending is not None
    options = auth_passkeys.start_passkey_sign_in(ctx, pending).passkey_options
    assert options is not None
    started = ctx.now()
    ctx.clock = lambda: started + timedelta(minutes=5, seconds=1)
    with pytest.raises(Unauthenticated):
        auth_passkeys.sign_in_with_passkey(ctx, pending, device.get(options, SITE), ORIGIN)


@pytest.mark.parametrize(
    "bent",
    [
        {"origin": "http://evil.example"},
        {"rp_id": "evil.example"},
        {"challenge": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
        {"key": "another"},
        {"flags": 0},  # the person was not there
    ],
    ids=["origin", "site", "challenge", "key", "presence"],
)
def test_answers_for_anything_else_are_refused(
    ctx: ServiceContext, world: World, bent: dict[str, object]
) -> None:
    email = _person(ctx, world)
    device, _ = _add(ctx, _signed_in(ctx, email))
    pending = auth.authenticate_session(ctx, auth.sign_in(ctx, email, PASSWORD, ORIGIN).cookie)
    assert pending is not None
    options = auth_passkeys.start_passkey_sign_in(ctx, pending).passkey_options
    assert options is not None
    bent = dict(bent)  # the parameter is shared by both engines' runs
    if bent.get("key") == "another":
        bent = {"key": ec.generate_private_key(ec.SECP256R1())}
    answer = device.get(options, str(bent.pop("origin", SITE)), **bent)  # type: ignore[arg-type]
    with pytest.raises(Unauthenticated):
        auth_passkeys.sign_in_with_passkey(ctx, pending, answer, ORIGIN)
    with ctx.uow(readonly=True) as uow:
        [stored] = uow.passkeys.for_user(pending.user.id)
    assert stored.last_used_at is None


def test_a_counter_that_goes_back_is_a_cloned_authenticator(
    ctx: ServiceContext, world: World
) -> None:
    email = _person(ctx, world)
    device, _ = _add(ctx, _signed_in(ctx, email))

    def answer(**bent: int) -> auth.IssuedSession:
        pending = auth.authenticate_session(ctx, auth.sign_in(ctx, email, PASSWORD, ORIGIN).cookie)
        assert pending is not None
        options = auth_passkeys.start_passkey_sign_in(ctx, pending).passkey_options
        assert options is not None
        return auth_passkeys.sign_in_with_passkey(
            ctx, pending, device.get(options, SITE, **bent), ORIGIN
        )

    answer(sign_count=7)
    for stale in (7, 3):
        with pytest.raises(Unauthenticated):
            answer(sign_count=stale)
    answer(sign_count=8)
    # An authenticator that keeps no counter (always 0) is accepted as such.
    keeper = SoftwareAuthenticator(counts=False)
    signed_in = _signed_in(ctx, _person(ctx, world))
    options = auth_passkeys.start_passkey_registration(ctx, signed_in)
    auth_passkeys.add_passkey(ctx, signed_in, "Synced", keeper.create(options, SITE), ORIGIN)
    for _ in range(2):
        pending = auth.authenticate_session(
            ctx, auth.sign_in(ctx, signed_in.user.email, PASSWORD, ORIGIN).cookie
        )
        assert pending is not None
        options = auth_passkeys.start_passkey_sign_in(ctx, pending).passkey_options
        assert options is not None
        auth_passkeys.sign_in_with_passkey(ctx, pending, keeper.get(options, SITE), ORIGIN)


def test_another_persons_passkey_does_not_pass(ctx: ServiceContext, world: World) -> None:
    mine = _person(ctx, world)
    _add(ctx, _signed_in(ctx, mine))
    theirs, _ = _add(ctx, _signed_in(ctx, _person(ctx, world)))
    pending = auth.authenticate_session(ctx, auth.sign_in(ctx, mine, PASSWORD, ORIGIN).cookie)
    assert pending is not None
    options = auth_passkeys.start_passkey_sign_in(ctx, pending).passkey_options
    assert options is not None
    offered = json.loads(options)
    offered["allowCredentials"] = []  # as a browser that picks a discoverable passkey
    with pytest.raises(Unauthenticated):
        auth_passkeys.sign_in_with_passkey(
            ctx, pending, theirs.get(json.dumps(offered), SITE), ORIGIN
        )


def test_registration_checks_its_answer(ctx: ServiceContext, world: World) -> None:
    signed_in = _signed_in(ctx, _person(ctx, world))
    device = SoftwareAuthenticator()
    with pytest.raises(InvalidInput, match="too long"):  # no challenge was asked for
        auth_passkeys.add_passkey(ctx, signed_in, "Key", "{}", ORIGIN)
    for bent in ({"origin": "http://evil.example"}, {"rp_id": "evil.example"}):
        options = auth_passkeys.start_passkey_registration(ctx, signed_in)
        origin = bent.pop("origin", SITE)
        with pytest.raises(InvalidInput, match="did not check out"):
            auth_passkeys.add_passkey(
                ctx, signed_in, "Key", device.create(options, origin, **bent), ORIGIN
            )
    options = auth_passkeys.start_passkey_registration(ctx, signed_in)
    answer = device.create(options, SITE, flags=USER_PRESENT)  # no attested credential
    with pytest.raises(InvalidInput):
        auth_passkeys.add_passkey(ctx, signed_in, "Key", answer, ORIGIN)
    options = auth_passkeys.start_passkey_registration(ctx, signed_in)
    with pytest.raises(InvalidInput, match="name"):
        auth_passkeys.add_passkey(ctx, signed_in, " \t", device.create(options, SITE), ORIGIN)
    options = auth_passkeys.start_passkey_registration(ctx, signed_in)
    answer = device.create(options, SITE)
    auth_passkeys.add_passkey(ctx, signed_in, "Key", answer, ORIGIN)
    with pytest.raises(InvalidInput, match="too long"):  # the challenge is spent
        auth_passkeys.add_passkey(ctx, signed_in, "Key", answer, ORIGIN)
    options = auth_passkeys.start_passkey_registration(ctx, signed_in)
    assert [c["id"] for c in json.loads(options)["excludeCredentials"]] == [device.id]
    with pytest.raises(Conflict, match="already added"):
        auth_passkeys.add_passkey(ctx, signed_in, "Again", device.create(options, SITE), ORIGIN)
    with ctx.uow(readonly=True) as uow:
        assert len(uow.passkeys.for_user(signed_in.user.id)) == 1


def test_one_person_has_a_bounded_number(ctx: ServiceContext, world: World) -> None:
    signed_in = _signed_in(ctx, _person(ctx, world))
    for number in range(MAX_PASSKEYS):
        _add(ctx, signed_in, f"Key {number}")
    with pytest.raises(Conflict, match="remove one first"):
        auth_passkeys.start_passkey_registration(ctx, signed_in)


def test_an_account_that_requires_it_is_satisfied_by_a_passkey(
    ctx: ServiceContext, world: World
) -> None:
    email = _person(ctx, world)
    set_policy(ctx, world.a.id, two_factor_required=True)
    waiting = auth.authenticate_session(ctx, auth.sign_in(ctx, email, PASSWORD, ORIGIN).cookie)
    assert waiting is not None
    assert waiting.stage is SessionStage.ENROL
    # On the way in, a passkey finishes signing in, as setting up the app does.
    first, added = _add(ctx, waiting, "Phone")
    assert added.session is not None
    assert added.session.stage is SessionStage.COMPLETE
    signed_in = auth.authenticate_session(ctx, added.session.cookie)
    assert signed_in is not None
    assert auth_totp.two_factor_status(ctx, signed_in).app_may_be_removed
    # The last second factor stays while an account requires one.
    with pytest.raises(Forbidden, match="add another passkey"):
        auth_passkeys.remove_passkey(ctx, signed_in, added.passkey.id or 0, ORIGIN)
    _, second = _add(ctx, signed_in, "Key")
    removed = auth_passkeys.remove_passkey(ctx, signed_in, added.passkey.id or 0, ORIGIN)
    assert removed.name == "Phone"
    assert _audit(ctx, "auth.passkey_remove")[0] == {
        "passkeys": 1,
        "passkey": "Phone",
        "passkey_id": added.passkey.id,
    }
    with pytest.raises(NotFound):
        auth_passkeys.remove_passkey(ctx, signed_in, added.passkey.id or 0, ORIGIN)
    # Nobody removes another person's passkey by its number.
    stranger = _signed_in(ctx, _person(ctx, world, world.b))
    with pytest.raises(NotFound):
        auth_passkeys.remove_passkey(ctx, stranger, second.passkey.id or 0, ORIGIN)
    assert first.id  # the removed one's device is simply no longer offered
    pending = auth.authenticate_session(ctx, auth.sign_in(ctx, email, PASSWORD, ORIGIN).cookie)
    assert pending is not None
    options = auth_passkeys.start_passkey_sign_in(ctx, pending).passkey_options
    assert options is not None
    assert first.id not in options


def test_proving_the_address_revokes_passkeys_someone_else_set(
    ctx: ServiceContext, world: World
) -> None:
    email = _person(ctx, world)
    signed_in = _signed_in(ctx, email)
    _add(ctx, signed_in)
    _add(ctx, signed_in, "Another")
    with ctx.uow() as uow:
        user = uow.users.get(signed_in.user.id)
        assert not user.is_verified
        identities.prove_address(ctx, uow, user, OPERATOR, "reset")
    with ctx.uow(readonly=True) as uow:
        assert uow.passkeys.for_user(user.id) == []
        assert not uow.passkeys.has_second_factor(user.id)
    [proved] = _audit(ctx, "user.address_proved")
    assert proved["revoked"] == {"sessions": 1, "api_tokens": 0, "second_factor": 0, "passkeys": 2}
    # Signing in again asks for no second factor: the passkeys were not the owner's doing.
    assert auth.sign_in(ctx, email, PASSWORD, ORIGIN).stage is SessionStage.COMPLETE


def test_the_app_may_go_where_a_passkey_stays(ctx: ServiceContext, world: World) -> None:
    email = _person(ctx, world)
    set_policy(ctx, world.a.id, two_factor_required=True)
    waiting = auth.authenticate_session(ctx, auth.sign_in(ctx, email, PASSWORD, ORIGIN).cookie)
    assert waiting is not None
    _, added = _add(ctx, waiting)
    assert added.session is not None
    signed_in = auth.authenticate_session(ctx, added.session.cookie)
    assert signed_in is not None
    status = auth_totp.two_factor_status(ctx, signed_in)
    assert (status.enrolled, status.required, [p.name for p in status.passkeys]) == (
        False,
        True,
        ["Laptop"],
    )
    # Where the passkey is the only factor, the stage after the password is the challenge.
    assert auth.sign_in(ctx, email, PASSWORD, ORIGIN).stage is SessionStage.CHALLENGE
    # The challenge stage never adds a passkey: only the second factor lets one in.
    pending = auth.authenticate_session(ctx, auth.sign_in(ctx, email, PASSWORD, ORIGIN).cookie)
    assert pending is not None
    with pytest.raises(Forbidden):
        auth_passkeys.start_passkey_registration(ctx, pending)
    # With a passkey left, the app may be turned off though the account requires a factor.
    secret = auth_totp.start_totp_enrolment(ctx, signed_in).secret
    now = ctx.now()
    auth_totp.confirm_totp_enrolment(ctx, signed_in, totp_code(secret, totp_step(now)), ORIGIN)
    ctx.clock = lambda: now + timedelta(seconds=30)
    auth_totp.disable_totp(ctx, signed_in, totp_code(secret, totp_step(ctx.now())), ORIGIN)
    with ctx.uow(readonly=True) as uow:
        assert uow.auth.find_second_factor(signed_in.user.id) is None
        assert uow.passkeys.has_second_factor(signed_in.user.id)


def test_a_passkey_holder_is_not_named_as_lacking_a_second_factor(
    ctx: ServiceContext, world: World
) -> None:
    with_passkey = _person(ctx, world)
    _add(ctx, _signed_in(ctx, with_passkey))
    without = _person(ctx, world)
    update = account_policy.update_account_policy(
        ctx, OPERATOR, world.a.id, PolicyChanges(two_factor_required=True)
    )
    lacking = {
        m.email
        for group in update.affected
        if group.breach is Breach.WITHOUT_TWO_FACTOR
        for m in group.members
    }
    assert without in lacking
    assert with_passkey not in lacking
