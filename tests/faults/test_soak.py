"""A soak: a mixed load over every face (reads, adds, role changes, removals, SCIM, the network
API, console pages) on two servers for a bounded time (`TENANTRY_SOAK_SECONDS`, 100 s by
default). No answer is a 5xx, the 99th percentile of latency is reported, the memory of each
process stays flat after warming up (under 10% growth), and at the end every invariant holds:
one membership per user and account, every account keeps an admin, the daily quota counted
each call exactly once, and the audit trail holds one event per change made."""

from __future__ import annotations

import itertools
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
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
    rows,
    running,
    seed,
    server_env,
    services_on,
    sign_in,
)
from mailserver import smtp_server
from pgcluster import PostgresCluster

SECONDS = float(os.environ.get("TENANTRY_SOAK_SECONDS", "100"))
WARM_UP = min(25.0, SECONDS / 4)
CALLERS_PER_SERVER = 3
MEMORY_GROWTH_LIMIT = 0.10
QUOTA = 1_000_000
BULK = "/api/user-management/v1.0/users"
VERSION = "2019-05-01"
SCIM_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CHANGE_ROLE = """mutation change($input: ChangeRoleForUserInput!) {
  userMutations { changeRoleForUser(input: $input) { user { id } } }
}"""


@dataclass
class Tally:
    """What the callers were answered, and the changes they were told were made."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    changes: Counter[str] = field(default_factory=Counter)
    remaining: list[int] = field(default_factory=list)
    failures: list[Exception] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def keep(self, what: str, response: httpx.Response, seconds: float) -> None:
        with self.lock:
            self.latencies.setdefault(what, []).append(seconds)
            self.statuses[(what, response.status_code)] += 1
            if "x-ratelimit-remaining" in response.headers:
                self.remaining.append(int(response.headers["x-ratelimit-remaining"]))

    def changed(self, action: str, n: int = 1) -> None:
        with self.lock:
            self.changes[action] += n


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Caller:
    """One caller's loop: each step is one call on some face; the members it adds are its own,
    so that its role changes and removals meet no one else's."""

    def __init__(
        self, number: int, server: Server, tenancy: Tenancy, token: str, cookies: httpx.Cookies
    ) -> None:
        self.number = number
        self.tenancy = tenancy
        self.token = token
        self.client = httpx.Client(base_url=server.base, cookies=cookies, timeout=60)
        self.chance = random.Random(number)  # noqa: S311 - a workload, not a secret
        self.members: list[tuple[str, str]] = []  # (user id, address) added by this caller
        self.scim_users: list[str] = []
        self.network_roles: dict[str, str] = {}
        self.made = itertools.count()
        self.api = {"Authorization": f"Bearer {tenancy.api_token}"}
        self.steps: list[tuple[Callable[[], tuple[str, httpx.Response]], int]] = [
            (self.read_graphql, 4),
            (self.read_bulk, 3),
            (self.read_network, 2),
            (self.read_scim, 2),
            (self.console_page, 2),
            (self.add, 3),
            (self.change_role, 2),
            (self.remove, 1),
            (self.scim_create, 1),
            (self.scim_delete, 1),
            (self.network_upsert, 2),
        ]

    def run(self, tally: Tally, until: float) -> None:
        steps, weights = zip(*self.steps, strict=True)
        with self.client:
            while time.monotonic() < until:
                step = self.chance.choices(steps, weights)[0]
                started = time.monotonic()
                try:
                    what, response = step()
                    tally.keep(what, response, time.monotonic() - started)
                    self.settle(tally, what, response)
                except Exception as error:  # a dropped connection, an answer not understood
                    tally.failures.append(error)
                    return

    # -- reads -----------------------------------------------------------------------------

    def read_graphql(self) -> tuple[str, httpx.Response]:
        query = f'{{ tenant(tenantId: "{self.tenancy.advertiser.id}") {{ id users {{ email }} }} }}'
        bearer = {"Authorization": f"Bearer {self.token}"}
        return "graphql read", self.client.post(
            "/hub/graphql/", json={"query": query}, headers=bearer
        )

    def read_bulk(self) -> tuple[str, httpx.Response]:
        return "bulk read", self.client.get(BULK, headers=self.api)

    def read_network(self) -> tuple[str, httpx.Response]:
        path = f"/api/{VERSION}/{self.tenancy.host.id}/advertisers/soak/users.json"
        return "network read", self.client.get(path, headers={"Authorization": self.token})

    def read_scim(self) -> tuple[str, httpx.Response]:
        return "scim read", self.client.get(
            "/scim/v2/Users", params={"count": 20}, headers=self.api
        )

    def console_page(self) -> tuple[str, httpx.Response]:
        path = self.chance.choice(["/hub/", f"/hub/accounts/{self.tenancy.advertiser.id}"])
        return "console page", self.client.get(path)

    # -- changes ---------------------------------------------------------------------------

    def add(self) -> tuple[str, httpx.Response]:
        n = next(self.made)
        body = [
            {"email": f"soak{self.number}-{n}-{i}@example.org", "username": f"Soak {n}-{i}"}
            | {"role": "marketing", "allow_access_to_all_future_apps": True}
            for i in range(self.chance.randint(1, 3))
        ]
        key = {"Idempotency-Key": f"soak-{self.number}-{n}"}
        return "bulk add", self.client.post(BULK, json=body, headers=self.api | key)

    def change_role(self) -> tuple[str, httpx.Response]:
        if not self.members:
            return self.add()
        user_id, _ = self.chance.choice(self.members)
        action = self.chance.choice(["view", "manage"])
        variables = {
            "input": {
                "userId": user_id,
                "roleToAdd": f"advertiser-{action}-{self.tenancy.advertiser.id}",
            }
        }
        bearer = {"Authorization": f"Bearer {self.token}"}
        body = {"query": CHANGE_ROLE, "variables": variables}
        return "graphql role change", self.client.post("/hub/graphql/", json=body, headers=bearer)

    def remove(self) -> tuple[str, httpx.Response]:
        if not self.members:
            return self.add()
        _, email = self.members.pop(self.chance.randrange(len(self.members)))
        return "bulk remove", self.client.delete(f"{BULK}/{email}", headers=self.api)

    def scim_create(self) -> tuple[str, httpx.Response]:
        email = f"scim{self.number}-{next(self.made)}@example.org"
        body = {
            "schemas": [SCIM_USER],
            "userName": email,
            "name": {"givenName": "Soak", "familyName": "Scim"},
            "emails": [{"primary": True, "value": email, "type": "work"}],
            "active": True,
        }
        return "scim create", self.client.post("/scim/v2/Users", json=body, headers=self.api)

    def scim_delete(self) -> tuple[str, httpx.Response]:
        if not self.scim_users:
            return self.scim_create()
        user_id = self.scim_users.pop()
        return "scim delete", self.client.delete(f"/scim/v2/Users/{user_id}", headers=self.api)

    def network_upsert(self) -> tuple[str, httpx.Response]:
        uid = f"c{self.number}-{self.chance.randrange(8)}"
        role = "Observer" if self.network_roles.get(uid) == "Member" else "Member"
        self.network_roles[uid] = role
        body = {
            "id_from_network": uid,
            "email_settings": [
                {"email_address": f"{uid}@net.example", "use_for_notifications": True}
            ],
            "first_name": "Net",
            "last_name": uid,
            "role": role,
        }
        path = f"/api/{VERSION}/{self.tenancy.host.id}/advertisers/soak/users/{uid}.json"
        headers = {"Authorization": self.token}
        return "network upsert", self.client.put(path, json={"user": body}, headers=headers)

    def settle(self, tally: Tally, what: str, response: httpx.Response) -> None:
        """Note what the answer says was changed."""
        if response.status_code >= 300:
            return
        if what == "bulk add":
            added = response.json()["data"]
            # The answer names each user by id and name; the address is in the name's request.
            sent = {u["username"]: u["email"] for u in orjson.loads(response.request.content)}
            self.members += [(u["user_id"], sent[u["username"]]) for u in added]
            tally.changed("membership.create", len(added))
        elif what == "graphql role change" and "errors" not in response.json():
            tally.changed("membership.change_role")
        elif what == "bulk remove":
            tally.changed("membership.delete")
        elif what == "scim create":
            self.scim_users.append(response.json()["id"])
            tally.changed("membership.create")
        elif what == "scim delete":
            tally.changed("membership.delete")
        elif what == "network upsert":
            tally.changed("network.advertiser_user.upsert")


