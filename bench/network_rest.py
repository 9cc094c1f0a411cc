"""`python -m bench.network_rest` (or `python -m bench --network-rest`): a network replacing its
2,000 users, through tenantry and with the raw driver doing the same diff, in the same run.

Two networks of 2,000 users each are seeded, one for each side (same people, different
addresses). The figures, each the median of rounds in which the sides take turns:

- **replace 2,000 users, none changed**: `services.managed_users.replace_network_users` with the
  users as they are, against the raw driver reading the network's members and their
  addresses (two statements) and comparing them with the list in Python: the price of a
  no-op call, which writes nothing on either side;
- **replace 2,000 users, 40 changed**: the list alternates between two versions that differ
  in 20 changed users (a name, a role or an address), 10 removed and 10 added, so every call
  changes 40 users; the raw side writes the same rows with `executemany` in one transaction
  (and one audit row, as tenantry does);
- **PUT /network.json, 2,000 users, none changed**: the whole HTTP face in process (no
  sockets): JSON in, token, validation, the diff, JSON out, against the raw driver's diff with
  `orjson` decoding the same body and encoding the same answer;
- **create 2,000 users in one replacement**: a new network each call, against the raw driver
  inserting the same users, addresses and memberships.

Every pair is run once before timing and must end in the same state (the same users, with the
same names, roles and addresses). Compare ratios between commits, not absolute figures.
"""

from __future__ import annotations

import argparse
import itertools
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
from anyio.from_thread import start_blocking_portal
from rich.console import Console
from rich.table import Table

from bench.database import RawDatabase, open_target
from bench.ops import Figure, compare
from tenantry.app import Composition
from tenantry.domain.accounts import AccountKind
from tenantry.domain.users import NOTIFICATION_FLAGS
from tenantry.entrypoints.network_rest import parsing
from tenantry.entrypoints.server import create_http_app
from tenantry.services import accounts, credentials, managed_users, setup
from tenantry.services.context import Actor, ServiceContext
from tenantry.settings import Settings
from tenantry.storage.migrations import upgrade_database

USERS = 2_000
CHANGED, REMOVED, ADDED = 20, 10, 10
OPERATOR = Actor.system(face="bench", label="bench")
ROLES = ("Super", "Manager", "Member", "Observer")
ROLE_KEYS = {"Super": "admin", "Manager": "manage", "Member": "member", "Observer": "view"}
_networks = itertools.count(1)

MEMBERS = (
    "SELECT u.id, u.id_from_network, u.email, u.first_name, u.last_name,"
    " u.contact_country_code, u.contact_phone_number, u.notifications, u.oauth_refresh_token,"
    " m.role_key FROM memberships m JOIN users u ON u.id = m.user_id"
    " WHERE m.account_id = ? AND u.can_login_via_platform = ?"
)
ADDRESSES = (
    "SELECT e.user_id, e.address, e.use_for_notifications FROM user_emails e"
    " JOIN memberships m ON m.user_id = e.user_id WHERE m.account_id = ?"
    " ORDER BY e.user_id, e.position"
)
UPDATE_USER = (
    "UPDATE users SET email = ?, name = ?, first_name = ?, last_name = ?,"
    " contact_country_code = ?, contact_phone_number = ?, notifications = ?,"
    " oauth_refresh_token = ? WHERE id = ?"
)
INSERT_USER = (
    "INSERT INTO users (id, email, name, first_name, last_name, contact_country_code,"
    " contact_phone_number, status, can_login_via_platform, network_account_id,"
    " id_from_network, notifications, oauth_refresh_token, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)"
)
DELETE_ADDRESSES = "DELETE FROM user_emails WHERE user_id = ?"
INSERT_ADDRESS = (
    "INSERT INTO user_emails (user_id, address, use_for_notifications, position)"
    " VALUES (?, ?, ?, ?)"
)
UPDATE_ROLE = "UPDATE memberships SET role_key = ? WHERE user_id = ? AND account_id = ?"
DELETE_MEMBERSHIP = "DELETE FROM memberships WHERE user_id = ? AND account_id = ?"
DELETE_USER = "DELETE FROM users WHERE id = ?"
INSERT_MEMBERSHIP = (
    "INSERT INTO memberships (user_id, account_id, role_key, status, app_ids, all_future_apps,"
    " media_sources, geos, created_at) VALUES (?, ?, ?, 'active', 'null', ?, 'null', 'null', ?)"
)
INSERT_ACCOUNT = (
    "INSERT INTO accounts (id, name, kind, status, can_partner_manage, event_enrichment,"
    " multi_account_users, sso_enabled, two_factor_required, custom_data, created_at)"
    " VALUES (?, ?, 'partner', 0, ?, ?, ?, ?, ?, '{}', ?)"
)
INSERT_AUDIT = (
    "INSERT INTO audit_events (at, account_id, actor_kind, actor_id, actor_label, face,"
    ' action, target_type, target_id, "before", "after")'
    " VALUES (?, ?, 'system', 'system', 'bench', 'bench', 'network.users.replace', 'account',"
    " ?, ?, ?)"
)

