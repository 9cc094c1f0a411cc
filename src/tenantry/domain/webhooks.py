"""Webhooks: an account's endpoints, the events they hear, and what a delivery looks like.

Every change the audit trail records becomes one or more events (`events_of`), each a JSON
body `{"type", "timestamp", "data"}` as the Standard Webhooks specification suggests, whose
`data` says which account, target, states before and after, actor, face and request made it.
An endpoint hears the events of its own account and, when it asks (`include_children`), those
of the child accounts its account reaches (`WebhookEndpoint.hears_account`). Signing and
sending happen later, from the outbox.
"""

from __future__ import annotations

import ipaddress
import secrets
import uuid
from base64 import b64encode
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from tenantry.domain.accounts import Account, is_closed, reaches
from tenantry.domain.audit import AuditEvent
from tenantry.domain.errors import ErrorCode, InvalidInput

SECRET_PREFIX = "whsec_"  # noqa: S105 -- the Standard Webhooks prefix of a secret, not one
SECRET_BYTES = 32
MAX_URL_LENGTH = 2000
MAX_DESCRIPTION = 200
MAX_ENDPOINTS_PER_ACCOUNT = 20


class EventType(StrEnum):
    USER_CREATED = "user.created"
    USER_UPDATED = "user.updated"
    MEMBERSHIP_CREATED = "membership.created"
    MEMBERSHIP_UPDATED = "membership.updated"
    MEMBERSHIP_DELETED = "membership.deleted"
    INVITATION_CREATED = "invitation.created"
    INVITATION_ACCEPTED = "invitation.accepted"
    INVITATION_DECLINED = "invitation.declined"
    INVITATION_REVOKED = "invitation.revoked"
    INVITATION_EXPIRED = "invitation.expired"
    ACCOUNT_CREATED = "account.created"
    ACCOUNT_UPDATED = "account.updated"
    ACCOUNT_DELETED = "account.deleted"
    ROLE_CREATED = "role.created"
    ROLE_UPDATED = "role.updated"
    ROLE_DELETED = "role.deleted"
    API_CREDENTIAL_CREATED = "api_credential.created"
    API_CREDENTIAL_REVOKED = "api_credential.revoked"
    APP_ADDED = "app.added"
    APP_REMOVED = "app.removed"
    PIXEL_CREATED = "pixel.created"
    PIXEL_UPDATED = "pixel.updated"
    PIXEL_DELETED = "pixel.deleted"


E = EventType
# The events each audited action is. Sign-ins, sign-outs, failed sign-ins, reset requests and
# gateway traffic reports change nothing an integrator provisions from, and are no events; nor
# are the changes to webhook endpoints themselves (audited, but no receiver's business).
_EVENTS: dict[str, tuple[EventType, ...]] = {
    "user.create": (E.USER_CREATED,),
    "user.update": (E.USER_UPDATED,),
    "user.external_id": (E.USER_UPDATED,),
    "user.activate": (E.USER_UPDATED,),
    "user.deactivate": (E.USER_UPDATED,),
    "user.address_proved": (E.USER_UPDATED,),
    "auth.password_reset": (E.USER_UPDATED,),
    "auth.totp_enrol": (E.USER_UPDATED,),
    "auth.totp_disable": (E.USER_UPDATED,),
    "auth.recovery_codes_renew": (E.USER_UPDATED,),
    "membership.create": (E.MEMBERSHIP_CREATED,),
    "membership.change_role": (E.MEMBERSHIP_UPDATED,),
    "membership.delete": (E.MEMBERSHIP_DELETED,),
    "invitation.renew": (E.INVITATION_CREATED,),
    "invitation.accept": (E.INVITATION_ACCEPTED, E.MEMBERSHIP_UPDATED),
    "invitation.decline": (E.INVITATION_DECLINED, E.MEMBERSHIP_DELETED),
    "invitation.revoke": (E.INVITATION_REVOKED,),
    "invitation.expire": (E.INVITATION_EXPIRED,),
    "account.create": (E.ACCOUNT_CREATED,),
    "account.update": (E.ACCOUNT_UPDATED,),
    "account.transfer_ownership": (E.ACCOUNT_UPDATED,),
    "account.delete": (E.ACCOUNT_DELETED,),
    "network.advertiser.create": (E.ACCOUNT_CREATED,),
    "network.advertiser.update": (E.ACCOUNT_UPDATED,),
    "network.advertiser.delete": (E.ACCOUNT_DELETED,),
    "ingress_domain.create": (E.ACCOUNT_UPDATED,),
    "ingress_domain.update": (E.ACCOUNT_UPDATED,),
    "role.create": (E.ROLE_CREATED,),
    "role.update": (E.ROLE_UPDATED,),
    "role.delete": (E.ROLE_DELETED,),
    "api_account.create": (E.API_CREDENTIAL_CREATED,),
    "api_token.create": (E.API_CREDENTIAL_CREATED,),
    "api_account.revoke": (E.API_CREDENTIAL_REVOKED,),
    "api_token.revoke": (E.API_CREDENTIAL_REVOKED,),
    "app.add": (E.APP_ADDED,),
    "app.remove": (E.APP_REMOVED,),
    "pixel.create": (E.PIXEL_CREATED,),
    "pixel.update": (E.PIXEL_UPDATED,),
    "pixel.delete": (E.PIXEL_DELETED,),
    "event_filter.update": (E.PIXEL_UPDATED,),
    "domain_filter.update": (E.PIXEL_UPDATED,),
}
# A network's calls record one audit event for all the users they changed, keyed by the
# network's ids; each user becomes an event of its own.
_MEMBER_SETS = frozenset(
    {"network.users.replace", "network.advertiser_user.upsert", "network.advertiser_user.delete"}
)