@pytest.fixture
def deployment(fault_cluster: PostgresCluster, tmp_path: Path) -> Any:
    with (
        smtp_server() as (inbox, smtp_port),
        fresh_database(fault_cluster, "soak") as url,
        services_on(url) as ctx,
    ):
        tenancy = seed(ctx)
        env = server_env(url, bulk_daily_quota=str(QUOTA), **mail_settings(smtp_port))
        servers = [Server(name, env, tmp_path / f"{name}.log") for name in ("one", "two")]
        with running(servers):
            yield url, tenancy, servers, inbox


def test_a_mixed_load_on_two_servers_stays_healthy(deployment: Any) -> None:
    url, tenancy, servers, _ = deployment
    token = tenancy.access_token(servers[0].base)
    cookies = sign_in(servers[0].base, tenancy)
    site = {"id_from_network": "soak-site", "name": "soak.example"}
    advertiser = {"id_from_network": "soak", "name": "Soak", "sites": [site]}
    made = httpx.put(
        f"{servers[0].base}/api/{VERSION}/{tenancy.host.id}/advertisers/soak.json",
        json=advertiser,
        headers={"Authorization": token},
        timeout=30,
    )
    assert made.status_code == 200, made.text
    tally = Tally()
    before = admined(url)
    callers = [
        Caller(n, server, tenancy, token, cookies)
        for n, server in enumerate(servers * CALLERS_PER_SERVER)
    ]
    started = time.monotonic()
    threads = [threading.Thread(target=c.run, args=(tally, started + SECONDS)) for c in callers]
    for thread in threads:
        thread.start()
    time.sleep(WARM_UP)
    warm = [s.rss_kib() for s in servers]
    for thread in threads:
        thread.join(timeout=SECONDS + 120)
    final = [s.rss_kib() for s in servers]

    everything = [t for values in tally.latencies.values() for t in values]
    p99 = {what: percentile(values, 0.99) for what, values in tally.latencies.items()}
    growth = [f / w - 1 for w, f in zip(warm, final, strict=True)]
    FIGURES.calls.update({"soak": len(everything)})
    errors = {k: n for k, n in tally.statuses.items() if k[1] >= 500}
    refused = {k: n for k, n in tally.statuses.items() if 400 <= k[1] < 500}
    FIGURES.server_errors += sum(errors.values())
    FIGURES.notes["soak"] = (
        f"{len(everything)} calls in {SECONDS:.0f} s on 2 servers "
        f"({len(everything) / SECONDS:.0f}/s), p50 {percentile(everything, 0.5) * 1000:.0f} ms, "
        f"p99 {percentile(everything, 0.99) * 1000:.0f} ms; memory after warm-up "
        + ", ".join(f"{w // 1024}→{f // 1024} MB" for w, f in zip(warm, final, strict=True))
    )
    FIGURES.notes["soak p99 by call (ms)"] = ", ".join(
        f"{what} {seconds * 1000:.0f}" for what, seconds in sorted(p99.items())
    )
    assert tally.failures == []
    assert errors == {}
    assert refused == {}, refused
    assert max(growth) < MEMORY_GROWTH_LIMIT, (warm, final)

    _check_quota_counted_each_call_once(tally)
    _check_audit_holds_each_change(url, tenancy, tally)
    assert invariants(url, before) == dict.fromkeys(invariants(url, before), 0)
    assert orphans(url) == dict.fromkeys(orphans(url), 0)
    for server in servers:
        assert not server.errors_logged(), server.errors_logged()


