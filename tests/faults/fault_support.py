"""What the fault suite is made of: real `tenantry serve` processes on a PostgreSQL cluster of
its own, the accounts and credentials they are called with, the checks of what the database
holds afterwards, and the figures the suite prints at its end."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from tenantry.app import Composition
from tenantry.domain.accounts import Account
from tenantry.services import credentials, setup
from tenantry.services.context import ServiceContext
from tenantry.settings import Settings

from factories import OPERATOR, make_account, make_member
from mailserver import free_port
from pgcluster import PostgresCluster

TENANTRY = shutil.which("tenantry", path=str(Path(sys.executable).parent)) or "tenantry"
SECRET_KEY = "fault-suite-signing-key-of-at-least-32-bytes"
READY_SECONDS = 90  # a start takes ~3 s; much longer on a loaded machine

# -- the figures printed at the end of the suite -----------------------------------------------


@dataclass
class Figures:
    """What the suite did and saw, added up by its tests."""

    calls: Counter[str] = field(default_factory=Counter)
    interrupted: Counter[str] = field(default_factory=Counter)
    kills: int = 0
    outages: int = 0
    recovery_seconds: list[float] = field(default_factory=list)
    refused_503: int = 0
    server_errors: int = 0
    rows_lost: int = 0
    orphans: int = 0
    mail_sent: int = 0
    mail_duplicates: int = 0
    keys_left_reserved: int = 0
    notes: dict[str, Any] = field(default_factory=dict)

    def lines(self) -> list[str]:
        recoveries = self.recovery_seconds
        slowest = f"{max(recoveries):.1f} s" if recoveries else "-"
        lines = [
            f"calls made: {sum(self.calls.values())} ({_by_kind(self.calls)})",
            f"calls interrupted by SIGKILL: {sum(self.interrupted.values())} "
            f"({_by_kind(self.interrupted)}) in {self.kills} kills",
            f"database outages survived: {self.outages} (slowest recovery {slowest})",
            f"503 with Retry-After during outages: {self.refused_503}",
            f"5xx other than those 503: {self.server_errors}",
            f"rows lost: {self.rows_lost}; orphan rows: {self.orphans}",
            f"mail sent: {self.mail_sent}; sent twice: {self.mail_duplicates}",
            f"idempotency keys a killed call left reserved: {self.keys_left_reserved}",
        ]
        lines += [f"{name}: {value}" for name, value in self.notes.items()]
        return lines

    def as_json(self) -> dict[str, Any]:
        return {
            "calls": dict(self.calls),
            "interrupted": dict(self.interrupted),
            "kills": self.kills,
            "outages": self.outages,
            "recovery_seconds": self.recovery_seconds,
            "refused_503": self.refused_503,
            "server_errors": self.server_errors,
            "rows_lost": self.rows_lost,
            "orphans": self.orphans,
            "mail_sent": self.mail_sent,
            "mail_duplicates": self.mail_duplicates,
            "keys_left_reserved": self.keys_left_reserved,
            **self.notes,
        }


def _by_kind(counts: Counter[str]) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items())) or "none"


FIGURES = Figures()


# -- servers -------------------------------------------------------------------------------------


@dataclass
class Server:
    """One `tenantry serve` process; it can be killed and started again on its port."""

    name: str
    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    program: list[str] = field(default_factory=lambda: [TENANTRY, "serve"])
    """What to run, before the address options: `tenantry serve` unless told otherwise."""

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                [*self.program, "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        self.wait_ready()

    def wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"{self.name} was not ready in {READY_SECONDS} s")

    def kill(self) -> None:
        """SIGKILL: no handler runs, no transaction is finished, no answer is sent."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        FIGURES.kills += 1

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def rss_kib(self) -> int:
        """Resident memory of the process, from /proc."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def errors_logged(self) -> list[str]:
        """Lines of the server's log at level ERROR (the app logs JSON lines)."""
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                if "Traceback" in line:
                    found.append(line)
                continue
            if isinstance(entry, dict) and entry.get("level") in ("ERROR", "CRITICAL"):
                found.append(line)
        return found


