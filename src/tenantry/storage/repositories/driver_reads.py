"""Rows of the hot reads fetched with the driver's cursor, as the raw driver would fetch them.

`conn.execute(select, parameters).all()` costs SQLAlchemy 40 µs a statement on SQLite and
100 to 150 on PostgreSQL beyond the driver's own work (an execution context, the bound
values, a result wrapping `cursor.description`, which psycopg builds column by column in
Python): for the GraphQL tenant query's three statements, a sixth of the request on SQLite
and more on PostgreSQL. `read_rows` sends the text SQLAlchemy compiled for the statement,
with the values its bind processors make, on a driver cursor kept with the connection, and gives
back plain tuples with the result processors of the selected columns applied: the values
`.all()` would give, by position (`tests/integration/test_driver_reads.py` compares them on
both engines).

What it keeps of SQLAlchemy's execution: the listeners of `before_cursor_execute` and
`after_cursor_execute` see each statement (statement counts, noted writes), with no execution
context (a listener rewriting statements, `retval=True`, is not supported); any error goes
through SQLAlchemy's handling of it, so a dropped connection is invalidated and reported as
any other statement's would be (`DatabaseUnavailable`), and an interruption invalidates it.
Statements are compiled once per dialect, and once per number of values of each expanding
parameter (`IN` lists, up to `PLANS_KEPT` shapes): pass only statements built once, at
import. SQLAlchemy itself executes what this would not read exactly as it does: a statement
with values rendered into its text (`literal_execute`, a list given to `in_`) or computed
at each execution, bound names that need escaping, numeric columns (whose processors depend
on the type the driver reports), a call giving a value the statement binds itself or
leaving out one it needs, and every statement of an engine that logs them (`echo`).

The same way for the few hot statements that are not reads: `write_rows` for a write that
answers rows (`RETURNING`: the quota counter's upsert), noting the table it writes for the
unit of work as `storage.writes` notes SQLAlchemy's statements (its listener sees no context
here), and `send` for a statement without values or rows (each writing unit's BEGIN).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import visitors
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase

from tenantry.storage.writes import DML, NOTED_WRITE, WRITES, written_by

Row = tuple[Any, ...]
_Processor = Callable[[Any], Any]
PLANS_KEPT = 64
"""Texts kept per statement, one per shape of its lists: a bulk call looking up thousands of
addresses in lists of every length would otherwise keep a text for each."""
CURSOR_KEPT_UP_TO = 250
"""Rows after which a read's cursor is closed rather than kept for the statement's next read:
a cursor holds its last result until its next, and a large one is not worth holding: a
connection holds at most `CURSORS_KEPT` results this long (some hundreds of kilobytes for
the widest listing). A tenant query's 50 members with two roles each are 100 rows; a new
cursor for a longer result costs 12 to 20 µs, against milliseconds for its rows."""
CURSORS_KEPT = 8
"""Cursors a connection keeps, one for each statement it sent last (the oldest closed for a
new one): the hot paths send a handful."""
_CURSORS = "tenantry_driver_cursors"  # in the pooled connection's `info`, for as long as it lives


@dataclass(frozen=True, slots=True)
class _Plan:
    """The text to send for one shape of the parameters, and how to make its values."""

    text: str
    # One per value sent: the caller's parameter it comes from (or None for a value the
    # statement binds itself), its index within an expanding list (or None), the value when
    # the statement binds it itself, and the bind processor if any.
    sources: tuple[tuple[str | None, int | None, Any, _Processor | None], ...]
    names: tuple[str, ...] | None  # for drivers taking named parameters (psycopg)


@dataclass(slots=True)
class _Prepared:
    compiled: SQLCompiler
    expanding: tuple[str, ...]  # the expanding parameters' names
    required: frozenset[str]  # the names a caller must give (binds without a value)
    own: frozenset[str]  # binds with a value of their own, which a caller may not give here
    convert: Callable[[list[Any]], list[Row]] | None  # the result processors, if any
    writes: str | None  # what `storage.writes` notes for it, for a statement that writes
    plans: dict[tuple[int, ...], _Plan] = field(default_factory=dict)


# On each dialect (one per engine), what was prepared for it by statement; None for a
# statement left to SQLAlchemy. Kept on the dialect, which the compiled statements refer
# to: a table keyed by dialects would keep every engine's alive.
_STATEMENTS = "_tenantry_driver_reads"


def read_rows(
    conn: sa.Connection, statement: sa.Select[Any], parameters: Mapping[str, Any]
) -> list[Row]:
    """`[tuple(row) for row in conn.execute(statement, parameters)]`, through the driver."""
    return _rows(conn, statement, parameters, _prepared(conn.dialect, statement))


def write_rows(
    conn: sa.Connection, statement: UpdateBase, parameters: Mapping[str, Any]
) -> list[Row]:
    """`read_rows` for a statement that writes and answers rows (`RETURNING`): the table it
    writes is noted for the unit of work as `storage.writes` notes SQLAlchemy's statements."""
    prepared = _prepared(conn.dialect, statement, writes=True)
    written: set[str] | None = conn.get_execution_options().get(WRITES)
    if written is not None and prepared is not None:
        assert prepared.writes is not None
        written.add(prepared.writes)
    return _rows(conn, statement, parameters, prepared)


