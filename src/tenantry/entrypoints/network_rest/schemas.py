"""The network integration's objects, as its OpenAPI document shows them.

These models describe; they do not parse: input is checked by the face (`parsing`) and the
core (`domain.managed`), which report every problem with where it is, in the dialect's 403
answer.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["Super", "Manager", "Member", "Observer"]
ApprovalStatus = Literal["Applied", "Approved", "Declined", "Suspended", "Archived"]


class EmailSetting(BaseModel):
    email_address: str = Field(description="An RFC 5322 addr-spec, unique to its user.")
    use_for_notifications: bool


class _Notifications(BaseModel):
    notify_on_budgets: bool = False
    notify_on_campaign_applications: bool = False
    notify_on_campaign_expirations: bool = False
    notify_on_creative_duplication_requests: bool = False
    notify_on_network_announcements: bool = False
    notify_on_performance_notifications: bool = False
    notify_on_monthly_campaign_performance_reports: bool = False
    notify_on_weekly_campaign_performance_reports: bool = False
    notify_on_call_activities: bool = False


class UserInput(_Notifications):
    """A user as the network sends it. Missing optional fields take their defaults (an
    update is a complete copy of the user); read-only and unknown fields are ignored."""

    id_from_network: str = Field(description="The network's id for the user.")
    email_settings: list[EmailSetting] | None = Field(
        default=None,
        description="At least one, at least one used for notifications; the first address "
        "is the user's e-mail. `email_address` alone is accepted instead.",
    )
    email_address: str | None = Field(
        default=None, description="Instead of `email_settings`: one address, notified."
    )
    first_name: str
    last_name: str
    contact_country_code: str | None = None
    contact_phone_number: str | None = Field(
        default=None,
        description="E.164 (+18056035555) or a 10-digit US number; separators are kept as "
        "written. `phone_number` is accepted instead.",
    )
    role: Role | None = Field(default=None, description="Super when left out.")
    oauth_refresh_token: str | None = Field(default=None, description="Stored as given.")


class User(_Notifications):
    email_settings: list[EmailSetting]
    id_from_network: str | None
    first_name: str | None
    contact_country_code: str | None
    last_name: str | None
    role: str
    oauth_refresh_token: str | None
    contact_phone_number: str | None
    can_login_via_platform: bool = Field(
        description="Read-only. False: the network manages the user's sign-in (only such "
        "users can be changed here)."
    )


class UserBody(BaseModel):
    user: UserInput
    oauth_token: str | None = Field(
        default=None, description="The API token, if not sent otherwise."
    )


class Site(BaseModel):
    id_from_network: str
    name: str | None = None


class AdvertiserInput(BaseModel):
    """An advertiser as the network sends it. `id_from_network` may come from the URL
    instead; read-only and unknown fields are ignored; `users` and `custom_data` left out
    stay as they are."""

    id_from_network: str | None = None
    name: str
    approval_status: ApprovalStatus = "Approved"
    sites: list[Site] = Field(min_length=1, description="The first is the default site.")
    users: list[UserInput] | None = Field(
        default=None, description="The full set of the advertiser's network-managed users."
    )
    custom_data: dict[str, str] | None = None
    oauth_token: str | None = None


class Advertiser(BaseModel):
    id: str = Field(description="Read-only: tenantry's account id.")
    id_from_network: str | None
    web_integration_phone_number: str | None = Field(description="Read-only; not kept.")
    approval_status: ApprovalStatus
    object_url: str = Field(description="Read-only: where the advertiser is read.")
    sites: list[Site]
    name: str
    users: list[User]
    default_creative_id_from_network: str | None = Field(description="Read-only; not kept.")
    custom_data: dict[str, str]


class NetworkInput(BaseModel):
    users: list[UserInput] = Field(
        description="The full set of the network's network-managed users: any other is "
        "removed from the network. Users who log in directly stay."
    )
    oauth_token: str | None = None


class Network(BaseModel):
    name: str = Field(description="Read-only: the network's name.")
    users: list[User]


class Deleted(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {}})


class ErrorDetail(BaseModel):
    invalid_data: str
    class_: str = Field(alias="class")


class Error(BaseModel):
    errors: ErrorDetail


class ValidationErrors(BaseModel):
    errors: dict[str, Any] = Field(
        description='Messages by field, nested like the input: {"users": [{}, '
        '{"email_settings": [{"email_address": ["is invalid"]}]}]}.'
    )