def server_env(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a server process: `settings` are TENANTRY_ settings by name."""
    env = {
        **os.environ,
        "TENANTRY_DATABASE_URL": database_url,
        "TENANTRY_SECRET_KEY": SECRET_KEY,
        "TENANTRY_LOG_LEVEL": "WARNING",
        "TENANTRY_BASE_URL": "http://127.0.0.1",
    }
    env.update({f"TENANTRY_{name.upper()}": value for name, value in settings.items()})
    return env


def mail_settings(port: int, **more: str) -> dict[str, str]:
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": str(port),
        "smtp_security": "none",
        "outbox_poll_seconds": "0.5",
        **more,
    }


@contextmanager
def running(servers: Sequence[Server]) -> Iterator[Sequence[Server]]:
    """Start the servers (one after the other: each migrates, which is a no-op at head) and
    stop them afterwards."""
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


@contextmanager
def outbox_sender(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`tenantry outbox run` in a process of its own."""
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [TENANTRY, "outbox", "run"], env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


# -- a database and who calls it -----------------------------------------------------------------


@contextmanager
def fresh_database(cluster: PostgresCluster, name: str) -> Iterator[str]:
    """A database migrated to head, dropped afterwards; its URL."""
    from tenantry.storage.migrations import upgrade_database

    cluster.create_database(name)
    url = cluster.url(name)
    try:
        upgrade_database(url)
        yield url
    finally:
        cluster.drop_database(name)


@contextmanager
def services_on(url: str) -> Iterator[ServiceContext]:
    """The services, in the test's own process, on the servers' database (to seed and check)."""
    from tenantry.services.passwords import Argon2Hasher

    composition = Composition(Settings(database_url=url, base_url="http://127.0.0.1"))
    composition.context.passwords = Argon2Hasher(time_cost=1, memory_cost=1024)
    try:
        yield composition.context
    finally:
        composition.dispose()


@dataclass
class Tenancy:
    """A host network with an API account, and an advertiser with an admin and an API token:
    enough to call every face."""

    ctx: ServiceContext
    host: Account
    advertiser: Account
    admin_email: str
    api_token: str
    """Bulk REST and SCIM: an API token acting as the advertiser's admin."""
    client_id: str
    client_secret: str
    """The host's API account: GraphQL and the network REST face, through /clients/token."""

    def access_token(self, base: str) -> str:
        response = httpx.post(
            f"{base}/clients/token",
            data={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            },
            timeout=30,
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token


def seed(ctx: ServiceContext) -> Tenancy:
    init = setup.initialize(ctx, admin_email="host-admin@example.com")
    assert init.client_id is not None
    assert init.client_secret is not None
    with ctx.uow(readonly=True) as uow:
        host = uow.accounts.get(init.account_id)
    advertiser = make_account(ctx, parent=host, name="Faulty Advertiser")
    admin = make_member(ctx, advertiser, role="admin", email="adv-admin@example.com")
    _, token, _ = credentials.create_api_token(ctx, OPERATOR, advertiser.id, user_email=admin.email)
    return Tenancy(ctx, host, advertiser, admin.email, token, init.client_id, init.client_secret)


# -- what the database holds ---------------------------------------------------------------------


def rows(url: str, query: str, **params: Any) -> list[sa.Row[Any]]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(query), params))
    finally:
        engine.dispose()


