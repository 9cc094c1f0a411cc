"""`python -m bench.bulk_rest` (or `python -m bench --bulk-rest`): the bulk user-management REST
face over HTTP, next to the raw driver doing the same database work in the same run.

- **add 20 users in one call**: `POST /api/user-management/v1.0/users` with 20 new users, one
  call at a time, against one uvicorn worker on loopback: p50 and p99 latency. Next to it, the
  same 20 users and memberships written with the raw driver (two `executemany` calls in one
  transaction), timed in the same rounds.
- **get users of a 10,000-user account**: `GET /api/user-management/v1.0/users` (every member,
  the default answer): p50 and p99 latency and the answer's size. Next to it, the raw driver
  reading the same rows and `orjson` encoding them (no HTTP): the floor of that answer.

The sides take turns round by round, so drift on the machine hits both alike. Compare the
ratios between commits, not the absolute figures.
"""

from __future__ import annotations

import argparse
import itertools
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import httpx
import orjson
from rich.console import Console
from rich.table import Table

from bench.database import RawDatabase, open_target
from bench.seed import NewRow, insert_raw
from tenantry.app import Composition
from tenantry.domain.accounts import AccountKind
from tenantry.domain.memberships import MembershipStatus
from tenantry.domain.users import UserStatus
from tenantry.entrypoints.bulk_rest import PREFIX
from tenantry.services import accounts, credentials, members, setup
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.members import NewMember
from tenantry.settings import Settings
from tenantry.storage.migrations import upgrade_database

BULK_SIZE = 20
BULK_ROLE = "marketing"
BIG_ACCOUNT = 10_000
OPERATOR = Actor.system(face="bench", label="bench")
_numbers = itertools.count()

# One uvicorn worker serving tenantry's app.
SERVER = """
import sys

import uvicorn

from tenantry.app import Composition

composition = Composition()
app = composition.asgi_app()
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""

BIG_MEMBERS = (
    "SELECT u.name, u.email, m.role_key, m.app_ids, m.all_future_apps, m.media_sources,"
    " m.geos, u.last_login_at, u.department, m.status"
    " FROM memberships m JOIN users u ON u.id = m.user_id"
    " WHERE m.account_id = ? ORDER BY m.created_at, m.user_id"
)


@dataclass(slots=True)
class Latencies:
    name: str
    tenantry: list[float]
    raw: list[float]

    def row(self) -> list[str]:
        ours, theirs = percentiles(self.tenantry), percentiles(self.raw)
        return [
            self.name,
            f"{ours[0]:.2f}",
            f"{ours[1]:.2f}",
            f"{theirs[0]:.2f}",
            f"{theirs[1]:.2f}",
            f"{ours[0] / theirs[0]:.1f}x",
        ]


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p99) in milliseconds."""
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples) * 1000, cuts[98] * 1000


@dataclass(slots=True)
class Seeded:
    add_account: str
    add_token: str
    big_account: str
    big_token: str


def seed(ctx: ServiceContext, raw: RawDatabase, big: int) -> Seeded:
    init = setup.initialize(ctx, admin_email="admin@bench.example", client_id="bench")
    if not init.created:
        raise SystemExit("The bench fills an empty database; this one already has accounts.")
    add_account, add_token = _account_with_admin(ctx, init.account_id, "Bulk adds")
    big_account, big_token = _account_with_admin(ctx, init.account_id, "10k users")
    for start in range(0, big - 1, 1_000):
        rows = [
            NewRow(str(uuid.uuid4()), f"big{n}@bench.example", big_account, BULK_ROLE)
            for n in range(start, min(start + 1_000, big - 1))
        ]
        insert_raw(raw, rows, active=True)
    return Seeded(add_account, add_token, big_account, big_token)


def _account_with_admin(ctx: ServiceContext, host_id: str, name: str) -> tuple[str, str]:
    account = accounts.create_account(
        ctx, OPERATOR, name=name, kind=AccountKind.ADVERTISER, parent_id=host_id
    )
    email = f"admin-{account.id.lower()}@bench.example"
    added = members.add_member(ctx, OPERATOR, account.id, NewMember(email, "admin"))
    with ctx.uow() as uow:  # what accepting the invitation does
        user = uow.users.get(added.user.id)
        user.status = UserStatus.ACTIVATED
        uow.users.update(user)
        added.membership.status = MembershipStatus.ACTIVE
        uow.memberships.update(added.membership)
    _, token, _ = credentials.create_api_token(ctx, OPERATOR, account.id, user_email=email)
    return account.id, token


def new_users() -> list[dict[str, Any]]:
    return [
        {
            "email": f"bulk{next(_numbers)}@bench.example",
            "username": "Bench User",
            "role": BULK_ROLE,
            "allow_access_to_all_future_apps": True,
        }
        for _ in range(BULK_SIZE)
    ]


def timed(call: Callable[[], object]) -> float:
    started = perf_counter()
    call()
    return perf_counter() - started


