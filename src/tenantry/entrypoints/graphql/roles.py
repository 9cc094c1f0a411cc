"""CAPIG role names: `agency-<action>` on the partner (host) account and
`advertiser-<action>-<tenantId>` on an advertiser account; the action is the role's CAPIG name
(admin, manage, view; `user` is read as manage), or its key where CAPIG has no name for it."""

from __future__ import annotations

import re
from typing import Any

from tenantry.domain.accounts import Account, AccountKind
from tenantry.domain.errors import ErrorCode, NotFound
from tenantry.domain.roles import Role, RoleCatalogue

FACE = "capig"
_ADVERTISER = re.compile(r"^advertiser-([a-z][a-z0-9_]*)-([A-Za-z0-9]{8})$")
_AGENCY = re.compile(r"^agency-([a-z][a-z0-9_]*)$")


def action_of(catalogue: RoleCatalogue, role: Role) -> str:
    return catalogue.face_name(FACE, role)


def role_name(catalogue: RoleCatalogue, account: Account, role: Role) -> str:
    action = action_of(catalogue, role)
    if account.kind is AccountKind.ADVERTISER:
        return f"advertiser-{action}-{account.id}"
    return f"agency-{action}"


def role_view(catalogue: RoleCatalogue, account: Account, role: Role) -> dict[str, Any]:
    return {
        "name": role_name(catalogue, account, role),
        "displayName": action_of(catalogue, role),
        "tenantName": account.name,
    }


def parse_role_name(catalogue: RoleCatalogue, name: str) -> tuple[str | None, str]:
    """(the advertiser account id, or None for the agency/partner account; the role key)."""
    text = name.strip()
    match = _ADVERTISER.match(text)
    if match:
        return match.group(2), _key(catalogue, match.group(1))
    match = _AGENCY.match(text)
    if match:
        return None, _key(catalogue, match.group(1))
    raise NotFound(
        ErrorCode.ROLE_NOT_FOUND,
        "The role name is not `agency-<action>` or `advertiser-<action>-<tenantId>`.",
        field="roleName",
    )


def _key(catalogue: RoleCatalogue, action: str) -> str:
    # CAPIG's Objects page names the middle action `user`; its samples say `manage`.
    name = "manage" if action.lower() == "user" else action
    return catalogue.key_for(FACE, name) or action
