"""The outbox: mail written in the change's transaction and sent by a sender that claims it in
the database, through one connection per batch, with retries that back off and give up."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from tenantry.domain.errors import InvalidInput
from tenantry.domain.ids import hash_secret
from tenantry.domain.invitations import Invitation
from tenantry.domain.outbox import GIVE_UP_AFTER, OutboxKind, OutboxStatus, next_attempt
from tenantry.mail import SmtpMailer
from tenantry.services import auth, auth_resets, invitations, outbox
from tenantry.services.context import ServiceContext
from tenantry.services.mail import AddressChangedMail
from tenantry.services.members import NewMember
from tenantry.services.passwords import Argon2Hasher
from tenantry.storage.repositories.invitations import SqlInvitationRepository

from factories import OPERATOR, World, add_in_batch, make_member, unique_email
from mailserver import Inbox, free_port

ORIGIN = auth.Origin(source="192.0.2.1", user_agent="test", request_id="req-1")


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def mailing(
    ctx: ServiceContext, world: World, mail_server: tuple[Inbox, int], clock: Clock
) -> ServiceContext:
    """The services, mailing through the test's SMTP server once the world is built."""
    ctx.settings.smtp_host = "127.0.0.1"
    ctx.settings.smtp_port = mail_server[1]
    ctx.settings.smtp_security = "none"
    ctx.settings.smtp_timeout_seconds = 2
    ctx.mailer = SmtpMailer(ctx.settings)
    ctx.clock = clock
    ctx.passwords = Argon2Hasher(time_cost=1, memory_cost=1024)
    return ctx


def _notices(ctx: ServiceContext, count: int) -> list[str]:
    addresses = [unique_email("old") for _ in range(count)]
    with ctx.uow() as uow:
        for address in addresses:
            notice = AddressChangedMail(to=address, new_address="new@example.com", changed_by="t")
            outbox.enqueue_address_notice(ctx, uow, notice)
    return addresses


def _entries(ctx: ServiceContext) -> list[outbox.OutboxEntry]:
    return outbox.list_outbox(ctx, OPERATOR)


def test_a_change_that_rolls_back_writes_nothing_to_send(
    mailing: ServiceContext, world: World, inbox: Inbox
) -> None:
    ctx = mailing
    woken: list[int] = []
    ctx.outbox_written = lambda: woken.append(1)
    notice = AddressChangedMail(to="a@example.com", new_address="b@example.com", changed_by="t")

    def failing_change() -> None:
        with ctx.uow() as uow:
            outbox.enqueue_address_notice(ctx, uow, notice)
            raise RuntimeError("the change fails")

    with pytest.raises(RuntimeError):
        failing_change()
    # A bulk call whose refused item is rolled back by its savepoint mails only the others.
    items = [(0, NewMember(unique_email(), "view")), (1, NewMember("not an address", "view"))]
    result = add_in_batch(ctx, OPERATOR, world.a.id, items)
    assert len(result.applied) == 1
    assert len(result.errors) == 1
    assert woken == [1]  # woken once, by the commit that wrote an entry
    [entry] = _entries(ctx)
    assert entry.kind is OutboxKind.INVITATION
    assert outbox.send_pending(ctx).sent == 1
    assert [m["To"] for m in inbox.messages] == [result.applied[0][1].user.email]


def test_nothing_is_written_without_a_mailer(ctx: ServiceContext, world: World) -> None:
    make_member(ctx, world.a, role="view", active=False)
    assert outbox.outbox_counts(ctx, OPERATOR) == dict.fromkeys(OutboxStatus, 0)
    assert outbox.send_pending(ctx).claimed == 0


def test_a_batch_goes_through_one_connection(mailing: ServiceContext, inbox: Inbox) -> None:
    addresses = _notices(mailing, 5)
    report = outbox.send_pending(mailing)
    assert (report.claimed, report.sent) == (5, 5)
    assert sorted(m["To"] for m in inbox.messages) == sorted(addresses)
    assert inbox.connections == 1
    assert outbox.outbox_counts(mailing, OPERATOR)[OutboxStatus.SENT] == 5
    assert outbox.send_pending(mailing).claimed == 0  # sent once only


def test_two_senders_never_send_one_entry_twice(mailing: ServiceContext, inbox: Inbox) -> None:
    addresses = _notices(mailing, 40)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def sender(name: str) -> None:
        try:
            start.wait()
            while outbox.send_pending(mailing, worker=name, limit=3).claimed:
                pass
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=sender, args=(n,)) for n in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(m["To"] for m in inbox.messages) == sorted(addresses)
    assert all(e.status is OutboxStatus.SENT and e.attempts == 1 for e in _entries(mailing))