def send(conn: sa.Connection, text: str) -> None:
    """A statement without values or rows (a transaction's `BEGIN`) on the connection's kept
    cursor: `exec_driver_sql` costs SQLAlchemy 20 µs on SQLite and 100 on PostgreSQL."""
    _fetch(conn, text, None, fetch=False)


def _rows(
    conn: sa.Connection,
    statement: sa.Executable,
    parameters: Mapping[str, Any],
    prepared: _Prepared | None,
) -> list[Row]:
    given = parameters.keys()
    if (
        prepared is None
        or conn.engine.echo  # SQLAlchemy logs each statement
        or not prepared.required <= given
        or prepared.own & given
    ):
        return [tuple(row) for row in conn.execute(statement, parameters)]
    shape = tuple(len(parameters[name]) for name in prepared.expanding)
    plan = prepared.plans.get(shape)
    if plan is None:
        plan = _plan(prepared.compiled, parameters)
        if len(prepared.plans) < PLANS_KEPT:
            prepared.plans[shape] = plan
    rows = _fetch(conn, plan.text, partial(_bound, plan, parameters))
    return rows if prepared.convert is None else prepared.convert(rows)


def _bound(plan: _Plan, parameters: Mapping[str, Any]) -> Any:
    values = [
        (value if name is None else parameters[name] if at is None else parameters[name][at])
        for name, at, value, _ in plan.sources
    ]
    for position, (_, _, _, process) in enumerate(plan.sources):
        if process is not None:
            values[position] = process(values[position])
    return tuple(values) if plan.names is None else dict(zip(plan.names, values, strict=True))


def _fetch(
    conn: sa.Connection, text: str, bind: Callable[[], Any] | None, *, fetch: bool = True
) -> list[Any]:
    """`text` sent with the values `bind` makes, on the connection's kept cursor, its rows."""
    bound: Any = None
    kept_cursors: dict[str, Any] = {}
    cursor = None
    kept = False
    rows: list[Any] = []
    try:
        if bind is not None:
            bound = bind()
        kept_cursors, cursor = _cursor(conn, text)
        dispatch = conn.dispatch
        for listener in dispatch.before_cursor_execute:
            listener(conn, cursor, text, bound, None, False)
        if bound is None:
            cursor.execute(text)
        else:
            cursor.execute(text, bound)
        if fetch:
            rows = list(cursor.fetchall())
        for listener in dispatch.after_cursor_execute:
            listener(conn, cursor, text, bound, None, False)
        kept = len(rows) <= CURSOR_KEPT_UP_TO
    except BaseException as error:
        # SQLAlchemy's own handling, as for its statements: the `handle_error` listeners,
        # the invalidation of a connection the server dropped (the pool's too) or that an
        # interruption left in an unknown state, and a `StatementError` for anything else.
        conn._handle_dbapi_exception(error, text, bound, cursor, None)
    finally:
        if cursor is not None and not kept:  # after an error too: a fresh one next time
            if kept_cursors.get(text) is cursor:
                del kept_cursors[text]
            with contextlib.suppress(Exception):  # as SQLAlchemy closes its cursors
                cursor.close()
    return rows


def _cursor(conn: sa.Connection, text: str) -> tuple[dict[str, Any], Any]:
    """The cursors kept with the pooled connection, by statement, and the one for `text`,
    made on first use. psycopg makes a cursor's loaders afresh (one per column: a JSON
    column's is a Python object) whenever it is sent another statement than its last: one
    cursor for every statement cost 8 µs a statement over one for each, the tenant query's
    three statements taking turns (`sqlite3` keeps its statements by text either way).
    SQLAlchemy clears `info` when it replaces the connection, and a cursor must be the
    connection's."""
    pooled = conn.connection
    kept: dict[str, Any] = pooled.info.setdefault(_CURSORS, {})
    cursor = kept.get(text)
    if cursor is None or cursor.connection is not pooled.dbapi_connection:
        if cursor is None and len(kept) >= CURSORS_KEPT:
            oldest = kept.pop(next(iter(kept)))
            with contextlib.suppress(Exception):
                oldest.close()
        cursor = kept[text] = pooled.cursor()
    return kept, cursor


