"""`tenantry backup` and `tenantry restore`: a round trip keeps every row, secret hash and
sequence, on both engines; a file that is not a backup changes nothing."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tenantry.services import credentials, members
from tenantry.services.context import ServiceContext
from tenantry.storage.engine import create_engine
from tenantry.storage.tables import metadata

from clitools import Cli
from factories import OPERATOR, World, make_member


def _rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                name: sorted((tuple(row) for row in conn.execute(sa.select(table))), key=repr)
                for name, table in sorted(metadata.tables.items())
            }
    finally:
        engine.dispose()


def _sequences(url: str) -> dict[str, int]:
    """Where each id sequence stands (what the next insert continues from): PostgreSQL's
    sequences, and on SQLite the largest rowid of each table with an integer key."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                query = sa.text("SELECT sequencename, last_value FROM pg_sequences")
                return {str(name): int(value or 0) for name, value in conn.execute(query)}
            return {
                name: int(
                    conn.execute(
                        sa.select(sa.func.max(sa.literal_column("rowid"))).select_from(table)
                    ).scalar()
                    or 0
                )
                for name, table in metadata.tables.items()
            }
    finally:
        engine.dispose()


def _some_history(ctx: ServiceContext, world: World) -> None:
    """Rows in most tables: members, an invitation, credentials with hashed secrets, audit."""
    make_member(ctx, world.a, role="view")
    members.add_member(
        ctx, OPERATOR, world.b.id, members.NewMember(email="invited@example.org", role_key="view")
    )
    credentials.create_api_account(ctx, OPERATOR, world.a.id, "backup1")
    credentials.create_api_token(
        ctx, OPERATOR, world.a.id, user_email=world.a_admin.email, name="nightly"
    )


def test_a_round_trip_keeps_every_row_and_sequence(
    cli: Cli, ctx: ServiceContext, world: World, tmp_path: Path
) -> None:
    _some_history(ctx, world)
    before, sequences = _rows(cli.database_url), _sequences(cli.database_url)
    assert before["api_accounts"]
    assert before["api_tokens"]
    assert before["invitations"]
    assert any(value > 0 for value in sequences.values())
    file = tmp_path / "tenantry.backup"

    assert "Backed up to" in cli.ok("backup", str(file)).stdout
    # What happens after the backup is what the restore takes back.
    viewer = make_member(ctx, world.b, role="view")
    members.remove_member(ctx, OPERATOR, world.b.id, viewer.id)
    make_member(ctx, world.b, role="admin")
    assert _rows(cli.database_url) != before

    assert "Restored from" in cli.ok("restore", "--yes", str(file)).stdout
    assert _rows(cli.database_url) == before
    assert _sequences(cli.database_url) == sequences
    # Ids continue after the restored ones: nothing new collides with what came back.
    make_member(ctx, world.a, role="view")
    old_ids = {row[0] for row in before["audit_events"]}
    new_ids = {row[0] for row in _rows(cli.database_url)["audit_events"]} - old_ids
    assert new_ids
    assert min(new_ids) > max(old_ids)


def test_a_backup_is_taken_while_a_write_is_under_way(
    cli: Cli, world: World, tmp_path: Path
) -> None:
    """The online backup copies what is committed; an open transaction neither blocks it
    nor leaks into it."""
    engine = create_engine(cli.database_url)
    file = tmp_path / "during.backup"
    try:
        with engine.connect() as conn:
            conn.execute(
                sa.text("UPDATE accounts SET name = 'uncommitted' WHERE id = :id"),
                {"id": world.a.id},
            )
            cli.ok("backup", str(file))
            conn.rollback()
    finally:
        engine.dispose()
    cli.ok("restore", "--yes", str(file))
    names = {row[1] for row in _rows(cli.database_url)["accounts"]}
    assert "uncommitted" not in names
    assert world.a.name in names


def test_a_file_that_is_not_a_backup_changes_nothing(
    cli: Cli, world: World, tmp_path: Path
) -> None:
    before = _rows(cli.database_url)
    stray = tmp_path / "notes.txt"
    stray.write_text("not a backup\n")
    refused = cli("restore", "--yes", str(stray))
    assert refused.exit_code == 1
    assert "is not" in refused.stderr
    assert "backup" in refused.stderr
    assert cli("restore", "--yes", str(tmp_path / "missing.backup")).exit_code == 1
    assert _rows(cli.database_url) == before


def test_an_sqlite_file_of_another_program_is_refused(
    cli: Cli, world: World, tmp_path: Path
) -> None:
    other = tmp_path / "other.db"
    with closing(sqlite3.connect(other)) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    before = _rows(cli.database_url)
    refused = cli("restore", "--yes", str(other))
    assert refused.exit_code == 1
    # SQLite knows the file for a database but not ours; PostgreSQL sees no dump at all.
    expected = "is not a tenantry backup" if cli.database_url.startswith("sqlite") else "is not a"
    assert expected in refused.stderr
    assert _rows(cli.database_url) == before


def test_restore_asks_first(cli: Cli, world: World, tmp_path: Path) -> None:
    file = tmp_path / "ask.backup"
    cli.ok("backup", str(file))
    before = _rows(cli.database_url)
    declined = cli("restore", str(file))  # no one at the terminal to say yes
    assert declined.exit_code == 1
    assert "Aborted" in declined.stderr
    assert _rows(cli.database_url) == before
