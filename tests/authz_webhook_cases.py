"""The authorization matrix's rows for webhooks: an account's endpoints and their delivery
logs are its admins' (and a parent's with partner reach), never another account's, nor a
member's who cannot both manage the account's settings and read its audit log.

`WEBHOOK_ROWS` are run by tests/integration/test_authorization_matrix.py with the other rows.
"""

from __future__ import annotations

from tenantry.domain.webhooks import WebhookEndpoint
from tenantry.services import accounts, webhooks
from tenantry.services.webhooks import EndpointChanges

from authz_cases import Cell, Row, _unique, expect
from factories import OPERATOR

# Never sent: the matrix runs no sender, and the name does not resolve.
RECEIVER = "https://receiver.invalid/hook"


def _endpoint_of_b(c: Cell) -> WebhookEndpoint:
    endpoint, _ = webhooks.create_endpoint(c.ctx, OPERATOR, c.target.id, RECEIVER)
    return endpoint


def _delivery_of_b(c: Cell) -> tuple[str, int]:
    """An endpoint of B and a delivery in its log: (endpoint id, delivery id)."""
    endpoint = _endpoint_of_b(c)
    accounts.add_app(c.ctx, OPERATOR, c.target.id, _unique("com.example.hook"))
    return endpoint.id, webhooks.list_deliveries(c.ctx, OPERATOR, endpoint.id)[0].id


def _endpoint_call(service: object) -> Row:
    """A row for a service named by an endpoint of B (not by the account)."""
    return Row(
        service,  # type: ignore[arg-type]
        expect(),
        call=lambda c: service(c.ctx, c.actor, c.prepared.id),  # type: ignore[operator]
        prepare=_endpoint_of_b,
    )


WEBHOOK_ROWS: tuple[Row, ...] = (
    Row(webhooks.create_endpoint, expect(), prepare=lambda c: RECEIVER),
    Row(
        webhooks.list_endpoints,
        expect(),
        prepare=_endpoint_of_b,
        call=lambda c: webhooks.list_endpoints(c.ctx, c.actor, c.account_id),
        writes=False,
        reveals=lambda found, c: c.prepared.id in {e.id for e in found},
    ),
    Row(
        webhooks.get_endpoint,
        expect(),
        prepare=_endpoint_of_b,
        call=lambda c: webhooks.get_endpoint(c.ctx, c.actor, c.prepared.id),
        writes=False,
        reveals=lambda found, c: found.id == c.prepared.id,
    ),
    Row(
        webhooks.update_endpoint,
        expect(),
        prepare=_endpoint_of_b,
        call=lambda c: webhooks.update_endpoint(
            c.ctx, c.actor, c.prepared.id, EndpointChanges(enabled=False)
        ),
    ),
    _endpoint_call(webhooks.delete_endpoint),
    _endpoint_call(webhooks.rotate_secret),
    Row(
        webhooks.list_deliveries,
        expect(),
        prepare=_delivery_of_b,
        call=lambda c: webhooks.list_deliveries(c.ctx, c.actor, c.prepared[0]),
        writes=False,
        reveals=lambda found, c: c.prepared[1] in {d.id for d in found},
    ),
    Row(
        webhooks.resend_delivery,
        expect(),
        prepare=_delivery_of_b,
        call=lambda c: webhooks.resend_delivery(c.ctx, c.actor, c.prepared[1]),
    ),
)
