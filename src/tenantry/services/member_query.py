"""Queries over an account's users as SCIM asks them, in terms storage can run.

The SCIM face parses a filter with its own library and hands the services this small tree, which
names each attribute by its SCIM path (`userName`, `name.givenName`, `meta.lastModified`...).
Storage turns it into SQL, so that filtering, sorting and paging happen in the database however
many members an account has.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tenantry.domain.memberships import Membership
from tenantry.domain.users import User


class UserAttribute(StrEnum):
    """The attributes of a SCIM User that can be filtered and sorted on."""

    ID = "id"
    USER_NAME = "userName"
    DISPLAY_NAME = "displayName"
    EXTERNAL_ID = "externalId"
    ACTIVE = "active"
    GIVEN_NAME = "name.givenName"
    FAMILY_NAME = "name.familyName"
    EMAIL = "emails.value"
    EMAIL_TYPE = "emails.type"
    DEPARTMENT = "department"
    GROUP = "groups.value"
    CREATED = "meta.created"
    LAST_MODIFIED = "meta.lastModified"


# Compared as they are written; every other text attribute ignores case (RFC 7643 §2.1).
CASE_EXACT = frozenset({UserAttribute.ID, UserAttribute.EXTERNAL_ID, UserAttribute.GROUP})
BOOLEAN = frozenset({UserAttribute.ACTIVE})
DATE_TIME = frozenset({UserAttribute.CREATED, UserAttribute.LAST_MODIFIED})
# The one e-mail address of a user is their work address.
EMAIL_TYPE = "work"


class Operator(StrEnum):
    EQ = "eq"
    NE = "ne"
    CO = "co"
    SW = "sw"
    EW = "ew"
    GT = "gt"
    GE = "ge"
    LT = "lt"
    LE = "le"


Value = str | bool | datetime | None


@dataclass(frozen=True, slots=True)
class Compare:
    attribute: UserAttribute
    operator: Operator
    value: Value


@dataclass(frozen=True, slots=True)
class Present:
    attribute: UserAttribute


@dataclass(frozen=True, slots=True)
class AllOf:
    terms: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    terms: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class Negation:
    term: Filter


Filter = Compare | Present | AllOf | AnyOf | Negation


@dataclass(frozen=True, slots=True)
class UserQuery:
    """Which members to list: filtered, in an order, one page (`offset` from 0)."""

    filter: Filter | None = None
    sort_by: UserAttribute | None = None
    descending: bool = False
    offset: int = 0
    limit: int = 100


@dataclass(slots=True)
class UserRecord:
    """A member of the account as SCIM shows them: the user, their membership and the
    identity provider's id for them in this account."""

    user: User
    membership: Membership
    external_id: str | None