ORPHANS = {
    "open invitations without their membership": """
        SELECT i.id FROM invitations i
        LEFT JOIN memberships m ON m.user_id = i.user_id AND m.account_id = i.account_id
        WHERE i.account_id IS NOT NULL AND i.accepted_at IS NULL AND i.revoked_at IS NULL
          AND m.user_id IS NULL""",
    "mail entries whose invitation is gone": """
        SELECT o.id FROM outbox o
        WHERE o.kind = 'mail.invitation' AND NOT EXISTS (
            SELECT 1 FROM invitations i WHERE i.token_hash = o.payload->>'invitation')""",
    "SCIM external ids without their membership": """
        SELECT x.user_id FROM scim_external_ids x
        LEFT JOIN memberships m ON m.user_id = x.user_id AND m.account_id = x.account_id
        WHERE m.user_id IS NULL""",
    "users without any membership or invitation": """
        SELECT u.id FROM users u
        WHERE NOT EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id)
          AND NOT EXISTS (SELECT 1 FROM invitations i WHERE i.user_id = u.id)
          AND u.network_account_id IS NULL""",
    "memberships whose making was not audited": """
        SELECT m.user_id FROM memberships m JOIN users u ON u.id = m.user_id
        WHERE NOT EXISTS (
            SELECT 1 FROM audit_events a
            WHERE a.account_id = m.account_id AND (
                a.action = 'membership.create' AND a.target_id = m.user_id
                OR a.action = 'system.init' AND a.target_id = m.account_id
                OR a.action LIKE 'network.%'
                   AND jsonb_exists(a.after::jsonb -> 'users', u.id_from_network)))""",
}


def json_value(value: Any) -> Any:
    """A JSON column as read (PostgreSQL's `json` comes back as text through `sa.text`)."""
    return json.loads(value) if isinstance(value, str) else value


def orphans(url: str) -> dict[str, int]:
    """Rows that only a half-applied change would leave, by kind (all zero when whole)."""
    found = {name: len(rows(url, query)) for name, query in ORPHANS.items()}
    FIGURES.orphans += sum(found.values())
    return found


def admined(url: str) -> set[str]:
    """The accounts with an active admin."""
    query = (
        "SELECT DISTINCT account_id FROM memberships WHERE role_key = 'admin' AND status = 'active'"
    )
    return {r.account_id for r in rows(url, query)}


def invariants(url: str, admined_before: set[str]) -> dict[str, int]:
    """Rules that hold whatever happened: zero rows break each. `admined_before`: the accounts
    that had an active admin before the test's calls (each must keep one)."""
    doubles = "SELECT user_id FROM memberships GROUP BY user_id, account_id HAVING count(*) > 1"
    return {
        "users with two memberships in one account": len(rows(url, doubles)),
        "accounts that lost their last admin": len(admined_before - admined(url)),
    }


PASSWORD = "Correct-Horse-42-battery"


def sign_in(base: str, tenancy: Tenancy) -> httpx.Cookies:
    """A console session of the advertiser's admin, signed in through the sign-in form (any
    server accepts it: they share the signing key); its cookies."""
    with tenancy.ctx.uow() as uow:
        admin = uow.users.find_by_email(tenancy.admin_email)
        assert admin is not None
        admin.password_hash = tenancy.ctx.passwords.hash(PASSWORD)
        uow.users.update(admin)
    with httpx.Client(base_url=base, timeout=30) as client:
        page = client.get("/auth/login")
        hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
        fields = {**hidden, "email": tenancy.admin_email, "password": PASSWORD}
        answer = client.post("/auth/login", data=fields)
        assert answer.status_code == 303, answer.text
        return client.cookies


# -- calls of every face ------------------------------------------------------------------------

BULK = "/api/user-management/v1.0/users"
SCIM_USER = "urn:ietf:params:scim:schemas:core:2.0:User"


