"""Many rows inserted in one call of the driver's `executemany`, as the raw driver would.

Given a statement and a list of parameter sets, SQLAlchemy builds each row's parameters anew
(the compiled statement's defaults, its bind names, then every value through its column
type's processor, one call at a time): adding 20 people writes about a hundred rows, and that
was a third of the bulk add's time in Python. `insert_rows` does the same conversions with
the same processors, taken once per table, dialect and set of columns, and hands the driver
the statement's text with one tuple (or, for named parameters, one dict) per row.

It sends text, which `storage.writes` could only count as a write to every table: the table
is named for it with `NOTED_WRITE`, as a plain INSERT (rows added, none changed).
"""

from __future__ import annotations

import operator
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from tenantry.storage.writes import NOTED_WRITE, inserted


@dataclass(frozen=True, slots=True)
class _Prepared:
    text: str
    names: tuple[str, ...]  # the bound names, in the order a positional driver takes them
    values: Callable[[Mapping[str, Any]], tuple[Any, ...]]  # a row's, in that order
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]  # by position, where one is
    positional: bool
    options: Mapping[str, Any]


# A dialect (one per engine) to what was prepared for it, by table and columns.
_PREPARED: weakref.WeakKeyDictionary[
    sa.Dialect, dict[tuple[sa.Table, tuple[str, ...]], _Prepared]
] = weakref.WeakKeyDictionary()


def insert_rows(conn: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """`conn.execute(table.insert(), rows)` for rows that all name the same columns; a column
    they leave out is left to the database, and one with a default computed in Python (which
    nothing here would compute) is refused."""
    if not rows:
        return
    prepared = _prepared(conn.dialect, table, tuple(rows[0]))
    values: list[Any] = [prepared.values(row) for row in rows]
    if prepared.processors:
        values = [_processed(row, prepared.processors) for row in values]
    if prepared.positional:
        parameters: list[Any] = values
    else:
        parameters = [dict(zip(prepared.names, row, strict=True)) for row in values]
    conn.exec_driver_sql(prepared.text, parameters, execution_options=prepared.options)


def _processed(
    values: tuple[Any, ...], processors: tuple[tuple[int, Callable[[Any], Any]], ...]
) -> tuple[Any, ...]:
    processed = list(values)
    for position, process in processors:
        processed[position] = process(processed[position])
    return tuple(processed)


def _prepared(dialect: sa.Dialect, table: sa.Table, names: tuple[str, ...]) -> _Prepared:
    known = _PREPARED.setdefault(dialect, {})
    prepared = known.get((table, names))
    if prepared is None:
        prepared = known[(table, names)] = _prepare(dialect, table, names)
    return prepared


def _getter(names: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    if len(names) == 1:
        return lambda row: (row[names[0]],)
    return operator.itemgetter(*names)


def _prepare(dialect: sa.Dialect, table: sa.Table, names: tuple[str, ...]) -> _Prepared:
    omitted = [
        c.name
        for c in table.columns
        if c.name not in names and c.default is not None and c.server_default is None
    ]
    if omitted:  # SQLAlchemy would compute these for each row; nothing here does
        raise ValueError(f"{table.name}: rows must give {', '.join(omitted)}")
    compiled = table.insert().compile(dialect=dialect, column_keys=list(names))
    order = tuple(compiled.positiontup or ()) if dialect.positional else names
    if sorted(order) != sorted(names):
        raise ValueError(f"{table.name}: the statement binds {order}, the rows give {names}")
    processors = [
        (position, table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
        for position, name in enumerate(order)
    ]
    return _Prepared(
        compiled.string,
        order,
        _getter(order),
        tuple((position, p) for position, p in processors if p is not None),
        dialect.positional,
        {NOTED_WRITE: inserted(table.name)},
    )
