"""The outbox: mail and webhook deliveries written in a change's transaction, sent afterwards
by any process (webhooks: `webhook_events` writes them, `webhook_delivery` posts them).

A service that makes an invitation, a password reset or an address change adds an entry in its
own unit of work (`enqueue_*`), so a change that rolls back sends nothing and a mail server that
is down loses nothing. Entries are written only when a mailer is configured: without SMTP the
links are shown to the caller instead, as before, and nothing would ever send them.

`send_pending` claims a batch of due entries in the database (so two processes never send one
entry twice), sends them through one mail session, and marks each sent, or to be tried again
later (`domain.outbox.next_attempt`), or given up on after a day. The server runs it in an
`OutboxSender` thread, woken after each commit that wrote entries; `tenantry outbox run` runs
it in a process of its own.

Secrets are made when the mail is sent, never stored in an entry: an invitation's entry names
the invitation by its token's hash, and the sender makes the mailed token, keeps its hash on the
invitation and mails it; a password reset gets a new token the same way.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tenantry.domain.accounts import Account
from tenantry.domain.errors import ErrorCode, Forbidden
from tenantry.domain.ids import hash_secret, new_secret
from tenantry.domain.invitations import Invitation, InvitationStatus
from tenantry.domain.outbox import OutboxEntry, OutboxKind, OutboxStatus, next_attempt
from tenantry.domain.users import User, UserStatus
from tenantry.services import metrics, webhook_delivery
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.delivery import invitation_link, password_reset_link
from tenantry.services.mail import (
    AddressChangedMail,
    DeliveryFailed,
    InvitationMail,
    MailServerUnavailable,
    MailSession,
    PasswordResetMail,
)
from tenantry.services.policy_identities import is_operator
from tenantry.services.ports import UnitOfWork

log = logging.getLogger("tenantry.outbox")

BATCH = 50
CLAIM_FOR = timedelta(minutes=5)
"""How long a claim holds: a sender that dies mid-batch leaves its entries to others after it."""
SKIPPED = "skipped: nothing to send any more (used, revoked or expired)"

Mail = InvitationMail | PasswordResetMail | AddressChangedMail


def new_worker_name() -> str:
    """Names a sender in its claims: host, process and a random part."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# -- writing, in the change's transaction ------------------------------------------------------


def enqueue_invitations(
    ctx: ServiceContext, uow: UnitOfWork, sent: Sequence[tuple[str, str]]
) -> None:
    """Mail each (token, address as written) invitation once this transaction commits."""
    _enqueue(
        ctx,
        uow,
        OutboxKind.INVITATION,
        [{"invitation": hash_secret(t), "address": e} for t, e in sent],
    )


def enqueue_password_reset(ctx: ServiceContext, uow: UnitOfWork, reset_id: int) -> None:
    """Mail a link for this reset once this transaction commits (its token is made then)."""
    _enqueue(ctx, uow, OutboxKind.PASSWORD_RESET, [{"reset": reset_id}])


def enqueue_address_notice(
    ctx: ServiceContext, uow: UnitOfWork, notice: AddressChangedMail
) -> None:
    """Tell the old address of its change once this transaction commits."""
    payload = {"to": notice.to, "new_address": notice.new_address, "changed_by": notice.changed_by}
    _enqueue(ctx, uow, OutboxKind.ADDRESS_CHANGED, [payload])


def _enqueue(
    ctx: ServiceContext, uow: UnitOfWork, kind: OutboxKind, payloads: Sequence[dict[str, Any]]
) -> None:
    if ctx.mailer is None or not payloads:
        return
    now = ctx.now()
    uow.outbox.add_many([OutboxEntry(None, kind, p, now, now) for p in payloads])
    uow.after_commit(ctx.outbox_written)


# -- sending -----------------------------------------------------------------------------------


@dataclass(slots=True)
class SendReport:
    """What one `send_pending` call did."""

    claimed: int = 0
    sent: int = 0
    skipped: int = 0
    retrying: int = 0
    failed: int = 0


@dataclass(slots=True)
class _Prepared:
    entry: OutboxEntry
    mail: Mail | None  # None: nothing to send any more
    delivered_flag: tuple[str, str] | None = None  # ("invitation" | "reset", token hash)


