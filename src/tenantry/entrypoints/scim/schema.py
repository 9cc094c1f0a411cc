"""What this SCIM service serves and says about itself: its resource models (scim2-models), its
`/Schemas`, `/ResourceTypes` and `/ServiceProviderConfig`, and the limits it announces.

The published schemas list only what tenantry keeps, with the mutability it honours:

- User: `userName` is the user's e-mail address, set by the service (readOnly): it comes from
  `userName` when that is an address, else from `emails`. `emails` holds that one address, of
  type "work" (its single canonical value); with one address, `primary` would tell nothing, so
  it is not kept (and ignored when sent). `name` keeps the
  given and family names; `displayName`, `active`, `externalId` (per account), `groups`
  (readOnly: change them through Groups) and the enterprise extension's `department`.
- Group: a role of the account. Members are users only, and carry no `display`. Groups keep no
  `externalId`: it is published readOnly, and ignored when sent.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from scim2_models import (
    URN,
    AuthenticationScheme,
    Bulk,
    CaseExact,
    ChangePassword,
    ComplexAttribute,
    ETag,
    Extension,
    Filter,
    Mutability,
    Patch,
    Reference,
    Required,
    Resource,
    ResourceType,
    Returned,
    Schema,
    ServiceProviderConfig,
    Sort,
    Uniqueness,
)
from scim2_models import Meta as ScimMeta

PREFIX = "/scim/v2"
SCIM_JSON = "application/scim+json"
# The type of a user's one e-mail address: tenantry keeps one address per user, their work one.
EMAIL_TYPE = "work"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"

MAX_RESULTS = 1000
DEFAULT_COUNT = 100
BULK_MAX_OPERATIONS = 100
BULK_MAX_PAYLOAD = 1_048_576
PATCH_MAX_OPERATIONS = 1_000
"""The most operations one PATCH carries (identity providers send one per change, with every
member it adds or removes in one value list): reading them costs about 0.3 ms each."""
DOCUMENTATION = "https://datatracker.ietf.org/doc/html/rfc7644"


class EmailAddress(ComplexAttribute):
    value: Annotated[str | None, Required.true] = None
    """The user's e-mail address."""

    type: str | None = Field(None, examples=[EMAIL_TYPE])
    """Always "work": tenantry keeps one address per user."""


class PersonName(ComplexAttribute):
    family_name: str | None = None
    """The family name of the User."""

    given_name: str | None = None
    """The given name of the User."""


class GroupMembership(ComplexAttribute):
    value: Annotated[str | None, Mutability.read_only, CaseExact.true] = None
    """The id of the group (the role key)."""

    ref: Annotated[Reference["Group"] | None, Mutability.read_only] = Field(  # noqa: UP037
        None, serialization_alias="$ref", validation_alias="$ref"
    )
    """The URI of the group."""

    display: Annotated[str | None, Mutability.read_only] = None
    """The group's name."""

    type: Annotated[str | None, Mutability.read_only] = Field(None, examples=["direct"])
    """Always "direct"."""


class EnterpriseUser(Extension):
    __schema__ = URN(ENTERPRISE_SCHEMA)

    department: str | None = None
    """Identifies the name of a department."""


class User(Resource[EnterpriseUser]):
    """A member of the account."""

    __schema__ = URN(USER_SCHEMA)

    user_name: Annotated[str | None, Mutability.read_only, Required.true, Uniqueness.server] = None
    """The user's e-mail address."""

    name: PersonName | None = None
    """The components of the user's name."""

    display_name: str | None = None
    """The name of the User, suitable for display to end-users."""

    active: Annotated[bool | None, Required.true] = None
    """False when the user is deactivated (in every account). Every user is active or not, so
    it can't be removed; a request that leaves it out means true."""

    emails: Annotated[list[EmailAddress] | None, Required.true] = None
    """The user's e-mail address."""

    groups: Annotated[list[GroupMembership] | None, Mutability.read_only] = None
    """The group of the user's role in the account."""


class GroupMember(ComplexAttribute):
    value: Annotated[str | None, Mutability.immutable, Required.true, CaseExact.true] = None
    """The id of a user."""

    ref: Annotated[Reference["User"] | None, Mutability.immutable] = Field(  # noqa: UP037
        None, serialization_alias="$ref", validation_alias="$ref"
    )
    """The URI of the user."""

    type: Annotated[str | None, Mutability.immutable] = Field(None, examples=["User"])
    """Always "User"."""


class Group(Resource[Any]):
    """A role of the account."""

    __schema__ = URN(GROUP_SCHEMA)

    external_id: Annotated[str | None, Mutability.read_only, Returned.default, CaseExact.true] = (
        None
    )
    """Not kept: groups have no identifier of the provisioning client's."""

    display_name: Annotated[str | None, Required.true] = None
    """The role's name."""

    members: list[GroupMember] | None = None
    """The users holding the role."""


UserModel = User  # the extension is declared on the class itself
Meta = ScimMeta


def resource_types() -> list[ResourceType]:
    user = ResourceType.from_resource(UserModel)
    user.description = "The account's members"
    group = ResourceType.from_resource(Group)
    group.description = "The account's roles"
    return [user, group]


def schemas() -> list[Schema]:
    return [User.to_schema(), EnterpriseUser.to_schema(), Group.to_schema()]


def service_provider_config(bulk_max_payload: int) -> ServiceProviderConfig:
    return ServiceProviderConfig(
        documentation_uri=DOCUMENTATION,
        patch=Patch(supported=True),
        bulk=Bulk(
            supported=True, max_operations=BULK_MAX_OPERATIONS, max_payload_size=bulk_max_payload
        ),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=True),
        etag=ETag(supported=True),
        authentication_schemes=[
            AuthenticationScheme(
                type=AuthenticationScheme.Type.oauthbearertoken,
                name="Bearer token",
                description="An API token of the account (or an API account's access token).",
                primary=True,
            )
        ],
    )
