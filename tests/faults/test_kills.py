"""A server killed with SIGKILL in the middle of bulk adds, network replaces and SCIM Bulk calls,
again and again, while a second server on the same database goes on: every call is applied
whole or not at all (a SCIM Bulk call operation by operation, in order), nothing is left
half-written, the audit trail says what the data holds, and every invitation is mailed once.

The mail goes out through `tenantry outbox run` in a process of its own, as a deployment with
separate senders runs it: a sender killed after the mail server took a message but before
marking it sent would send it again when its claim runs out (5 minutes), which is the outbox's
at-least-once promise and not what this test is about (see docs/reliability.md)."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from fault_support import (
    FIGURES,
    Server,
    Tenancy,
    admined,
    fresh_database,
    invariants,
    json_value,
    mail_settings,
    orphans,
    outbox_sender,
    rows,
    running,
    seed,
    server_env,
    services_on,
)
from mailserver import smtp_server
from pgcluster import PostgresCluster

ROUNDS = 2  # kills per kind of call
BULK_USERS = 20
NETWORK_USERS = 150
SCIM_OPERATIONS = 10
VERSION = "2019-05-01"
BULK_PATH = "/api/user-management/v1.0/users"
SCIM_BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
SCIM_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
NAMES = {"bulk": "bulk adds", "network": "network replaces", "scim": "SCIM Bulk calls"}


@dataclass
class Call:
    """One call: what it sends, and what became of it."""

    kind: str
    number: int
    key: str
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    addresses: list[str] = field(default_factory=list)
    """Bulk and SCIM: the new users' addresses, in order. Network: the ids from the network."""
    answers: list[int | str] = field(default_factory=list)
    """Each attempt's status, or "interrupted" when the server died under it."""
    refusals: list[str] = field(default_factory=list)

    def send(self, base: str) -> None:
        try:
            response = httpx.request(
                self.method,
                base + self.path,
                headers={**self.headers, "Idempotency-Key": self.key},
                json=self.body,
                timeout=60,
            )
        except httpx.TransportError:
            self.answers.append("interrupted")
        else:
            self.answers.append(response.status_code)
            if response.status_code >= 400 and response.status_code != 409:
                self.refusals.append(response.text[:300])


class Calls:
    """Makes numbered calls of each kind for a tenancy."""

    def __init__(self, tenancy: Tenancy, access_token: str) -> None:
        self.tenancy = tenancy
        self.access_token = access_token
        self.made: list[Call] = []
        self._lock = threading.Lock()

    def new(self, kind: str) -> Call:
        with self._lock:
            number = len(self.made)
            call = getattr(self, kind)(number)
            self.made.append(call)
        return call

    def bulk(self, n: int) -> Call:
        emails = [f"bulk{n}-{i}@kills.example" for i in range(BULK_USERS)]
        body = [
            {"email": e, "username": f"Bulk {n} {i}", "role": "marketing"}
            | {"allow_access_to_all_future_apps": True}
            for i, e in enumerate(emails)
        ]
        auth = {"Authorization": f"Bearer {self.tenancy.api_token}"}
        return Call("bulk", n, f"bulk-{n}", "POST", BULK_PATH, auth, body, emails)

    def network(self, n: int) -> Call:
        # Each call's list is its own: a window of ids that moves with the call's number.
        ids = [f"net-{j}" for j in range(n * 7, n * 7 + NETWORK_USERS)]
        users = [
            {
                "id_from_network": i,
                "email_settings": [
                    {"email_address": f"{i}@net.example", "use_for_notifications": True}
                ],
                "first_name": "Net",
                "last_name": f"User {n}",
                "role": ("Member", "Manager", "Observer")[n % 3],
            }
            for i in ids
        ]
        path = f"/api/{VERSION}/{self.tenancy.host.id}/network.json"
        auth = {"Authorization": self.access_token}
        return Call("network", n, f"net-{n}", "PUT", path, auth, {"users": users}, ids)

    def scim(self, n: int) -> Call:
        emails = [f"scim{n}-{i}@kills.example" for i in range(SCIM_OPERATIONS)]
        operations = [
            {
                "method": "POST",
                "path": "/Users",
                "bulkId": f"u{i}",
                "data": {
                    "schemas": [SCIM_USER],
                    "userName": e,
                    "externalId": f"ext-{n}-{i}",
                    "name": {"givenName": "Scim", "familyName": f"User {i}"},
                    "emails": [{"primary": True, "value": e, "type": "work"}],
                    "active": True,
                },
            }
            for i, e in enumerate(emails)
        ]
        body = {"schemas": [SCIM_BULK], "Operations": operations}
        auth = {"Authorization": f"Bearer {self.tenancy.api_token}"}
        return Call("scim", n, f"scim-{n}", "POST", "/scim/v2/Bulk", auth, body, emails)


def _keep_calling(calls: Calls, kind: str, base: str, stop: threading.Event) -> None:
    while not stop.is_set():
        call = calls.new(kind)
        call.send(base)
        if call.answers[-1] == "interrupted":
            return


@pytest.fixture
def deployment(fault_cluster: PostgresCluster, tmp_path: Path) -> Any:
    with (
        smtp_server() as (inbox, smtp_port),
        fresh_database(fault_cluster, "kills") as url,
        services_on(url) as ctx,
    ):
        tenancy = seed(ctx)
        env = server_env(
            url,
            bulk_daily_quota="1000000",
            outbox_sender="false",
            **mail_settings(smtp_port),
        )
        servers = [Server(name, env, tmp_path / f"{name}.log") for name in ("victim", "survivor")]
        with running(servers), outbox_sender(env, tmp_path / "sender.log"):
            yield url, tenancy, servers, inbox


