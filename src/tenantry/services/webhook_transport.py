"""What the webhook sender needs from the network: a POST to a receiver that is allowed.

`tenantry.webhook_http` implements it over HTTP; tests may put in their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class DeliveryError(Exception):
    """The receiver could not be reached, or did not answer in time; the message says why,
    without the body or the signature."""


class UnsafeDestination(DeliveryError):
    """The receiver's address is loopback, private, link-local or otherwise not public, and
    the operator did not allow those (`TENANTRY_WEBHOOKS_ALLOW_PRIVATE`)."""


class WebhookTransport(Protocol):
    def check_destination(self, url: str) -> None:
        """Raise UnsafeDestination when `url`'s host is, or resolves to, an address that may
        not be sent to; a name that does not resolve (yet) passes, the sender checks again."""
        ...

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """POST `body` to `url` once (no redirect followed) and answer the status code; raise
        DeliveryError (UnsafeDestination for a refused address) when there is no answer."""
        ...
