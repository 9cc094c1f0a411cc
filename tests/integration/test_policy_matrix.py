"""The policy matrix: every cell of tests/policy_table.py, on SQLite and on PostgreSQL.

One test per cell: (operation, column, relation), each operation called as
tests/policy_calls.py says. The cells of an engine share one world (tests/policy_world.py), built
once per engine, because building it per cell would cost far more than the cells; each cell
makes for itself whatever it changes, so cells stay independent.

A refused cell must raise Forbidden and leave the database as it was (row counts of every table,
the target account's row and its members); an allowed write must change it and show the change
it was asked for; an allowed read must return what was asked for and change nothing.

Then the protections (PROTECTIONS in the table), each on a fresh database of its own.
"""

from __future__ import annotations

import itertools
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tenantry.domain.accounts import Account, AccountKind, AccountStatus
from tenantry.domain.errors import DomainError, Forbidden, Unauthenticated
from tenantry.services import accounts, credentials, members, roles
from tenantry.services.accounts import AccountChanges
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.members import NewMember
from tenantry.storage.uow import SqlUnitOfWorkFactory

from factories import OPERATOR, activate, as_user, make_account, make_member, unique_email
from policy_calls import CALLS, Cell
from policy_table import (
    ACTS_AS,
    CHILD_KIND,
    CHILD_KIND_FOR,
    COLUMNS,
    CUSTOM_ROLE,
    CUSTOM_ROLE_KEY,
    GRANTED_CAPABILITIES,
    GRANTED_ROLE,
    NEEDS,
    OPERATIONS,
    OWN,
    PARENT_SIDE,
    PARENT_SIDE_NEEDS,
    PROTECTIONS,
    RELATIONS,
    Relation,
    allowed,
)
from policy_world import PolicyWorld, build_policy_world, unique

CATALOGUE = Path(__file__).parents[2] / "src" / "tenantry" / "catalogue" / "roles.json"
_databases = (f"policy_matrix_{n}" for n in itertools.count(1))

Snapshot = tuple[Any, ...]


# -- one database per engine for the whole matrix ----------------------------------------------


@dataclass
class Matrix:
    world: PolicyWorld
    engine: sa.Engine
    tables: list[str]


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ],
)
def matrix(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Matrix]:
    """The policy world on a migrated database of its own, as conftest's `database_url` makes
    them, but kept for every cell of the engine."""
    from tenantry.app import Composition
    from tenantry.services.passwords import Argon2Hasher
    from tenantry.settings import Settings

    cluster = None
    name = ""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("policy") / "matrix.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        cluster = request.getfixturevalue("pg_cluster")
        name = next(_databases)
        cluster.create_database(name, template=request.getfixturevalue("postgres_template"))
        url = cluster.url(name)
    built = Composition(Settings(database_url=url, base_url="http://testserver"))
    built.context.passwords = Argon2Hasher(time_cost=1, memory_cost=1024)
    try:
        engine = _engine(built.context)
        names = sa.inspect(engine).get_table_names()
        tables = sorted(n for n in names if n != "alembic_version")
        yield Matrix(build_policy_world(built.context), engine, tables)
    finally:
        built.dispose()
        if cluster is not None:
            cluster.drop_database(name)


def _engine(ctx: ServiceContext) -> sa.Engine:
    factory = ctx.uow
    assert isinstance(factory, SqlUnitOfWorkFactory)
    return factory.engine


def snapshot(engine: sa.Engine, tables: list[str], account_id: str) -> Snapshot:
    """Row counts of every table (the audit trail included), the account's row, and its
    members with their roles and statuses: cheap, and enough to see any change a call makes."""
    counts = ", ".join(f'(SELECT count(*) FROM "{name}")' for name in tables)
    with engine.connect() as conn:
        return (
            tuple(conn.execute(sa.text(f"SELECT {counts}")).one()),
            conn.execute(
                sa.text(
                    "SELECT name, status, can_partner_manage, owner_user_id FROM accounts"
                    " WHERE id = :id"
                ),
                {"id": account_id},
            ).all(),
            conn.execute(
                sa.text(
                    "SELECT m.user_id, m.role_key, m.status, u.status FROM memberships m"
                    " JOIN users u ON u.id = m.user_id WHERE m.account_id = :id"
                    " ORDER BY m.user_id"
                ),
                {"id": account_id},
            ).all(),
        )


# -- the cells ---------------------------------------------------------------------------------


