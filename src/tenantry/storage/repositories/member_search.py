"""Queries over an account's members (`services.member_query`), compiled to SQL, and the
identity provider's ids.

A filter becomes one WHERE clause over the members of the account (users ⨝ memberships, with
the account's external ids left-joined), so that filters, sorting and paging run in the database.
Text compares ignore case where the query says so, and ordering compares use the binary
collation on both engines, so both answer alike. `last_modified` is the time of the latest
audit event about the user in the account, or their joining time: filters on it read the
audit trail through uncorrelated subqueries, which use its time index.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tenantry.domain.users import UserStatus
from tenantry.services.member_query import (
    AllOf,
    AnyOf,
    Compare,
    Constant,
    Filter,
    Negation,
    Operator,
    Present,
    Sort,
    UserAttribute,
    UserQuery,
    UserRecord,
)
from tenantry.storage.engine import planned_for_their_values
from tenantry.storage.repositories.base import Repository, escape_like, in_byte_order
from tenantry.storage.repositories.member_text import (
    TEXT_SEPARATOR,
    cuttable,
    member_text_count,
    member_text_matches,
)
from tenantry.storage.repositories.membership_rows import MEMBERSHIP_COLUMNS, to_membership
from tenantry.storage.repositories.users import USER_COLUMNS, USER_WIDTH, to_user
from tenantry.storage.tables import audit_events, memberships, scim_external_ids, users

A = UserAttribute
_MEMBERSHIP_WIDTH = len(MEMBERSHIP_COLUMNS)
_DEACTIVATED = int(UserStatus.DEACTIVATED)
_MEMBERS = memberships.join(users, users.c.id == memberships.c.user_id).outerjoin(
    scim_external_ids,
    sa.and_(
        scim_external_ids.c.account_id == memberships.c.account_id,
        scim_external_ids.c.user_id == memberships.c.user_id,
    ),
)
_ACCOUNT: sa.BindParameter[str] = sa.bindparam("account_id")
_IN_ACCOUNT = memberships.c.account_id == _ACCOUNT

# Each attribute as a column (or expression) and what "has a value" means for it.
_COLUMNS: dict[UserAttribute, sa.ColumnElement[Any]] = {
    A.USER_ID: users.c.id,
    A.EMAIL: users.c.email,
    A.DISPLAY_NAME: users.c.name,
    A.FIRST_NAME: users.c.first_name,
    A.LAST_NAME: users.c.last_name,
    A.DEPARTMENT: users.c.department,
    A.EXTERNAL_ID: scim_external_ids.c.external_id,
    A.ROLE: memberships.c.role_key,
    A.JOINED_AT: memberships.c.created_at,
}
_OPTIONAL_TEXT = {A.DISPLAY_NAME, A.FIRST_NAME, A.LAST_NAME, A.DEPARTMENT}
# The attributes the member text holds, lowered (`member_text`).
_IN_MEMBER_TEXT = {A.EMAIL, A.DISPLAY_NAME}
# Columns that are never NULL (the external id is, through its outer join).
_NEVER_NULL = {A.USER_ID, A.EMAIL, A.DISPLAY_NAME, A.ROLE, A.JOINED_AT}

_SELECT = sa.select(*USER_COLUMNS, *MEMBERSHIP_COLUMNS, scim_external_ids.c.external_id)
_ONE = _SELECT.select_from(_MEMBERS).where(_IN_ACCOUNT, users.c.id == sa.bindparam("user_id"))
_BY_EXTERNAL_ID = sa.select(scim_external_ids.c.user_id).where(
    scim_external_ids.c.account_id == _ACCOUNT,
    scim_external_ids.c.external_id == sa.bindparam("external_id"),
)
_EXTERNAL_ID = sa.select(scim_external_ids.c.external_id).where(
    scim_external_ids.c.account_id == _ACCOUNT,
    scim_external_ids.c.user_id == sa.bindparam("user_id"),
)
_INSERT_EXTERNAL_ID = scim_external_ids.insert()
_UPDATE_EXTERNAL_ID = scim_external_ids.update().where(
    scim_external_ids.c.account_id == sa.bindparam("where_account_id"),
    scim_external_ids.c.user_id == sa.bindparam("where_user_id"),
)
_DELETE_EXTERNAL_ID = scim_external_ids.delete().where(
    scim_external_ids.c.account_id == _ACCOUNT,
    scim_external_ids.c.user_id == sa.bindparam("user_id"),
)
_USER_EVENTS = sa.and_(audit_events.c.account_id == _ACCOUNT, audit_events.c.target_type == "user")
_LAST_MODIFIED = (
    sa.select(audit_events.c.target_id, sa.func.max(audit_events.c.at))
    .where(_USER_EVENTS, audit_events.c.target_id.in_(sa.bindparam("user_ids", expanding=True)))
    .group_by(audit_events.c.target_id)
)
_ROLE_MEMBERS = (
    sa.select(memberships.c.user_id)
    .where(_IN_ACCOUNT, memberships.c.role_key == sa.bindparam("role_key"))
    .order_by(memberships.c.created_at, memberships.c.user_id)
)


class SqlMemberSearchRepository(Repository):
    def users(self, account_id: str, query: UserQuery) -> tuple[list[UserRecord], int]:
        """A page of the members the query keeps, and how many it keeps in all: counted by a
        second statement only where the page cannot tell (a full page, or past the last).
        Both statements share one condition, so the account's member text is read once
        for each text searched; one that looks for a text in others (`co`, `sw`, `ew`) is
        planned for it each time, since how common it is decides the plan."""
        sql = self._compiler(account_id)
        condition = None if query.filter is None else sql.condition(query.filter)
        if not sql.looks_for_text:
            return self._users(account_id, query, sql, condition)
        with planned_for_their_values(self.conn):
            return self._users(account_id, query, sql, condition)

    def _users(
        self,
        account_id: str,
        query: UserQuery,
        sql: _Compiler,
        condition: sa.ColumnElement[bool] | None,
    ) -> tuple[list[UserRecord], int]:
        records: list[UserRecord] = []
        if query.limit > 0:
            records = self._page(account_id, query, sql, condition)
            if len(records) < query.limit and (records or query.offset == 0):
                return records, query.offset + len(records)
        if isinstance(query.filter, Compare) and sql.common_pattern is not None:
            # One comparison many members hold: counting it through the members would read
            # each one's user; the member text holds exactly the same matches.
            return records, member_text_count(self.conn, account_id, sql.common_pattern)
        statement = sa.select(sa.func.count()).select_from(_MEMBERS).where(_IN_ACCOUNT)
        if condition is not None:
            statement = statement.where(condition)
        count: int = self.conn.execute(statement, {"account_id": account_id}).scalar_one()
        return records, count

    def _page(
        self,
        account_id: str,
        query: UserQuery,
        sql: _Compiler,
        condition: sa.ColumnElement[bool] | None,
    ) -> list[UserRecord]:
        statement = _SELECT.select_from(_MEMBERS).where(_IN_ACCOUNT)
        if condition is not None:
            statement = statement.where(condition)
        order: list[sa.ColumnElement[Any]] = []
        if query.sort is not None:
            key = sql.sort_key(query.sort)
            descending = query.sort.descending
            order.append(key.desc().nulls_last() if descending else key.asc().nulls_last())
        order += [memberships.c.created_at, memberships.c.user_id]
        statement = statement.order_by(*order).offset(query.offset).limit(query.limit)
        rows = self.conn.execute(statement, {"account_id": account_id}).all()
        return [_record(row) for row in rows]

    def _compiler(self, account_id: str) -> _Compiler:
        def matches(pattern: str) -> list[str] | None:
            return member_text_matches(self.conn, account_id, pattern)

        return _Compiler(self.conn.dialect.name, matches)

    def user(self, account_id: str, user_id: str) -> UserRecord | None:
        row = self._one(_ONE, {"account_id": account_id, "user_id": user_id})
        return _record(row) if row else None

    def find_by_external_id(self, account_id: str, external_id: str) -> str | None:
        user_id: str | None = self.conn.execute(
            _BY_EXTERNAL_ID, {"account_id": account_id, "external_id": external_id}
        ).scalar()
        return user_id

    def set_external_id(self, account_id: str, user_id: str, external_id: str | None) -> None:
        keys = {"account_id": account_id, "user_id": user_id}
        if external_id is None:
            self.conn.execute(_DELETE_EXTERNAL_ID, keys)
        elif self.conn.execute(_EXTERNAL_ID, keys).first() is None:
            self.conn.execute(_INSERT_EXTERNAL_ID, {**keys, "external_id": external_id})
        else:
            self.conn.execute(
                _UPDATE_EXTERNAL_ID,
                {
                    "where_account_id": account_id,
                    "where_user_id": user_id,
                    "external_id": external_id,
                },
            )

    def last_modified(self, account_id: str, user_ids: Collection[str]) -> dict[str, datetime]:
        if not user_ids:
            return {}
        rows = self.conn.execute(
            _LAST_MODIFIED, {"account_id": account_id, "user_ids": list(set(user_ids))}
        )
        return {row[0]: row[1] for row in rows}

    def role_members(
        self, account_id: str, role_key: str, *, limit: int | None = None
    ) -> list[str]:
        statement = _ROLE_MEMBERS if limit is None else _ROLE_MEMBERS.limit(limit)
        rows = self.conn.execute(statement, {"account_id": account_id, "role_key": role_key})
        return [row[0] for row in rows]


def _record(row: Any) -> UserRecord:
    return UserRecord(
        user=to_user(row),
        membership=to_membership(row, USER_WIDTH),
        external_id=row[USER_WIDTH + _MEMBERSHIP_WIDTH],
    )


class _Compiler:
    """Turns a filter into a condition that is never NULL, so that `not` means "does not
    match" even where an attribute has no value."""

    def __init__(self, dialect: str, matches: Callable[[str], list[str] | None]) -> None:
        self.dialect = dialect
        self._matches = matches
        self._cutting = True
        self.looks_for_text = False
        """The condition looks for a text inside others (`co`, `sw`, `ew`)."""
        self.common_pattern: str | None = None
        """The member text pattern of a comparison more members hold than a cut names,
        which matches exactly the members the comparison keeps (`_cut`)."""

    def condition(self, node: Filter) -> sa.ColumnElement[bool]:
        if isinstance(node, AllOf):
            # Beside a term that finds one member by key, a cut would only add a scan of the
            # account's member text: its terms go without.
            cutting = self._cutting
            self._cutting = cutting and not any(_by_key(term) for term in node.terms)
            try:
                return sa.and_(*(self.condition(term) for term in node.terms))
            finally:
                self._cutting = cutting
        if isinstance(node, AnyOf):
            return sa.or_(*(self.condition(term) for term in node.terms))
        if isinstance(node, Negation):
            return sa.not_(self.condition(node.term))
        if isinstance(node, Present):
            return self._present(node.attribute)
        if isinstance(node, Constant):
            return sa.true() if node.matches else sa.false()
        return self._compare(node)

    def sort_key(self, sort: Sort) -> sa.ColumnElement[Any]:
        attribute = sort.attribute
        if attribute is A.ACTIVE:
            return users.c.status != _DEACTIVATED
        if attribute is A.LAST_MODIFIED:
            latest = (
                sa.select(sa.func.max(audit_events.c.at))
                .where(_USER_EVENTS, audit_events.c.target_id == users.c.id)
                .scalar_subquery()
            )
            created = memberships.c.created_at
            return sa.case((latest > created, latest), else_=created)
        column = _COLUMNS[attribute]
        if attribute in (A.JOINED_AT, A.ROLE):
            return column
        text = sa.func.lower(column) if sort.ignore_case else column
        return in_byte_order(text, self.dialect)

    def _present(self, attribute: UserAttribute) -> sa.ColumnElement[bool]:
        if attribute in _OPTIONAL_TEXT:
            column = _COLUMNS[attribute]
            return sa.and_(column.is_not(None), column != "")
        if attribute is A.EXTERNAL_ID:
            return scim_external_ids.c.external_id.is_not(None)
        return sa.true()

    def _compare(self, node: Compare) -> sa.ColumnElement[bool]:
        attribute, operator, value = node.attribute, node.operator, node.value
        if attribute is A.ACTIVE:
            active = users.c.status != _DEACTIVATED
            return _truth(active if value is True else sa.not_(active), operator)
        if attribute is A.LAST_MODIFIED:
            assert isinstance(value, datetime)
            return _last_modified(operator, value)
        column = _COLUMNS[attribute]
        if attribute is A.JOINED_AT:
            assert isinstance(value, datetime)
            return _ordered(column, operator, value)
        assert isinstance(value, str)
        exact = not node.ignore_case
        text = column if exact else sa.func.lower(column)
        operand = value if exact else value.lower()
        if operator is Operator.NE:
            return sa.or_(column.is_(None), text != operand)
        # A needless IS NOT NULL is an index condition PostgreSQL may prefer to the search's.
        has_value = sa.true() if attribute in _NEVER_NULL else column.is_not(None)
        if operator is Operator.EQ:
            return sa.and_(has_value, text == operand)
        if operator in (Operator.CO, Operator.SW, Operator.EW):
            contains = self._contains(text, operator, operand)
            if not exact and attribute in _IN_MEMBER_TEXT:
                contains = sa.and_(self._cut(attribute, operator, operand), contains)
            return sa.and_(has_value, contains)
        return sa.and_(has_value, _ordered(in_byte_order(text, self.dialect), operator, operand))

    def _contains(
        self, text: sa.ColumnElement[Any], operator: Operator, operand: str
    ) -> sa.ColumnElement[bool]:
        self.looks_for_text = True
        if self.dialect == "postgresql":
            # LIKE is case-sensitive there: the one test for every operator.
            escaped = escape_like(operand)
            pattern = {
                Operator.SW: f"{escaped}%",
                Operator.EW: f"%{escaped}",
                Operator.CO: f"%{escaped}%",
            }[operator]
            return text.like(pattern, "\\")
        # LIKE ignores case on SQLite, which exact attributes must not: compare substrings.
        length = len(operand)
        if operator is Operator.SW:
            return sa.func.substr(text, 1, length) == operand
        if operator is Operator.EW:
            return sa.and_(
                sa.func.length(text) >= length,
                sa.func.substr(text, sa.func.length(text) - length + 1) == operand,
            )
        return sa.func.instr(text, operand) > 0

    def _cut(
        self, attribute: UserAttribute, operator: Operator, operand: str
    ) -> sa.ColumnElement[bool]:
        """The members whose member text (lowered address, a line feed, lowered name) can
        hold `operand` where the comparison looks for it, named in the statement; a first
        cut that keeps every member the comparison keeps. Nothing to cut where more members
        than `CUT_AT_MOST` hold it."""
        if not (self._cutting and cuttable(operand)):
            return sa.true()
        escaped, first = escape_like(operand), attribute is A.EMAIL
        # Each pattern looks only where the comparison does (before the member text's one
        # line feed for the address, after it for the name: a `cuttable` text holds none,
        # and the member text holds any other as a carriage return, migration 0019), so past
        # the cut the member text may count its matches. An empty text keeps every member,
        # counted as ever.
        exact = bool(operand)
        if operator is Operator.SW:
            pattern = f"{escaped}%" if first else f"%{TEXT_SEPARATOR}{escaped}%"
        elif operator is Operator.EW:
            pattern = f"%{escaped}{TEXT_SEPARATOR}%" if first else f"%{escaped}"
        elif exact:
            pattern = f"%{escaped}%{TEXT_SEPARATOR}%" if first else f"%{TEXT_SEPARATOR}%{escaped}%"
        else:
            pattern = f"%{escaped}%"
        matches = self._matches(pattern)
        if matches is None and exact:
            self.common_pattern = pattern
        return sa.true() if matches is None else memberships.c.user_id.in_(matches)