def send_pending(
    ctx: ServiceContext, *, worker: str | None = None, limit: int = BATCH
) -> SendReport:
    """Claim up to `limit` due entries and send them: mail through one mail session, webhook
    deliveries side by side (`webhook_delivery`); then settle each: sent, skipped (its
    invitation or reset is no longer usable), to be tried again, or given up on. Mail waits
    without a mailer, webhooks without a transport."""
    report = SendReport()
    kinds = sendable_kinds(ctx)
    if not kinds:
        return report
    worker = worker or new_worker_name()
    now = ctx.now()
    with ctx.uow() as uow:
        entries = uow.outbox.claim(worker, now, now + CLAIM_FOR, limit, kinds)
    report.claimed = len(entries)
    mails = [e for e in entries if e.kind.is_mail]
    if mails:
        _send_mail(ctx, worker, mails, report)
    hooks = [e for e in entries if not e.kind.is_mail]
    if hooks:
        webhook_delivery.settle(ctx, worker, webhook_delivery.deliver(ctx, hooks), report)
    return report


def sendable_kinds(ctx: ServiceContext) -> list[OutboxKind]:
    """The kinds this process can send: mail with a mailer, webhooks with a transport."""
    return [
        kind
        for kind in OutboxKind
        if (ctx.mailer if kind.is_mail else ctx.webhook_transport) is not None
    ]


def _send_mail(
    ctx: ServiceContext, worker: str, entries: list[OutboxEntry], report: SendReport
) -> None:
    assert ctx.mailer is not None
    with ctx.uow() as uow:
        prepared = _prepare(ctx, uow, entries)
    errors: dict[int, str] = {}
    with ctx.mailer.session() as session:
        down: str | None = None
        for item in prepared:
            assert item.entry.id is not None
            if item.mail is None:
                continue
            if down is not None:
                errors[item.entry.id] = down
                continue
            try:
                _send(session, item.mail)
            except MailServerUnavailable as error:
                down = errors[item.entry.id] = str(error)
            except DeliveryFailed as error:
                errors[item.entry.id] = str(error)
    _settle(ctx, worker, prepared, errors, report)


def _prepare(ctx: ServiceContext, uow: UnitOfWork, entries: list[OutboxEntry]) -> list[_Prepared]:
    now = ctx.now()
    invitations = {
        e.payload["invitation"]: uow.invitations.find_by_token_hash(e.payload["invitation"])
        for e in entries
        if e.kind is OutboxKind.INVITATION
    }
    live = [i for i in invitations.values() if i and i.status(now) is InvitationStatus.PENDING]
    accounts = uow.accounts.find_many({i.account_id for i in live if i.account_id})
    users = uow.users.find_many({i.user_id for i in live})
    prepared: list[_Prepared] = []
    for entry in entries:
        if entry.kind is OutboxKind.INVITATION:
            invitation = invitations.get(entry.payload["invitation"])
            if invitation is None or invitation.status(now) is not InvitationStatus.PENDING:
                prepared.append(_Prepared(entry, None))
                continue
            mail = _invitation_mail(ctx, uow, invitation, entry.payload["address"], accounts, users)
            prepared.append(_Prepared(entry, mail, ("invitation", invitation.token_hash)))
        elif entry.kind is OutboxKind.PASSWORD_RESET:
            token = new_secret(32)
            reset = uow.auth.reissue_password_reset(entry.payload["reset"], hash_secret(token))
            user = uow.users.find(reset.user_id) if reset is not None else None
            if reset is None or user is None or not reset.is_usable(now):
                prepared.append(_Prepared(entry, None))
                continue
            reset_mail = PasswordResetMail(
                to=user.email, link=password_reset_link(ctx, token), expires_at=reset.expires_at
            )
            prepared.append(_Prepared(entry, reset_mail, ("reset", reset.token_hash)))
        else:
            prepared.append(_Prepared(entry, AddressChangedMail(**entry.payload)))
    return prepared


def _invitation_mail(
    ctx: ServiceContext,
    uow: UnitOfWork,
    invitation: Invitation,
    address: str,
    accounts: dict[str, Account],
    users: dict[str, User],
) -> InvitationMail:
    """The mail for an open invitation, with a mail token made now: only its hash is kept."""
    mail_token = new_secret(16)
    invitation.mail_token_hash = hash_secret(mail_token)
    uow.invitations.update(invitation)
    account = accounts.get(invitation.account_id or "")
    role = ctx.roles.find(invitation.role_key or "")
    user = users.get(invitation.user_id)
    return InvitationMail(
        to=invitation.email,
        link=invitation_link(ctx, mail_token, address),
        account_name=account.name if account else None,
        role_name=role.display_name if role else invitation.role_key,
        invited_by=invitation.invited_by,
        expires_at=invitation.expires_at,
        has_login=user is not None and user.status is not UserStatus.PENDING,
    )


def _send(session: MailSession, mail: Mail) -> None:
    if isinstance(mail, InvitationMail):
        session.send_invitation(mail)
    elif isinstance(mail, PasswordResetMail):
        session.send_password_reset(mail)
    else:
        session.send_address_changed(mail)