def run_cell(matrix: Matrix, operation: str, column: str, relation: Relation) -> str | None:
    """What is wrong with the cell, or None."""
    world, call = matrix.world, CALLS[operation]
    if call.fresh_target:
        actor, target = world.fresh_side(relation, column)
    else:
        actor, target = world.side(relation, CHILD_KIND_FOR.get(operation, CHILD_KIND), column)
    cell = Cell(world, actor, target)
    cell.prepared = call.prepare(cell) if call.prepare is not None else None
    before = snapshot(matrix.engine, matrix.tables, target.id)
    result: Any = None
    raised: DomainError | None = None
    try:
        result = call.run(cell)
    except DomainError as error:
        raised = error
    after = snapshot(matrix.engine, matrix.tables, target.id)
    got = f"raised {raised!r}" if raised is not None else f"succeeded ({result!r:.120})"
    if not allowed(operation, column, relation):
        if not isinstance(raised, Forbidden):
            return f"expected Forbidden, {got}"
        if before != after:
            return "refused, but the database changed"
        return None
    if raised is not None:
        return f"expected success, {got}"
    if call.writes and before == after:
        return "succeeded, but the database is as it was"
    if not call.writes and before != after:
        return "a read changed the database"
    if not call.verify(cell, result):
        return f"succeeded without the expected effect: {got}"
    return None


CELLS = [
    pytest.param(operation, column, relation, id=f"{operation}-{column}-{relation}")
    for operation in OPERATIONS
    for column in COLUMNS
    for relation in RELATIONS
]


@pytest.mark.parametrize(("operation", "column", "relation"), CELLS)
def test_policy_cell(matrix: Matrix, operation: str, column: str, relation: Relation) -> None:
    problem = run_cell(matrix, operation, column, relation)
    assert problem is None, problem


# -- the table is complete and agrees with the catalogue ----------------------------------------


def test_every_operation_has_a_call() -> None:
    assert sorted(CALLS) == sorted(OPERATIONS)


def _level(column: str, capability: str) -> int:
    """The column's level of `section.capability` from roles.json itself (0, 1, 2)."""
    levels = {"blocked": 0, "read": 1, "all": 2}
    catalogue = json.loads(CATALOGUE.read_text())
    section, name = capability.split(".")
    key = ACTS_AS[column]
    if key == CUSTOM_ROLE_KEY:
        return levels[CUSTOM_ROLE.get(section, {}).get(name, "blocked")]
    (role,) = [r for r in catalogue["roles"] if r["key"] == key]
    return levels[role["capabilities"][section][name]]


def _meets(column: str, need: str) -> bool:
    capability, level = need.split(":")
    return _level(column, capability) >= {"read": 1, "all": 2}[level]


@pytest.mark.parametrize("operation", OPERATIONS)
def test_the_literal_table_agrees_with_the_catalogue(operation: str) -> None:
    """A typo in the grid would be a wrong spec: each literal cell must be what the stated
    needs give with the catalogue's levels (read from roles.json, not from the code)."""
    needs = NEEDS[operation]
    for column in COLUMNS:
        own = needs is not None and all(_meets(column, need) for need in needs)
        assert OWN[operation][column] is own, (operation, column)
        if operation in PARENT_SIDE_NEEDS:
            side = _meets(column, PARENT_SIDE_NEEDS[operation])
            assert PARENT_SIDE[operation][column] is side, (operation, column, "parent side")


# -- protections ---------------------------------------------------------------------------------