def test_a_killed_server_leaves_every_call_whole_or_absent(deployment: Any) -> None:
    url, tenancy, (victim, survivor), inbox = deployment
    calls = Calls(tenancy, tenancy.access_token(survivor.base))
    before = admined(url)
    chance = random.Random(17)  # noqa: S311 - when to kill, not a secret
    for kind in ("bulk", "network", "scim") * ROUNDS:
        stop = threading.Event()
        threads = [
            threading.Thread(target=_keep_calling, args=(calls, kind, base, stop))
            for base in (victim.base, victim.base, survivor.base)
        ]
        for thread in threads:
            thread.start()
        time.sleep(chance.uniform(0.3, 1.2))
        victim.kill()
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
        victim.start()

    interrupted = [c for c in calls.made if c.answers == ["interrupted"]]
    FIGURES.calls.update(NAMES[c.kind] for c in calls.made)
    FIGURES.interrupted.update(NAMES[c.kind] for c in interrupted)
    assert interrupted, "no call was under way when the server died"
    answered = [c for c in calls.made if c not in interrupted]
    assert all(c.answers[0] in (200, 201) for c in answered), _answers(answered)

    _check_whole(url, tenancy, calls.made, before)
    # A retry with the call's key, on the other server: the first call's answer again, a 409
    # while its reservation (left by the dead process) lasts, or the call run now; never a 5xx.
    for call in interrupted:
        call.send(survivor.base)
    retries = Counter(c.answers[-1] for c in interrupted)
    assert set(retries) <= {200, 201, 409}, retries
    FIGURES.keys_left_reserved += retries[409]
    _check_whole(url, tenancy, calls.made, before)
    _check_mail_once(url, inbox)
    for server in (victim, survivor):
        assert not server.errors_logged(), server.errors_logged()


def _answers(calls: list[Call]) -> Counter[str]:
    return Counter(f"{c.kind} {c.answers} {c.refusals[:1]}" for c in calls)


def _check_whole(url: str, tenancy: Tenancy, made: list[Call], before: set[str]) -> None:
    members = {
        r.email
        for r in rows(
            url,
            "SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id "
            "WHERE m.account_id = :account",
            account=tenancy.advertiser.id,
        )
    }
    lost = 0
    for call in made:
        if call.kind == "network":
            continue
        present = [a in members for a in call.addresses]
        if call.kind == "bulk":
            # One transaction: all of the call's users, or none.
            assert len(set(present)) == 1, (call.number, call.answers, present)
        else:
            # Operation by operation, in order: those applied come first.
            applied = present.count(True)
            assert present == [True] * applied + [False] * (len(present) - applied), present
        if any(a in (200, 201) for a in call.answers) and not all(present):
            lost += present.count(False)
    _check_network(url, tenancy, [c for c in made if c.kind == "network"])
    FIGURES.rows_lost += lost
    assert lost == 0
    assert orphans(url) == dict.fromkeys(orphans(url), 0)
    assert invariants(url, before) == dict.fromkeys(invariants(url, before), 0)
    _check_audit(url, tenancy)


def _check_network(url: str, tenancy: Tenancy, made: list[Call]) -> None:
    """The network's users are exactly the list of one call, and replaying the audit trail's
    replace events gives the same users."""
    current = {
        r.id_from_network
        for r in rows(
            url,
            "SELECT u.id_from_network FROM memberships m JOIN users u ON u.id = m.user_id "
            "WHERE m.account_id = :account AND u.id_from_network IS NOT NULL",
            account=tenancy.host.id,
        )
    }
    assert current in [set(c.addresses) for c in made], sorted(current)[:5]
    replayed: set[str] = set()
    for event in rows(
        url,
        "SELECT before, after FROM audit_events WHERE action = 'network.users.replace' "
        "AND account_id = :account ORDER BY id",
        account=tenancy.host.id,
    ):
        replayed -= set(json_value(event.before)["users"])
        replayed |= set(json_value(event.after)["users"])
    assert replayed == current


def _check_audit(url: str, tenancy: Tenancy) -> None:
    """Every membership the trail says was made exists, and every membership was recorded."""
    audited = {
        r.target_id
        for r in rows(
            url,
            "SELECT target_id FROM audit_events WHERE action = 'membership.create' "
            "AND account_id = :account",
            account=tenancy.advertiser.id,
        )
    }
    members = {
        r.user_id
        for r in rows(
            url,
            "SELECT user_id FROM memberships WHERE account_id = :account",
            account=tenancy.advertiser.id,
        )
    }
    assert audited == members


def _check_mail_once(url: str, inbox: Any) -> None:
    """Every invitation of a committed change is mailed, once; nothing else is."""
    _wait_for(lambda: not rows(url, "SELECT id FROM outbox WHERE sent_at IS NULL"), 60)
    entries = rows(url, "SELECT payload->>'address' AS address FROM outbox")
    expected = Counter(r.address.lower() for r in entries)
    _wait_for(lambda: len(inbox.messages) >= len(entries), 10)
    received = Counter(str(m["To"]).lower() for m in inbox.messages)
    FIGURES.mail_sent += len(inbox.messages)
    FIGURES.mail_duplicates += sum(n - 1 for n in received.values() if n > 1)
    assert received == expected


def _wait_for(condition: Callable[[], object], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds} s"
        time.sleep(0.2)