def _converter(processors: dict[int, _Processor], width: int) -> Callable[[list[Any]], list[Row]]:
    """A function making rows of `width` columns into tuples with `processors` applied by
    position: written out as one tuple per row, since a loop over each row's columns cost
    more than the statement's execution for a hundred rows."""
    values = ", ".join(f"p{at}(r[{at}])" if at in processors else f"r[{at}]" for at in range(width))
    namespace: dict[str, Any] = {f"p{at}": process for at, process in processors.items()}
    source = f"def convert(rows):\n    return [({values},) for r in rows]\n"
    exec(compile(source, "<driver rows>", "exec"), namespace)  # noqa: S102 (our own text)
    convert: Callable[[list[Any]], list[Row]] = namespace["convert"]
    return convert


def _prepared(
    dialect: sa.Dialect, statement: sa.Executable, *, writes: bool = False
) -> _Prepared | None:
    known: dict[sa.Executable, _Prepared | None] = vars(dialect).setdefault(_STATEMENTS, {})
    try:
        return known[statement]
    except KeyError:
        prepared = known[statement] = _prepare(dialect, statement, writes=writes)
        return prepared


def _prepare(dialect: sa.Dialect, statement: sa.Executable, *, writes: bool) -> _Prepared | None:
    # A read's listeners meet no context, so `storage.writes` could not note what it writes.
    if writes:
        if not isinstance(statement, DML) or not statement.exported_columns:
            raise TypeError("write_rows takes an INSERT, UPDATE or DELETE with RETURNING")
    elif not isinstance(statement, sa.Select) or any(
        isinstance(element, UpdateBase) for element in visitors.iterate(statement)
    ):
        raise TypeError(f"read_rows reads; {type(statement).__name__} goes through SQLAlchemy")
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    if compiled.literal_execute_params or compiled.escaped_bind_names:
        return None
    binds = compiled.binds
    if any(bind.callable is not None for bind in binds.values()):
        return None  # a value computed at each execution
    if any(bind.expanding and not bind.required for bind in binds.values()):
        return None  # a list written into the statement (`in_([...])`)
    columns = statement.exported_columns  # the selected columns, or those RETURNING gives
    processors: dict[int, _Processor] = {}
    for position, column in enumerate(columns):
        kind = column.type.dialect_impl(dialect)
        if isinstance(kind, (sa.Numeric, sa.Float)):
            return None  # its processor depends on the type the driver reports
        process = kind.result_processor(dialect, None)
        if process is not None:
            processors[position] = process
    return _Prepared(
        compiled,
        expanding=tuple(name for name, bind in binds.items() if bind.expanding),
        required=frozenset(name for name, bind in binds.items() if bind.required),
        own=frozenset(name for name, bind in binds.items() if not bind.required),
        convert=_converter(processors, len(columns)) if processors else None,
        writes=(
            statement.get_execution_options().get(NOTED_WRITE)
            or written_by(compiled, compiled.string)
            if writes
            else None
        ),
    )


def _bind_processor(compiled: SQLCompiler, bind: sa.BindParameter[Any]) -> _Processor | None:
    return bind.type.dialect_impl(compiled.dialect).bind_processor(compiled.dialect)


def _plan(compiled: SQLCompiler, parameters: Mapping[str, Any]) -> _Plan:
    """The text SQLAlchemy would send for parameters of this shape, and where each of the
    values it would send comes from."""
    state = compiled.construct_expanded_state(parameters)
    origin = {
        expanded: (name, at)
        for name, names in state.parameter_expansion.items()
        for at, expanded in enumerate(names)
    }
    names = tuple(state.positiontup or ()) if compiled.positional else tuple(state.parameters)
    sources: list[tuple[str | None, int | None, Any, _Processor | None]] = []
    for name in names:
        process: _Processor | None = state.processors.get(name)  # an expanded value's
        if process is None and name in compiled.binds:
            process = _bind_processor(compiled, compiled.binds[name])
        if name in origin:
            sources.append((*origin[name], None, process))
        elif name in parameters:
            sources.append((name, None, None, process))
        else:  # a value of the statement's own (`sa.literal`, a bound constant)
            sources.append((None, None, state.parameters[name], process))
    return _Plan(state.statement, tuple(sources), None if compiled.positional else names)
