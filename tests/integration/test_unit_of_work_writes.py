"""A write unit of work names the tables it wrote, so that its commit clears only what those
can have changed (`storage.writes`); what it cannot name counts as every table."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

import tenantry
from tenantry.services import credentials
from tenantry.services.context import Actor, ServiceContext
from tenantry.storage.tables import accounts, api_tokens, counters, metadata, users
from tenantry.storage.writes import (
    EVERY_TABLE,
    WRITES,
    affected_through_keys,
    inserted,
    note_writes,
    watched_writes,
)

from factories import World, statements

OPERATOR = Actor.system(face="test")


def written_by(engine: sa.Engine, *sent: sa.Executable | str) -> set[str]:
    """The tables noted for `sent`, run in a transaction that is then rolled back."""
    note_writes(engine)
    written: set[str] = set()
    with engine.connect() as connection:
        connection.execution_options(**{WRITES: written})
        with connection.begin() as transaction:
            for statement in sent:
                if isinstance(statement, str):
                    connection.exec_driver_sql(statement)
                else:
                    connection.execute(statement)
            transaction.rollback()
    return written


def test_statements_built_with_sqlalchemy_name_their_table(engine: sa.Engine) -> None:
    nobody = users.c.id == "nobody"
    assert written_by(engine, sa.update(users).where(nobody).values(name="x")) == {"users"}
    assert written_by(engine, sa.delete(counters).where(counters.c.key == "k")) == {"counters"}
    assert written_by(engine, sa.select(users.c.id), sa.select(accounts.c.id)) == set()


def test_a_statement_sent_as_text_counts_as_every_table_unless_it_only_reads(
    engine: sa.Engine,
) -> None:
    assert written_by(engine, "DELETE FROM counters WHERE 1 = 0") == {EVERY_TABLE}
    assert written_by(engine, sa.text("UPDATE counters SET count = 0 WHERE 1 = 0")) == {EVERY_TABLE}
    assert written_by(engine, "SELECT 1", "  select 2", "SAVEPOINT s", "RELEASE s") == set()


def test_a_plain_insert_is_noted_as_adding_rows_and_a_replacing_one_as_changing_them(
    engine: sa.Engine,
) -> None:
    row = {"key": "k", "window": "w", "count": 1, "expires_at": datetime(2026, 1, 1, tzinfo=UTC)}
    assert written_by(engine, sa.insert(counters).values(**row)) == {inserted("counters")}
    upsert_of = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[engine.dialect.name]
    upsert = upsert_of(counters).values(**row).on_conflict_do_nothing()
    assert written_by(engine, upsert) == {"counters"}
    if engine.dialect.name == "sqlite":
        replacing = sa.insert(counters).values(**row).prefix_with("OR REPLACE")
        assert written_by(engine, replacing) == {"counters"}


def test_inserts_into_a_watched_table_are_watched_unless_declared_unseen() -> None:
    watched = watched_writes(metadata, ["users", "user_emails"], inserts_unseen=["users"])
    assert {"users", "user_emails", inserted("user_emails")} <= watched
    assert inserted("users") not in watched
    assert "accounts" in watched  # deleting an account changes users (SET NULL)
    assert inserted("accounts") not in watched  # a new account changes no user


def test_a_connection_without_the_option_notes_nothing(engine: sa.Engine) -> None:
    note_writes(engine)
    note_writes(engine)  # listening twice would note twice: it listens once
    with engine.connect() as connection:
        connection.execute(sa.delete(counters).where(counters.c.key == "k"))
        connection.rollback()
    assert written_by(engine, sa.delete(counters).where(counters.c.key == "k")) == {"counters"}


def test_tables_whose_deletions_reach_a_table_are_watched_with_it() -> None:
    schema = sa.MetaData()
    sa.Table("parent", schema, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table(
        "child",
        schema,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("parent_id", sa.ForeignKey("parent.id", ondelete="CASCADE")),
    )
    sa.Table(
        "grandchild",
        schema,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("child_id", sa.ForeignKey("child.id", ondelete="SET NULL")),
        sa.Column("kept_id", sa.ForeignKey("kept.id", ondelete="RESTRICT")),
        sa.Column("plain_id", sa.ForeignKey("plain.id")),
    )
    sa.Table("kept", schema, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table("plain", schema, sa.Column("id", sa.Integer, primary_key=True))
    assert affected_through_keys(schema, ["grandchild"]) == {"grandchild", "child", "parent"}
    assert affected_through_keys(schema, ["kept"]) == {"kept"}
    # In the real schema: a user's row loses its accounts by SET NULL, a token goes with its
    # account by CASCADE.
    assert {"users", "accounts"} <= affected_through_keys(metadata, ["api_tokens"])


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_writes_hidden_in_a_with_or_a_second_statement_count_as_every_table(
    engine: sa.Engine,
) -> None:
    """PostgreSQL runs a write inside a WITH, and several statements in one text."""
    revoked = (
        sa.update(api_tokens)
        .where(api_tokens.c.key == "nobody")
        .values(name="x")
        .returning(api_tokens.c.key)
        .cte()
    )
    in_a_select = sa.select(sa.func.count()).select_from(revoked)
    beside_a_delete = sa.delete(counters).where(counters.c.key == "k").add_cte(revoked)
    assert written_by(engine, in_a_select) == {EVERY_TABLE}
    assert written_by(engine, beside_a_delete) == {EVERY_TABLE}
    second = "SELECT 1; UPDATE api_tokens SET name = 'x' WHERE key = 'nobody'"
    assert written_by(engine, second) == {EVERY_TABLE}


def test_no_code_writes_below_the_events_that_name_the_tables() -> None:
    """The driver's own connection skips SQLAlchemy's events: only the engine's set-up (its
    pragmas) may use it, and the hot reads, which tell the listeners themselves and take
    nothing but SELECTs (`test_driver_reads.py`)."""
    source = Path(tenantry.__file__).parent
    found = [
        str(path.relative_to(source))
        for path in source.rglob("*.py")
        if re.search(r"driver_connection|dbapi_connection|\.connection\.cursor", path.read_text())
    ]
    assert sorted(found) == ["storage/engine.py", "storage/repositories/driver_reads.py"]


def test_what_authenticating_reads_is_watched(ctx: ServiceContext, world: World) -> None:
    """Every table authenticating reads (both kinds of token, nothing cached) is one whose
    writes clear the cache."""
    _, api_token, _ = credentials.create_api_token(ctx, OPERATOR, world.a.id, name="t")
    _, secret = credentials.create_api_account(ctx, OPERATOR, world.a.id, "watchedclient")
    access = credentials.issue_access_token(ctx, "watchedclient", secret, source="test")
    for token in (api_token, access.token):
        ctx.credential_cache.invalidate()
        with statements(ctx) as seen:
            credentials.authenticate(ctx, token, face="test")
        read = {t for s in seen for t in re.findall(r"(?:FROM|JOIN)\s+(\w+)", s)}
        assert read, seen
        assert read <= ctx.uow.watched, (read, ctx.uow.watched)  # type: ignore[attr-defined]
