"""The server `bench.graphql_http` measures: tenantry's app, plus one hand-written endpoint
that serves the same tenant data as plain JSON, read with sqlite3 directly.

Run as `python -m bench.graphql_server SQLITE_PATH PORT`.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import threading
from pathlib import Path
from typing import Any

import orjson
import uvicorn
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tenantry.app import Composition
from tenantry.settings import CATALOGUE_DIR, Settings

_local = threading.local()

MEMBERS_SQL = """
SELECT u.id, u.email, other.account_id, other.role_key, acc.kind
FROM memberships m
JOIN users u ON u.id = m.user_id
JOIN memberships other ON other.user_id = u.id
JOIN accounts acc ON acc.id = other.account_id
WHERE m.account_id = ?
ORDER BY m.created_at, m.user_id, other.created_at, other.account_id
"""


def _connection(path: str) -> sqlite3.Connection:
    conn: sqlite3.Connection | None = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(path, check_same_thread=False)
        _local.conn = conn
    return conn


def _catalogue() -> list[dict[str, Any]]:
    doc = json.loads((CATALOGUE_DIR / "roles.json").read_text(encoding="utf-8"))
    roles: list[dict[str, Any]] = doc["roles"]
    return roles


ROLES = _catalogue()
ACTION = {r["key"]: (r["names"].get("capig") or r["key"]) for r in ROLES}


def _role(kind: str, account_id: str, key: str) -> dict[str, str]:
    action = ACTION.get(key, key)
    name = f"advertiser-{action}-{account_id}" if kind == "advertiser" else f"agency-{action}"
    return {"name": name, "displayName": action}


def tenant_json(path: str, tenant_id: str) -> bytes:
    """The tenant query's answer, by hand: two statements and a loop."""
    conn = _connection(path)
    account = conn.execute("SELECT id, name, kind FROM accounts WHERE id = ?", (tenant_id,))
    tenant_row = account.fetchone()
    users: dict[str, dict[str, Any]] = {}
    for user_id, email, account_id, role_key, kind in conn.execute(MEMBERS_SQL, (tenant_id,)):
        user = users.setdefault(user_id, {"id": user_id, "email": email, "roles": []})
        user["roles"].append(_role(kind, account_id, role_key))
    available = [
        _role(tenant_row[2], tenant_row[0], r["key"])
        for r in ROLES
        if tenant_row[2] in r["account_kinds"]
    ]
    body = {
        "data": {
            "tenant": {
                "id": tenant_row[0],
                "name": tenant_row[1],
                "users": list(users.values()),
                "availableRoles": available,
            }
        }
    }
    return orjson.dumps(body)


def build(path: str) -> Any:
    settings = Settings(database_url=f"sqlite:///{path}", log_level="WARNING")
    app = Composition(settings).asgi_app()

    async def raw(request: Request) -> Response:
        content = await run_in_threadpool(tenant_json, path, request.path_params["tenant_id"])
        return Response(content, media_type="application/json")

    app.add_route("/bench/raw-tenant/{tenant_id}", raw, methods=["GET"])
    return app


if __name__ == "__main__":
    db_path, port = sys.argv[1], int(sys.argv[2])
    assert Path(db_path).exists(), db_path
    uvicorn.run(
        build(db_path),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
    )
