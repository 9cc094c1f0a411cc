"""SCIM filters and sort keys on Users, parsed by scim2-models, turned into the services' query
tree (`services.member_query`) over tenantry's attributes, which storage runs as SQL.

Filterable: id, userName, emails (value, type), externalId, displayName, name.givenName,
name.familyName, active, groups (value), the enterprise department, meta.created and
meta.lastModified; `emails[...]` and `groups[...]` select on their sub-attributes. Any other
attribute, or an operator its type does not take, is an `invalidFilter` error. Text compares
ignore case except on the attributes RFC 7643 makes case-exact. A user's one address is their
work address, so `emails.type` is "work" for everyone: comparisons on it are decided here.
"""

from __future__ import annotations

import operator as op
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from scim2_models import InvalidFilterException
from scim2_models.path import (
    AttrPath,
    Comparison,
    FilterNode,
    LogicalExpr,
    LogicalOperator,
    Not,
    Present,
    ValuePath,
)

from tenantry.entrypoints.scim.schema import EMAIL_TYPE, ENTERPRISE_SCHEMA, USER_SCHEMA
from tenantry.services import member_query as q

A = q.UserAttribute
# SCIM's paths, in lower case without their schema, and the attributes they name.
_ATTRIBUTES: dict[str, q.UserAttribute] = {
    "id": A.USER_ID,
    "username": A.EMAIL,
    "displayname": A.DISPLAY_NAME,
    "externalid": A.EXTERNAL_ID,
    "active": A.ACTIVE,
    "name.givenname": A.FIRST_NAME,
    "name.familyname": A.LAST_NAME,
    "emails": A.EMAIL,
    "emails.value": A.EMAIL,
    "groups": A.ROLE,
    "groups.value": A.ROLE,
    "department": A.DEPARTMENT,
    "meta.created": A.JOINED_AT,
    "meta.lastmodified": A.LAST_MODIFIED,
}
_EMAIL_TYPE = "emails.type"
# Compared as they are written; every other text attribute ignores case (RFC 7643 §2.1).
_CASE_EXACT = frozenset({A.USER_ID, A.EXTERNAL_ID, A.ROLE})
_SUBSTRING = {q.Operator.CO, q.Operator.SW, q.Operator.EW}
# How a text compares with a value, for the attribute that is the same for every user.
_TEXT_TESTS: dict[q.Operator, Callable[[str, str], bool]] = {
    q.Operator.EQ: op.eq,
    q.Operator.NE: op.ne,
    q.Operator.CO: op.contains,
    q.Operator.SW: str.startswith,
    q.Operator.EW: str.endswith,
    q.Operator.GT: op.gt,
    q.Operator.GE: op.ge,
    q.Operator.LT: op.lt,
    q.Operator.LE: op.le,
}


def attribute(path: AttrPath | str, within: str | None = None) -> str:
    """The SCIM path a filter or sort names, in lower case without its schema URN (with or
    without it in the input); `invalidFilter` when users can't be filtered on it."""
    if isinstance(path, str):
        text = path
    else:
        text = f"{path.uri}:{path.attr}" if path.uri else path.attr
        if path.sub_attr:
            text = f"{text}.{path.sub_attr}"
    name = text.lower()
    for urn in (USER_SCHEMA.lower() + ":", ENTERPRISE_SCHEMA.lower() + ":"):
        name = name.removeprefix(urn)
    if within:
        name = f"{within}.{name}"
    if name not in _ATTRIBUTES and name != _EMAIL_TYPE:
        raise InvalidFilterException(detail=f"Filtering and sorting on {text!r} is not supported.")
    return name


def user_sort(sort_by: Any, sort_order: Any) -> q.Sort | None:
    """The order `sortBy` and `sortOrder` ask for (None: the members' joining order)."""
    if not sort_by:
        return None
    found = _ATTRIBUTES.get(attribute(str(sort_by)))
    if found is None:  # emails.type: the same for everyone
        return None
    descending = str(sort_order or "").lower() == "descending"
    return q.Sort(found, descending, ignore_case=found not in _CASE_EXACT)


def user_filter(node: FilterNode, within: str | None = None) -> q.Filter:
    if isinstance(node, LogicalExpr):
        terms = tuple(user_filter(term, within) for term in node.terms)
        return q.AllOf(terms) if node.op is LogicalOperator.and_ else q.AnyOf(terms)
    if isinstance(node, Not):
        return q.Negation(user_filter(node.expr, within))
    if isinstance(node, Present):
        return _present(attribute(node.attr_path, within))
    if isinstance(node, ValuePath):
        if within or node.attr_path.sub_attr:
            raise InvalidFilterException(detail=f"{node} selects nothing that can be filtered.")
        parent = attribute(node.attr_path.attr)
        return user_filter(node.val_filter, parent.partition(".")[0])
    if isinstance(node, Comparison):
        return _comparison(node, within)
    raise InvalidFilterException(detail=f"Unsupported filter expression: {node}.")


def _present(name: str) -> q.Filter:
    found = _ATTRIBUTES.get(name)
    return q.Constant(True) if found is None else q.Present(found)


def _comparison(node: Comparison, within: str | None) -> q.Filter:
    name = attribute(node.attr_path, within)
    operator = q.Operator(node.op.value)
    value: Any = node.value
    if value is None:
        present = _present(name)
        if operator is q.Operator.EQ:
            return q.Negation(present)
        if operator is q.Operator.NE:
            return present
        raise InvalidFilterException(detail=f"{node}: only eq and ne compare with null.")
    found = _ATTRIBUTES.get(name)
    if found in q.BOOLEAN:
        if operator not in (q.Operator.EQ, q.Operator.NE):
            raise InvalidFilterException(detail=f"{node}: booleans compare with eq and ne.")
        return q.Compare(found, operator, _boolean(node, value))
    if found in q.DATE_TIME:
        if operator in _SUBSTRING:
            raise InvalidFilterException(
                detail=f"{node}: dates compare with eq, ne, gt, ge, lt, le."
            )
        return q.Compare(found, operator, _moment(node, value))
    if not isinstance(value, str):
        raise InvalidFilterException(detail=f"{node}: the value must be a string.")
    if found is None:  # emails.type, which ignores case
        return q.Constant(_TEXT_TESTS[operator](EMAIL_TYPE, value.lower()))
    return q.Compare(found, operator, value, ignore_case=found not in _CASE_EXACT)


def _boolean(node: Comparison, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise InvalidFilterException(detail=f"{node}: the value must be true or false.")


def _moment(node: Comparison, value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidFilterException(detail=f"{node}: the value must be a dateTime.") from None
    else:
        raise InvalidFilterException(detail=f"{node}: the value must be a dateTime.")
    try:
        # In UTC here: a moment at the edge of the calendar (year 1 or 9999 with an offset)
        # has no UTC time, and is refused as a value rather than failing in storage.
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except OverflowError:
        raise InvalidFilterException(detail=f"{node}: the dateTime is out of range.") from None