Call = Callable[[], Any]


# -- the people ----------------------------------------------------------------------------------


def person(n: int, domain: str, *, variant: int = 0) -> dict[str, Any]:
    """User `n` of a network; variant 1 differs for the users the changed figure changes."""
    changed = variant == 1 and n < CHANGED
    kind = n % 3
    role = ROLES[n % 4]
    if changed and kind == 1:
        role = ROLES[(n + 1) % 4]
    address = f"u{n}{'-moved' if changed and kind == 2 else ''}@{domain}"
    return {
        "id_from_network": f"net-{n}",
        "email_settings": [{"email_address": address, "use_for_notifications": True}],
        "first_name": "Renamed" if changed and kind == 0 else "User",
        "last_name": str(n),
        "contact_country_code": "1",
        "contact_phone_number": "805-555-5555",
        "role": role,
        "oauth_refresh_token": f"token-{n}",
        **{flag: (n + i) % 3 == 0 for i, flag in enumerate(NOTIFICATION_FLAGS)},
    }


def people(domain: str, variant: int = 0) -> list[dict[str, Any]]:
    """The network's users; variant 1 changes 20, removes 10 and adds 10."""
    if variant == 0:
        return [person(n, domain) for n in range(USERS)]
    kept = [person(n, domain, variant=1) for n in range(USERS - REMOVED)]
    return kept + [person(n, domain) for n in range(USERS, USERS + ADDED)]


def summary(rows: Sequence[tuple[str, str, str, str]], domain: str) -> list[tuple[str, ...]]:
    """(id, address without its domain, role key, first name), sorted: what both sides end in."""
    return sorted((i, a.removesuffix("@" + domain), r, f) for i, a, r, f in rows)


# -- the raw driver's diff -----------------------------------------------------------------------


class RawNetwork:
    """The same replacement with the plain driver: read, compare in Python, write the changes."""

    def __init__(self, raw: RawDatabase, account_id: str, domain: str) -> None:
        self.raw, self.account_id, self.domain = raw, account_id, domain
        sql = raw.sql
        self.members, self.addresses = sql(MEMBERS), sql(ADDRESSES)
        self.update_user, self.insert_user = sql(UPDATE_USER), sql(INSERT_USER)
        self.delete_addresses, self.insert_address = sql(DELETE_ADDRESSES), sql(INSERT_ADDRESS)
        self.update_role, self.delete_membership = sql(UPDATE_ROLE), sql(DELETE_MEMBERSHIP)
        self.delete_user, self.insert_membership = sql(DELETE_USER), sql(INSERT_MEMBERSHIP)
        self.insert_audit = sql(INSERT_AUDIT)

    def replace(self, users: list[dict[str, Any]]) -> list[tuple[str, ...]]:
        current = self._current()
        now = self.raw.timestamp(datetime.now(UTC))
        listed = {u["id_from_network"]: u for u in users}
        changed_users, addresses, roles, added = [], [], [], []
        for idfn, user in listed.items():
            emails = [
                (e["email_address"], e["use_for_notifications"]) for e in user["email_settings"]
            ]
            notifications = {flag: bool(user.get(flag)) for flag in NOTIFICATION_FLAGS}
            row = (
                emails[0][0],
                f"{user['first_name']} {user['last_name']}",
                user["first_name"],
                user["last_name"],
                user.get("contact_country_code"),
                user.get("contact_phone_number"),
                notifications,
                user.get("oauth_refresh_token"),
            )
            role = ROLE_KEYS[user.get("role") or "Super"]
            stored = current.get(idfn)
            if stored is None:
                added.append((str(uuid.uuid4()), idfn, row, emails, role))
                continue
            user_id, stored_row, stored_emails, stored_role = stored
            if stored_row != row or stored_emails != emails:
                changed_users.append((*row[:6], orjson.dumps(row[6]).decode(), row[7], user_id))
                addresses += [(user_id, a, n, p) for p, (a, n) in enumerate(emails)]
            if stored_role != role:
                roles.append((role, user_id, self.account_id))
        removed = [stored[0] for idfn, stored in current.items() if idfn not in listed]
        if changed_users or roles or removed or added:
            with self.raw.transaction():
                self._write(changed_users, addresses, roles, removed, added, now)
        return self.state(users)

    def _write(
        self,
        changed: list[tuple[Any, ...]],
        addresses: list[tuple[Any, ...]],
        roles: list[tuple[Any, ...]],
        removed: list[str],
        added: list[tuple[Any, ...]],
        now: object,
    ) -> None:
        raw = self.raw
        if removed:
            raw.executemany(self.delete_membership, [(u, self.account_id) for u in removed])
            raw.executemany(self.delete_addresses, [(u,) for u in removed])
            raw.executemany(self.delete_user, [(u,) for u in removed])
        if changed:
            raw.executemany(self.delete_addresses, [(row[-1],) for row in changed])
            raw.executemany(self.update_user, changed)
            raw.executemany(self.insert_address, addresses)
        if roles:
            raw.executemany(self.update_role, roles)
        if added:
            raw.executemany(
                self.insert_user,
                [
                    (
                        user_id,
                        *row[:6],
                        False,
                        self.account_id,
                        idfn,
                        orjson.dumps(row[6]).decode(),
                        row[7],
                        now,
                    )
                    for user_id, idfn, row, _, _ in added
                ],
            )
            raw.executemany(
                self.insert_address,
                [
                    (user_id, a, n, p)
                    for user_id, _, _, emails, _ in added
                    for p, (a, n) in enumerate(emails)
                ],
            )
            raw.executemany(
                self.insert_membership,
                [(user_id, self.account_id, role, True, now) for user_id, _, _, _, role in added],
            )
        change = orjson.dumps({"changed": len(changed), "removed": len(removed)}).decode()
        raw.executemany(self.insert_audit, [(now, self.account_id, self.account_id, "{}", change)])

    def _current(self) -> dict[str, tuple[str, tuple[Any, ...], list[tuple[str, bool]], str]]:
        emails: dict[str, list[tuple[str, bool]]] = {}
        for user_id, address, use in self.raw.fetchall(self.addresses, (self.account_id,)):
            emails.setdefault(user_id, []).append((address, bool(use)))
        current = {}
        for (
            user_id,
            idfn,
            email,
            first,
            last,
            country,
            phone,
            notes,
            token,
            role,
        ) in self.raw.fetchall(self.members, (self.account_id, False)):
            notifications = notes if isinstance(notes, dict) else orjson.loads(notes)
            row = (email, f"{first} {last}", first, last, country, phone, notifications, token)
            current[idfn] = (user_id, row, emails.get(user_id, []), role)
        return current

    def state(self, users: list[dict[str, Any]]) -> list[tuple[str, ...]]:
        return summary(
            [
                (
                    u["id_from_network"],
                    u["email_settings"][0]["email_address"],
                    ROLE_KEYS[u["role"]],
                    u["first_name"],
                )
                for u in users
            ],
            self.domain,
        )


