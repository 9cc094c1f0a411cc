"""Webhooks end to end below the faces: a change's events are written in its transaction, sent
by the outbox's sender to a real receiver on 127.0.0.1, signed as Standard Webhooks says, in
order per account, retried with backoff, given up on after a day; receivers on private
addresses refused unless allowed; redirects not followed; slow receivers cut off."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import WebhookVerificationError

from tenantry.domain.accounts import AccountKind, AccountStatus
from tenantry.domain.errors import Forbidden, InvalidInput, NotFound
from tenantry.domain.webhooks import DeliveryStatus, WebhookEndpoint
from tenantry.services import accounts, credentials, members, outbox, webhooks
from tenantry.services.accounts import AccountChanges
from tenantry.services.context import ServiceContext, record
from tenantry.services.invitation_expiry import record_expired_invitations
from tenantry.services.members import NewMember
from tenantry.services.webhooks import EndpointChanges

from factories import OPERATOR, World, add_in_batch, as_user, make_account, unique_email
from webhook_receiver import Receiver, allow_private, receiver, send_all, webhook_receiver

NOT_PUBLIC = "refused: {host} does not resolve to a public address (see the server's log)"
__all__ = ["allow_private", "receiver"]  # fixtures, used by name


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(ctx: ServiceContext) -> Clock:
    ctx.clock = found = Clock()
    return found


def _endpoint(ctx: ServiceContext, account_id: str, url: str, **options: object) -> tuple[str, str]:
    endpoint, secret = webhooks.create_endpoint(ctx, OPERATOR, account_id, url, **options)  # type: ignore[arg-type]
    return endpoint.id, secret


def _add_member(ctx: ServiceContext, world: World, email: str | None = None) -> str:
    email = email or unique_email("hooked")
    members.add_member(ctx, as_user(world.a_admin), world.a.id, NewMember(email, "view"))
    return email


def test_a_change_arrives_once_signed_with_who_made_it(
    allow_private: ServiceContext, world: World, receiver: Receiver
) -> None:
    ctx = allow_private
    endpoint_id, secret = _endpoint(ctx, world.a.id, receiver.url)
    admin = as_user(world.a_admin).via("graphql", "req-42")
    email = unique_email("ada")
    members.add_member(ctx, admin, world.a.id, NewMember(email, "view"))

    report = send_all(ctx)

    assert report.sent == 3
    assert report.failed == report.retrying == 0
    events = receiver.events(secret)
    assert [e["type"] for e in events] == [
        "user.created",
        "membership.created",
        "invitation.created",
    ]
    created = events[1]
    data = created["data"]
    assert data["account_id"] == world.a.id
    assert data["target"]["type"] == "user"
    assert data["before"] is None
    assert data["after"]["role"] == "view"
    assert data["actor"] == {
        "kind": "user",
        "id": world.a_admin.id,
        "label": world.a_admin.email,
        "user_id": None,
        "minted_by": None,
    }
    assert (data["face"], data["request_id"]) == ("graphql", "req-42")
    assert created["timestamp"].endswith("Z")
    first = receiver.arrivals[1]
    assert first.headers["webhook-id"] == data["id"]
    assert first.headers["content-type"] == "application/json"
    # A receiver holding another secret cannot be fooled.
    other_secret = webhooks.rotate_secret(ctx, OPERATOR, endpoint_id)[1]
    with pytest.raises(WebhookVerificationError):
        first.verified(other_secret)
    # Sending again finds nothing left: each arrived once.
    assert send_all(ctx).claimed == 0
    assert len(receiver.arrivals) == 3
    log = webhooks.list_deliveries(ctx, OPERATOR, endpoint_id)
    assert {(d.status, d.attempts, d.last_status_code) for d in log} == {
        (DeliveryStatus.SENT, 1, 204)
    }


def test_a_change_that_rolls_back_sends_nothing(
    allow_private: ServiceContext, world: World, receiver: Receiver
) -> None:
    ctx = allow_private
    endpoint_id, _ = _endpoint(ctx, world.a.id, receiver.url)
    woken: list[int] = []
    ctx.outbox_written = lambda: woken.append(1)

    def failing_change() -> None:
        with ctx.uow() as uow:
            record(
                ctx,
                uow,
                OPERATOR,
                "app.add",
                target_type="app",
                target_id="x",
                account_id=world.a.id,
            )
            raise RuntimeError("the change fails after its audit event")

    with pytest.raises(RuntimeError):
        failing_change()
    assert woken == []
    # A bulk add whose second row is refused: only the first row's events go out.
    report = add_in_batch(
        ctx,
        as_user(world.a_admin),
        world.a.id,
        [(0, NewMember(unique_email("kept"), "view")), (1, NewMember(unique_email(), "nope"))],
    )
    assert len(report.applied) == 1

    send_all(ctx)
    types = [d.event_type for d in webhooks.list_deliveries(ctx, OPERATOR, endpoint_id)]
    assert sorted(types) == ["invitation.created", "membership.created", "user.created"]
    assert len(receiver.arrivals) == 3
    assert woken  # the batch's commit woke the sender; the failed change did not add to it


def test_a_receiver_that_fails_twice_gets_it_on_the_third_try(
    allow_private: ServiceContext, world: World, clock: Clock
) -> None:
    ctx = allow_private
    with webhook_receiver(answers=[500, 500]) as failing:
        endpoint_id, secret = _endpoint(ctx, world.a.id, failing.url, event_types=["app.added"])
        accounts.add_app(ctx, OPERATOR, world.a.id, "com.example.retry")

        assert send_all(ctx).retrying == 1
        assert send_all(ctx).claimed == 0  # not due yet: backing off
        clock.now += timedelta(seconds=31)
        assert send_all(ctx).retrying == 1
        clock.now += timedelta(seconds=31)
        assert send_all(ctx).claimed == 0  # the second wait is twice as long
        clock.now += timedelta(seconds=31)
        assert send_all(ctx).sent == 1

        assert len(failing.arrivals) == 3
        assert len({a.headers["webhook-id"] for a in failing.arrivals}) == 1
        assert [e["type"] for e in failing.events(secret)] == ["app.added"] * 3
    [delivery] = webhooks.list_deliveries(ctx, OPERATOR, endpoint_id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.SENT,
        3,
        204,
    )


def test_a_receiver_that_never_answers_well_is_given_up_on_after_a_day(
    allow_private: ServiceContext, world: World, clock: Clock
) -> None:
    ctx = allow_private
    with webhook_receiver(answers=[503] * 100) as failing:
        endpoint_id, _ = _endpoint(ctx, world.a.id, failing.url, event_types=["app.added"])
        accounts.add_app(ctx, OPERATOR, world.a.id, "com.example.down")
        tries = 0
        for _ in range(60):
            tries += send_all(ctx).claimed
            clock.now += timedelta(hours=1)
        [delivery] = webhooks.list_deliveries(ctx, OPERATOR, endpoint_id)
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.last_status_code == 503
    assert delivery.last_error == "the receiver answered 503"
    # Backing off from 30 s to an hour: more than a handful of tries, fewer than one a minute.
    assert 20 <= tries <= 40
    assert delivery.failed_at is not None
    assert delivery.failed_at - delivery.created_at >= timedelta(hours=24)


def test_an_accounts_events_arrive_in_the_order_they_were_made(
    allow_private: ServiceContext, world: World, clock: Clock
) -> None:
    ctx = allow_private
    with webhook_receiver(answers=[500]) as first_fails:
        _, secret = _endpoint(ctx, world.a.id, first_fails.url, event_types=["app.added"])
        for n in range(3):
            accounts.add_app(ctx, OPERATOR, world.a.id, f"com.example.order{n}")
        send_all(ctx)
        # The first failed: the later ones wait behind it.
        assert len(first_fails.arrivals) == 1
        clock.now += timedelta(seconds=31)
        send_all(ctx)
        apps = [e["data"]["target"]["id"] for e in first_fails.events(secret)]
    assert apps == [f"com.example.order{n}" for n in (0, 0, 1, 2)]


def test_two_senders_deliver_each_event_once_in_order(
    allow_private: ServiceContext, world: World, receiver: Receiver
) -> None:
    """On either engine; on PostgreSQL the two claim rows side by side (SKIP LOCKED)."""
    ctx = allow_private
    _, secret_a = _endpoint(ctx, world.a.id, receiver.url + "/a", event_types=["app.added"])
    _, secret_b = _endpoint(ctx, world.b.id, receiver.url + "/b", event_types=["app.added"])
    for n in range(12):
        for account in (world.a, world.b):
            accounts.add_app(ctx, OPERATOR, account.id, f"com.example.two{n}")

    def sender() -> None:
        worker = outbox.new_worker_name()
        idle = 0
        while idle < 3:
            report = outbox.send_pending(ctx, worker=worker, limit=2)
            idle = idle + 1 if not report.claimed else 0
            time.sleep(0.01 if report.claimed else 0.05)

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    ids = Counter(a.headers["webhook-id"] for a in receiver.arrivals)
    assert len(ids) == 24
    assert set(ids.values()) == {1}
    for path, secret in (("/hooks/a", secret_a), ("/hooks/b", secret_b)):
        apps = [e["data"]["target"]["id"] for e in receiver.events(secret, path)]
        assert apps == [f"com.example.two{n}" for n in range(12)]


def test_a_partner_hears_its_child_accounts_only_when_it_asks_and_reaches_them(
    allow_private: ServiceContext, world: World, receiver: Receiver
) -> None:
    ctx = allow_private
    _, secret = _endpoint(ctx, world.host.id, receiver.url, include_children=True)
    with webhook_receiver() as own_only:
        _, own_secret = _endpoint(ctx, world.host.id, own_only.url)
        accounts.add_app(ctx, OPERATOR, world.a.id, "com.example.child")
        accounts.update_account(ctx, OPERATOR, world.b.id, AccountChanges(can_partner_manage=False))
        accounts.add_app(ctx, OPERATOR, world.b.id, "com.example.unreached")
        send_all(ctx)
        assert own_only.events(own_secret) == []
    heard = [(e["type"], e["data"]["account_id"]) for e in receiver.events(secret)]
    # B's switch is B's own change, heard before it took effect on the way up.
    assert ("app.added", world.a.id) in heard
    assert ("app.added", world.b.id) not in heard


def test_an_account_deleted_is_heard_by_its_parent(
    allow_private: ServiceContext, world: World, receiver: Receiver
) -> None:
    ctx = allow_private
    doomed = make_account(ctx, parent=world.host, name="Doomed")
    _endpoint(ctx, doomed.id, receiver.url)
    _, secret = _endpoint(ctx, world.host.id, receiver.url, include_children=True)
    accounts.delete_account(ctx, OPERATOR, doomed.id)
    send_all(ctx)
    deleted = [e for e in receiver.events(secret) if e["type"] == "account.deleted"]
    assert [e["data"]["account_id"] for e in deleted] == [doomed.id]


def test_an_account_deactivated_and_the_accounts_below_it_send_nothing(
    allow_private: ServiceContext, world: World, receiver: Receiver
) -> None:
    ctx = allow_private
    agency = make_account(ctx, parent=world.host, kind=AccountKind.AGENCY, name="Agency")
    below = make_account(ctx, parent=agency, name="Below the agency")
    _, host_secret = _endpoint(ctx, world.host.id, receiver.url, include_children=True)
    with webhook_receiver() as closed:
        _endpoint(ctx, agency.id, closed.url, include_children=True)
        _endpoint(ctx, below.id, closed.url)
        closing = AccountChanges(status=AccountStatus.DEACTIVATED)
        accounts.update_account(ctx, OPERATOR, agency.id, closing)
        accounts.add_app(ctx, OPERATOR, agency.id, "com.example.closed")
        accounts.add_app(ctx, OPERATOR, below.id, "com.example.below")
        send_all(ctx)
        assert closed.arrivals == []
    # The active partner above still hears what happens in the accounts it manages.
    heard = [(e["type"], e["data"]["account_id"]) for e in receiver.events(host_secret)]
    assert ("account.updated", agency.id) in heard
    assert ("app.added", agency.id) in heard
    assert ("app.added", below.id) in heard


def test_a_waiting_delivery_of_an_account_deactivated_since_is_given_up_on(
    allow_private: ServiceContext, world: World, receiver: Receiver
) -> None:
    ctx = allow_private
    endpoint_id, _ = _endpoint(ctx, world.a.id, receiver.url)
    accounts.add_app(ctx, OPERATOR, world.a.id, "com.example.queued")
    closing = AccountChanges(status=AccountStatus.DEACTIVATED)
    accounts.update_account(ctx, OPERATOR, world.a.id, closing)
    send_all(ctx)
    [delivery] = webhooks.list_deliveries(ctx, OPERATOR, endpoint_id)
    assert delivery.status is DeliveryStatus.FAILED
    assert "deactivated" in (delivery.last_error or "")
    assert receiver.arrivals == []


def test_an_endpoint_a_partner_set_up_in_a_child_stops_when_the_child_cuts_it_off(
    allow_private: ServiceContext, world: World, receiver: Receiver
) -> None:
    ctx = allow_private
    partner = as_user(world.host_admin)
    planted, _ = webhooks.create_endpoint(ctx, partner, world.a.id, receiver.url)
    assert planted.made_in == world.host.id
    # A credential at home in the partner acts from the partner too, as does one a partner's
    # member made in the child.
    _, partner_key, _ = credentials.create_api_token(ctx, OPERATOR, world.host.id)
    by_token = credentials.authenticate(ctx, partner_key, face="graphql")
    relaid, _ = webhooks.create_endpoint(ctx, by_token, world.a.id, receiver.url + "/token")
    assert relaid.made_in == world.host.id
    child_account, child_secret = credentials.create_api_account(
        ctx, partner, world.a.id, "madebyhost"
    )
    assert child_account.minted_in_account_id == world.host.id
    grant = credentials.issue_access_token(ctx, "madebyhost", child_secret)
    by_child_credential = credentials.authenticate(ctx, grant.token, face="graphql")
    inside, _ = webhooks.create_endpoint(ctx, by_child_credential, world.a.id, receiver.url)
    assert inside.made_in == world.host.id
    with webhook_receiver() as own:
        mine, own_secret = webhooks.create_endpoint(
            ctx, as_user(world.a_admin), world.a.id, own.url
        )
        assert mine.made_in is None
        cut_off = AccountChanges(can_partner_manage=False)
        accounts.update_account(ctx, OPERATOR, world.a.id, cut_off)
        accounts.add_app(ctx, OPERATOR, world.a.id, "com.example.private")
        send_all(ctx)
        assert receiver.arrivals == []
        assert ("app.added", world.a.id) in [
            (e["type"], e["data"]["account_id"]) for e in own.events(own_secret)
        ]
    # The child's own admin choosing the receiver anew makes it the child's own.
    adopted = webhooks.update_endpoint(
        ctx, as_user(world.a_admin), planted.id, EndpointChanges(url=receiver.url + "/ours")
    )
    assert adopted.made_in is None
    accounts.add_app(ctx, OPERATOR, world.a.id, "com.example.adopted")
    send_all(ctx)
    assert len(receiver.arrivals) == 1


def _partner_hearing_children(
    ctx: ServiceContext, world: World, receiver: Receiver
) -> WebhookEndpoint:
    """An endpoint the partner's admin made to hear its child accounts' events."""
    partner = as_user(world.host_admin)
    endpoint, _ = webhooks.create_endpoint(
        ctx, partner, world.host.id, receiver.url, include_children=True
    )
    return endpoint


def test_a_secret_a_partner_chose_in_a_child_stops_the_endpoint_when_the_child_cuts_it_off(
    allow_private: ServiceContext, world: World, receiver: Receiver
) -> None:
    """Whoever knows the secret can sign to the receiver: a secret the partner rotated in is
    the partner's choice, like a URL, until the child's own admin rotates it again."""
    ctx, own_admin = allow_private, as_user(world.a_admin)
    endpoint, _ = webhooks.create_endpoint(ctx, own_admin, world.a.id, receiver.url)
    rotated, _ = webhooks.rotate_secret(ctx, as_user(world.host_admin), endpoint.id)
    assert rotated.made_in == world.host.id
    accounts.update_account(ctx, OPERATOR, world.a.id, AccountChanges(can_partner_manage=False))
    accounts.add_app(ctx, OPERATOR, world.a.id, "com.example.signed")
    send_all(ctx)
    assert receiver.arrivals == []
    _, own_secret = webhooks.rotate_secret(ctx, own_admin, endpoint.id)
    accounts.add_app(ctx, OPERATOR, world.a.id, "com.example.own")
    send_all(ctx)
    assert receiver.types(own_secret) == ["app.added"]


def test_a_partner_cut_off_gets_no_waiting_delivery_and_cannot_send_one_again(
    allow_private: ServiceContext, world: World, receiver: Receiver
) -> None:
    ctx, partner = allow_private, as_user(world.host_admin)
    endpoint = _partner_hearing_children(ctx, world, receiver)
    accounts.add_app(ctx, OPERATOR, world.a.id, "com.example.queued")
    cut_off = AccountChanges(can_partner_manage=False)
    accounts.update_account(ctx, OPERATOR, world.a.id, cut_off)
    send_all(ctx)
    assert receiver.arrivals == []
    [queued] = [
        d for d in webhooks.list_deliveries(ctx, partner, endpoint.id) if d.account_id == world.a.id
    ]
    assert queued.status is DeliveryStatus.FAILED
    assert "no longer hears" in (queued.last_error or "")
    with pytest.raises(Forbidden):
        webhooks.resend_delivery(ctx, partner, queued.id)


def test_a_child_deleted_after_cutting_its_partner_off_sends_it_nothing_more(
    allow_private: ServiceContext, world: World, receiver: Receiver
) -> None:
    ctx, partner = allow_private, as_user(world.host_admin)
    endpoint = _partner_hearing_children(ctx, world, receiver)
    accounts.add_app(ctx, OPERATOR, world.a.id, "com.example.heard")
    send_all(ctx)
    [heard] = webhooks.list_deliveries(ctx, partner, endpoint.id)
    accounts.add_app(ctx, OPERATOR, world.a.id, "com.example.waiting")
    cut_off = AccountChanges(can_partner_manage=False)
    accounts.update_account(ctx, OPERATOR, world.a.id, cut_off)
    accounts.delete_account(ctx, OPERATOR, world.a.id)
    send_all(ctx)
    assert len(receiver.arrivals) == 1  # the first app only: not the waiting one, no deletion
    waiting = webhooks.list_deliveries(ctx, partner, endpoint.id)[0]
    assert waiting.status is DeliveryStatus.FAILED
    assert "deleted" in (waiting.last_error or "")
    with pytest.raises(Forbidden):
        webhooks.resend_delivery(ctx, partner, heard.id)


def test_an_invitation_that_expires_is_an_event_once(
    allow_private: ServiceContext, world: World, receiver: Receiver, clock: Clock
) -> None:
    ctx = allow_private
    _, secret = _endpoint(ctx, world.a.id, receiver.url, event_types=["invitation.expired"])
    real_now = clock.now
    clock.now = real_now - timedelta(days=8)  # invited 8 days ago: expired a day ago
    email = _add_member(ctx, world)
    clock.now = real_now
    late = _add_member(ctx, world)  # invited now: still open
    clock.now = real_now - timedelta(days=8)
    members.add_member(ctx, OPERATOR, world.b.id, NewMember(unique_email("b"), "view"))
    clock.now = real_now

    assert record_expired_invitations(ctx) == 2  # A's and B's; B's endpoint-less: no delivery
    assert record_expired_invitations(ctx) == 0  # once
    send_all(ctx)
    [event] = receiver.events(secret)
    data = event["data"]
    assert (data["action"], data["face"], data["actor"]["kind"]) == (
        "invitation.expire",
        "system",
        "system",
    )
    assert data["after"]["email"] == email != late
    assert data["after"]["invitation"]["status"] == "expired"


def test_an_endpoint_hears_only_its_event_types_and_nothing_while_switched_off(
    allow_private: ServiceContext, world: World, receiver: Receiver
) -> None:
    ctx = allow_private
    endpoint_id, secret = _endpoint(ctx, world.a.id, receiver.url, event_types=["user.created"])
    _add_member(ctx, world)
    send_all(ctx)
    webhooks.update_endpoint(ctx, OPERATOR, endpoint_id, EndpointChanges(enabled=False))
    _add_member(ctx, world)
    assert send_all(ctx).claimed == 0
    assert receiver.types(secret) == ["user.created"]


def test_a_waiting_delivery_of_an_endpoint_switched_off_is_given_up_on(
    allow_private: ServiceContext, world: World, receiver: Receiver
) -> None:
    ctx = allow_private
    endpoint_id, _ = _endpoint(ctx, world.a.id, receiver.url, event_types=["app.added"])
    accounts.add_app(ctx, OPERATOR, world.a.id, "com.example.off")
    webhooks.update_endpoint(ctx, OPERATOR, endpoint_id, EndpointChanges(enabled=False))
    send_all(ctx)
    [delivery] = webhooks.list_deliveries(ctx, OPERATOR, endpoint_id)
    assert delivery.status is DeliveryStatus.FAILED
    assert "switched off" in (delivery.last_error or "")
    assert receiver.arrivals == []


def test_sending_a_delivery_again_keeps_its_webhook_id(
    allow_private: ServiceContext, world: World, receiver: Receiver
) -> None:
    ctx = allow_private
    endpoint_id, secret = _endpoint(ctx, world.a.id, receiver.url, event_types=["app.added"])
    accounts.add_app(ctx, OPERATOR, world.a.id, "com.example.again")
    send_all(ctx)
    [first] = webhooks.list_deliveries(ctx, OPERATOR, endpoint_id)
    again = webhooks.resend_delivery(ctx, as_user(world.a_admin), first.id)
    assert again.id != first.id
    assert again.status is DeliveryStatus.PENDING
    assert again.event_id == first.event_id
    send_all(ctx)
    assert [a.headers["webhook-id"] for a in receiver.arrivals] == [first.event_id] * 2
    assert len(receiver.events(secret)) == 2
    with pytest.raises(Forbidden):
        webhooks.resend_delivery(ctx, as_user(world.b_admin), first.id)
    other_id, _ = _endpoint(ctx, world.a.id, receiver.url)
    with pytest.raises(NotFound):  # named through another endpoint: nothing is queued
        webhooks.resend_delivery(ctx, OPERATOR, first.id, endpoint_id=other_id)
    assert len(webhooks.list_deliveries(ctx, OPERATOR, endpoint_id)) == 2


def test_the_secret_is_shown_once_and_signs_until_rotated(
    allow_private: ServiceContext, world: World, receiver: Receiver
) -> None:
    ctx = allow_private
    endpoint, secret = webhooks.create_endpoint(ctx, OPERATOR, world.a.id, receiver.url)
    assert secret.startswith("whsec_")
    listed = webhooks.list_endpoints(ctx, as_user(world.a_admin), world.a.id)
    assert secret not in repr(listed)
    assert secret not in repr(endpoint)
    _, new_secret = webhooks.rotate_secret(ctx, OPERATOR, endpoint.id)
    assert new_secret != secret
    accounts.add_app(ctx, OPERATOR, world.a.id, "com.example.rotated")
    send_all(ctx)
    [arrival] = receiver.arrivals
    assert arrival.verified(new_secret)["type"] == "app.added"
    with pytest.raises(WebhookVerificationError):
        arrival.verified(secret)
    from tenantry.services.audit import list_audit_events

    trail = repr(list_audit_events(ctx, OPERATOR, world.a.id, limit=500))
    assert "webhook_endpoint.create" in trail
    assert "webhook_endpoint.rotate_secret" in trail
    assert secret not in trail
    assert new_secret not in trail


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hooks",
        "http://localhost/hooks",
        "http://10.1.2.3/hooks",
        "http://192.168.0.10/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hooks",
        "http://[::ffff:127.0.0.1]/hooks",
        "http://100.64.0.1/hooks",
        "http://0.0.0.0/hooks",
    ],
)
def test_receivers_on_private_addresses_are_refused(
    ctx: ServiceContext, world: World, url: str
) -> None:
    assert not ctx.settings.webhooks_allow_private
    with pytest.raises(InvalidInput) as refused:
        webhooks.create_endpoint(ctx, as_user(world.a_admin), world.a.id, url)
    assert refused.value.field == "url"
    assert "TENANTRY_WEBHOOKS_ALLOW_PRIVATE" in refused.value.message


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "https://user:pw@example.com/x",
        "https://example.com/x#frag",
        "not a url",
        "https:///nohost",
        "https://example.com:99999/",
    ],
)
def test_malformed_receiver_urls_are_refused(ctx: ServiceContext, world: World, url: str) -> None:
    with pytest.raises(InvalidInput):
        webhooks.create_endpoint(ctx, OPERATOR, world.a.id, url)


def test_a_receiver_allowed_once_is_refused_again_when_it_is_sent_to(
    allow_private: ServiceContext, world: World, receiver: Receiver
) -> None:
    """Addresses are checked again at send time: an endpoint saved while private receivers
    were allowed (or a name that resolved elsewhere then) gets nothing once they are not."""
    ctx = allow_private
    by_name = receiver.url.replace("127.0.0.1", "localhost")
    endpoint_id, _ = _endpoint(ctx, world.a.id, by_name, event_types=["app.added"])
    nowhere = "http://nowhere.invalid/hook"
    nowhere_id, _ = _endpoint(ctx, world.a.id, nowhere, event_types=["app.added"])
    ctx.settings.webhooks_allow_private = False
    accounts.add_app(ctx, OPERATOR, world.a.id, "com.example.ssrf")
    assert send_all(ctx).retrying == 2
    assert receiver.arrivals == []
    [delivery] = webhooks.list_deliveries(ctx, OPERATOR, endpoint_id)
    assert delivery.status is DeliveryStatus.PENDING
    # The name as written, never the addresses it resolves to (the log would be a resolver of
    # the server's private names for the account's admins), and the same words as for a name
    # that does not resolve at all.
    assert delivery.last_error == NOT_PUBLIC.format(host="localhost")
    [unresolved] = webhooks.list_deliveries(ctx, OPERATOR, nowhere_id)
    assert unresolved.last_error == NOT_PUBLIC.format(host="nowhere.invalid")


def test_redirects_are_not_followed(allow_private: ServiceContext, world: World) -> None:
    ctx = allow_private
    with webhook_receiver(answers=[302]) as moving:
        endpoint_id, _ = _endpoint(ctx, world.a.id, moving.url, event_types=["app.added"])
        accounts.add_app(ctx, OPERATOR, world.a.id, "com.example.moved")
        assert send_all(ctx).retrying == 1
        assert [a.path for a in moving.arrivals] == ["/hooks"]
    [delivery] = webhooks.list_deliveries(ctx, OPERATOR, endpoint_id)
    assert delivery.last_status_code == 302


def test_a_slow_receiver_is_cut_off_and_never_holds_the_change(
    allow_private: ServiceContext, world: World
) -> None:
    ctx = allow_private
    ctx.settings.webhooks_timeout_seconds = 0.3
    with webhook_receiver(delay=2.0) as slow:
        endpoint_id, _ = _endpoint(ctx, world.a.id, slow.url, event_types=["app.added"])
        started = time.monotonic()
        accounts.add_app(ctx, OPERATOR, world.a.id, "com.example.slow")
        assert time.monotonic() - started < 1.0  # the change only wrote its delivery
        started = time.monotonic()
        assert send_all(ctx).retrying == 1
        assert time.monotonic() - started < 1.5
    [delivery] = webhooks.list_deliveries(ctx, OPERATOR, endpoint_id)
    assert delivery.last_error == "no answer within 0.3 s"


def test_another_accounts_admin_manages_no_endpoint(
    allow_private: ServiceContext, world: World, receiver: Receiver
) -> None:
    ctx = allow_private
    endpoint_id, _ = _endpoint(ctx, world.a.id, receiver.url)
    intruder = as_user(world.b_admin)
    for attempt in (
        lambda: webhooks.create_endpoint(ctx, intruder, world.a.id, receiver.url),
        lambda: webhooks.list_endpoints(ctx, intruder, world.a.id),
        lambda: webhooks.rotate_secret(ctx, intruder, endpoint_id),
        lambda: webhooks.delete_endpoint(ctx, intruder, endpoint_id),
        lambda: webhooks.list_deliveries(ctx, intruder, endpoint_id),
    ):
        with pytest.raises(Forbidden):
            attempt()
    # The partner's admin reaches A: it may.
    assert webhooks.list_endpoints(ctx, as_user(world.host_admin), world.a.id)