@dataclass(slots=True)
class WebhookEndpoint:
    """Where an account's events are posted. The signing secret is kept apart (storage only
    hands it to the sender) and is shown once, when made."""

    id: str
    account_id: str
    url: str
    event_types: tuple[EventType, ...]
    """The events it hears; empty: every event."""
    enabled: bool
    include_children: bool
    """A partner's endpoint may hear the events of the child accounts it reaches too."""
    description: str
    created_at: datetime
    created_by: str
    secret_set_at: datetime
    made_in: str | None = None
    """The account whose role chose the receiver, when not this one's: a partner's admin
    acting in a child account. The endpoint hears only while that account reaches it."""

    def hears(self, event_type: EventType) -> bool:
        return not self.event_types or event_type in self.event_types

    def hears_account(self, chain: Sequence[Account]) -> bool:
        """Whether the endpoint hears the events of `chain[0]` (`chain`: that account and its
        ancestors, nearest first), on or off aside: those of its own account, or of a child
        its account reaches when it asked for them; only while the account that chose its
        receiver reaches its own; never while its account is deactivated, or below one."""
        at = next((i for i, a in enumerate(chain) if a.id == self.account_id), None)
        if at is None or (at > 0 and not self.include_children):
            return False
        own = chain[at:]
        return (
            reaches(chain, self.account_id)
            and reaches(own, self.made_in or self.account_id)
            and not is_closed(own)
        )


@dataclass(frozen=True, slots=True)
class Subscription:
    """An enabled endpoint that hears an account's events, and from how far up (0: its own)."""

    endpoint_id: str
    account_id: str
    event_types: tuple[EventType, ...]
    depth: int

    def hears(self, event_type: EventType) -> bool:
        return not self.event_types or event_type in self.event_types


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """One event, with the id its deliveries carry as `webhook-id` (the same to every
    endpoint, and on a delivery sent again, so receivers can drop what they had)."""

    id: str
    type: EventType
    account_id: str
    body: dict[str, Any]


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(slots=True)
class WebhookDelivery:
    """One event on its way to one endpoint: the endpoint's delivery log is a list of these."""

    id: int
    endpoint_id: str
    event_id: str
    event_type: str
    account_id: str
    status: DeliveryStatus
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    sent_at: datetime | None
    failed_at: datetime | None


# -- secrets, ids, addresses -------------------------------------------------------------------


def new_signing_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def new_endpoint_id() -> str:
    return "ep_" + uuid.uuid4().hex


def new_event_id() -> str:
    return "msg_" + uuid.uuid4().hex


