"""Which tables a unit of work wrote, so that a commit drops only what it can have changed.

The process keeps what authenticating read for up to a second (`services.credential_cache`),
and a commit of this process used to clear all of it. But the bulk API counts every call on
a counter (a write), so every request of that face read its token again, and so did every
other request of a worker that served it. A write unit of work now notes the table of each
statement it sends (`WRITES`); after the commit, it clears the cache only if one of those
tables is one the cache read from, or one whose rows are deleted or changed with them by a
foreign key (`affected_through_keys`). A statement it cannot name a table for counts as a
write to every table: unknown writes still clear everything. A plain INSERT is noted apart
(`inserted`): rows added to a table the cache reads only by a key that existed before them
change nothing it holds (`watched_writes`), so a bulk add of users keeps it.

What it cannot see, and so what no code here may do: write through the DB-API connection
under SQLAlchemy's (below its events; a test keeps that to `storage/engine.py`), or call a
database function that writes from a SELECT.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine.interfaces import DBAPICursor, ExecutionContext

WRITES = "tenantry_writes"
"""Execution option of a write unit of work's connection: the set each statement's table is
added to."""

EVERY_TABLE = "*"
"""Noted for a statement that may write but names no table SQLAlchemy knows of."""

NOTED_WRITE = "tenantry_noted_write"
"""Execution option of a statement sent as text that names what it writes (`inserted(table)`
or a table's name), which the text alone would not."""

_INSERTED = "+"

DML = (sa.Insert, sa.Update, sa.Delete)
"""The statements that write a table."""
_PLAIN_INSERT = re.compile(r"\s*INSERT\s+INTO\s", re.IGNORECASE)
_ON_CONFLICT = re.compile(r"\bON\s+CONFLICT\b", re.IGNORECASE)

# Statements sent as text that never write a table: the transaction's own statements and
# settings (SQLite's `BEGIN IMMEDIATE`, its pragmas; savepoints).
_NOT_WRITES = ("select", "pragma", "begin", "savepoint", "release", "rollback", "commit")


def note_writes(engine: sa.Engine) -> None:
    """Have every statement on `engine` note its table in its connection's `WRITES` set, when
    it has one (only write units of work give one)."""
    if not event.contains(engine, "before_cursor_execute", _note):
        event.listen(engine, "before_cursor_execute", _note)


def _note(
    _connection: sa.Connection,
    _cursor: DBAPICursor,
    statement: str,
    _parameters: Any,
    context: ExecutionContext | None,
    _executemany: bool,
) -> None:
    options = context.execution_options if context else {}
    written: set[str] | None = options.get(WRITES)
    if written is None:
        return
    table = options.get(NOTED_WRITE) or written_by(getattr(context, "compiled", None), statement)
    if table is not None:
        written.add(table)


def written_by(compiled: Any, statement: str) -> str | None:
    """What a statement sent as `statement` writes, from what SQLAlchemy compiled it from (if
    it did): a table's name, `inserted(name)`, `EVERY_TABLE`, or None for no write."""
    if any(isinstance(cte.element, DML) for cte in getattr(compiled, "ctes", None) or ()):
        return EVERY_TABLE  # a write inside a WITH (PostgreSQL): not worth naming
    construct = getattr(compiled, "statement", None)
    if isinstance(construct, DML):
        table = construct.table
        if not isinstance(table, sa.Table):
            return EVERY_TABLE
        return inserted(table.name) if _adds_only(construct, statement) else table.name
    if isinstance(construct, sa.Select):
        return None
    one_statement = ";" not in statement.strip().rstrip(";")
    if one_statement and statement.lstrip()[:9].lower().startswith(_NOT_WRITES):
        return None
    return EVERY_TABLE


def inserted(table: str) -> str:
    """Noted for a plain INSERT into `table`: it adds rows and changes none, so a cache of rows
    read by a key that existed before them need not forget anything."""
    return _INSERTED + table


def _adds_only(construct: sa.Insert | sa.Update | sa.Delete, statement: str) -> bool:
    """An INSERT that neither replaces (`INSERT OR REPLACE`) nor updates on a conflict."""
    if not isinstance(construct, sa.Insert):
        return False
    return bool(_PLAIN_INSERT.match(statement)) and not _ON_CONFLICT.search(statement)


def affected_through_keys(metadata: sa.MetaData, tables: Collection[str]) -> frozenset[str]:
    """`tables`, and every table whose deletion or change of a row changes rows of those (a
    foreign key with ON DELETE or ON UPDATE CASCADE, SET NULL or SET DEFAULT), transitively."""
    found = set(tables)
    while True:
        more = {
            key.column.table.name
            for name in found
            for key in metadata.tables[name].foreign_keys
            if _reaches(key.ondelete) or _reaches(key.onupdate)
        }
        if more <= found:
            return frozenset(found)
        found |= more


def _reaches(action: str | None) -> bool:
    """Whether a foreign key's ON DELETE or ON UPDATE action changes the referring rows."""
    return (action or "").upper() not in ("", "RESTRICT", "NO ACTION")


def watched_writes(
    metadata: sa.MetaData, tables: Collection[str], *, inserts_unseen: Collection[str] = ()
) -> frozenset[str]:
    """What a commit must have noted to matter to a cache of `tables`' rows: a change to one
    of them or to a table whose changes reach them (`affected_through_keys`), or an insert
    into one of them but those in `inserts_unseen` (read only by a key that existed first).
    A row added to another table changes none of theirs: no foreign key acts on an insert."""
    added = {inserted(t) for t in tables if t not in inserts_unseen}
    return affected_through_keys(metadata, tables) | added


def wrote_any(written: Collection[str], watched: Collection[str]) -> bool:
    return EVERY_TABLE in written or not set(written).isdisjoint(watched)
