"""`python -m bench.graphql_http`: the GraphQL tenant query over HTTP against the same data
served as plain JSON by a hand-written endpoint, same server, same database, same run.

The tenant has 50 users, each holding 2 roles (one in the tenant, one in a sibling tenant).
Both answers are checked equal before anything is timed. The figure is the price of GraphQL
execution: graphql-core resolves every field in Python, while the hand-written endpoint is two
SQL statements and a loop.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from tenantry.app import Composition
from tenantry.domain.accounts import AccountKind
from tenantry.domain.memberships import MembershipStatus
from tenantry.domain.users import UserStatus
from tenantry.services import accounts, credentials, members, setup
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.members import NewMember
from tenantry.settings import Settings

QUERY = """query ($tenantId: String!) {
  tenant(tenantId: $tenantId) {
    id name
    users { id email roles { name displayName } }
    availableRoles { name displayName }
  }
}"""


def seed(path: Path, users: int) -> tuple[str, str]:
    """A host, a tenant of `users` users and a sibling tenant they also belong to."""
    composition = Composition(Settings(database_url=f"sqlite:///{path}"))
    composition.upgrade_database()
    ctx = composition.context
    operator = Actor.system(face="bench")
    init = setup.initialize(ctx)
    assert init.client_id is not None
    assert init.client_secret is not None
    tenant = accounts.create_account(
        ctx, operator, name="Bench tenant", kind=AccountKind.ADVERTISER, parent_id=init.account_id
    )
    sibling = accounts.create_account(
        ctx, operator, name="Sibling", kind=AccountKind.ADVERTISER, parent_id=init.account_id
    )
    for n in range(users):
        email = f"user{n}@bench.example"
        added = members.add_member(
            ctx, operator, tenant.id, NewMember(email, "manage" if n else "admin")
        )
        accept(ctx, added.user.id, tenant.id)  # a pending user could join no second account
        members.add_member(ctx, operator, sibling.id, NewMember(email, "view"))
    token = credentials.issue_access_token(ctx, init.client_id, init.client_secret).token
    composition.dispose()
    return tenant.id, token


def accept(ctx: ServiceContext, user_id: str, account_id: str) -> None:
    """What accepting the invitation does, minus choosing a password."""
    with ctx.uow() as uow:
        user = uow.users.get(user_id)
        user.status = UserStatus.ACTIVATED
        uow.users.update(user)
        membership = uow.memberships.find(user_id, account_id)
        assert membership is not None
        membership.status = MembershipStatus.ACTIVE
        uow.memberships.update(membership)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def load(
    client: httpx.AsyncClient, request: httpx.Request, seconds: float, concurrency: int
) -> tuple[float, float]:
    """Requests per second and median latency (ms) of `concurrency` clients for `seconds`."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = await client.send(request)
            response.raise_for_status()
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, statistics.median(latencies) * 1000


async def measure(base: str, tenant_id: str, token: str, args: argparse.Namespace) -> None:
    limits = httpx.Limits(max_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        graphql = client.build_request(
            "POST",
            "/hub/graphql/",
            json={"query": QUERY, "variables": {"tenantId": tenant_id}},
            headers={"Authorization": f"Bearer {token}"},
        )
        raw = client.build_request("GET", f"/bench/raw-tenant/{tenant_id}")
        graphql_answer = (await client.send(graphql)).json()
        raw_answer = (await client.send(raw)).json()
        if graphql_answer != raw_answer:
            raise SystemExit("the two endpoints disagree; nothing was timed")
        results: dict[str, list[tuple[float, float]]] = {"graphql": [], "raw": []}
        for _ in range(args.rounds):  # interleaved, so drift hits both sides alike
            for name, request in (("graphql", graphql), ("raw", raw)):
                results[name].append(await load(client, request, args.seconds, args.concurrency))
    table = Table(title="GraphQL tenant query against hand-written JSON, same server and data")
    for column in ("endpoint", "req/s", "p50 ms"):
        table.add_column(column, justify="right" if column != "endpoint" else "left")
    medians = {}
    for name, label in (("graphql", "POST /hub/graphql/ (tenant query)"), ("raw", "GET raw JSON")):
        rate = statistics.median(r for r, _ in results[name])
        p50 = statistics.median(p for _, p in results[name])
        medians[name] = rate
        table.add_row(label, f"{rate:,.0f}", f"{p50:.1f}")
    console = Console()
    console.print(table)
    console.print(
        f"ratio graphql/raw = {medians['graphql'] / medians['raw']:.3f} "
        f"({args.users} users x 2 roles, {args.concurrency} concurrent clients, "
        f"{args.rounds} rounds of {args.seconds} s, one uvicorn worker)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.graphql_http", description=__doc__)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "graphql-bench.db"
        tenant_id, token = seed(path, args.users)
        port = free_port()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        server = subprocess.Popen(
            [sys.executable, "-m", "bench.graphql_server", str(path), str(port)], env=env
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.05)
            asyncio.run(measure(base, tenant_id, token, args))
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
