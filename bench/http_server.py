"""The server `bench.http` loads with `wrk`: tenantry's real app, exactly as `tenantry serve`
runs it (its middleware, JSON request logs and authentication on, uvloop and httptools when
installed, one worker), plus raw routes under `/bench/raw/` that do the same work with the
plain database driver (`sqlite3` or `psycopg`) and a loop. This app exists only for the bench;
tenantry never ships these routes.

The raw side is the floor, not a straw man: every raw route checks the bearer token against
its stored digest (the rows tenantry reads to authenticate), reads the same rows and answers
the same JSON, byte for byte equal once parsed; the raw bulk add writes the rows tenantry
writes (users, memberships, invitations, audit events and the quota counter).

Run as `python -m bench.http_server DATABASE_URL PORT`.
"""

from __future__ import annotations

import hashlib
import hmac
import sys
import threading
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from bench.database import RawDatabase, Target, engine_of
from tenantry.app import Composition
from tenantry.entrypoints.cli.server import _fastest
from tenantry.entrypoints.http.threads import LONG_CALLS, READS
from tenantry.services.context import ServiceContext
from tenantry.settings import Settings

RAW_PREFIX = "/bench/raw/"

ACCESS_TOKEN = (
    "SELECT t.secret_hash, t.expires_at, a.revoked_at, a.account_id, a.client_id, a.created_by"
    " FROM access_tokens t JOIN api_accounts a ON a.id = t.api_account_id"
    " WHERE t.key = ? AND t.revoked_at IS NULL"
)
ACCOUNT = "SELECT id, name, kind FROM accounts WHERE id = ?"
# The bulk API's page of users: an account's members in joining order, one row each.
MEMBER_PAGE = (
    "SELECT u.name, u.first_name, u.last_name, u.email, m.role_key, m.app_ids,"
    " m.all_future_apps, m.media_sources, m.geos, u.last_login_at, u.department, m.status"
    " FROM memberships m JOIN users u ON u.id = m.user_id"
    " WHERE m.account_id = ? ORDER BY m.created_at, m.user_id LIMIT ?"
)
# The tenant query's users (active and pending members) with every role each holds anywhere.
TENANT_MEMBERS = """
SELECT u.id, u.email, other.account_id, other.role_key, acc.kind
FROM memberships m
JOIN users u ON u.id = m.user_id
JOIN memberships other ON other.user_id = u.id
JOIN accounts acc ON acc.id = other.account_id
WHERE m.account_id = ?
ORDER BY m.created_at, m.user_id, other.created_at, other.account_id
"""


