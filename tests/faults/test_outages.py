"""PostgreSQL restarted under load, twice, while two servers are called on every face: each call
gets its answer or a 503 with Retry-After in its face's own format (never another 5xx, never a
dropped connection), and both servers answer every face again within seconds of the database
coming back, by themselves. Changes refused with a 503 are not made: retried with their
Idempotency-Key, they are made once."""

from __future__ import annotations

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
    orphans,
    rows,
    running,
    seed,
    server_env,
    services_on,
    sign_in,
)
from pgcluster import PostgresCluster

OUTAGES = 2
DOWN_SECONDS = 3.0
RECOVERY_LIMIT_SECONDS = 10.0
"""How soon after the database is back every face of both servers must answer again."""
PAUSE = 0.02  # between one caller's calls


@dataclass
class Face:
    name: str
    call: Callable[[httpx.Client, int], httpx.Response]
    refused: Callable[[httpx.Response], bool]
    """Whether a 503 answer is in the face's own format."""


def _graphql_refusal(response: httpx.Response) -> bool:
    errors = response.json()["errors"]
    return bool(errors[0]["extensions"]["code"] == 503)


def _message_refusal(response: httpx.Response) -> bool:
    return set(response.json()) == {"message"}


def _network_refusal(response: httpx.Response) -> bool:
    return bool(response.json()["errors"]["class"] == "ServiceUnavailable")


def _scim_refusal(response: httpx.Response) -> bool:
    return bool(response.json()["status"] == "503")


def _oauth_refusal(response: httpx.Response) -> bool:
    return bool(response.json()["error"] == "temporarily_unavailable")


def _page_refusal(response: httpx.Response) -> bool:
    return response.headers["content-type"].startswith("text/html")


def faces(tenancy: Tenancy, access_token: str) -> list[Face]:
    api = {"Authorization": f"Bearer {tenancy.api_token}"}
    bearer = {"Authorization": f"Bearer {access_token}"}
    account = tenancy.advertiser.id
    tenant = f'{{ tenant(tenantId: "{account}") {{ id users {{ email roles {{ name }} }} }} }}'
    grant = {
        "grant_type": "client_credentials",
        "client_id": tenancy.client_id,
        "client_secret": tenancy.client_secret,
    }
    network = f"/api/2019-05-01/{tenancy.host.id}/network.json"
    return [
        Face(
            "graphql",
            lambda c, _: c.post("/hub/graphql/", json={"query": tenant}, headers=bearer),
            _graphql_refusal,
        ),
        Face(
            "bulk",
            lambda c, _: c.get("/api/user-management/v1.0/users", headers=api),
            _message_refusal,
        ),
        Face(
            "network",
            lambda c, _: c.get(network, headers={"Authorization": access_token}),
            _network_refusal,
        ),
        Face("scim", lambda c, _: c.get("/scim/v2/Users", headers=api), _scim_refusal),
        Face("token", lambda c, _: c.post("/clients/token", data=grant), _oauth_refusal),
        Face("console", lambda c, _: c.get(f"/hub/accounts/{account}"), _page_refusal),
        Face("bulk add", lambda c, n: _add(c, api, n), _message_refusal),
    ]


def _add(client: httpx.Client, auth: dict[str, str], n: int) -> httpx.Response:
    user = {"email": f"outage{n}@example.org", "username": f"Outage {n}", "role": "marketing"}
    body = [user | {"allow_access_to_all_future_apps": True}]
    headers = {**auth, "Idempotency-Key": f"outage-{n}"}
    return client.post("/api/user-management/v1.0/users", json=body, headers=headers)


@dataclass
class Answer:
    face: str
    server: str
    at: float
    status: int | str
    number: int
    well_formed: bool = True


@dataclass
class Load:
    """Callers on every face of every server, until stopped; what they were answered."""

    answers: list[Answer] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    _numbers: Any = field(default_factory=lambda: iter(range(1_000_000)))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, server: Server, face: Face, cookies: httpx.Cookies) -> None:
        with httpx.Client(base_url=server.base, cookies=cookies, timeout=30) as client:
            while not self.stop.is_set():
                with self._lock:
                    number = next(self._numbers)
                try:
                    response = face.call(client, number)
                except httpx.TransportError as error:
                    self._keep(
                        Answer(face.name, server.name, time.monotonic(), repr(error), number)
                    )
                else:
                    answer = Answer(
                        face.name, server.name, time.monotonic(), response.status_code, number
                    )
                    if response.status_code == 503:
                        answer.well_formed = response.headers.get(
                            "retry-after"
                        ) == "5" and face.refused(response)
                    self._keep(answer)
                time.sleep(PAUSE)

    def _keep(self, answer: Answer) -> None:
        with self._lock:
            self.answers.append(answer)

    def last_answers(self, since: float) -> dict[tuple[str, str], list[int | str]]:
        """What each (server, face) was answered since `since`, the last few."""
        with self._lock:
            seen: dict[tuple[str, str], list[int | str]] = {}
            for a in self.answers:
                if a.at >= since:
                    seen.setdefault((a.server, a.face), []).append(a.status)
        return {pair: statuses[-3:] for pair, statuses in seen.items()}

    def recovered_after(self, since: float, pairs: set[tuple[str, str]]) -> float | None:
        """Seconds from `since` until every (server, face) pair answered a 2xx, if all did."""
        with self._lock:
            firsts: dict[tuple[str, str], float] = {}
            for a in self.answers:
                key = (a.server, a.face)
                if a.at >= since and isinstance(a.status, int) and a.status < 300:
                    firsts.setdefault(key, a.at)
        if set(firsts) != pairs:
            return None
        return max(firsts.values()) - since


