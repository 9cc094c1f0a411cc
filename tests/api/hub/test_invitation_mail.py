"""With SMTP configured, invitations made through any face are e-mailed after commit; a failed
send keeps the invitation, recorded as not delivered, and sending it again works."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from starlette.testclient import TestClient

from tenantry.app import Composition
from tenantry.domain.ids import hash_secret
from tenantry.domain.outbox import OutboxStatus
from tenantry.services import outbox, setup
from tenantry.services.context import ServiceContext
from tenantry.services.passwords import Argon2Hasher
from tenantry.settings import Settings

import samples
from factories import OPERATOR, make_account, make_member
from httpclient import http_client
from hub_support import bearer_for
from mailserver import Inbox, free_port, send_outbox_after_commit, smtp_server


def assert_mails_its_own_link(ctx: ServiceContext, shown: str, mail_text: str) -> None:
    """The mail carries the invitation the caller was shown, through a link of its own (its
    token only ever mailed, so that following it proves the address)."""
    [mailed] = re.findall(r"http://testserver/auth/verify/\S+", mail_text)
    assert mailed != shown
    assert mailed.split("&", 1)[1] == shown.split("&", 1)[1]  # the same et and address
    with ctx.uow(readonly=True) as uow:
        invitation = uow.invitations.find_by_token_hash(hash_secret(_token_of(shown)))
        assert invitation is not None
        assert invitation.mail_token_hash == hash_secret(_token_of(mailed))


def _token_of(link: str) -> str:
    return link.split("token=", 1)[1].split("&", 1)[0]


def composition_with_smtp(database_url: str, port: int) -> Composition:
    settings = Settings(
        database_url=database_url,
        base_url="http://testserver",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        smtp_timeout_seconds=2,
    )
    composition = Composition(settings)
    composition.context.passwords = Argon2Hasher(time_cost=1, memory_cost=1024)
    send_outbox_after_commit(composition.context)
    return composition


def _client_and_token(composition: Composition) -> tuple[str, str, str]:
    """The host's id and its API account's client id and secret."""
    init = setup.initialize(composition.context)
    assert init.client_id is not None
    assert init.client_secret is not None
    return init.account_id, init.client_id, init.client_secret


def test_add_user_with_role_mails_the_link(
    database_url: str, mail_server: tuple[Inbox, int]
) -> None:
    inbox, port = mail_server
    composition = composition_with_smtp(database_url, port)
    ctx = composition.context
    host_id, client_id, secret = _client_and_token(composition)
    with ctx.uow(readonly=True) as uow:
        host = uow.accounts.get(host_id)
    tenant = make_account(ctx, parent=host, name="Mailed Inc")
    with http_client(composition.asgi_app()) as client:
        token = bearer_for(client, client_id, secret)
        body = client.post(
            "/hub/graphql/",
            json={
                "query": samples.ADD_USER_WITH_ROLE,
                "variables": {
                    "addUserWithRoleInput": {
                        "email": "tempUser1@testaccount.com",
                        "roleName": f"advertiser-manage-{tenant.id}",
                    }
                },
            },
            headers={"Authorization": f"Bearer {token}"},
        ).json()
    link = body["data"]["userMutations"]["addUserWithRole"]["invitationLink"]
    message = inbox.only()
    assert message["To"] == "tempuser1@testaccount.com"
    assert message["Subject"] == "You are invited to Mailed Inc"
    text = message.get_body(("plain",))
    assert text is not None
    assert_mails_its_own_link(ctx, link, text.get_content())
    token_value = link.split("token=")[1].split("&")[0]
    with ctx.uow(readonly=True) as uow:
        invitation = uow.invitations.find_by_token_hash(hash_secret(token_value))
        assert invitation is not None
        assert invitation.delivered is True
    composition.dispose()


def test_a_failed_send_keeps_the_invitation_and_it_can_be_resent(database_url: str) -> None:
    dead_port = free_port()
    composition = composition_with_smtp(database_url, dead_port)
    ctx = composition.context
    host_id, client_id, secret = _client_and_token(composition)
    with ctx.uow(readonly=True) as uow:
        host = uow.accounts.get(host_id)
    tenant = make_account(ctx, parent=host)
    with http_client(composition.asgi_app()) as client:
        token = bearer_for(client, client_id, secret)
        headers = {"Authorization": f"Bearer {token}"}
        added = client.post(
            "/hub/graphql/",
            json={
                "query": samples.ADD_USER_WITH_ROLE,
                "variables": {
                    "addUserWithRoleInput": {
                        "email": "late@example.com",
                        "roleName": f"advertiser-view-{tenant.id}",
                    }
                },
            },
            headers=headers,
        ).json()
        assert "errors" not in added, added
        link = added["data"]["userMutations"]["addUserWithRole"]["invitationLink"]
        first_token = link.split("token=")[1].split("&")[0]
        with ctx.uow(readonly=True) as uow:
            invitation = uow.invitations.find_by_token_hash(hash_secret(first_token))
            assert invitation is not None
            assert invitation.delivered is False
            assert invitation.revoked_at is None  # still valid: nothing was lost
        # The mail server is back: sending the invitation again delivers a fresh link.
        with smtp_server() as (inbox, port):
            ctx.settings.smtp_port = port  # the mailer reads its settings per send
            resent = client.post(
                "/hub/graphql/",
                json={
                    "query": samples.SEND_INVITATION,
                    "variables": {
                        "sendInvitationInput": {
                            "email": "late@example.com",
                            "tenantId": tenant.id,
                            "userType": "ADVERTISER",
                        }
                    },
                },
                headers=headers,
            ).json()
        new_link = resent["data"]["userMutations"]["sendInvitation"]
        text = inbox.only().get_body(("plain",))
        assert text is not None
        assert_mails_its_own_link(ctx, new_link, text.get_content())
    composition.dispose()


def _wait_for(check: Callable[[], bool], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def test_with_smtp_hanging_an_invitation_answers_at_once_and_goes_out_later(
    database_url: str,
) -> None:
    """The mail server accepts connections but never answers: the request does not wait for
    it; the server's sender tries, backs off, and delivers once the server is back."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        composition = composition_with_smtp(database_url, silent.getsockname()[1])
        ctx = composition.context
        ctx.outbox_written = lambda: None  # the server's own sender, not the tests' shortcut
        host_id, client_id, secret = _client_and_token(composition)
        with ctx.uow(readonly=True) as uow:
            host = uow.accounts.get(host_id)
        tenant = make_account(ctx, parent=host)
        sender = composition.start_outbox_sender()
        assert sender is not None
        with http_client(composition.asgi_app()) as client:
            token = bearer_for(client, client_id, secret)
            started = time.monotonic()
            added = client.post(
                "/hub/graphql/",
                json={
                    "query": samples.ADD_USER_WITH_ROLE,
                    "variables": {
                        "addUserWithRoleInput": {
                            "email": "patient@example.com",
                            "roleName": f"advertiser-view-{tenant.id}",
                        }
                    },
                },
                headers={"Authorization": f"Bearer {token}"},
            ).json()
            took = time.monotonic() - started
        assert "errors" not in added, added
        assert took < 1.5  # the SMTP timeout is 2 s, and the sender's try takes it
        [pending] = outbox.list_outbox(ctx, OPERATOR)
        assert pending.status is OutboxStatus.PENDING
        _wait_for(lambda: outbox.list_outbox(ctx, OPERATOR)[0].attempts == 1)
        _wait_for(lambda: outbox.list_outbox(ctx, OPERATOR)[0].last_error is not None)
        [retrying] = outbox.list_outbox(ctx, OPERATOR)
        assert retrying.status is OutboxStatus.PENDING
        assert retrying.available_at > datetime.now(UTC)
    with smtp_server() as (inbox, port):
        ctx.settings.smtp_port = port
        ctx.clock = lambda: datetime.now(UTC) + timedelta(minutes=1)  # the retry is due
        sender.wake()
        _wait_for(lambda: len(inbox.messages) == 1)
        composition.stop_outbox_sender()
    assert inbox.only()["To"] == "patient@example.com"
    [sent] = outbox.list_outbox(ctx, OPERATOR)
    assert sent.status is OutboxStatus.SENT
    assert sent.attempts == 2
    composition.dispose()


def test_the_server_sends_from_its_own_thread_while_it_runs(
    database_url: str, mail_server: tuple[Inbox, int]
) -> None:
    inbox, port = mail_server
    composition = composition_with_smtp(database_url, port)
    ctx = composition.context
    host_id, _, _ = _client_and_token(composition)
    with ctx.uow(readonly=True) as uow:
        host = uow.accounts.get(host_id)
    tenant = make_account(ctx, parent=host)
    composition.settings.outbox_poll_seconds = 60  # so only a wake-up can be that quick
    with TestClient(composition.asgi_app()):
        senders = [t for t in threading.enumerate() if t.name == "tenantry-outbox"]
        assert len(senders) == 1
        make_member(ctx, tenant, role="view", email="threaded@example.com", active=False)
        _wait_for(lambda: len(inbox.messages) == 1, seconds=10)  # woken by the commit
    assert not senders[0].is_alive()  # stopped with the server
    assert inbox.only()["To"] == "threaded@example.com"
    composition.dispose()