def exercise_every_face(base: str, tenancy: Tenancy, tag: str) -> dict[str, Any]:
    """The main calls of every face, each answered 2xx; what they made."""
    token = tenancy.access_token(base)
    bearer = {"Authorization": f"Bearer {token}"}
    api = {"Authorization": f"Bearer {tenancy.api_token}"}
    with httpx.Client(base_url=base, timeout=30) as client:

        def ok(response: httpx.Response) -> Any:
            assert response.status_code < 300, (response.request.url, response.text)
            if not response.headers.get("content-type", "").endswith("json"):
                return None  # no content, or a page
            body = response.json()
            assert not (isinstance(body, dict) and body.get("errors")), body
            return body

        def graphql(query: str, variables: dict[str, Any] | None = None) -> Any:
            body = {"query": query, "variables": variables or {}}
            return ok(client.post("/hub/graphql/", json=body, headers=bearer))["data"]

        tenant = graphql(
            "mutation($input: CreateTenantInput!) { tenantMutations { createTenant(input: $input)"
            " { tenant { id } } } }",
            {
                "input": {
                    "name": f"Made by {tag}",
                    "canPartnerManage": True,
                    "eventEnrichment": False,
                }
            },
        )["tenantMutations"]["createTenant"]["tenant"]["id"]
        graphql(
            "mutation($input: AddUserWithRoleInput!) { userMutations {"
            " addUserWithRole(input: $input) { user { id } } } }",
            {
                "input": {
                    "email": f"{tag}-graphql@example.org",
                    "roleName": f"advertiser-view-{tenant}",
                }
            },
        )
        users = graphql(f'{{ tenant(tenantId: "{tenant}") {{ users {{ email }} }} }}')
        assert {u["email"] for u in users["tenant"]["users"]} >= {f"{tag}-graphql@example.org"}

        email = f"{tag}-bulk@example.org"
        added = ok(
            client.post(
                BULK,
                json=[
                    {"email": email, "username": tag, "role": "marketing"}
                    | {"allow_access_to_all_future_apps": True},
                    {"email": f"{tag}-gone@example.org", "username": tag, "role": "qa"}
                    | {"allow_access_to_all_future_apps": True},
                ],
                headers=api,
            )
        )
        assert len(added["data"]) == 2, added
        ok(client.delete(f"{BULK}/{tag}-gone@example.org", headers=api))
        ok(client.get(f"{BULK}", headers=api))
        ok(client.get("/api/user-management/v1.0/roles", headers=api))

        network = f"/api/2019-05-01/{tenancy.host.id}"
        site = {"id_from_network": f"{tag}-site", "name": f"{tag}.example"}
        auth = {"Authorization": token}
        ok(
            client.put(
                f"{network}/advertisers/{tag}.json",
                json={"id_from_network": tag, "name": f"Network {tag}", "sites": [site]},
                headers=auth,
            )
        )
        user = {
            "id_from_network": f"{tag}-u",
            "email_settings": [
                {"email_address": f"{tag}-net@example.org", "use_for_notifications": True}
            ],
            "first_name": "Net",
            "last_name": tag,
            "role": "Member",
        }
        path = f"{network}/advertisers/{tag}/users/{tag}-u.json"
        ok(client.put(path, json={"user": user}, headers=auth))
        ok(client.get(f"{network}/advertisers/{tag}/users.json", headers=auth))
        ok(client.get(f"{network}/network.json", headers=auth))

        scim_email = f"{tag}-scim@example.org"
        created = ok(
            client.post(
                "/scim/v2/Users",
                json={
                    "schemas": [SCIM_USER],
                    "userName": scim_email,
                    "name": {"givenName": "Scim", "familyName": tag},
                    "emails": [{"primary": True, "value": scim_email, "type": "work"}],
                    "active": True,
                },
                headers=api,
            )
        )
        ok(client.get(f"/scim/v2/Users/{created['id']}", headers=api))
        ok(client.get("/scim/v2/Groups", headers=api))
        ok(client.get("/auth/login"))
    return {"tenant": tenant, "bulk": email}


@contextmanager
def hanging_receiver(port: int) -> Iterator[list[socket.socket]]:
    """Accepts connections on `port` and never answers them."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(16)
    listener.settimeout(0.1)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            held.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield held
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
        for connection in held:
            connection.close()
