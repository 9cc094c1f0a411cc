"""What SCIM's user and group use cases share: versions (entity tags) and their check, the base
role members fall back to, and the errors only SCIM raises."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from tenantry.domain.accounts import Account
from tenantry.domain.errors import Conflict, ErrorCode, InvalidInput
from tenantry.domain.roles import Role
from tenantry.services.context import ServiceContext


class PreconditionFailed(Conflict):
    """The resource is no longer at the version the caller named (`If-Match`)."""

    def __init__(self) -> None:
        super().__init__(
            ErrorCode.CONFLICT, "The resource changed since the version named in If-Match."
        )


class NotModifiable(InvalidInput):
    """A value SCIM may not change (a predefined role's name, the base role's members)."""


class TooMany(InvalidInput):
    """More than SCIM hands back in one answer (a group's members past the cap)."""


def version_tag(*parts: Any) -> str:
    """A weak entity tag over the values a resource shows."""
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    return f'W/"{digest}"'


def check_version(current: str, if_match: Sequence[str] | None) -> None:
    """Refuse a write unless `If-Match` names the current version (or `*`), or is absent.
    Tags compare weakly: a weak and a strong tag of the same opaque value are the same."""
    if if_match is None or "*" in if_match:
        return
    wanted = {tag.removeprefix("W/") for tag in if_match}
    if current.removeprefix("W/") not in wanted:
        raise PreconditionFailed


def base_role(ctx: ServiceContext, account: Account) -> Role:
    """The role a member holds when no group gives them another: the predefined role for the
    account's kind granting the least (the first such in the catalogue on a tie)."""
    candidates = [r for r in ctx.roles if r.applies_to(account.kind)] or [ctx.roles.admin]
    return min(candidates, key=lambda role: sum(_levels(role)))


def _levels(role: Role) -> list[int]:
    return [int(level) for caps in role.capabilities.values() for level in caps.values()]


def check_text(value: str | None, field: str, limit: int) -> None:
    if value is not None and (len(value) > limit or not value.isprintable()):
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            f"{field} is printable text of at most {limit} characters.",
            field=field,
        )
