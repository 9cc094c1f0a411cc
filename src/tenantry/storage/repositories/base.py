"""What every repository shares.

Hot statements are built once, at import, with `sa.bindparam` placeholders, and executed with
their parameters: SQLAlchemy then finds the compiled form in its cache instead of building and
compiling the statement again on every call (a recursive CTE costs 1-2 ms to build). Rows are
read by position, in the fixed column order each module selects, since reading a `Row` by
attribute name costs about twenty times more.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from tenantry.storage.repositories.driver_reads import Row, read_rows


class Repository:
    def __init__(self, connection: sa.Connection) -> None:
        self.conn = connection

    def _one(
        self, statement: sa.Executable, parameters: Mapping[str, Any] | None = None
    ) -> sa.Row[Any] | None:
        return self.conn.execute(statement, parameters).first()

    def _rows(self, statement: sa.Select[Any], parameters: Mapping[str, Any]) -> list[Row]:
        """The rows of a hot read, as tuples, fetched with the driver (`driver_reads`)."""
        return read_rows(self.conn, statement, parameters)


def columns(table: sa.FromClause, names: Sequence[str]) -> tuple[sa.ColumnElement[Any], ...]:
    """`table`'s columns in the order of `names`: the order rows are read back in."""
    return tuple(table.c[name] for name in names)


def like_pattern(text: str) -> str:
    """A case-insensitive LIKE pattern matching `text` anywhere, with wildcards escaped."""
    return f"%{escape_like(text.lower())}%"


def escape_like(text: str) -> str:
    """`text` as a LIKE pattern (escape character `\\`) that matches only itself."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def in_byte_order(text: sa.ColumnElement[Any], dialect: str) -> sa.ColumnElement[Any]:
    """`text` compared and ordered byte by byte, alike on both engines (SQLite's default
    collation; PostgreSQL's "C", which the member text's columns have: migration 0018)."""
    return sa.collate(text, "C" if dialect == "postgresql" else "BINARY")
