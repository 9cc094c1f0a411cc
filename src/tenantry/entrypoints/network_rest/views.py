"""How the network integration shows users, advertisers and the network: the documents'
objects, fields in the order of their samples."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from tenantry.domain.accounts import Account
from tenantry.domain.managed import AdvertiserProfile, first_and_last_name, notification_addresses
from tenantry.domain.users import NOTIFICATION_FLAGS
from tenantry.entrypoints.network_rest.roles import role_name
from tenantry.services.context import ServiceContext
from tenantry.services.managed_accounts import AdvertiserView
from tenantry.services.managed_users import NetworkView
from tenantry.services.members import Member


def user_json(ctx: ServiceContext, member: Member) -> dict[str, Any]:
    user = member.user
    first_name, last_name = first_and_last_name(user)
    shown: dict[str, Any] = {
        "email_settings": [
            {"email_address": e.address, "use_for_notifications": e.use_for_notifications}
            for e in notification_addresses(user)
        ],
        "id_from_network": user.id_from_network,
        "first_name": first_name,
        "contact_country_code": user.contact_country_code,
        "last_name": last_name,
        "role": role_name(ctx.roles, member.role),
        "oauth_refresh_token": user.oauth_refresh_token,
        "contact_phone_number": user.contact_phone_number,
    }
    for flag in NOTIFICATION_FLAGS:  # in the order of the Invoca document's samples
        shown[flag] = bool(user.notifications.get(flag))
    shown["can_login_via_platform"] = user.can_login_via_platform
    return shown


def users_json(ctx: ServiceContext, members: list[Member]) -> list[dict[str, Any]]:
    return [user_json(ctx, m) for m in members]


def network_json(ctx: ServiceContext, view: NetworkView) -> dict[str, Any]:
    return {"name": view.network.name, "users": users_json(ctx, view.members)}


def advertiser_json(
    ctx: ServiceContext, view: AdvertiserView, *, version: str, network_id: str
) -> dict[str, Any]:
    account: Account = view.account
    profile: AdvertiserProfile = view.profile
    return {
        "id": account.id,
        "id_from_network": account.id_from_network,
        "web_integration_phone_number": None,
        "approval_status": profile.approval_status.value,
        "object_url": object_url(ctx, version, network_id, account.id_from_network or ""),
        "sites": [{"id_from_network": s.id_from_network, "name": s.name} for s in profile.sites],
        "name": account.name,
        "users": users_json(ctx, view.members),
        "default_creative_id_from_network": None,
        "custom_data": dict(account.custom_data),
    }


def object_url(ctx: ServiceContext, version: str, network_id: str, advertiser_id: str) -> str:
    """Where the advertiser is read: tenantry has no advertiser pages, so its API address."""
    base = ctx.settings.base_url.rstrip("/")
    return f"{base}/api/{version}/{network_id}/advertisers/{quote(advertiser_id, safe='')}.json"
