"""The gateway side of an account: pixels (signal configs), their traffic, filters and routing.

A pixel belongs to one account (tenant). The gateway receives a pixel's events when
`events_enabled` and publishes them to the Conversions API when `capi_publish_enabled`; each
pixel has exactly one such route, its *pipeline*. Traffic is counted in one-minute buckets.

Event and domain filters decide, per pixel, whether matching events are published or dropped.
A filter row keeps one state and the pixels it applies to; every other pixel has the opposite
state (with no pixel list, the state applies to every pixel, present and future). No row means
"publish everywhere". Reading a filter over several pixels that disagree gives MIXED.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from tenantry.domain.errors import ErrorCode, InvalidInput

# The Graph API version a new pixel publishes with when the caller names none.
DEFAULT_API_VERSION = "v19.0"
MAX_PIXELS_PER_ACCOUNT = 500
MAX_NAME_LENGTH = 200
MAX_EXTERNAL_ID_LENGTH = 255
MAX_ACCESS_TOKEN_LENGTH = 4096
MAX_EVENT_NAME_LENGTH = 253
MAX_HOSTNAME_LENGTH = 253
# Per report; a minute of one pixel's traffic stays far below it, and sums stay in 64 bits.
MAX_EVENT_COUNT = 10**12
# Late reports are accepted for a week (a gateway catching up after an outage); reports from
# the future only within a small clock skew.
MAX_REPORT_AGE = timedelta(days=7)
MAX_CLOCK_SKEW = timedelta(minutes=5)

_DIGITS = re.compile(r"^[0-9]{1,32}$")
_API_VERSION = re.compile(r"^v[0-9]{1,3}\.[0-9]{1,2}$")
_ERROR_CODE = re.compile(r"^[0-9]{1,10}(\.[0-9]{1,10})?$")
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class FilterState(StrEnum):
    PUBLISH = "PUBLISH"
    DROP = "DROP"
    # Only ever computed: the pixels a filter is read over disagree.
    MIXED = "MIXED"

    @property
    def opposite(self) -> FilterState:
        if self is FilterState.MIXED:
            raise ValueError("MIXED has no opposite")
        return FilterState.DROP if self is FilterState.PUBLISH else FilterState.PUBLISH


class FilterKind(StrEnum):
    EVENT = "event"
    DOMAIN = "domain"


class DomainStatus(StrEnum):
    """Where an account's first-party domain stands (`tenant1pDomainStatus`)."""

    NOT_SELECTED = "DOMAIN_NOT_SELECTED"
    PENDING_VERIFICATION = "DOMAIN_PENDING_VERIFICATION"
    VERIFIED = "DOMAIN_VERIFIED"


def new_signal_config_id() -> str:
    return str(uuid.uuid4())


@dataclass(slots=True)
class Pixel:
    """A pixel's signal config. `pixel_id` is Meta's pixel number; `id` is the config's own."""

    id: str
    account_id: str
    pixel_id: str
    business_id: str
    name: str
    external_id: str
    api_version: str
    # The gateway needs the token itself to publish; it is never returned, shown or logged.
    access_token: str = field(repr=False)
    events_enabled: bool = True
    capi_publish_enabled: bool = True
    created_at: datetime | None = None

    @property
    def is_active(self) -> bool:
        """An active pixel is one whose events the gateway receives."""
        return self.events_enabled

    @property
    def pipeline_active(self) -> bool:
        """Its route to the Conversions API carries events: received and published."""
        return self.events_enabled and self.capi_publish_enabled


@dataclass(frozen=True, slots=True)
class TrafficTotals:
    """Sums over traffic buckets (of one pixel, or of an account)."""

    events_received: int = 0
    events_published: int = 0
    publish_errors: int = 0
    pixels_with_traffic: int = 0
    last_error_code: str | None = None
    last_updated_at: datetime | None = None
    last_event_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TrafficBucket:
    """One step of an activity series: what every selected pixel counted from `start` on."""

    start: datetime
    events_received: int = 0
    events_published: int = 0
    publish_errors: int = 0


@dataclass(frozen=True, slots=True)
class TrafficReport:
    """What a gateway counted for one pixel in one minute, as it reports it."""

    pixel_id: str
    window_start: datetime
    events_received: int
    events_published: int = 0
    publish_errors: int = 0
    error_code: str | None = None


@dataclass(frozen=True, slots=True)
class TrafficCount:
    """A validated report, addressed to its pixel's signal config and minute bucket."""

    pixel_ref: str
    account_id: str
    bucket_start: datetime
    events_received: int
    events_published: int
    publish_errors: int
    error_code: str | None


