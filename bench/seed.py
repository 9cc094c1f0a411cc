"""Seeding: a host partner, advertisers under it, and users with one membership each.

The operations read and add to `PROBES` more advertisers of `PROBE_MEMBERS` members each, the
same at every size, so that a figure compares the same work on databases of 10,000 or
1,000,000 users (the other advertisers grow with the database: 10 members each at 10,000
users, 1,000 at 1,000,000).

Users are written in batches (one transaction each) that alternate between tenantry's storage
layer and the raw driver, so both paths fill tables of the same size and each gets a rate
(users/s). A sample then goes through the service layer, one `add_member` call per user.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from time import perf_counter

from bench.database import RawDatabase
from tenantry.domain.accounts import Account, AccountKind
from tenantry.domain.ids import new_account_id
from tenantry.domain.memberships import Membership, MembershipStatus
from tenantry.domain.roles import ADMIN
from tenantry.domain.users import User, UserStatus
from tenantry.services import members, setup
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.members import NewMember

BATCH = 1_000
STORAGE_BATCHES = 20
"""Batches written through the storage layer (alternating with the raw driver) to time it;
every batch after the first 2 * STORAGE_BATCHES is written with the raw driver alone, so a
million users seed in about a minute."""
PROBES = 20
PROBE_MEMBERS = 100
ROLE_CYCLE = ("member", "view", "marketing", "manage", "accounting", "qa")
OPERATOR = Actor.system(face="bench", label="bench")

INSERT_USER = (
    "INSERT INTO users (id, email, name, status, can_login_via_platform, notifications,"
    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
INSERT_MEMBERSHIP = (
    "INSERT INTO memberships (user_id, account_id, role_key, status, app_ids, all_future_apps,"
    " media_sources, geos, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
JSON_NULL, JSON_EMPTY = "null", "{}"  # what tenantry's JSON columns hold for None and {}
UNRESTRICTED = (JSON_NULL, True, JSON_NULL, JSON_NULL)  # app_ids … geos: no restriction


@dataclass(slots=True)
class Rate:
    users: int = 0
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.users / self.seconds if self.seconds else 0.0


@dataclass(slots=True)
class Seeded:
    host_id: str
    advertiser_ids: list[str]
    probe_ids: list[str]  # advertisers of `PROBE_MEMBERS` members each, whatever the size
    users: int
    batch: int  # users a transaction when seeding in batches
    storage: Rate  # tenantry storage layer, batches
    raw: Rate  # raw driver, executemany, same batches
    service: Rate  # one add_member call per user


@dataclass(slots=True, frozen=True)
class NewRow:
    """One seeded user and its membership, independent of the path that writes it."""

    user_id: str
    email: str
    account_id: str
    role_key: str


def seed(ctx: ServiceContext, raw: RawDatabase, *, accounts: int, users: int) -> Seeded:
    init = setup.initialize(ctx, admin_email="admin@bench.example", client_id="bench")
    if not init.created:
        raise SystemExit("The bench fills an empty database; this one already has accounts.")
    advertiser_ids = _seed_advertisers(ctx, init.account_id, accounts - 1)
    probe_ids = _seed_advertisers(ctx, init.account_id, PROBES, name="Probe")
    probes = PROBES * PROBE_MEMBERS
    insert_raw(raw, new_rows(probe_ids, 0, probes, prefix="probe"), active=True)
    sample = min(1_000, max(50, users // 100))
    bulk = max(0, users - 1 - sample - probes)  # the host admin is a user too

    size = max(1, min(BATCH, bulk // 2))  # small runs still give both paths a batch
    storage, raw_rate = Rate(), Rate()
    for number, start in enumerate(range(0, bulk, size)):
        batch = new_rows(advertiser_ids, start, min(start + size, bulk))
        began = perf_counter()
        if number % 2 == 0 and number < 2 * STORAGE_BATCHES:
            _write_with_storage(ctx, batch)
            rate = storage
        else:
            insert_raw(raw, batch, active=True)
            rate = raw_rate
        rate.seconds += perf_counter() - began
        rate.users += len(batch)

    service = _seed_with_service(ctx, advertiser_ids, sample)
    users = 1 + probes + bulk + sample
    return Seeded(
        init.account_id, advertiser_ids, probe_ids, users, size, storage, raw_rate, service
    )


def new_rows(
    account_ids: Sequence[str], start: int, stop: int, *, prefix: str = "user"
) -> list[NewRow]:
    """Users `start`..`stop`, dealt round-robin to the accounts; each account's first is admin."""
    n = len(account_ids)
    return [
        NewRow(
            user_id=str(uuid.uuid4()),
            email=f"{prefix}{i}@bench.example",
            account_id=account_ids[i % n],
            role_key=ADMIN if i < n else ROLE_CYCLE[i % len(ROLE_CYCLE)],
        )
        for i in range(start, stop)
    ]


def _seed_advertisers(
    ctx: ServiceContext, host_id: str, count: int, *, name: str = "Advertiser"
) -> list[str]:
    now = datetime.now(UTC)
    ids = [new_account_id() for _ in range(count)]
    with ctx.uow() as uow:
        for number, account_id in enumerate(ids):
            uow.accounts.add(
                Account(
                    id=account_id,
                    name=f"{name} {number}",
                    kind=AccountKind.ADVERTISER,
                    parent_id=host_id,
                    created_at=now,
                )
            )
    return ids


def _write_with_storage(ctx: ServiceContext, batch: Sequence[NewRow]) -> None:
    now = datetime.now(UTC)
    with ctx.uow() as uow:
        for row in batch:
            uow.users.add(
                User(id=row.user_id, email=row.email, status=UserStatus.ACTIVATED, created_at=now)
            )
            uow.memberships.add(
                Membership(
                    row.user_id,
                    row.account_id,
                    row.role_key,
                    MembershipStatus.ACTIVE,
                    created_at=now,
                )
            )


def insert_raw(raw: RawDatabase, rows: Sequence[NewRow], *, active: bool) -> None:
    """The rows tenantry would write for these users and memberships, in one transaction."""
    insert_user, insert_membership = raw.sql(INSERT_USER), raw.sql(INSERT_MEMBERSHIP)
    now = raw.timestamp(datetime.now(UTC))
    user_status = int(UserStatus.ACTIVATED if active else UserStatus.PENDING)
    status = (MembershipStatus.ACTIVE if active else MembershipStatus.PENDING).value
    with raw.transaction():
        raw.executemany(
            insert_user,
            [(r.user_id, r.email, "", user_status, True, JSON_EMPTY, now) for r in rows],
        )
        raw.executemany(
            insert_membership,
            [(r.user_id, r.account_id, r.role_key, status, *UNRESTRICTED, now) for r in rows],
        )


def _seed_with_service(ctx: ServiceContext, account_ids: Sequence[str], count: int) -> Rate:
    began = perf_counter()
    for i in range(count):
        members.add_member(
            ctx,
            OPERATOR,
            account_ids[i % len(account_ids)],
            NewMember(email=f"invited{i}@bench.example", role_key=ROLE_CYCLE[i % len(ROLE_CYCLE)]),
        )
    return Rate(count, perf_counter() - began)