def _by_key(term: Filter) -> bool:
    """Whether `term` finds at most one member through an index: its id, address or
    external id."""
    keys = (A.USER_ID, A.EMAIL, A.EXTERNAL_ID)
    return isinstance(term, Compare) and term.operator is Operator.EQ and term.attribute in keys


def _truth(condition: sa.ColumnElement[bool], operator: Operator) -> sa.ColumnElement[bool]:
    return condition if operator is Operator.EQ else sa.not_(condition)


_ORDERINGS: dict[Operator, Callable[[Any, Any], sa.ColumnElement[bool]]] = {
    Operator.EQ: lambda a, b: a == b,
    Operator.NE: lambda a, b: a != b,
    Operator.GT: lambda a, b: a > b,
    Operator.GE: lambda a, b: a >= b,
    Operator.LT: lambda a, b: a < b,
    Operator.LE: lambda a, b: a <= b,
}


def _ordered(
    column: sa.ColumnElement[Any], operator: Operator, value: Any
) -> sa.ColumnElement[bool]:
    return _ORDERINGS[operator](column, value)


def _changed_since(moment: datetime, *, inclusive: bool) -> sa.ColumnElement[bool]:
    """lastModified > moment (≥ when inclusive): joined since, or an audit event since."""
    at = audit_events.c.at
    created = memberships.c.created_at
    events = sa.select(audit_events.c.target_id).where(
        _USER_EVENTS, at >= moment if inclusive else at > moment
    )
    return sa.or_(created >= moment if inclusive else created > moment, users.c.id.in_(events))


def _last_modified(operator: Operator, moment: datetime) -> sa.ColumnElement[bool]:
    after = _changed_since(moment, inclusive=False)
    since = _changed_since(moment, inclusive=True)
    if operator is Operator.GT:
        return after
    if operator is Operator.GE:
        return since
    if operator is Operator.LT:
        return sa.not_(since)
    if operator is Operator.LE:
        return sa.not_(after)
    at_moment = sa.and_(since, sa.not_(after))
    return at_moment if operator is Operator.EQ else sa.not_(at_moment)