class Protections:
    """Runs attempts against PROTECTIONS' literal outcomes and collects what differs."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.engine = _engine(ctx)
        names = sa.inspect(self.engine).get_table_names()
        self.tables = sorted(n for n in names if n != "alembic_version")
        self.problems: list[str] = []

    def attempt(self, name: str, account: Account, call: Callable[[], object]) -> None:
        expected = PROTECTIONS[name]
        before = snapshot(self.engine, self.tables, account.id)
        try:
            call()
        except DomainError as error:
            got = f"{type(error).__name__} {error.code.name}"
        else:
            got = "ok"
        after = snapshot(self.engine, self.tables, account.id)
        if not _matches(expected, got):
            self.problems.append(f"{name}: expected {expected}, got {got}")
        elif got != "ok" and before != after:
            self.problems.append(f"{name}: refused ({got}), but the database changed")

    def check(self) -> None:
        assert not self.problems, "\n".join(self.problems)


def _matches(expected: str, got: str) -> bool:
    if expected == "refused":
        return got.startswith(Unauthenticated.__name__) or got == "Forbidden ACCOUNT_DEACTIVATED"
    if expected == "Forbidden":
        return got.startswith("Forbidden ")
    return got == expected


def _tree(ctx: ServiceContext) -> tuple[Account, Actor, Account]:
    """A partner with an admin, and an advertiser under it with no member yet."""
    top = make_account(ctx, kind=AccountKind.PARTNER, name=unique("Partner "))
    top_admin = as_user(make_member(ctx, top, role="admin"))
    return top, top_admin, make_account(ctx, parent=top, name=unique("Advertiser "))


def _account(ctx: ServiceContext, account: Account) -> Account:
    with ctx.uow(readonly=True) as uow:
        return uow.accounts.get(account.id)


def test_a_manage_member_grants_no_admin_and_changes_no_admin(ctx: ServiceContext) -> None:
    _, _, account = _tree(ctx)
    admin = make_member(ctx, account, role="admin")
    manager = as_user(make_member(ctx, account, role="manage"))
    viewer = make_member(ctx, account, role="view")
    p = Protections(ctx)
    p.attempt(
        "manage member adds an admin",
        account,
        lambda: members.add_member(ctx, manager, account.id, NewMember(unique_email(), "admin")),
    )
    p.attempt(
        "manage member promotes a viewer to admin",
        account,
        lambda: members.change_role(ctx, manager, account.id, viewer.id, "admin"),
    )
    p.attempt(
        "manage member changes an admin's role",
        account,
        lambda: members.change_role(ctx, manager, account.id, admin.id, "view"),
    )
    p.check()
    # The same manager does change a viewer's role: the refusals above are about admin.
    assert members.change_role(ctx, manager, account.id, viewer.id, "member").role.key == "member"


def test_the_last_admin_is_neither_removed_nor_demoted(ctx: ServiceContext) -> None:
    _, top_admin, account = _tree(ctx)
    admin = make_member(ctx, account, role="admin")
    p = Protections(ctx)
    p.attempt(
        "last admin removed (by the parent's admin)",
        account,
        lambda: members.remove_member(ctx, top_admin, account.id, admin.id),
    )
    p.attempt(
        "last admin demoted (by the parent's admin)",
        account,
        lambda: members.change_role(ctx, top_admin, account.id, admin.id, "view"),
    )
    p.check()


def test_the_owner_stays_until_they_hand_ownership_over(ctx: ServiceContext) -> None:
    top = make_account(ctx, kind=AccountKind.PARTNER, name=unique("Partner "))
    owner_email = unique_email("owner")
    account = make_account(ctx, parent=top, admin_email=owner_email)
    owner_id = _account(ctx, account).owner_user_id
    assert owner_id is not None
    activate(ctx, owner_id, account.id)
    owner = Actor.for_user(owner_id, owner_email, face="test")
    other = make_member(ctx, account, role="admin")  # so "last admin" is never the reason
    other_admin = as_user(other)
    p = Protections(ctx)
    p.attempt(
        "owner removed by another admin",
        account,
        lambda: members.remove_member(ctx, other_admin, account.id, owner_id),
    )
    p.attempt(
        "owner deactivated by another admin",
        account,
        lambda: members.set_user_active(ctx, other_admin, account.id, owner_id, False),
    )
    p.attempt(
        "owner demoted by another admin",
        account,
        lambda: members.change_role(ctx, other_admin, account.id, owner_id, "view"),
    )
    p.attempt(
        "non-owner admin transfers ownership",
        account,
        lambda: accounts.transfer_ownership(ctx, other_admin, account.id, other.id),
    )
    p.attempt(
        "owner transfers ownership to an active admin",
        account,
        lambda: accounts.transfer_ownership(ctx, owner, account.id, other.id),
    )
    p.check()
    assert _account(ctx, account).owner_user_id == other.id


def test_no_credential_above_its_makers_role(ctx: ServiceContext) -> None:
    _, _, account = _tree(ctx)
    for key, capabilities in ((CUSTOM_ROLE_KEY, CUSTOM_ROLE), (GRANTED_ROLE, GRANTED_CAPABILITIES)):
        roles.create_custom_role(
            ctx, OPERATOR, account.id, key=key, display_name=key, capabilities=capabilities
        )
    admin = make_member(ctx, account, role="admin")
    maker = as_user(make_member(ctx, account, role=CUSTOM_ROLE_KEY))
    p = Protections(ctx)
    p.attempt(
        "custom-role maker creates an API account with role admin",
        account,
        lambda: credentials.create_api_account(
            ctx, maker, account.id, unique("above"), role_key="admin"
        ),
    )
    p.attempt(
        "custom-role maker creates an API account with role manage",
        account,
        lambda: credentials.create_api_account(
            ctx, maker, account.id, unique("above"), role_key="manage"
        ),
    )
    p.attempt(
        "custom-role maker creates an API token with role admin",
        account,
        lambda: credentials.create_api_token(
            ctx, maker, account.id, user_email=admin.email, role_key="admin"
        ),
    )
    p.check()
    # A role within the maker's own is fine: the refusals above are about the role.
    made, _ = credentials.create_api_account(
        ctx, maker, account.id, unique("within"), role_key=GRANTED_ROLE
    )
    assert made.role_key == GRANTED_ROLE


def test_a_deactivated_account_refuses_its_own_side_until_the_parent_lifts_it(
    ctx: ServiceContext,
) -> None:
    _, top_admin, account = _tree(ctx)
    own = make_member(ctx, account, role="admin")
    own_admin = as_user(own)
    _, token, _ = credentials.create_api_token(ctx, own_admin, account.id, user_email=own.email)
    p = Protections(ctx)
    p.attempt(
        "parent's admin deactivates the account (status 2)",
        account,
        lambda: accounts.update_account(ctx, top_admin, account.id, AccountChanges(status=2)),
    )
    assert _account(ctx, account).status is AccountStatus.DEACTIVATED
    p.attempt(
        "deactivated account's own admin lists members",
        account,
        lambda: members.list_members(ctx, own_admin, account.id),
    )
    p.attempt(
        "deactivated account's own admin adds a member",
        account,
        lambda: members.add_member(ctx, own_admin, account.id, NewMember(unique_email(), "view")),
    )
    p.attempt(
        "deactivated account's own admin lifts status 2",
        account,
        lambda: accounts.update_account(ctx, own_admin, account.id, AccountChanges(status=0)),
    )
    p.attempt(
        "deactivated account's API token lists members",
        account,
        lambda: members.list_members(
            ctx, credentials.authenticate(ctx, token, face="test"), account.id
        ),
    )
    p.attempt(
        "parent's admin reads the deactivated account",
        account,
        lambda: accounts.get_account(ctx, top_admin, account.id),
    )
    p.attempt(
        "parent's admin lifts status 2 (status 0)",
        account,
        lambda: accounts.update_account(ctx, top_admin, account.id, AccountChanges(status=0)),
    )
    p.check()
    assert _account(ctx, account).status is AccountStatus.ACTIVE
    assert members.list_members(ctx, own_admin, account.id).items  # their rights are back


def test_partner_management_stays_off_when_the_accounts_own_admins_turned_it_off(
    ctx: ServiceContext,
) -> None:
    top, top_admin, account = _tree(ctx)
    own_admin = as_user(make_member(ctx, account, role="admin"))
    p = Protections(ctx)

    def set_partner_manage(actor: Actor, target: Account, value: bool) -> Callable[[], object]:
        changes = AccountChanges(can_partner_manage=value)
        return lambda: accounts.update_account(ctx, actor, target.id, changes)

    p.attempt(
        "own admin turns partner management off",
        account,
        set_partner_manage(own_admin, account, False),
    )
    p.attempt(
        "parent turns partner management back on",
        account,
        set_partner_manage(top_admin, account, True),
    )
    p.attempt(
        "own admin turns partner management back on",
        account,
        set_partner_manage(own_admin, account, True),
    )
    assert _account(ctx, account).can_partner_manage
    lone = make_account(ctx, parent=top, name=unique("No admin "))
    accounts.update_account(ctx, top_admin, lone.id, AccountChanges(can_partner_manage=False))
    p.attempt(
        "parent turns it on for an account without an admin of its own",
        lone,
        set_partner_manage(top_admin, lone, True),
    )
    p.check()
    assert _account(ctx, lone).can_partner_manage


def test_every_protection_has_a_test() -> None:
    """Each PROTECTIONS line is attempted by a test above (by its literal name)."""
    source = Path(__file__).read_text()
    assert [name for name in PROTECTIONS if f'"{name}"' not in source] == []