def check_url(url: str) -> str:
    """An endpoint's URL as given, or InvalidInput: http or https, a host, no user name or
    password in it (they would show wherever the endpoint is listed), no fragment."""
    url = url.strip()
    if not url or len(url) > MAX_URL_LENGTH:
        raise _bad_url(f"Give the receiver's URL, at most {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise _bad_url(f"The URL cannot be read: {error}.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _bad_url("The URL must start with https:// (or http://) and name a host.")
    if parts.username is not None or parts.password is not None:
        raise _bad_url("Leave the user name and password out of the URL.")
    if parts.fragment or url.endswith("#"):
        raise _bad_url("A URL with a fragment (#) is not sent anywhere: leave it out.")
    if port == 0 or any(c.isspace() or ord(c) < 0x21 for c in url):
        raise _bad_url("The URL cannot be read.")
    return url


def _bad_url(message: str) -> InvalidInput:
    return InvalidInput(ErrorCode.INVALID_INPUT, message, field="url")


def is_public_address(address: str) -> bool:
    """Whether an IP address is on the public internet: not loopback, private, link-local,
    shared, reserved, multicast or unspecified (an IPv4 address inside IPv6 judged as IPv4)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if any(ip in prefix for prefix in _IPV4_TRANSLATING):
            # Behind a NAT64 gateway or on an SIIT network these reach the IPv4 address in
            # their last 32 bits; a private one there is as private as it is written plainly.
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        else:
            embedded = ip.ipv4_mapped or ip.sixtofour
            if embedded is not None:
                ip = embedded
    return ip.is_global and not ip.is_multicast


_IPV4_TRANSLATING = tuple(
    ipaddress.IPv6Network(prefix)
    for prefix in (
        "::/96",  # IPv4-compatible (deprecated, still routed by some stacks)
        "::ffff:0:0:0/96",  # SIIT
        "64:ff9b::/96",  # NAT64, well-known prefix
        "64:ff9b:1::/48",  # NAT64, local-use prefix
    )
)


def literal_address(host: str) -> str | None:
    """The IP address a URL's host is written as, or None for a name."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def check_event_types(names: Iterable[str]) -> tuple[EventType, ...]:
    """The event types named, in catalogue order, or InvalidInput naming the unknown ones."""
    wanted = {name.strip() for name in names if name.strip()}
    unknown = sorted(wanted - {t.value for t in EventType})
    if unknown:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            f"Unknown event types: {', '.join(unknown)}. Known: "
            + ", ".join(t.value for t in EventType)
            + ".",
            field="event_types",
        )
    return tuple(t for t in EventType if t.value in wanted)


def check_description(description: str) -> str:
    description = description.strip()
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT,
            f"A description has at most {MAX_DESCRIPTION} characters.",
            field="description",
        )
    return description


# -- events ------------------------------------------------------------------------------------


def is_event(audit: AuditEvent) -> bool:
    """Whether the audited change is any event (before asking who hears it)."""
    return audit.account_id is not None and (
        audit.action in _EVENTS or audit.action in _MEMBER_SETS
    )


def events_of(audit: AuditEvent) -> list[WebhookEvent]:
    """The events an audited change is; none for what is no event, or about no account."""
    if audit.account_id is None:
        return []
    if audit.action in _MEMBER_SETS:
        return _member_events(audit, audit.account_id)
    types = _EVENTS.get(audit.action, ())
    if audit.action == "membership.create" and (audit.after or {}).get("status") == "pending":
        types = (*types, E.INVITATION_CREATED)
    target = {"type": audit.target_type, "id": audit.target_id}
    return [
        _event(audit, audit.account_id, kind, target, audit.before, audit.after) for kind in types
    ]


def _member_events(audit: AuditEvent, account_id: str) -> list[WebhookEvent]:
    """A network call's users, one event each: who joined, changed, or left the account."""
    before: Mapping[str, Any] = (audit.before or {}).get("users") or {}
    after: Mapping[str, Any] = (audit.after or {}).get("users") or {}
    found: list[WebhookEvent] = []
    for key in dict.fromkeys([*before, *after]):
        old, new = before.get(key), after.get(key)
        if not old:
            kind = E.MEMBERSHIP_CREATED
        elif not new:
            kind = E.MEMBERSHIP_DELETED
        elif old.get("role") != new.get("role"):
            kind = E.MEMBERSHIP_UPDATED
        else:
            kind = E.USER_UPDATED
        user_id = (new or old or {}).get("id")
        target = {"type": "user", "id": user_id, "id_from_network": key}
        found.append(_event(audit, account_id, kind, target, old or None, new or None))
    return found


def _event(
    audit: AuditEvent,
    account_id: str,
    kind: EventType,
    target: dict[str, Any],
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> WebhookEvent:
    assert audit.at is not None
    event_id = new_event_id()
    data = {
        "id": event_id,
        "account_id": account_id,
        "action": audit.action,
        "target": target,
        "before": before,
        "after": after,
        "actor": {
            "kind": audit.actor_kind,
            "id": audit.actor_id,
            "label": audit.actor_label,
            "user_id": audit.actor_user_id,
            "minted_by": audit.actor_minted_by,
        },
        "face": audit.face,
        "request_id": audit.request_id,
    }
    body = {"type": kind.value, "timestamp": _timestamp(audit.at), "data": data}
    return WebhookEvent(event_id, kind, account_id, body)


def _timestamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def deliveries_for(
    events: Sequence[WebhookEvent], subscriptions: Sequence[Subscription]
) -> list[tuple[WebhookEvent, Subscription]]:
    """Each event with each subscription that hears it, events in their order."""
    return [(e, s) for e in events for s in subscriptions if s.hears(e.type)]
