"""SCIM filters and sort keys on Users, parsed by scim2-models, turned into the services' query
tree (`services.member_query`), which storage runs as SQL.

Filterable: id, userName, emails (value, type), externalId, displayName, name.givenName,
name.familyName, active, groups (value), the enterprise department, meta.created and
meta.lastModified; `emails[...]` and `groups[...]` select on their sub-attributes. Any other
attribute, or an operator its type does not take, is an `invalidFilter` error.
"""

from __future__ import annotations

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

from tenantry.entrypoints.scim.schema import ENTERPRISE_SCHEMA, USER_SCHEMA
from tenantry.services import member_query as q

A = q.UserAttribute
_BY_NAME: dict[str, q.UserAttribute] = {
    "id": A.ID,
    "username": A.USER_NAME,
    "displayname": A.DISPLAY_NAME,
    "externalid": A.EXTERNAL_ID,
    "active": A.ACTIVE,
    "name.givenname": A.GIVEN_NAME,
    "name.familyname": A.FAMILY_NAME,
    "emails": A.EMAIL,
    "emails.value": A.EMAIL,
    "emails.type": A.EMAIL_TYPE,
    "groups": A.GROUP,
    "groups.value": A.GROUP,
    "department": A.DEPARTMENT,
    "meta.created": A.CREATED,
    "meta.lastmodified": A.LAST_MODIFIED,
}
_ORDERING = {q.Operator.GT, q.Operator.GE, q.Operator.LT, q.Operator.LE}
_SUBSTRING = {q.Operator.CO, q.Operator.SW, q.Operator.EW}


def attribute(path: AttrPath | str, within: str | None = None) -> q.UserAttribute:
    """The attribute a path names (case-insensitive, with or without its schema URN)."""
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
    found = _BY_NAME.get(name)
    if found is None:
        raise InvalidFilterException(detail=f"Filtering and sorting on {text!r} is not supported.")
    return found


def user_filter(node: FilterNode, within: str | None = None) -> q.Filter:
    if isinstance(node, LogicalExpr):
        terms = tuple(user_filter(term, within) for term in node.terms)
        return q.AllOf(terms) if node.op is LogicalOperator.and_ else q.AnyOf(terms)
    if isinstance(node, Not):
        return q.Negation(user_filter(node.expr, within))
    if isinstance(node, Present):
        return q.Present(attribute(node.attr_path, within))
    if isinstance(node, ValuePath):
        if within or node.attr_path.sub_attr:
            raise InvalidFilterException(detail=f"{node} selects nothing that can be filtered.")
        parent = attribute(node.attr_path.attr)
        return user_filter(node.val_filter, parent.value.partition(".")[0])
    if isinstance(node, Comparison):
        return _comparison(node, within)
    raise InvalidFilterException(detail=f"Unsupported filter expression: {node}.")


def _comparison(node: Comparison, within: str | None) -> q.Filter:
    name = attribute(node.attr_path, within)
    operator = q.Operator(node.op.value)
    value: Any = node.value
    if value is None:
        present = q.Present(name)
        if operator is q.Operator.EQ:
            return q.Negation(present)
        if operator is q.Operator.NE:
            return present
        raise InvalidFilterException(detail=f"{node}: only eq and ne compare with null.")
    if name in q.BOOLEAN:
        if operator not in (q.Operator.EQ, q.Operator.NE):
            raise InvalidFilterException(detail=f"{node}: booleans compare with eq and ne.")
        return q.Compare(name, operator, _boolean(node, value))
    if name in q.DATE_TIME:
        if operator in _SUBSTRING:
            raise InvalidFilterException(
                detail=f"{node}: dates compare with eq, ne, gt, ge, lt, le."
            )
        return q.Compare(name, operator, _moment(node, value))
    if not isinstance(value, str):
        raise InvalidFilterException(detail=f"{node}: the value must be a string.")
    return q.Compare(name, operator, value)


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
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