@dataclass(frozen=True, slots=True)
class ConnectionStatus:
    """How a pixel's pipeline stands, over a time window.

    connected: the gateway received events for the pixel in the window; active: receiving is
    on; event_bridge_active: receiving and publishing are both on (the pipeline is active);
    publishing_enabled: publishing is on; api_error_code: the Conversions API's "code.subcode"
    of the latest failed publish in the window, if any.
    """

    pixel_id: str
    connected: bool
    active: bool
    event_bridge_active: bool
    publishing_enabled: bool
    api_error_code: str | None


def connection_status(pixel: Pixel, traffic: TrafficTotals | None) -> ConnectionStatus:
    traffic = traffic or TrafficTotals()
    return ConnectionStatus(
        pixel_id=pixel.pixel_id,
        connected=traffic.events_received > 0,
        active=pixel.is_active,
        event_bridge_active=pixel.pipeline_active,
        publishing_enabled=pixel.capi_publish_enabled,
        api_error_code=traffic.last_error_code if traffic.publish_errors else None,
    )


@dataclass(slots=True)
class SignalFilter:
    """An event or domain filter of one account (see the module's docstring)."""

    account_id: str
    kind: FilterKind
    value: str
    state: FilterState = FilterState.PUBLISH
    pixel_ids: frozenset[str] | None = None
    updated_at: datetime | None = None

    def state_of(self, pixel_id: str) -> FilterState:
        if self.pixel_ids is None or pixel_id in self.pixel_ids:
            return self.state
        return self.state.opposite

    def overall(self, pixel_ids: Iterable[str]) -> FilterState:
        """The state over these pixels: theirs when they agree, MIXED otherwise. Over no pixel,
        the state a new pixel would get."""
        states = {self.state_of(p) for p in pixel_ids}
        if not states:
            return self.state if self.pixel_ids is None else self.state.opposite
        return states.pop() if len(states) == 1 else FilterState.MIXED

    def applied(self, state: FilterState, pixel_ids: frozenset[str] | None) -> SignalFilter:
        """This filter after setting `state` for `pixel_ids` (None: every pixel)."""
        if state is FilterState.MIXED:
            raise InvalidInput(
                ErrorCode.INVALID_INPUT,
                "A filter is set to PUBLISH or DROP; MIXED is only reported.",
                field="filterState",
            )
        if pixel_ids is None:
            return dataclasses.replace(self, state=state, pixel_ids=None)
        if self.pixel_ids is None:
            if state is self.state:
                return self
            return self._with(state, pixel_ids)
        if state is self.state:
            return self._with(state, self.pixel_ids | pixel_ids)
        return self._with(self.state, self.pixel_ids - pixel_ids)

    def forget(self, pixel_id: str) -> SignalFilter:
        """This filter once a pixel is gone: should it come back, it starts like a new one."""
        if self.pixel_ids is None or pixel_id not in self.pixel_ids:
            return self
        return self._with(self.state, self.pixel_ids - {pixel_id})

    @property
    def is_default(self) -> bool:
        """Publishing everywhere is what no filter at all means."""
        return self.state is FilterState.PUBLISH and self.pixel_ids is None

    def _with(self, state: FilterState, pixel_ids: frozenset[str]) -> SignalFilter:
        if not pixel_ids:  # listing no pixel: every pixel has the other state
            return dataclasses.replace(self, state=state.opposite, pixel_ids=None)
        return dataclasses.replace(self, state=state, pixel_ids=pixel_ids)


@dataclass(slots=True)
class IngressDomain:
    """Where an account's events come in (`ingress`) and its first-party domain
    (`target_domain`, empty when none is selected).

    `cname_resolve_success` is set once the ingress's CNAME is seen to resolve to the gateway;
    this release does not look DNS up itself, so it stays False until that check is done.
    """

    id: str
    account_id: str
    ingress: str
    target_domain: str
    cname_resolve_success: bool = False
    updated_at: datetime | None = None
    account_name: str | None = None

    @property
    def tenant_1p_domain(self) -> str | None:
        return self.target_domain or None

    @property
    def tenant_1p_domain_status(self) -> DomainStatus:
        if not self.target_domain:
            return DomainStatus.NOT_SELECTED
        if self.cname_resolve_success:
            return DomainStatus.VERIFIED
        return DomainStatus.PENDING_VERIFICATION


# -- validation --------------------------------------------------------------------------------


def _invalid(message: str, field: str) -> InvalidInput:
    return InvalidInput(ErrorCode.INVALID_INPUT, message, field=field)