@pytest.fixture
def deployment(fault_cluster: PostgresCluster, tmp_path: Path) -> Any:
    with fresh_database(fault_cluster, "outages") as url, services_on(url) as ctx:
        tenancy = seed(ctx)
        env = server_env(url, bulk_daily_quota="1000000")
        servers = [Server(name, env, tmp_path / f"{name}.log") for name in ("one", "two")]
        with running(servers):
            yield url, tenancy, servers


def test_database_restarts_under_load_are_503s_then_recovered(
    deployment: Any, fault_cluster: PostgresCluster
) -> None:
    url, tenancy, servers = deployment
    cookies = sign_in(servers[0].base, tenancy)
    before = admined(url)
    all_faces = faces(tenancy, tenancy.access_token(servers[0].base))
    load = Load()
    threads = [
        threading.Thread(target=load.run, args=(server, face, cookies))
        for server in servers
        for face in all_faces
    ]
    pairs = {(s.name, f.name) for s in servers for f in all_faces}
    for thread in threads:
        thread.start()
    recoveries: list[float] = []
    try:
        for _ in range(OUTAGES):
            time.sleep(2)
            fault_cluster.halt()
            time.sleep(DOWN_SECONDS)
            fault_cluster.resume()
            back = time.monotonic()
            while (seconds := load.recovered_after(back, pairs)) is None:
                if time.monotonic() - back > 60:
                    break
                time.sleep(0.1)
            assert seconds is not None, load.last_answers(back)
            recoveries.append(seconds)
            FIGURES.outages += 1
        time.sleep(1)
    finally:
        load.stop.set()
        for thread in threads:
            thread.join(timeout=60)

    FIGURES.recovery_seconds += recoveries
    statuses = Counter(a.status for a in load.answers)
    FIGURES.calls.update({"under database restarts": len(load.answers)})
    refused = [a for a in load.answers if a.status == 503]
    FIGURES.refused_503 += len(refused)
    others = [a for a in load.answers if not (isinstance(a.status, int) and a.status < 300)]
    FIGURES.server_errors += sum(
        1 for a in others if isinstance(a.status, int) and a.status >= 500 and a.status != 503
    )
    assert refused, "no call met the outage"
    assert {a.face for a in refused} == {f.name for f in all_faces}
    assert [a for a in refused if not a.well_formed] == []
    assert [a for a in others if a.status != 503] == [], statuses
    assert max(recoveries) < RECOVERY_LIMIT_SECONDS, recoveries
    _check_refused_adds_run_once_on_retry(url, tenancy, servers[0], load)
    assert orphans(url) == dict.fromkeys(orphans(url), 0)
    assert invariants(url, before) == dict.fromkeys(invariants(url, before), 0)


def _check_refused_adds_run_once_on_retry(
    url: str, tenancy: Tenancy, server: Server, load: Load
) -> None:
    """An add answered 503 made nothing, and left its key free: sent again with it, it is
    made, once."""
    members = {
        r.email
        for r in rows(
            url,
            "SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id "
            "WHERE m.account_id = :account",
            account=tenancy.advertiser.id,
        )
    }
    adds = [a for a in load.answers if a.face == "bulk add"]
    made = [a for a in adds if a.status == 200]
    refused = [a for a in adds if a.status == 503]
    assert all(f"outage{a.number}@example.org" in members for a in made)
    rows_lost = sum(1 for a in made if f"outage{a.number}@example.org" not in members)
    FIGURES.rows_lost += rows_lost
    auth = {"Authorization": f"Bearer {tenancy.api_token}"}
    with httpx.Client(base_url=server.base, timeout=30) as client:
        again = Counter(_add(client, auth, a.number).status_code for a in refused)
    assert again == {200: len(refused)}, again