def tenantry_state(view: managed_users.NetworkView, domain: str) -> list[tuple[str, ...]]:
    return summary(
        [
            (m.user.id_from_network, m.user.email, m.role.key, m.user.first_name or "")
            for m in view.members
            if m.user.id_from_network
        ],
        domain,
    )


# -- the figures ---------------------------------------------------------------------------------


def new_network(ctx: ServiceContext, name: str) -> str:
    account = accounts.create_account(
        ctx, OPERATOR, name=name, kind=AccountKind.PARTNER, parent_id=None
    )
    return account.id


def raw_network(raw: RawDatabase, name: str) -> str:
    account_id = uuid.uuid4().hex[:8]
    now = raw.timestamp(datetime.now(UTC))
    with raw.transaction():
        raw.executemany(
            raw.sql(INSERT_ACCOUNT), [(account_id, name, True, False, True, False, False, now)]
        )
    return account_id


def replace_users(
    ctx: ServiceContext, network_id: str, users: list[dict[str, Any]]
) -> managed_users.NetworkView:
    """The documents' users read as the face reads them, then replaced by the service."""
    specs = parsing.network_users(users, ctx.roles)
    return managed_users.replace_network_users(ctx, OPERATOR, network_id, specs)


def checked(with_tenantry: Call, with_raw: Call) -> tuple[Call, Call]:
    ours, theirs = with_tenantry(), with_raw()
    if ours != theirs:
        raise AssertionError("tenantry and the raw driver end in different states")
    return with_tenantry, with_raw