def validate_digits_id(value: str, field: str) -> str:
    """Pixel and business ids are numbers of 1 to 32 digits, kept as text."""
    value = value.strip()
    if not _DIGITS.match(value):
        raise _invalid(f"{field} must be 1 to 32 digits.", field)
    return value


def validate_pixel_name(name: str | None, pixel_id: str) -> str:
    cleaned = " ".join((name or "").split()) or f"Pixel {pixel_id}"
    if len(cleaned) > MAX_NAME_LENGTH or _CONTROL.search(cleaned):
        raise _invalid(f"The name can have at most {MAX_NAME_LENGTH} characters.", "name")
    return cleaned


def validate_external_id(value: str) -> str:
    value = value.strip()
    if not value or len(value) > MAX_EXTERNAL_ID_LENGTH or _CONTROL.search(value):
        raise _invalid(
            f"externalId must be 1 to {MAX_EXTERNAL_ID_LENGTH} printable characters.",
            "externalId",
        )
    return value


def validate_api_version(value: str | None) -> str:
    if value is None or not value.strip():
        return DEFAULT_API_VERSION
    value = value.strip()
    if not _API_VERSION.match(value):
        raise _invalid('apiVersion looks like "v19.0".', "apiVersion")
    return value


def validate_access_token(value: str) -> str:
    if not value or len(value) > MAX_ACCESS_TOKEN_LENGTH or any(c.isspace() for c in value):
        raise _invalid(
            f"accessToken must be 1 to {MAX_ACCESS_TOKEN_LENGTH} characters without spaces.",
            "accessToken",
        )
    return value


def validate_hostname(value: str, field: str) -> str:
    """An RFC 1123 host name of at least two labels, lower-cased, without a trailing dot.

    Names made only of digits and dots (IPv4 addresses) are refused: routing needs a name.
    """
    name = value.strip().lower().removesuffix(".")
    labels = name.split(".")
    if (
        not name
        or len(name) > MAX_HOSTNAME_LENGTH
        or len(labels) < 2
        or not all(_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise _invalid(f"{field} must be a host name such as events.example.com.", field)
    return name


def validate_event_name(value: str) -> str:
    value = value.strip()
    if not value or len(value) > MAX_EVENT_NAME_LENGTH or _CONTROL.search(value):
        raise _invalid(
            f"eventName must be 1 to {MAX_EVENT_NAME_LENGTH} printable characters.", "eventName"
        )
    return value


def validate_filter_value(kind: FilterKind, value: str) -> str:
    if kind is FilterKind.DOMAIN:
        return validate_hostname(value, "domain")
    return validate_event_name(value)


def minute_floor(moment: datetime) -> datetime:
    """The start of the one-minute bucket `moment` falls in, in UTC."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes have no place in traffic")
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def time_window(now: datetime, minutes: int) -> tuple[datetime, datetime]:
    """[start, end) of the last `minutes` whole buckets, the current one included."""
    end = minute_floor(now) + timedelta(minutes=1)
    return end - timedelta(minutes=minutes), end


def validate_report(report: TrafficReport, now: datetime, where: str) -> TrafficReport:
    """A report with its window truncated to the minute, or InvalidInput naming `where`."""
    pixel_id = validate_digits_id(report.pixel_id, f"{where}.pixelId")
    if report.window_start.tzinfo is None:
        raise _invalid(
            "windowStart needs a time zone (e.g. 2024-05-01T10:15:00Z).", f"{where}.windowStart"
        )
    start = minute_floor(report.window_start)
    if start > now + MAX_CLOCK_SKEW:
        raise _invalid("windowStart is in the future.", f"{where}.windowStart")
    if start < now - MAX_REPORT_AGE:
        raise _invalid("windowStart is more than 7 days old.", f"{where}.windowStart")
    for name, count in (
        ("eventsReceived", report.events_received),
        ("eventsPublished", report.events_published),
        ("publishErrors", report.publish_errors),
    ):
        if not 0 <= count <= MAX_EVENT_COUNT:
            raise _invalid(f"{name} must be between 0 and {MAX_EVENT_COUNT}.", f"{where}.{name}")
    code = report.error_code
    if code is not None:
        if not _ERROR_CODE.match(code):
            raise _invalid('errorCode is "code" or "code.subcode".', f"{where}.errorCode")
        if report.publish_errors == 0:
            raise _invalid("errorCode goes with publishErrors above 0.", f"{where}.errorCode")
    return dataclasses.replace(report, pixel_id=pixel_id, window_start=start)