def test_a_mail_server_that_is_down_is_tried_again_later(
    mailing: ServiceContext, world: World, mail_server: tuple[Inbox, int], clock: Clock
) -> None:
    ctx = mailing
    inbox, port = mail_server
    ctx.settings.smtp_port = free_port()  # nobody listens there
    user = make_member(ctx, world.a, role="view", active=False)
    report = outbox.send_pending(ctx)
    assert (report.claimed, report.retrying) == (1, 1)
    [entry] = _entries(ctx)
    assert entry.status is OutboxStatus.PENDING
    assert entry.attempts == 1
    assert entry.last_error
    assert "ConnectionRefused" in entry.last_error
    assert entry.available_at == clock.now + timedelta(seconds=30)
    with ctx.uow(readonly=True) as uow:
        [invitation] = uow.invitations.open_for_user(user.id)
    assert invitation.delivered is False
    assert outbox.send_pending(ctx).claimed == 0  # not due yet
    # Back up, and the retry is due: it goes out.
    ctx.settings.smtp_port = port
    clock.now += timedelta(seconds=31)
    assert outbox.send_pending(ctx).sent == 1
    assert inbox.only()["To"] == user.email
    with ctx.uow(readonly=True) as uow:
        [invitation] = uow.invitations.open_for_user(user.id)
    assert invitation.delivered is True
    assert invitation.mail_token_hash is not None


def test_retries_back_off_and_give_up_after_a_day(mailing: ServiceContext, clock: Clock) -> None:
    start = clock.now
    assert next_attempt(1, start, start) == start + timedelta(seconds=30)
    assert next_attempt(3, start, start) == start + timedelta(minutes=2)
    assert next_attempt(30, start, start) == start + timedelta(hours=1)
    assert next_attempt(5, start, start + GIVE_UP_AFTER) is None
    mailing.settings.smtp_port = free_port()
    _notices(mailing, 1)
    assert outbox.send_pending(mailing).retrying == 1
    clock.now += GIVE_UP_AFTER
    assert outbox.send_pending(mailing).failed == 1
    [entry] = outbox.list_outbox(mailing, OPERATOR, OutboxStatus.FAILED)
    assert entry.attempts == 2
    assert entry.failed_at == clock.now
    assert outbox.outbox_counts(mailing, OPERATOR)[OutboxStatus.FAILED] == 1


def test_an_invitation_revoked_before_sending_is_skipped(
    mailing: ServiceContext, world: World, inbox: Inbox
) -> None:
    user = make_member(mailing, world.a, role="view", active=False)
    assert invitations.revoke_invitation(mailing, OPERATOR, world.a.id, user.email) == 1
    report = outbox.send_pending(mailing)
    assert (report.sent, report.skipped) == (0, 1)
    assert inbox.messages == []
    [entry] = _entries(mailing)
    assert entry.status is OutboxStatus.SENT
    assert entry.last_error == outbox.SKIPPED


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_an_invitation_revoked_while_its_mail_is_prepared_stays_revoked(
    mailing: ServiceContext, world: World, inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sender reads the invitation, then the member is removed (another transaction
    commits): the sender's write must not bring the invitation back. (SQLite's writers take
    turns from BEGIN, so only PostgreSQL lets the removal in between.)"""
    user = make_member(mailing, world.a, role="view", active=False)
    found = SqlInvitationRepository.find_by_token_hash

    def read_then_revoked(self: SqlInvitationRepository, token_hash: str) -> Invitation | None:
        invitation = found(self, token_hash)
        monkeypatch.setattr(SqlInvitationRepository, "find_by_token_hash", found)
        invitations.revoke_invitation(mailing, OPERATOR, world.a.id, user.email)
        return invitation

    monkeypatch.setattr(SqlInvitationRepository, "find_by_token_hash", read_then_revoked)
    report = outbox.send_pending(mailing)
    assert (report.sent, report.skipped) == (0, 1)
    assert inbox.messages == []
    with mailing.uow(readonly=True) as uow:
        assert uow.invitations.open_for(user.id, world.a.id) == []


def test_a_reset_link_is_made_when_it_is_mailed(
    mailing: ServiceContext, world: World, inbox: Inbox
) -> None:
    ctx = mailing
    with ctx.uow() as uow:
        user = uow.users.get(world.a_admin.id)
        user.password_hash = ctx.passwords.hash("Correct-Horse-42-battery")
        uow.users.update(user)
    assert auth_resets.request_password_reset(ctx, user.email, ORIGIN) is None
    [entry] = _entries(ctx)
    assert set(entry.payload) == {"reset"}  # no token is stored to be sent
    assert outbox.send_pending(ctx).sent == 1
    text = inbox.only().get_body(("plain",))
    assert text is not None
    [link] = [w for w in text.get_content().split() if "/auth/reset/" in w]
    token = link.rsplit("/", 1)[1]
    assert auth_resets.check_password_reset(ctx, token) == user.email
    with ctx.uow(readonly=True) as uow:
        reset = uow.auth.find_password_reset(hash_secret(token))
    assert reset is not None
    assert reset.delivered is True
    with pytest.raises(InvalidInput):
        auth_resets.check_password_reset(ctx, "not-the-token")