def _settle(
    ctx: ServiceContext,
    worker: str,
    prepared: list[_Prepared],
    errors: dict[int, str],
    report: SendReport,
) -> None:
    now = ctx.now()
    with ctx.uow() as uow:
        for item in prepared:
            entry = item.entry
            assert entry.id is not None
            error = errors.get(entry.id)
            if item.mail is None:
                uow.outbox.mark_sent(entry.id, worker, now, SKIPPED)
                report.skipped += 1
                continue
            if error is None:
                uow.outbox.mark_sent(entry.id, worker, now, None)
                report.sent += 1
            else:
                log.warning(
                    "mail not delivered",
                    extra={"outbox_id": entry.id, "kind": entry.kind.value, "error": error},
                )
                retry_at = next_attempt(entry.attempts, entry.created_at, now)
                if retry_at is None:
                    uow.outbox.give_up(entry.id, worker, now, error)
                    report.failed += 1
                else:
                    uow.outbox.retry_later(entry.id, worker, retry_at, error)
                    report.retrying += 1
                outcome = "given_up" if retry_at is None else "retrying"
                metrics.OUTBOX_DELIVERY_FAILURES.labels(entry.kind.value, outcome).inc()
            _record_delivered(uow, item.delivered_flag, delivered=error is None)


def _record_delivered(uow: UnitOfWork, flag: tuple[str, str] | None, *, delivered: bool) -> None:
    if flag is None:
        return
    what, token_hash = flag
    if what == "reset":
        uow.auth.set_password_reset_delivered(token_hash, delivered)
        return
    invitation = uow.invitations.find_by_token_hash(token_hash)
    if invitation is not None:
        invitation.delivered = delivered
        uow.invitations.update(invitation)


# -- status ------------------------------------------------------------------------------------


def outbox_counts(ctx: ServiceContext, actor: Actor) -> dict[OutboxStatus, int]:
    """How many entries are pending, sent and given up on (for operators)."""
    with ctx.uow(readonly=True) as uow:
        _check_operator(ctx, uow, actor)
        return uow.outbox.counts()


def outbox_backlog(ctx: ServiceContext, actor: Actor) -> dict[tuple[str, OutboxStatus], int]:
    """Entries waiting (pending) and given up on (failed), by kind, for operators."""
    with ctx.uow(readonly=True) as uow:
        _check_operator(ctx, uow, actor)
        return uow.outbox.unsent_by_kind()


@dataclass(frozen=True, slots=True)
class DeliveryStatus:
    sending: bool
    """A mailer is configured: entries are written and sent."""
    counts: dict[OutboxStatus, int]
    """Of mail only (webhook deliveries have their endpoints' logs)."""


def delivery_status(ctx: ServiceContext, actor: Actor) -> DeliveryStatus | None:
    """The outbox's mail counts for an operator; None for anyone else (nothing to show them)."""
    with ctx.uow(readonly=True) as uow:
        if not is_operator(ctx, uow, actor):
            return None
        mail = [kind for kind in OutboxKind if kind.is_mail]
        return DeliveryStatus(ctx.mailer is not None, uow.outbox.counts(mail))


def list_outbox(
    ctx: ServiceContext, actor: Actor, status: OutboxStatus | None = None, *, limit: int = 100
) -> list[OutboxEntry]:
    """The newest entries (of one status), newest first (for operators: they name addresses)."""
    with ctx.uow(readonly=True) as uow:
        _check_operator(ctx, uow, actor)
        return uow.outbox.page(status, limit=limit)


def _check_operator(ctx: ServiceContext, uow: UnitOfWork, actor: Actor) -> None:
    if not is_operator(ctx, uow, actor):
        raise Forbidden(ErrorCode.FORBIDDEN)


# -- the background sender ---------------------------------------------------------------------


class OutboxSender:
    """Sends in a thread of its own: woken after each commit that wrote entries (`wake`), and
    every `poll_seconds` otherwise, for entries whose retry came due or that another process
    wrote."""

    def __init__(self, ctx: ServiceContext, *, poll_seconds: float = 5.0) -> None:
        self.ctx = ctx
        self.poll_seconds = poll_seconds
        self.worker = new_worker_name()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="tenantry-outbox", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Ask the thread to end after the batch it is sending, and wait for it."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run(self) -> None:
        while not self._stopping.is_set():
            self.drain()
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def drain(self) -> None:
        """Send batches until fewer than a full one were due; errors are logged, not raised,
        so the thread lives on (the entries' claims run out and they are tried again)."""
        while not self._stopping.is_set():
            try:
                report = send_pending(self.ctx, worker=self.worker)
            except Exception:
                log.exception("outbox sender failed")
                return
            # A full batch may have left more; a delivered webhook frees its lane's next one.
            if report.claimed < BATCH and not report.sent:
                return
