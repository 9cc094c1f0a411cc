"""A membership as a row: the columns read, in the order `to_membership` takes them, and the
join to its user that listings read from."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tenantry.domain.memberships import UNRESTRICTED, Membership, MembershipStatus, Scope
from tenantry.storage.repositories.base import columns
from tenantry.storage.tables import memberships, users

MEMBERSHIP_FIELDS = (
    "user_id",
    "account_id",
    "role_key",
    "status",
    "app_ids",
    "all_future_apps",
    "media_sources",
    "geos",
    "created_at",
)
MEMBERSHIP_COLUMNS = columns(memberships, MEMBERSHIP_FIELDS)
MEMBERSHIP_WIDTH = len(MEMBERSHIP_FIELDS)
WITH_USERS = memberships.join(users, users.c.id == memberships.c.user_id)
"""Memberships with their users: what every listing of members reads from."""
_STATUSES = {status.value: status for status in MembershipStatus}


def to_membership(row: Sequence[Any], at: int = 0) -> Membership:
    """A membership from `MEMBERSHIP_COLUMNS`, selected in that order from position `at`."""
    (user_id, account_id, role_key, status, apps, all_future_apps, sources, geos, created_at) = row[
        at : at + MEMBERSHIP_WIDTH
    ]
    if apps is None and all_future_apps and sources is None and geos is None:
        scope = UNRESTRICTED  # most members': one shared value, not one made for each
    else:
        scope = Scope(
            app_ids=None if apps is None else tuple(apps),
            all_future_apps=all_future_apps,
            media_sources=None if sources is None else tuple(sources),
            geos=None if geos is None else tuple(geos),
        )
    return Membership(
        user_id=user_id,
        account_id=account_id,
        role_key=role_key,
        status=_STATUSES[status],
        scope=scope,
        created_at=created_at,
    )