class Raw:
    """The raw routes' database work; one driver connection per server thread."""

    def __init__(self, target: Target, roles: list[dict[str, Any]]) -> None:
        self.target = target
        self._local = threading.local()
        self.roles = roles
        self.capig_action = {r["key"]: r["capig"] for r in roles}
        self.bulk_name = {r["key"]: r["bulk"] for r in roles}
        self.bulk_key = {r["bulk"]: r["key"] for r in roles}

    def db(self) -> RawDatabase:
        conn: RawDatabase | None = getattr(self._local, "db", None)
        if conn is None:
            conn = self._local.db = self.target.connect_raw()
        return conn

    def authenticate(self, request: Request) -> tuple[str, str, str]:
        """The token's account and client id, after the checks tenantry makes of an access
        token (its digest, its expiry, its API account not revoked)."""
        header = request.headers.get("authorization", "")
        _, _, token = header.partition(" ")
        _, _, rest = token.partition("_")
        key, _, secret = rest.partition("_")
        db = self.db()
        row = db.fetchone(db.sql(ACCESS_TOKEN), (key,))
        digest = hashlib.sha256(secret.encode()).hexdigest()
        if row is None or not hmac.compare_digest(digest, row[0]) or row[2] is not None:
            raise PermissionError("invalid token")
        expires = row[1]
        if isinstance(expires, str):
            expires = datetime.fromisoformat(expires).replace(tzinfo=UTC)
        if expires <= datetime.now(UTC):
            raise PermissionError("expired token")
        return row[3], row[4], row[5]

    # -- the GraphQL tenant query's answer ---------------------------------------------------

    def role(self, kind: str, account_id: str, key: str) -> dict[str, str]:
        action = self.capig_action.get(key, key)
        name = f"advertiser-{action}-{account_id}" if kind == "advertiser" else f"agency-{action}"
        return {"name": name, "displayName": action}

    def tenant(self, request: Request, tenant_id: str) -> bytes:
        self.authenticate(request)
        db = self.db()
        tenant_row = db.fetchone(db.sql(ACCOUNT), (tenant_id,))
        assert tenant_row is not None
        users: dict[str, dict[str, Any]] = {}
        for user_id, email, account_id, role_key, kind in db.fetchall(
            db.sql(TENANT_MEMBERS), (tenant_id,)
        ):
            user = users.setdefault(user_id, {"id": user_id, "email": email, "roles": []})
            user["roles"].append(self.role(kind, account_id, role_key))
        kind = tenant_row[2]
        available = [
            self.role(kind, tenant_row[0], r["key"])
            for r in self.roles
            if kind in r["account_kinds"]
        ]
        tenant = {
            "id": tenant_row[0],
            "name": tenant_row[1],
            "users": list(users.values()),
            "availableRoles": available,
        }
        return orjson.dumps({"data": {"tenant": tenant}})

    # -- the bulk API's page of users ------------------------------------------------------------

    def users_page(self, request: Request) -> bytes:
        """A page of the token's account's users, as the bulk API's `GET /users?page_size=N`
        shows them: the day's quota counted first (its own transaction), then one read."""
        account_id, _, _ = self.authenticate(request)
        limit = int(request.query_params["page_size"])
        db = self.db()
        self.count_call(db, account_id)
        rows = db.fetchall(db.sql(MEMBER_PAGE), (account_id, limit + 1))
        if len(rows) > limit:
            raise NotImplementedError("the bench's account has one page of users")
        users = [self.user_view(row) for row in rows]
        return orjson.dumps({"users": users, "next_cursor": None})

    def user_view(self, row: Sequence[Any]) -> dict[str, Any]:
        (
            name,
            first,
            last,
            email,
            role_key,
            app_ids,
            all_future,
            media,
            geos,
            login,
            dept,
            status,
        ) = row
        return {
            "username": name or " ".join(p for p in (first, last) if p),
            "email": email,
            "role": self.bulk_name[role_key],
            "apps": _apps_text(_json(app_ids), all_future),
            "media_sources": _list_text(_json(media)),
            "geos": _list_text(_json(geos)),
            "last_login": _date_text(login),
            "department": dept or "",
            "pending": status == "pending",
        }

    def count_call(self, db: RawDatabase, account_id: str) -> None:
        """The day's quota counter, in a transaction of its own: tenantry counts a bulk add so
        (the count stays whatever the add does), and a read in the transaction that reads,
        which here would send the same statements (the read before the COMMIT)."""
        day = datetime.now(UTC).date()
        expiry = db.timestamp(datetime.combine(day + timedelta(days=2), time(), UTC))
        with db.transaction():
            db.fetchone(
                db.sql(QUOTA), (f"member-batch-calls:{account_id}", day.isoformat(), expiry)
            )

    # -- the bulk add --------------------------------------------------------------------------

    def add_users(self, request: Request, body: bytes) -> bytes:
        """The rows tenantry's bulk add writes for 20 new people: the day's quota counter (its
        own transaction), then users, memberships, invitations and two audit events each, in
        one transaction."""
        account_id, client_id, minted_by = self.authenticate(request)
        request_id = uuid.uuid4().hex
        items = orjson.loads(body)
        db = self.db()
        now = datetime.now(UTC)
        stamp = db.timestamp(now)
        rows = []
        for item in items:
            key = self.bulk_key[item["role"]]
            email = item["email"].strip().lower()
            rows.append((str(uuid.uuid4()), email, item["username"], key, new_digest()))
        self.count_call(db, account_id)
        with db.transaction():
            db.executemany(
                db.sql(INSERT_USER),
                [(u, e, n, PENDING_USER, True, "{}", stamp, account_id) for u, e, n, _, _ in rows],
            )
            db.executemany(
                db.sql(INSERT_MEMBERSHIP),
                [
                    (u, account_id, k, "pending", "null", True, "null", "null", stamp)
                    for u, _, _, k, _ in rows
                ],
            )
            expires = db.timestamp(now + timedelta(days=7))
            db.executemany(
                db.sql(INSERT_INVITATION),
                [(e, u, account_id, k, d, expires, client_id, stamp) for u, e, _, k, d in rows],
            )
            events = []
            for u, e, n, k, _ in rows:
                user_after = {
                    "id": u,
                    "email": e,
                    "name": n,
                    "status": PENDING_USER,
                    "can_login_via_platform": True,
                }
                membership_after = {
                    "user_id": u,
                    "role": k,
                    "status": "pending",
                    "app_ids": None,
                    "all_future_apps": True,
                    "media_sources": None,
                    "geos": None,
                }
                for action, after in (
                    ("user.create", user_after),
                    ("membership.create", membership_after),
                ):
                    events.append(
                        (
                            stamp,
                            account_id,
                            "api_account",
                            client_id,
                            client_id,
                            minted_by,
                            "bulk_rest",
                            request_id,
                            action,
                            "user",
                            u,
                            "null",
                            orjson.dumps(after).decode(),
                        )
                    )
            db.executemany(db.sql(INSERT_AUDIT), events)
        data = [
            {"user_id": u, "username": n, "pending": True, "role": self.bulk_name[k]}
            for u, _, n, k, _ in rows
        ]
        return orjson.dumps({"data": data, "errors": []})


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str) else value  # SQLite keeps JSON text


