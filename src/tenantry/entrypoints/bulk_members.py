"""Members as the bulk user-management API (AppsFlyer's dialect) writes them, for every face
that reads or shows them its way: the item of a `POST /users` body (which the console's CSV
import reads too) and the display text of a person's name and scope."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tenantry.domain.errors import ErrorCode, InvalidInput
from tenantry.domain.memberships import Scope
from tenantry.domain.users import User
from tenantry.services.context import ServiceContext
from tenantry.services.member_query import ListedUser
from tenantry.services.membership_changes import check_users_per_call
from tenantry.services.membership_commands import ItemError, NewMember

FACE = "appsflyer"  # the role catalogue's name for this dialect
NOT_AN_ARRAY = "The body must be a JSON array of users."
ALL = "All"
ALL_AND_FUTURE = "All & future"
NO_APPS = "None"
SEPARATOR = ", "


class NewUser(BaseModel):
    """One user of a `POST /users` body. Anything else (a missing required field, a wrong type,
    an unknown field) is refused for that user with "Invalid field scheme."."""

    model_config = ConfigDict(strict=True, extra="forbid")

    username: str = Field(
        description="Letters, numbers, spaces and . - _ ` [ ] ( ); at most 100 characters. "
        "Kept as it is when the user exists already."
    )
    email: str = Field(description="A valid e-mail address; stored in lower case.")
    role: str = Field(
        description="A role name as `GET /roles` lists it (predefined or custom); any case."
    )
    allow_access_to_all_future_apps: bool = Field(
        description="`true` only with access to all apps (no `app_ids`)."
    )
    department: str | None = Field(default=None, description="Free text, at most 200 characters.")
    app_ids: list[str] | None = Field(
        default=None,
        description="Apps of the account's app catalogue. Missing or null: all apps; "
        "empty: no app.",
    )
    media_sources: list[str] | None = Field(
        default=None,
        description="Media sources of the shipped catalogue, any case. Missing, null or "
        "empty: all.",
    )
    geos: list[str] | None = Field(
        default=None,
        description="ISO 3166 countries by alpha-2 or alpha-3 code or by name, any case. "
        "Missing, null or empty: all.",
    )


def parse_new_users(
    ctx: ServiceContext, body: bytes
) -> tuple[list[tuple[int, NewMember]], list[ItemError]]:
    """The users to add, by their index in the array, and those refused for their scheme."""
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidInput(ErrorCode.INVALID_INPUT, NOT_AN_ARRAY) from None
    if not isinstance(raw, list):
        raise InvalidInput(ErrorCode.INVALID_INPUT, NOT_AN_ARRAY)
    check_users_per_call(len(raw), ctx.settings.member_batch_max_items)
    items: list[tuple[int, NewMember]] = []
    refused: list[ItemError] = []
    for index, item in enumerate(raw):
        email = item.get("email") if isinstance(item, dict) else None
        try:
            user = NewUser.model_validate(item)
        except ValidationError:
            scheme = InvalidInput(ErrorCode.INVALID_FIELD_SCHEME)
            refused.append(ItemError(index, email if isinstance(email, str) else "", scheme))
            continue
        items.append((index, new_member(ctx, user)))
    return items, refused


def new_member(ctx: ServiceContext, user: NewUser) -> NewMember:
    name = user.role.strip()
    # A predefined role by its AppsFlyer name, else by its key (custom roles have only keys).
    role_key = ctx.roles.key_for(FACE, name) or name.lower()
    return NewMember(
        email=user.email,
        role_key=role_key,
        username=user.username,
        department=user.department,
        app_ids=user.app_ids,
        all_future_apps=user.allow_access_to_all_future_apps,
        media_sources=user.media_sources,
        geos=user.geos,
    )


def username(user: User | ListedUser) -> str:
    """The person's name; never their e-mail address, which has a field of its own."""
    return user.name or " ".join(p for p in (user.first_name, user.last_name) if p)


def apps_text(scope: Scope) -> str:
    if scope.app_ids is None:
        return ALL_AND_FUTURE if scope.all_future_apps else ALL
    return SEPARATOR.join(scope.app_ids) if scope.app_ids else NO_APPS


def list_text(values: Sequence[str] | None) -> str:
    return ALL if values is None else SEPARATOR.join(values)
