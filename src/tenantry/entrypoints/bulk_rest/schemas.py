"""The shapes of the bulk user-management API: the request item it parses, and the answers it
renders (as plain dicts, encoded with orjson; the models below only describe them in the
published OpenAPI document)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from tenantry.entrypoints.bulk_members import NewUser

__all__ = ["NewUser"]  # the request item, shared with the console's CSV import


class UserView(BaseModel):
    username: str
    email: str
    role: str = Field(description="The role's name as `GET /roles` lists it.")
    apps: str = Field(
        description='"All & future", "All" (current apps only), "None", or the app ids '
        'separated by ", ".'
    )
    media_sources: str = Field(description='"All", or the media sources separated by ", ".')
    geos: str = Field(description='"All", or ISO 3166 alpha-2 codes separated by ", ".')
    last_login: str = Field(description='Like "Apr 15, 2024" (UTC); "" when never.')
    department: str = Field(description='"" when none was given.')
    pending: bool = Field(description="Invited, and has not accepted the invitation yet.")


class UsersPage(BaseModel):
    users: list[UserView]
    next_cursor: str | None = Field(
        default=None,
        description="Only when `page_size` or `cursor` was given: pass it as `cursor` for the "
        "next page; null on the last page.",
    )


class AddedUser(BaseModel):
    user_id: str
    username: str
    pending: bool = Field(description="True for a new user, who was sent an invitation.")
    role: str


class ItemError(BaseModel):
    index: int = Field(description="Position of the user in the request (from 0).")
    email: str = Field(description='The e-mail address as sent ("" when it was not a string).')
    message: str


class AddResult(BaseModel):
    data: list[AddedUser]
    errors: list[ItemError] = Field(description="The users that were not added, and why.")


class Rejected(BaseModel):
    message: str
    errors: list[ItemError]


class Message(BaseModel):
    message: str


class Capability(BaseModel):
    name: str
    access_level: Literal["blocked", "read", "all"]


class Section(BaseModel):
    section: str
    capabilities: list[Capability]


class RoleUser(BaseModel):
    email: str
    name: str


class RoleView(BaseModel):
    name: str = Field(description="The name `POST /users` takes in `role`.")
    type: Literal["predefined", "custom"]
    capabilities: list[Section]
    user_count: int = Field(
        description="How many users hold the role, pending invitations included."
    )
    users: list[RoleUser] = Field(
        description="Its holders, oldest membership first: all of them up to 1,000, the first "
        "1,000 beyond (`GET /users` lists every user with their role)."
    )


class RolesPage(BaseModel):
    roles: list[RoleView]
