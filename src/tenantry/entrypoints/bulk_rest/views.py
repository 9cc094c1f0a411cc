"""Domain objects as the bulk API shows them: display text, as the vendor's documents do."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tenantry.domain.memberships import MembershipStatus
from tenantry.domain.roles import Role, RoleCatalogue
from tenantry.entrypoints.bulk_members import FACE, apps_text, list_text, username
from tenantry.services.members import ListedMember
from tenantry.services.membership_commands import AddedMember, ItemError
from tenantry.services.roles import RoleWithUsers

# English month abbreviations whatever the server's locale (`%b` follows the locale).
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def role_name(roles: RoleCatalogue, role: Role) -> str:
    return roles.face_name(FACE, role)


def date_text(moment: datetime | None) -> str:
    """`Apr 15, 2024`, in UTC; "" for never."""
    if moment is None:
        return ""
    day = moment.astimezone(UTC)
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"


def user_view(roles: RoleCatalogue, member: ListedMember) -> dict[str, Any]:
    user, scope = member.user, member.membership.scope
    return {
        "username": username(user),
        "email": user.email,
        "role": role_name(roles, member.role),
        "apps": apps_text(scope),
        "media_sources": list_text(scope.media_sources),
        "geos": list_text(scope.geos),
        "last_login": date_text(user.last_login_at),
        "department": user.department or "",
        "pending": member.membership.status is MembershipStatus.PENDING,
    }


def added_view(roles: RoleCatalogue, added: AddedMember) -> dict[str, Any]:
    return {
        "user_id": added.user.id,
        "username": username(added.user),
        "pending": added.membership.status is MembershipStatus.PENDING,
        "role": role_name(roles, added.role),
    }


def role_view(roles: RoleCatalogue, held: RoleWithUsers) -> dict[str, Any]:
    role = held.role
    return {
        "name": role_name(roles, role),
        "type": "custom" if role.is_custom else "predefined",
        "capabilities": [
            {
                "section": section,
                "capabilities": [
                    {"name": name, "access_level": role.level(section, name).label}
                    for name in names
                ],
            }
            for section, names in roles.sections.items()
        ],
        "user_count": held.user_count,
        "users": [{"email": u.email, "name": username(u)} for u in held.users],
    }


def item_error_view(item: ItemError, message: str) -> dict[str, Any]:
    return {"index": item.index, "email": item.email, "message": message}