def figures(
    ctx: ServiceContext, raw: RawDatabase, *, seconds: float, rounds: int, console: Console
) -> list[Figure]:
    with console.status(f"seeding two networks of {USERS:,} users…"):
        ours_id = new_network(ctx, "Network T")
        replace_users(ctx, ours_id, people("t.example"))
        theirs = RawNetwork(raw, raw_network(raw, "Network R"), "r.example")
        theirs.replace(people("r.example"))
    same_t, same_r = people("t.example"), people("r.example")
    flips_t = itertools.cycle([people("t.example", 1), same_t])
    flips_r = itertools.cycle([people("r.example", 1), same_r])

    def replace_ours(users: list[dict[str, Any]]) -> list[tuple[str, ...]]:
        return tenantry_state(replace_users(ctx, ours_id, users), "t.example")

    pairs: list[tuple[str, tuple[Call, Call]]] = [
        (
            f"replace {USERS:,} users, none changed",
            checked(lambda: replace_ours(same_t), lambda: theirs.replace(same_r)),
        ),
        (
            f"replace {USERS:,} users, {CHANGED + REMOVED + ADDED} changed",
            checked(lambda: replace_ours(next(flips_t)), lambda: theirs.replace(next(flips_r))),
        ),
    ]
    results = [
        compare(name, ours, raw_side, seconds=seconds, rounds=rounds)
        for name, (ours, raw_side) in pairs
    ]
    results.append(http_figure(ctx, ours_id, theirs, seconds=seconds, rounds=rounds))
    results.append(create_figure(ctx, raw, seconds=seconds, rounds=rounds))
    return results


def http_figure(
    ctx: ServiceContext, network_id: str, theirs: RawNetwork, *, seconds: float, rounds: int
) -> Figure:
    """The PUT through the whole face in process, next to the raw diff with JSON in and out."""
    app = create_http_app(ctx, readiness=lambda: None)
    _, token, _ = credentials.create_api_token(ctx, OPERATOR, network_id, user_email=None)
    ours_body = orjson.dumps({"users": people("t.example")})
    theirs_body = orjson.dumps({"users": people("r.example")})
    with start_blocking_portal() as portal:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")

        def with_tenantry() -> int:
            response = portal.call(
                lambda: client.put(
                    f"/api/2019-05-01/{network_id}/network.json",
                    content=ours_body,
                    headers={"Authorization": token, "Content-Type": "application/json"},
                )
            )
            if response.status_code != 200:
                raise RuntimeError(response.text[:500])
            return len(response.json()["users"])

        def with_raw() -> int:
            users = orjson.loads(theirs_body)["users"]
            theirs.replace(users)
            return len(orjson.loads(orjson.dumps({"users": users}))["users"])

        try:
            name = f"PUT /network.json, {USERS:,} users, none changed (in process)"
            return compare(name, *checked(with_tenantry, with_raw), seconds=seconds, rounds=rounds)
        finally:
            portal.call(client.aclose)


def create_figure(ctx: ServiceContext, raw: RawDatabase, *, seconds: float, rounds: int) -> Figure:
    numbers = itertools.count()

    def with_tenantry() -> int:
        n = next(numbers)
        network_id = new_network(ctx, f"New T {n}")
        return len(replace_users(ctx, network_id, people(f"t{n}.example")).members)

    def with_raw() -> int:
        n = next(numbers)
        fresh = RawNetwork(raw, raw_network(raw, f"New R {n}"), f"r{n}.example")
        return len(fresh.replace(people(f"r{n}.example")))

    return compare(
        f"create {USERS:,} users in one replacement",
        *checked(with_tenantry, with_raw),
        seconds=seconds,
        rounds=rounds,
    )


def figures_table(results: list[Figure]) -> Table:
    table = Table(
        title="network replacement: tenantry against the raw driver, same database, same run",
        caption="ratio = tenantry / raw: 1 is as fast as the raw driver, 0.1 ten times slower",
    )
    for column in ("figure", "unit", "tenantry", "raw", "ratio"):
        table.add_column(column, justify="left" if column in ("figure", "unit") else "right")
    for f in results:
        table.add_row(f.name, f.unit, f"{f.tenantry:,.1f}", f"{f.raw:,.1f}", f"{f.ratio:.3f}")
    return table


def run(engine: str, database_url: str | None, *, quick: bool = False) -> None:
    seconds, rounds = (1.0, 3) if quick else (4.0, 5)
    console = Console()
    if not console.is_terminal:
        console = Console(width=110)
    with open_target(engine, database_url) as target:
        upgrade_database(target.url)
        # 2,000 full users are a body of about 1.3 MB, over the default 1 MB limit.
        settings = Settings(database_url=target.url, max_body_bytes=8_000_000, log_level="WARNING")
        composition = Composition(settings)
        setup.initialize(composition.context, admin_email="admin@bench.example", client_id="bench")
        raw = target.connect_raw()
        try:
            console.print(f"[bold]engine[/]  {target.engine}: {raw.describe()}, {target.origin}")
            results = figures(
                composition.context, raw, seconds=seconds, rounds=rounds, console=console
            )
        finally:
            raw.close()
            composition.dispose()
    console.print(figures_table(results))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.network_rest", description=__doc__)
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url", help="an empty database to fill (SQLAlchemy URL)")
    parser.add_argument("--quick", action="store_true", help="shorter rounds")
    args = parser.parse_args(argv)
    run(args.engine, args.database_url, quick=args.quick)


if __name__ == "__main__":
    main()