def _check_quota_counted_each_call_once(tally: Tally) -> None:
    """Every bulk call saw its own count: the remaining calls went down by one each time."""
    assert sorted(tally.remaining, reverse=True) == list(
        range(QUOTA - 1, QUOTA - 1 - len(tally.remaining), -1)
    )


def _check_audit_holds_each_change(url: str, tenancy: Tenancy, tally: Tally) -> None:
    events = Counter(
        {
            r.action: r.n
            for r in rows(
                url,
                "SELECT action, count(*) AS n FROM audit_events "
                "WHERE actor_kind <> 'system' GROUP BY action",
            )
        }
    )
    for action, n in tally.changes.items():
        assert events[action] == n, (action, events, tally.changes)
    # Replayed, the trail of the advertiser's memberships gives its members and their roles.
    members: dict[str, Any] = {}
    for event in rows(
        url,
        "SELECT action, target_id, after FROM audit_events "
        "WHERE account_id = :account AND action LIKE 'membership.%' ORDER BY id",
        account=tenancy.advertiser.id,
    ):
        if event.action == "membership.delete":
            members.pop(event.target_id, None)
        else:
            members[event.target_id] = json_value(event.after)["role"]
    current = {
        r.user_id: r.role_key
        for r in rows(
            url,
            "SELECT user_id, role_key FROM memberships WHERE account_id = :account",
            account=tenancy.advertiser.id,
        )
    }
    assert members == current
