"""HTTP figures with `wrk`: tenantry's real server against raw-driver routes of the same process.

`bench.http_server` serves tenantry's app as `tenantry serve` does (one uvicorn worker, its
middleware, JSON request logs and authentication on) next to raw routes doing the same work
with the plain driver. `wrk` (Debian's package; a C load generator, so the client is not what
limits the rate) loads one side at a time, the sides taking turns round by round; every figure
is the median of the rounds. Before anything is timed, each pair of routes is called once and
must give the same answer.

- **GraphQL tenant query**: `POST /hub/graphql/` with the documented CAPIG selection
  (`tenant { id name users { id email roles { name displayName } } availableRoles { … } }`)
  for a tenant of 50 users holding 2 roles each, against a raw route reading the same rows.
- **bulk add of 20 users**: `POST /api/user-management/v1.0/users` with 20 new people, against
  a raw route writing the same rows in one transaction.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.http_server import RAW_PREFIX
from tenantry.domain.accounts import AccountKind
from tenantry.domain.memberships import MembershipStatus
from tenantry.domain.users import UserStatus
from tenantry.entrypoints.bulk_rest import PREFIX as BULK_PREFIX
from tenantry.services import accounts, credentials, members
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.members import NewMember

OPERATOR = Actor.system(face="bench", label="bench")
TENANT_USERS = 50
BULK_SIZE = 20
BULK_ROLE = "contributor"  # the bulk API's name for the `member` role
CONNECTIONS = 16
WRK = shutil.which("wrk") or "wrk"
QUERY = """query ($tenantId: String!) {
  tenant(tenantId: $tenantId) {
    id name
    users { id email roles { name displayName } }
    availableRoles { name displayName }
  }
}"""


@dataclass(slots=True)
class HttpFigure:
    name: str
    tenantry: float  # requests per second
    raw: float
    tenantry_p50_ms: float
    raw_p50_ms: float

    @property
    def ratio(self) -> float:
        return self.tenantry / self.raw if self.raw else float("nan")


@dataclass(slots=True)
class HttpSeeded:
    tenant_id: str
    token: str  # an access token of the host's API account
    bulk_token: str  # an access token of an API account of the account tenantry adds to
    raw_bulk_token: str  # the same, for the account the raw route adds to
    read_token: str  # an access token of an API account of the GraphQL tenant


@dataclass(slots=True)
class HttpRun:
    figures: list[HttpFigure]


@dataclass(slots=True)
class Memory:
    rss_mb: float  # `tenantry serve`'s resident memory after the load
    peak_rss_mb: float


def seed_http(ctx: ServiceContext, host_id: str) -> HttpSeeded:
    """A tenant of 50 users who each also hold a role in a sibling tenant, and two accounts
    for the bulk adds, each with an API account."""
    tenant = accounts.create_account(
        ctx, OPERATOR, name="GraphQL tenant", kind=AccountKind.ADVERTISER, parent_id=host_id
    )
    sibling = accounts.create_account(
        ctx, OPERATOR, name="Its sibling", kind=AccountKind.ADVERTISER, parent_id=host_id
    )
    for n in range(TENANT_USERS):
        email = f"graphql{n}@bench.example"
        added = members.add_member(
            ctx, OPERATOR, tenant.id, NewMember(email, "manage" if n else "admin")
        )
        _accept(ctx, added.user.id, tenant.id)  # a pending user could join no second account
        members.add_member(ctx, OPERATOR, sibling.id, NewMember(email, "view"))
    _, secret = credentials.create_api_account(ctx, OPERATOR, host_id, "benchhttp")
    token = credentials.issue_access_token(ctx, "benchhttp", secret).token
    _, secret = credentials.create_api_account(ctx, OPERATOR, tenant.id, "benchread")
    read_token = credentials.issue_access_token(ctx, "benchread", secret).token
    return HttpSeeded(
        tenant.id,
        token,
        _bulk_account(ctx, host_id, "t"),
        _bulk_account(ctx, host_id, "r"),
        read_token,
    )


def _bulk_account(ctx: ServiceContext, host_id: str, side: str) -> str:
    account = accounts.create_account(
        ctx, OPERATOR, name=f"Bulk adds ({side})", kind=AccountKind.ADVERTISER, parent_id=host_id
    )
    client_id = f"bulk{side}{account.id.lower()}"
    _, secret = credentials.create_api_account(ctx, OPERATOR, account.id, client_id)
    return credentials.issue_access_token(ctx, client_id, secret).token


def _accept(ctx: ServiceContext, user_id: str, account_id: str) -> None:
    """What accepting the invitation does, minus choosing a password."""
    with ctx.uow() as uow:
        user = uow.users.get(user_id)
        user.status = UserStatus.ACTIVATED
        uow.users.update(user)
        membership = uow.memberships.find(user_id, account_id)
        assert membership is not None
        membership.status = MembershipStatus.ACTIVE
        uow.memberships.update(membership)


# -- the server --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# `tenantry serve` itself, as a deployment runs it (the console script's entry point).
TENANTRY_SERVE = "from tenantry.app import cli; cli()"


def start_server(database_url: str, *, plain: bool = False) -> tuple[subprocess.Popen[bytes], str]:
    """The bench server (tenantry's app and the raw routes), or with `plain` the real
    `tenantry serve` alone (for its memory)."""
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(sys.path),
        "TENANTRY_BULK_DAILY_QUOTA": "100000000",
        "TENANTRY_DATABASE_URL": database_url,
    }
    if plain:
        command = [sys.executable, "-c", TENANTRY_SERVE, "serve", "--port", str(port)]
    else:
        command = [sys.executable, "-m", "bench.http_server", database_url, str(port)]
    # The JSON request logs are written, and thrown away (or kept in $BENCH_SERVER_LOG).
    log_path = os.environ.get("BENCH_SERVER_LOG")
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    server = subprocess.Popen(command, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    for _ in range(400):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return server, base
        except httpx.TransportError:
            time.sleep(0.05)
    server.terminate()
    raise SystemExit("the bench server did not start")


def rss_mb(pid: int) -> tuple[float, float]:
    """(resident, peak resident) memory of a process, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


# -- wrk ---------------------------------------------------------------------------------------


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def _static(method: str, path: str, headers: dict[str, str], body: str | None) -> str:
    lines = [f"wrk.method = {_lua_string(method)}", f"wrk.path = {_lua_string(path)}"]
    lines += [f"wrk.headers[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in headers.items()]
    if body is not None:
        lines.append(f"wrk.body = {_lua_string(body)}")
    return "\n".join(lines) + "\n"


def _bulk_script(path: str, token: str, prefix: str) -> str:
    """Each request adds 20 people never seen before (the counter and `prefix` make them so)."""
    item = (
        '{"username":"Bench %d %d","email":"' + prefix + '%d-%d@bench.example",'
        '"role":"' + BULK_ROLE + '","allow_access_to_all_future_apps":true}'
    )
    return f"""
local counter = 0
local headers = {{}}
headers["Content-Type"] = "application/json"
headers["Authorization"] = {_lua_string("Bearer " + token)}
request = function()
  counter = counter + 1
  local items = {{}}
  for i = 1, {BULK_SIZE} do
    items[i] = string.format({_lua_string(item)}, counter, i, counter, i)
  end
  return wrk.format("POST", {_lua_string(path)}, headers, "[" .. table.concat(items, ",") .. "]")
end
"""


_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")
_P50 = re.compile(r"^\s+50%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_ERRORS = re.compile(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)")
_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(
    base: str, script: str, seconds: float, connections: int = CONNECTIONS
) -> tuple[float, float]:
    """Requests per second and median latency (ms) of `connections` connections."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as file:
        file.write(script)
        file.flush()
        done = subprocess.run(
            [
                WRK,
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--latency",
                "--timeout",
                "30s",
                "-s",
                file.name,
                base,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    out = done.stdout
    errors = _ERRORS.search(out)
    if errors:
        raise SystemExit(f"wrk met errors, nothing is reported:\n{out}")
    rate, p50 = _RATE.search(out), _P50.search(out)
    assert rate is not None, out
    assert p50 is not None, out
    return float(rate.group(1)), float(p50.group(1)) * _UNIT[p50.group(2)]


def _interleaved(
    name: str, scripts: tuple[Any, Any], base: str, seconds: float, rounds: int
) -> HttpFigure:
    """`scripts` are (tenantry's, raw's): strings, or callables of the round giving one."""
    results: tuple[list[tuple[float, float]], list[tuple[float, float]]] = ([], [])
    for number in range(rounds):
        for side, script in enumerate(scripts):
            text = script(number) if callable(script) else script
            results[side].append(wrk(base, text, seconds))
    (ours, theirs) = results
    return HttpFigure(
        name,
        statistics.median(r for r, _ in ours),
        statistics.median(r for r, _ in theirs),
        statistics.median(p for _, p in ours),
        statistics.median(p for _, p in theirs),
    )


# -- the figures -------------------------------------------------------------------------------


def run_http(database_url: str, seeded: HttpSeeded, *, seconds: float, rounds: int) -> HttpRun:
    server, base = start_server(database_url)
    try:
        figures = [
            graphql_figure(base, seeded, seconds, rounds),
            read_account_figure(base, seeded, seconds, rounds),
            bulk_add_figure(base, seeded, seconds, rounds),
        ]
    finally:
        server.terminate()
        server.wait(timeout=30)
    return HttpRun(figures)


def serve_memory(database_url: str, seeded: HttpSeeded, seconds: float) -> Memory:
    """`tenantry serve` alone (one worker) under the GraphQL and bulk-add loads, then its
    resident memory: what one worker serving this database holds."""
    server, base = start_server(database_url, plain=True)
    try:
        auth = {"Authorization": f"Bearer {seeded.token}", "Content-Type": "application/json"}
        body = orjson.dumps({"query": QUERY, "variables": {"tenantId": seeded.tenant_id}})
        wrk(base, _static("POST", "/hub/graphql/", auth, body.decode()), seconds)
        run = os.urandom(3).hex()
        wrk(base, _bulk_script(f"{BULK_PREFIX}/users", seeded.bulk_token, f"m{run}x"), seconds)
        rss, peak = rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return Memory(rss, peak)


def graphql_figure(base: str, seeded: HttpSeeded, seconds: float, rounds: int) -> HttpFigure:
    auth = {"Authorization": f"Bearer {seeded.token}"}
    body = orjson.dumps({"query": QUERY, "variables": {"tenantId": seeded.tenant_id}}).decode()
    graphql_headers = {**auth, "Content-Type": "application/json"}
    raw_path = f"{RAW_PREFIX}tenant/{seeded.tenant_id}"
    ours = httpx.post(f"{base}/hub/graphql/", content=body, headers=graphql_headers).json()
    theirs = httpx.get(base + raw_path, headers=auth).json()
    if ours != theirs or "errors" in ours or len(ours["data"]["tenant"]["users"]) != TENANT_USERS:
        raise SystemExit(
            f"the GraphQL and raw answers differ; nothing was timed:\n{ours}\n{theirs}"
        )
    scripts = (
        _static("POST", "/hub/graphql/", graphql_headers, body),
        _static("GET", raw_path, auth, None),
    )
    name = f"GraphQL tenant query ({TENANT_USERS} users x 2 roles), wrk"
    return _interleaved(name, scripts, base, seconds, rounds)


def read_account_figure(base: str, seeded: HttpSeeded, seconds: float, rounds: int) -> HttpFigure:
    """The GraphQL tenant's users, as its own API account reads them through the bulk API."""
    auth = {"Authorization": f"Bearer {seeded.read_token}"}
    path = f"{BULK_PREFIX}/users?page_size={TENANT_USERS}"
    raw_path = f"{RAW_PREFIX}users?page_size={TENANT_USERS}"
    ours, theirs = httpx.get(base + path, headers=auth), httpx.get(base + raw_path, headers=auth)
    if ours.status_code != 200 or ours.json() != theirs.json():
        raise SystemExit(
            f"the pages of users differ; nothing was timed:\n{ours.text}\n{theirs.text}"
        )
    if len(ours.json()["users"]) != TENANT_USERS:
        raise SystemExit(f"the page holds the wrong users; nothing was timed:\n{ours.text}")
    scripts = (_static("GET", path, auth, None), _static("GET", raw_path, auth, None))
    name = f"read an account ({TENANT_USERS} users and their roles, bulk GET /users), wrk"
    return _interleaved(name, scripts, base, seconds, rounds)


def bulk_add_figure(base: str, seeded: HttpSeeded, seconds: float, rounds: int) -> HttpFigure:
    path = f"{BULK_PREFIX}/users"
    raw_path = f"{RAW_PREFIX}users"
    run = os.urandom(3).hex()

    def body(prefix: str) -> list[dict[str, Any]]:
        return [
            {
                "username": f"Bench 0 {i}",
                "email": f"{prefix}0-{i}@bench.example",
                "role": BULK_ROLE,
                "allow_access_to_all_future_apps": True,
            }
            for i in range(1, BULK_SIZE + 1)
        ]

    ours = httpx.post(
        base + path, json=body(f"c{run}t"), headers={"Authorization": f"Bearer {seeded.bulk_token}"}
    )
    theirs = httpx.post(
        base + raw_path,
        json=body(f"c{run}r"),
        headers={"Authorization": f"Bearer {seeded.raw_bulk_token}"},
    )

    def comparable(answer: httpx.Response) -> Any:
        data = answer.json()
        for item in data.get("data", []):
            item.pop("user_id")
        return answer.status_code, data

    if comparable(ours) != comparable(theirs) or ours.status_code != 200:
        raise SystemExit(f"the bulk adds differ; nothing was timed:\n{ours.text}\n{theirs.text}")
    scripts = (
        lambda n: _bulk_script(path, seeded.bulk_token, f"b{run}t{n}x"),
        lambda n: _bulk_script(raw_path, seeded.raw_bulk_token, f"b{run}r{n}x"),
    )
    name = f"bulk add of {BULK_SIZE} users (POST /users), wrk"
    return _interleaved(name, scripts, base, seconds, rounds)
