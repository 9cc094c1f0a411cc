"""The sign-in services on their own: TOTP against RFC 6238's vectors, sessions and their
stages, invitations read without being used, and reset mail that fails or has nowhere to go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tenantry.domain.auth import (
    SessionStage,
    matching_step,
    new_recovery_code,
    normalize_recovery_code,
    provisioning_uri,
    split_session_cookie,
    totp_code,
    totp_step,
)
from tenantry.domain.errors import ErrorCode, Forbidden, InvalidInput, Throttled, Unauthenticated
from tenantry.domain.outbox import OutboxStatus
from tenantry.mail import SmtpMailer
from tenantry.services import (
    auth,
    auth_resets,
    auth_totp,
    invitations,
    members,
    outbox,
)
from tenantry.services.context import ServiceContext
from tenantry.services.members import NewMember
from tenantry.services.passwords import Argon2Hasher

from factories import OPERATOR, World, make_member, set_policy
from mailserver import free_port, smtp_server

ORIGIN = auth.Origin(source="192.0.2.1", user_agent="test", request_id="req-1")
PASSWORD = "Correct-Horse-42-battery"
# RFC 6238, appendix B: the SHA-1 secret "12345678901234567890", eight-digit codes.
RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


@pytest.mark.parametrize(
    ("unix_time", "eight_digits"),
    [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ],
)
def test_totp_matches_rfc_6238(unix_time: int, eight_digits: str) -> None:
    step = totp_step(datetime.fromtimestamp(unix_time, UTC))
    # Six-digit codes are the last six digits of the eight-digit ones (the same truncation).
    assert totp_code(RFC_SECRET, step) == eight_digits[-6:]


def test_codes_within_the_drift_pass_once_in_order() -> None:
    at = datetime.fromtimestamp(1234567890, UTC)
    step = totp_step(at)
    assert matching_step(RFC_SECRET, totp_code(RFC_SECRET, step - 1), at, None) == step - 1
    assert matching_step(RFC_SECRET, totp_code(RFC_SECRET, step + 1), at, None) == step + 1
    assert matching_step(RFC_SECRET, totp_code(RFC_SECRET, step + 2), at, None) is None
    assert matching_step(RFC_SECRET, totp_code(RFC_SECRET, step), at, step) is None
    code = totp_code(RFC_SECRET, step)
    assert matching_step(RFC_SECRET, f" {code[:3]} {code[3:]} ", at, step - 1) == step
    for junk in ("", "12345", "1234567", "abcdef", "١٢٣٤٥٦"):
        assert matching_step(RFC_SECRET, junk, at, None) is None


def test_recovery_codes_and_cookies_have_a_shape() -> None:
    code = new_recovery_code()
    assert len(code) == 19
    assert normalize_recovery_code(code.upper().replace("-", " ")) == code
    assert normalize_recovery_code("0000-0000-0000-0000") is None  # not in the alphabet
    assert normalize_recovery_code("abc") is None
    assert split_session_cookie("no-separator") is None
    assert split_session_cookie("short.x") is None
    assert split_session_cookie("a" * 32 + "." + "b" * 43) == ("a" * 32, "b" * 43)
    uri = provisioning_uri("ABCDEF", "ann@example.com", "tenantry")
    assert uri.startswith("otpauth://totp/tenantry:ann@example.com?secret=ABCDEF&issuer=tenantry")


@pytest.fixture
def fast(ctx: ServiceContext) -> ServiceContext:
    ctx.passwords = Argon2Hasher(time_cost=1, memory_cost=1024)
    return ctx


def _with_password(ctx: ServiceContext, world: World) -> str:
    user = make_member(ctx, world.a, role="manage")
    with ctx.uow() as uow:
        user.password_hash = ctx.passwords.hash(PASSWORD)
        uow.users.update(user)
    return user.email


def test_sessions_and_their_stages(fast: ServiceContext, world: World) -> None:
    ctx = fast
    email = _with_password(ctx, world)
    issued = auth.sign_in(ctx, email, PASSWORD, ORIGIN)
    assert issued.stage is SessionStage.COMPLETE
    signed_in = auth.authenticate_session(ctx, issued.cookie)
    assert signed_in is not None
    assert signed_in.user.email == email
    actor = signed_in.actor("req-2")  # how the console acts as the person signed in
    assert (actor.user_id, actor.face, actor.request_id) == (signed_in.user.id, "console", "req-2")
    key, secret = issued.cookie.split(".")
    altered = secret[:-1] + ("B" if secret.endswith("A") else "A")  # always differs
    for forged in (f"{key}.{altered}", f"{'0' * 32}.{secret}", "", "x" * 300):
        assert auth.authenticate_session(ctx, forged) is None
    with ctx.uow(readonly=True) as uow:
        session = uow.auth.find_session(key)
    assert session is not None
    assert (session.source, session.user_agent) == ("192.0.2.1", "test")

    set_policy(ctx, world.a.id, two_factor_required=True)
    waiting = auth.sign_in(ctx, email, PASSWORD, ORIGIN)
    assert waiting.stage is SessionStage.ENROL
    assert waiting.expires_at - ctx.now() <= timedelta(minutes=10)
    pending = auth.authenticate_session(ctx, waiting.cookie)
    assert pending is not None
    assert pending.stage is SessionStage.ENROL
    with pytest.raises(Forbidden, match="Finish signing in first"):
        auth_totp.regenerate_recovery_codes(ctx, pending, "000000", ORIGIN)
    # A session that already passed stays complete; the requirement applies from the next one.
    complete = auth.authenticate_session(ctx, issued.cookie)
    assert complete is not None
    assert complete.stage is SessionStage.COMPLETE


def test_sign_in_failures_are_throttled_per_address_typed_and_network_address(
    fast: ServiceContext, world: World
) -> None:
    ctx = fast
    email = _with_password(ctx, world)
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            auth.sign_in(ctx, f"  {email.upper()} ", "nope", ORIGIN)
    with pytest.raises(Throttled):
        auth.sign_in(ctx, email, PASSWORD, ORIGIN)
    # Failures from one network address do not lock the account out from the others.
    elsewhere = auth.Origin(source="198.51.100.7")
    assert auth.sign_in(ctx, email, PASSWORD, elsewhere).user.email == email


def test_the_sign_in_limit_is_a_setting(fast: ServiceContext, world: World) -> None:
    ctx = fast
    ctx.settings = ctx.settings.model_copy(update={"sign_in_failures_per_account_and_address": 2})
    email = _with_password(ctx, world)
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            auth.sign_in(ctx, email, "nope", ORIGIN)
    with pytest.raises(Throttled):
        auth.sign_in(ctx, email, PASSWORD, ORIGIN)


def test_checking_an_invitation_uses_nothing(fast: ServiceContext, world: World) -> None:
    ctx = fast
    added = members.add_member(
        ctx, OPERATOR, world.a.id, NewMember(email="check@example.com", role_key="view")
    )
    assert added.invitation_token is not None
    token = added.invitation_token
    check = invitations.check_invitation(ctx, token, "Check@Example.com")
    assert (check.email, check.account_name, check.role_name) == (
        "check@example.com",
        "Advertiser A",
        ctx.roles.find("view").display_name,  # type: ignore[union-attr]
    )
    assert check.needs_password is True
    assert check.network_managed is False
    check_again = invitations.check_invitation(ctx, token, "check@example.com")
    assert check_again == check
    with pytest.raises(InvalidInput) as wrong_address:
        invitations.check_invitation(ctx, token, "other@example.com")
    assert wrong_address.value.message == invitations.INVALID_LINK
    issued = auth.accept_invitation_and_sign_in(ctx, token, "check@example.com", PASSWORD, ORIGIN)
    assert issued is not None
    assert issued.stage is SessionStage.COMPLETE
    with pytest.raises(InvalidInput) as used:
        invitations.check_invitation(ctx, token, "check@example.com")
    assert "already been accepted" in used.value.message


def test_reset_mail_that_fails_is_recorded(fast: ServiceContext, world: World) -> None:
    ctx = fast
    email = _with_password(ctx, world)
    # No mail server configured: the link is made but goes nowhere, and nothing waits to go.
    assert auth_resets.request_password_reset(ctx, email, ORIGIN) is None
    assert outbox.outbox_counts(ctx, OPERATOR)[OutboxStatus.PENDING] == 0

    ctx.settings.smtp_host = "127.0.0.1"
    ctx.settings.smtp_port = free_port()  # nobody listens there
    ctx.settings.smtp_security = "none"
    ctx.settings.smtp_timeout_seconds = 1
    ctx.mailer = SmtpMailer(ctx.settings)
    auth_resets.request_password_reset(ctx, email, ORIGIN)
    assert outbox.send_pending(ctx).retrying == 1
    [entry] = outbox.list_outbox(ctx, OPERATOR, OutboxStatus.PENDING)
    assert entry.attempts == 1
    # The server is back and the retry is due: the link goes out, and works.
    with smtp_server() as (inbox, port):
        ctx.settings.smtp_port = port
        ctx.clock = lambda: datetime.now(UTC) + timedelta(minutes=1)
        assert outbox.send_pending(ctx).sent == 1
    text = inbox.only().get_body(("plain",))
    assert text is not None
    [link] = [word for word in text.get_content().split() if "/auth/reset/" in word]
    token = link.rsplit("/", 1)[1]
    assert auth_resets.check_password_reset(ctx, token) == email
    with pytest.raises(InvalidInput) as weak:
        auth_resets.complete_password_reset(ctx, token, "weak", ORIGIN)
    assert weak.value.code is ErrorCode.WEAK_PASSWORD