def measure_adds(
    client: httpx.Client, raw: RawDatabase, seeded: Seeded, *, rounds: int, per_round: int
) -> Latencies:
    headers = {"Authorization": f"Bearer {seeded.add_token}"}

    def with_tenantry() -> None:
        response = client.post(f"{PREFIX}/users", json=new_users(), headers=headers)
        if response.status_code != 200 or response.json()["errors"]:
            raise SystemExit(f"the bulk add failed: {response.status_code} {response.text}")

    def with_raw() -> None:
        rows = [
            NewRow(str(uuid.uuid4()), user["email"], seeded.add_account, BULK_ROLE)
            for user in new_users()
        ]
        insert_raw(raw, rows, active=False)  # new users are pending, as tenantry adds them

    result = Latencies(f"add {BULK_SIZE} users in one call", [], [])
    with_tenantry()  # warm-up, both sides
    with_raw()
    for _ in range(rounds):
        result.tenantry += [timed(with_tenantry) for _ in range(per_round)]
        result.raw += [timed(with_raw) for _ in range(per_round)]
    return result


def measure_big_read(
    client: httpx.Client, raw: RawDatabase, seeded: Seeded, *, rounds: int, per_round: int
) -> tuple[Latencies, int, int]:
    headers = {"Authorization": f"Bearer {seeded.big_token}"}
    sql, account = raw.sql(BIG_MEMBERS), seeded.big_account
    sizes: list[int] = []

    def with_tenantry() -> None:
        response = client.get(f"{PREFIX}/users", headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"GET /users failed: {response.status_code} {response.text}")
        sizes.append(len(response.content))

    def with_raw() -> None:
        orjson.dumps({"users": [raw_user(row) for row in raw.fetchall(sql, (account,))]})

    with_tenantry()
    users = len(client.get(f"{PREFIX}/users", headers=headers).json()["users"])
    result = Latencies(f"get users of a {users:,}-user account", [], [])
    for _ in range(rounds):
        result.tenantry += [timed(with_tenantry) for _ in range(per_round)]
        result.raw += [timed(with_raw) for _ in range(per_round)]
    return result, users, sizes[-1]


def raw_user(row: tuple[Any, ...]) -> dict[str, Any]:
    """A user of the answer from a raw row: the same fields, display text roughly alike."""
    name, email, role, apps, future, sources, geos, last_login, department, status = row
    return {
        "username": name,
        "email": email,
        "role": role,
        "apps": "All & future" if apps is None and future else str(apps),
        "media_sources": "All" if sources is None else str(sources),
        "geos": "All" if geos is None else str(geos),
        "last_login": str(last_login or ""),
        "department": department or "",
        "pending": status == "pending",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(database_url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(sys.path),
        "TENANTRY_DATABASE_URL": database_url,
        "TENANTRY_BULK_DAILY_QUOTA": str(10**9),  # the bench makes more calls than a day's
        "TENANTRY_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server exited before it was ready")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return server, base
        except httpx.TransportError:
            time.sleep(0.05)
    server.terminate()
    raise SystemExit("the server did not become ready in 30 s")


def run(
    engine: str = "sqlite",
    database_url: str | None = None,
    *,
    quick: bool = False,
    console: Console | None = None,
) -> None:
    """Seed, serve, time, print. `quick`: fewer samples and a 2,000-user account."""
    if console is None:
        console = Console()
        if not console.is_terminal:
            console = Console(width=100)  # logs and pipes: one line per row
    big = 2_000 if quick else BIG_ACCOUNT
    rounds, adds_per_round, reads_per_round = (3, 20, 3) if quick else (5, 100, 10)
    with open_target(engine, database_url) as target:
        upgrade_database(target.url)
        composition = Composition(Settings(database_url=target.url))
        raw = target.connect_raw()
        try:
            with console.status(f"seeding an account of {big:,} users…"):
                seeded = seed(composition.context, raw, big)
            composition.dispose()
            server, base = start_server(target.url)
            try:
                with httpx.Client(base_url=base, timeout=60) as client:
                    with console.status("timing the bulk add…"):
                        adds = measure_adds(
                            client, raw, seeded, rounds=rounds, per_round=adds_per_round
                        )
                    with console.status("timing GET /users…"):
                        read, users, size = measure_big_read(
                            client, raw, seeded, rounds=rounds, per_round=reads_per_round
                        )
            finally:
                server.terminate()
                server.wait(timeout=10)
        finally:
            raw.close()
            composition.dispose()
        server_line = f"{target.engine}, {target.origin}"
    table = Table(
        title="bulk REST over HTTP (one uvicorn worker, loopback) against the raw driver",
        caption="raw: the same rows written, or read and encoded, with the plain driver; "
        "slower = tenantry p50 / raw p50",
    )
    for column in ("figure", "p50 ms", "p99 ms", "raw p50 ms", "raw p99 ms", "slower"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    table.add_row(*adds.row())
    table.add_row(*read.row())
    console.print(f"[bold]engine[/]   {server_line}")
    console.print(
        f"[bold]samples[/]  {len(adds.tenantry)} bulk adds and {len(read.tenantry)} reads a "
        f"side, in {rounds} interleaved rounds; GET /users answers {users:,} users in "
        f"{size / 1e6:.2f} MB"
    )
    console.print(table)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bulk_rest", description=__doc__)
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url", help="an empty database to fill (SQLAlchemy URL)")
    parser.add_argument("--quick", action="store_true", help="fewer samples, 2,000 users")
    args = parser.parse_args(argv)
    run(args.engine, args.database_url, quick=args.quick)


if __name__ == "__main__":
    main()
