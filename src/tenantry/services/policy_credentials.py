"""The policy on credentials: API accounts and tokens act with a role chosen when they are
made, never above what their maker could grant, and a token never above its member's own."""

from __future__ import annotations

from tenantry.domain.errors import ErrorCode, Forbidden, InvalidInput
from tenantry.domain.roles import Role
from tenantry.services.policy import may_grant


def check_credential_role(actor_role: Role, role: Role, *, field: str = "role") -> None:
    if not may_grant(actor_role, role):
        raise Forbidden(
            ErrorCode.FORBIDDEN,
            "A credential can't have a role with more rights than your own.",
            field=field,
        )


def check_token_role(role: Role, user_role: Role | None) -> None:
    """A token acts as its member: never with more than the member's own role."""
    if user_role is None or role.exceeds(user_role):
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            "A token can't have a role with more rights than the member it acts as.",
            field="role",
        )
