"""The core's users and roles as SCIM resources, and SCIM payloads as what the services take."""

from __future__ import annotations

from typing import Any

from tenantry.domain.users import is_valid_email
from tenantry.entrypoints.scim.schema import (
    EMAIL_TYPE,
    EmailAddress,
    EnterpriseUser,
    Group,
    GroupMember,
    GroupMembership,
    Meta,
    PersonName,
    UserModel,
)
from tenantry.services.provisioning import ProvisionedUser, UserSpec
from tenantry.services.provisioning_groups import RoleGroup


def user_location(base: str, user_id: str) -> str:
    return f"{base}/Users/{user_id}"


def group_location(base: str, key: str) -> str:
    return f"{base}/Groups/{key}"


def user_resource(view: ProvisionedUser, base: str) -> Any:
    user = view.user
    name = None
    if user.first_name or user.last_name:
        name = PersonName(given_name=user.first_name or None, family_name=user.last_name or None)
    resource = UserModel(
        id=user.id,
        external_id=view.external_id,
        user_name=user.email,
        name=name,
        display_name=user.name or None,
        active=view.active,
        emails=[EmailAddress(value=user.email, type=EMAIL_TYPE)],
        groups=[
            GroupMembership(
                value=view.role.key,
                ref=group_location(base, view.role.key),
                display=view.role.display_name,
                type="direct",
            )
        ],
        meta=Meta(
            resource_type="User",
            created=view.created,
            last_modified=view.last_modified,
            location=user_location(base, user.id),
            version=view.etag,
        ),
    )
    if user.department:
        resource[EnterpriseUser] = EnterpriseUser(department=user.department)
    return resource


def group_resource(group: RoleGroup, base: str) -> Group:
    role = group.role
    members = None
    if group.member_ids:
        members = [
            GroupMember(value=user_id, ref=user_location(base, user_id), type="User")
            for user_id in group.member_ids
        ]
    return Group(
        id=role.key,
        display_name=role.display_name,
        members=members,
        meta=Meta(
            resource_type="Group",
            location=group_location(base, role.key),
            version=group.etag,
        ),
    )


def user_spec(resource: Any, *, user_name: str | None) -> UserSpec:
    """What a User payload asks for. The address is `user_name` when that is one (identity
    providers match users by userName), else the work (or first) address in `emails`."""
    email = user_name if user_name and is_valid_email(user_name) else _email_of(resource)
    extension = resource[EnterpriseUser]
    name = resource.name
    return UserSpec(
        email=email or user_name or "",
        first_name=_text(name.given_name if name else None),
        last_name=_text(name.family_name if name else None),
        display_name=_text(resource.display_name),
        department=_text(extension.department if extension else None),
        external_id=_text(resource.external_id),
        active=resource.active is not False,
    )


def _email_of(resource: Any) -> str | None:
    emails = [e for e in resource.emails or [] if e.value]
    work = [e for e in emails if (e.type or "").lower() == EMAIL_TYPE]
    chosen = (work or emails or [None])[0]
    return chosen.value if chosen else None


def _text(value: str | None) -> str | None:
    return value if value else None
