"""POST /capig/traffic over HTTP: gateways report per-minute counts; usage and metrics show them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from capig_support import Capig, api_token_of, minute_now

from tenantry.domain.accounts import AccountKind
from tenantry.entrypoints.http.control_characters import describe
from tenantry.services import accounts, gateway
from tenantry.services.context import ServiceContext

from factories import OPERATOR, stored


def body(capig: Capig, *reports: dict[str, Any]) -> dict[str, Any]:
    return {"tenantId": capig.tenant.id, "reports": list(reports)}


def line(pixel_id: str = "111", **fields: Any) -> dict[str, Any]:
    return {"pixelId": pixel_id, "windowStart": minute_now(), "eventsReceived": 5, **fields}


def received(ctx: ServiceContext, capig: Capig) -> int:
    usage = gateway.tenant_usage(ctx, OPERATOR, capig.tenant.id)
    return usage.traffic.total_events_received


def test_reports_are_accepted_and_show_in_usage(capig: Capig, ctx: ServiceContext) -> None:
    capig.setup_pixel("111")
    capig.setup_pixel("222")
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    response = capig.report(
        body(
            capig,
            line("111", eventsReceived=40, eventsPublished=39, publishErrors=1, errorCode="2"),
            line("222", windowStart=an_hour_ago, eventsReceived=2),
        )
    )
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": 2}
    usage = gateway.tenant_usage(ctx, OPERATOR, capig.tenant.id)
    assert usage.total_pixels == 2
    assert usage.traffic.total_events_received == 42
    assert usage.traffic.total_pixels_with_traffic == 2
    assert usage.traffic.publish_error


def test_an_empty_report_is_fine(capig: Capig) -> None:
    response = capig.report(body(capig))
    assert response.status_code == 202
    assert response.json() == {"accepted": 0}


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"eventsReceived": "5"}, "reports[1].eventsReceived"),
        ({"eventsReceived": -1}, "reports[1].eventsReceived"),
        ({"eventsReceived": 1.5}, "reports[1].eventsReceived"),
        ({"windowStart": "2030-05-01T10:00:00"}, "reports[1].windowStart"),
        ({"windowStart": "yesterday"}, "reports[1].windowStart"),
        ({"windowStart": "2001-01-01T00:00:00Z"}, "reports[1].windowStart"),
        ({"pixelId": 111}, "reports[1].pixelId"),
        ({"pixelId": "99999"}, "reports[1].pixelId"),
        ({"errorCode": "190"}, "reports[1].errorCode"),
        ({"extra": 1}, "reports[1].extra"),
    ],
)
def test_bad_input_is_400_and_stores_nothing(
    capig: Capig, ctx: ServiceContext, change: dict[str, Any], where: str
) -> None:
    capig.setup_pixel("111")
    response = capig.report(body(capig, line(), line(**change)))
    assert response.status_code == 400, response.text
    message = response.json()["message"]
    assert set(response.json()) == {"message"}
    assert message.startswith(where), message
    assert received(ctx, capig) == 0


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[]",
        b'{"reports": []}',
        b'{"tenantId": "x", "reports": [], "more": true}',
    ],
)
def test_malformed_bodies_are_400(capig: Capig, raw: bytes) -> None:
    response = capig.report(None, raw=raw)
    assert response.status_code == 400
    assert response.json()["message"]


@pytest.mark.parametrize(
    ("change", "character"),
    [
        ({"tenantId": "Sh\x00p"}, "\x00"),
        ({"reports": [line(publishErrors=1, errorCode="190\x00")]}, "\x00"),
        ({"reports": [line(publishErrors=1, errorCode="190\x7f")]}, "\x7f"),  # sent raw
    ],
)
def test_a_control_character_is_400_and_stores_nothing(
    capig: Capig, ctx: ServiceContext, change: dict[str, Any], character: str
) -> None:
    capig.setup_pixel("111")
    assert capig.report(body(capig)).status_code == 202  # the token's first use is recorded
    before = stored(ctx)
    response = capig.report(body(capig, line()) | change)
    assert response.status_code == 400
    assert response.json() == {"message": describe(character)}
    assert stored(ctx) == before


def test_at_most_a_thousand_reports_per_call(capig: Capig, ctx: ServiceContext) -> None:
    capig.setup_pixel("111")
    response = capig.report(body(capig, *[line(eventsReceived=1)] * 1001))
    assert response.status_code == 400
    assert response.json()["message"].startswith("reports:")
    assert received(ctx, capig) == 0
    response = capig.report(body(capig, *[line(eventsReceived=1)] * 1000))
    assert response.status_code == 202
    assert received(ctx, capig) == 1000


def test_tokens_and_tenants(capig: Capig, ctx: ServiceContext) -> None:
    capig.setup_pixel("111")
    no_token = capig.client.post("/capig/traffic", json=body(capig, line()))
    assert no_token.status_code == 401
    assert no_token.headers["www-authenticate"].startswith("Bearer")
    assert capig.report(body(capig, line()), token="tok_nonsense").status_code == 401

    other = accounts.create_account(
        ctx, OPERATOR, name="Other", kind=AccountKind.ADVERTISER, parent_id=capig.host.id
    )
    stranger = api_token_of(ctx, capig.client, other, "otherclient")
    forbidden = capig.report(body(capig, line()), token=stranger)
    assert forbidden.status_code == 403
    assert set(forbidden.json()) == {"message"}

    unknown = capig.report({"tenantId": "Zz0Zz0Zz", "reports": [line()]})
    assert unknown.status_code == 404
    assert received(ctx, capig) == 0

    # The tenant's own API account reports for it.
    own = api_token_of(ctx, capig.client, capig.tenant, "shopgateway")
    assert capig.report(body(capig, line()), token=own).status_code == 202
    assert received(ctx, capig) == 5
