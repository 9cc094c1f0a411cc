"""The operations, each done through tenantry and with the raw driver, and timed alike.

Every pair is checked to give the same answer before it is timed, so a figure never compares
a working call with a failing one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import itertools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from statistics import median
from time import perf_counter
from typing import Any

from bench.database import PsycopgRaw, RawDatabase, SqliteRaw
from bench.seed import OPERATOR, NewRow, Seeded, insert_raw
from tenantry.domain.users import UserStatus
from tenantry.services import credentials, member_browsing, members
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.credential_cache import CredentialCache
from tenantry.services.membership_changes import apply_membership_changes
from tenantry.services.membership_commands import NewMember
from tenantry.services.ports import MemberSort

PAGE = 50
BULK_SIZE = 20
BULK_ROLE = "member"

TOKEN_ROW = (
    "SELECT user_id, account_id, secret_hash FROM api_tokens"
    " WHERE key = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)"
)
USER_ROW = "SELECT email, status FROM users WHERE id = ?"
MEMBERS = (
    "SELECT u.id, u.email, u.name, u.status, m.role_key"
    " FROM memberships m JOIN users u ON u.id = m.user_id"
    " WHERE m.account_id = ? ORDER BY m.created_at, m.user_id LIMIT ?"
)
BROWSE_SEARCH = "bench"  # in every seeded address: the filter keeps them all, but is applied
BROWSE_PAGE_SIZE = 20
BROWSE_PAGE = (
    "SELECT u.id, u.email, count(*) OVER ()"
    " FROM search_member_text t JOIN users u ON u.id = t.user_id{same_collation}"
    " WHERE t.account_id = ? AND t.text LIKE ? ESCAPE '\\'"
    " ORDER BY t.text, t.user_id LIMIT ? OFFSET ?"
)  # the account's member text (migrations 0017 and 0018), as tenantry reads it: in order of
# address (the text starts with it), each match's user by key, the matches counted alike.
# On PostgreSQL the member text's ids are COLLATE "C" and the users' are not: compared as
# they are, the users' key cannot be used and every user is read (15 ms at 100,000 users).
SAME_COLLATION = {SqliteRaw: "", PsycopgRaw: ' COLLATE "default"'}
BROWSE_COUNT = (
    "SELECT count(*) FROM search_member_text WHERE account_id = ? AND text LIKE ? ESCAPE '\\'"
)

Call = Callable[[], Any]
_numbers = itertools.count()  # fresh e-mail addresses for the users added


@dataclass(slots=True)
class Figure:
    name: str
    unit: str
    tenantry: float
    raw: float

    @property
    def ratio(self) -> float:
        return self.tenantry / self.raw if self.raw else float("nan")


def run_operations(
    ctx: ServiceContext, raw: RawDatabase, seeded: Seeded, *, seconds: float, rounds: int
) -> list[Figure]:
    _, token, _ = credentials.create_api_token(ctx, OPERATOR, seeded.host_id, name="bench")
    # The token acts as the host's admin, who manages the advertisers through their parent.
    actor = credentials.authenticate(ctx, token, face="bench")
    accounts = seeded.probe_ids  # the same size at every size of the database
    uncached = dataclasses.replace(ctx, credential_cache=CredentialCache(0))
    pairs = [
        ("token authentication", token_authentication(ctx, raw, token)),
        (
            "token authentication, nothing cached (reads every time)",
            token_authentication(uncached, raw, token),
        ),
        (
            f"read an account ({PAGE} users and their roles)",
            read_account(ctx, raw, actor, accounts),
        ),
        # Added to the other advertisers: the probes keep their size for the browse.
        (
            f"add {BULK_SIZE} users in one call",
            add_users(ctx, raw, actor, seeded.advertiser_ids),
        ),
        (
            f"browse an account's users (search, by e-mail, page 2 of {BROWSE_PAGE_SIZE})",
            browse_users(ctx, raw, actor, accounts),
        ),
    ]
    return [
        compare(name, with_tenantry, with_raw, seconds=seconds, rounds=rounds)
        for name, (with_tenantry, with_raw) in pairs
    ]


def compare(
    name: str, with_tenantry: Call, with_raw: Call, *, seconds: float, rounds: int
) -> Figure:
    """Median ops/s of each side over `rounds` rounds, the sides taking turns."""
    tenantry_rates, raw_rates = [], []
    for _ in range(rounds):
        tenantry_rates.append(ops_per_second(with_tenantry, seconds / rounds))
        raw_rates.append(ops_per_second(with_raw, seconds / rounds))
    return Figure(name, "ops/s", median(tenantry_rates), median(raw_rates))


def ops_per_second(call: Call, seconds: float) -> float:
    calls = 0
    start = perf_counter()
    deadline = start + seconds
    while True:
        call()
        calls += 1
        now = perf_counter()
        if now >= deadline:
            return calls / (now - start)


# -- 1. token authentication -------------------------------------------------------------------


def token_authentication(ctx: ServiceContext, raw: RawDatabase, token: str) -> tuple[Call, Call]:
    token_row, user_row = raw.sql(TOKEN_ROW), raw.sql(USER_ROW)
    _, key, secret = token.split("_", 2)

    def with_tenantry() -> tuple[str, str | None]:
        actor = credentials.authenticate(ctx, token, face="bench")
        return actor.label, actor.home_account_id

    def with_raw() -> tuple[str, str | None]:
        row = raw.fetchone(token_row, (key, raw.timestamp(datetime.now(UTC))))
        digest = hashlib.sha256(secret.encode()).hexdigest()
        if row is None or not hmac.compare_digest(digest, row[2]):
            raise PermissionError("invalid token")
        user = raw.fetchone(user_row, (row[0],))
        if user is None or user[1] == UserStatus.DEACTIVATED:
            raise PermissionError("deactivated user")
        return user[0], row[1]

    return _checked(with_tenantry, with_raw)


# -- 2. reading an account with its users and their roles --------------------------------------


def read_account(
    ctx: ServiceContext, raw: RawDatabase, actor: Actor, account_ids: Sequence[str]
) -> tuple[Call, Call]:
    members_sql = raw.sql(MEMBERS)
    role_names = {role.key: role.display_name for role in ctx.roles}
    tenantry_accounts, raw_accounts = itertools.cycle(account_ids), itertools.cycle(account_ids)

    def with_tenantry() -> list[dict[str, Any]]:
        page = members.list_members(ctx, actor, next(tenantry_accounts), limit=PAGE)
        return [
            {
                "id": m.user.id,
                "email": m.user.email,
                "name": m.user.name,
                "status": int(m.user.status),
                "role": m.role.key,
                "role_name": m.role.display_name,
            }
            for m in page.items
        ]

    def with_raw() -> list[dict[str, Any]]:
        rows = raw.fetchall(members_sql, (next(raw_accounts), PAGE))
        return [
            {
                "id": user_id,
                "email": email,
                "name": name,
                "status": status,
                "role": role_key,
                "role_name": role_names[role_key],
            }
            for user_id, email, name, status, role_key in rows
        ]

    return _checked(with_tenantry, with_raw)


# -- 3. adding users in one call ---------------------------------------------------------------


def add_users(
    ctx: ServiceContext, raw: RawDatabase, actor: Actor, account_ids: Sequence[str]
) -> tuple[Call, Call]:
    tenantry_accounts, raw_accounts = itertools.cycle(account_ids), itertools.cycle(account_ids)

    def emails() -> list[str]:
        return [f"bulk{next(_numbers)}@bench.example" for _ in range(BULK_SIZE)]

    def with_tenantry() -> int:
        items = [NewMember(email=e, role_key=BULK_ROLE) for e in emails()]
        result = apply_membership_changes(ctx, actor, next(tenantry_accounts), items)
        if result.errors:
            raise RuntimeError(f"bulk add refused users: {result.errors}")
        return len(result.applied)

    def with_raw() -> int:
        account_id = next(raw_accounts)
        rows = [NewRow(str(uuid.uuid4()), e, account_id, BULK_ROLE) for e in emails()]
        insert_raw(raw, rows, active=False)  # new users are pending, as tenantry adds them
        return len(rows)

    return _checked(with_tenantry, with_raw)


# -- 4. browsing an account's users, as the console's users page does -------------------------


def browse_users(
    ctx: ServiceContext, raw: RawDatabase, actor: Actor, account_ids: Sequence[str]
) -> tuple[Call, Call]:
    same_collation = SAME_COLLATION[type(raw)]
    page_sql = raw.sql(BROWSE_PAGE.format(same_collation=same_collation))
    count_sql = raw.sql(BROWSE_COUNT)
    pattern = f"%{BROWSE_SEARCH}%"
    tenantry_accounts, raw_accounts = itertools.cycle(account_ids), itertools.cycle(account_ids)

    def with_tenantry() -> tuple[int, list[tuple[str, str]]]:
        found = member_browsing.browse_members(
            ctx,
            actor,
            next(tenantry_accounts),
            search=BROWSE_SEARCH,
            sort=MemberSort.EMAIL,
            page=2,
            page_size=BROWSE_PAGE_SIZE,
        )
        return found.total, [(m.user.id, m.user.email) for m in found.items]

    def with_raw() -> tuple[int, list[tuple[str, str]]]:
        account_id = next(raw_accounts)
        page = (account_id, pattern, BROWSE_PAGE_SIZE, BROWSE_PAGE_SIZE)
        rows = raw.fetchall_planned(page_sql, page)
        if rows:
            return rows[0][2], [(user_id, email) for user_id, email, _ in rows]
        # Past the last page: count(*) always answers one row.
        return raw.fetchall_planned(count_sql, (account_id, pattern))[0][0], []

    return _checked(with_tenantry, with_raw)


def _checked(with_tenantry: Call, with_raw: Call) -> tuple[Call, Call]:
    """Run both once (a warm-up too) and insist on the same answer."""
    ours, theirs = with_tenantry(), with_raw()
    if ours != theirs:
        raise AssertionError(f"tenantry and the raw driver disagree:\n{ours!r}\n{theirs!r}")
    return with_tenantry, with_raw