def _apps_text(app_ids: list[str] | None, all_future: bool) -> str:
    if app_ids is None:
        return "All & future" if all_future else "All"
    return ", ".join(app_ids) if app_ids else "None"


def _list_text(values: list[str] | None) -> str:
    return "All" if values is None else ", ".join(values)


def _date_text(moment: Any) -> str:
    if moment is None:
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment).replace(tzinfo=UTC)
    day = moment.astimezone(UTC)
    return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"


def new_digest() -> str:
    return hashlib.sha256(uuid.uuid4().bytes).hexdigest()


PENDING_USER = 2
QUOTA = (
    'INSERT INTO counters ("key", "window", count, expires_at) VALUES (?, ?, 1, ?)'
    ' ON CONFLICT ("key", "window") DO UPDATE SET count = counters.count + excluded.count'
    " RETURNING count"
)
INSERT_USER = (
    "INSERT INTO users (id, email, name, status, can_login_via_platform, notifications,"
    " created_at, home_account_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_MEMBERSHIP = (
    "INSERT INTO memberships (user_id, account_id, role_key, status, app_ids, all_future_apps,"
    " media_sources, geos, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_INVITATION = (
    "INSERT INTO invitations (email, user_id, account_id, role_key, token_hash, expires_at,"
    " invited_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_AUDIT = (
    "INSERT INTO audit_events (at, account_id, actor_kind, actor_id, actor_label,"
    ' actor_minted_by, face, request_id, action, target_type, target_id, "before", "after")'
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def raw_app(raw: Raw, ctx: ServiceContext) -> Starlette:
    """The raw routes, each run in the lane of threads its counterpart in tenantry runs in."""

    async def tenant(request: Request) -> Response:
        try:
            content = await READS.run(ctx, raw.tenant, request, request.path_params["id"])
        except PermissionError:
            return Response(status_code=401)
        return Response(content, media_type="application/json")

    async def users_page(request: Request) -> Response:
        try:
            content = await LONG_CALLS.run(ctx, raw.users_page, request)
        except PermissionError:
            return Response(status_code=401)
        return Response(content, media_type="application/json")

    async def add_users(request: Request) -> Response:
        body = await request.body()
        try:
            content = await LONG_CALLS.run(ctx, raw.add_users, request, body)
        except PermissionError:
            return Response(status_code=401)
        return Response(content, media_type="application/json")

    return Starlette(
        routes=[
            Route(RAW_PREFIX + "tenant/{id}", tenant, methods=["GET"]),
            Route(RAW_PREFIX + "users", users_page, methods=["GET"]),
            Route(RAW_PREFIX + "users", add_users, methods=["POST"]),
        ]
    )


class BenchApp:
    """`/bench/raw/…` to the raw routes, every other path to tenantry's app, untouched."""

    def __init__(self, tenantry: ASGIApp, raw: ASGIApp) -> None:
        self.tenantry = tenantry
        self.raw = raw

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(RAW_PREFIX):
            await self.raw(scope, receive, send)
        else:
            await self.tenantry(scope, receive, send)


def build(database_url: str) -> BenchApp:
    composition = Composition(Settings(database_url=database_url))
    catalogue = composition.context.roles
    roles = [
        {
            "key": role.key,
            "capig": catalogue.face_name("capig", role),
            "bulk": catalogue.face_name("appsflyer", role),
            "account_kinds": [k.value for k in role.account_kinds],
        }
        for role in catalogue
    ]
    target = Target(engine_of(database_url), database_url, "")
    return BenchApp(composition.asgi_app(), raw_app(Raw(target, roles), composition.context))


def main() -> None:
    database_url, port = sys.argv[1], int(sys.argv[2])
    uvicorn.run(
        build(database_url),
        host="127.0.0.1",
        port=port,
        loop=_fastest("uvloop", "asyncio"),
        http=_fastest("httptools", "h11"),
        access_log=False,
    )


if __name__ == "__main__":
    main()
