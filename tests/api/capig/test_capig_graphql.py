"""/capig/graphql/ over HTTP: pixels, switches, filters, metrics, errors and the SDL contract."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from capig_support import SETUP_PIXEL, Capig, api_token_of, minute_now, only_error
from graphql import print_schema

from tenantry.domain.accounts import AccountKind
from tenantry.entrypoints.graphql.capig import build_engine
from tenantry.entrypoints.http.control_characters import describe
from tenantry.services import accounts
from tenantry.services.context import ServiceContext

from factories import OPERATOR, statements, stored

CONTRACT = Path(__file__).parents[3] / "docs" / "contracts" / "capig.graphql"

ACCOUNT = """
query Account($tenantId: String!, $window: Int) {
  tenantQueries(tenantId: $tenantId) {
    account(timeWindowMin: $window) {
      id name status
      signalConfigs {
        id pixelID name eventsStatus capiPublishEnabled
        connectionStatus {
          connected active eventBridgeActive publishingEnabled apiErrorCode pixelID
        }
      }
    }
  }
}
"""

EVENTS_STATUS = """
mutation($tenantId: String!, $id: String!, $status: Int!) {
  tenantMutations(tenantId: $tenantId) {
    signalMutations {
      updateSignalConfigEventsStatus(id: $id, input: {status: $status}) {
        id eventsStatus connectionStatus { active eventBridgeActive }
      }
    }
  }
}
"""

CAPI_PUBLISH = """
mutation($tenantId: String!, $id: String!, $enabled: Boolean!) {
  tenantMutations(tenantId: $tenantId) {
    signalMutations {
      updateSignalConfigCapiPublish(id: $id, input: {enabled: $enabled}) {
        capiPublishEnabled connectionStatus { publishingEnabled eventBridgeActive }
      }
    }
  }
}
"""

DELETE = """
mutation($tenantId: String!, $id: String!) {
  tenantMutations(tenantId: $tenantId) { signalMutations { deleteDataSource(id: $id) } }
}
"""

EVENT_FILTER = """
mutation($tenantId: String!, $input: UpdateEventFilterInput!) {
  tenantMutations(tenantId: $tenantId) {
    signalMutations {
      updateEventFilter(input: $input) { eventName filterState pixels { pixelID filterState } }
    }
  }
}
"""

DOMAIN_FILTER = """
mutation($tenantId: String!, $input: UpdateDomainFilterInput!) {
  tenantMutations(tenantId: $tenantId) {
    signalMutations { updateDomainFilter(input: $input) { domain filterState } }
  }
}
"""

FILTERS = """
query($tenantId: String!) {
  tenantQueries(tenantId: $tenantId) {
    eventFilters { eventName filterState }
    domainFilters { domain filterState pixels { pixelID filterState } }
  }
}
"""

METRICS = """
query($tenantId: String!, $pixelIds: [String], $window: Int) {
  tenantQueries(tenantId: $tenantId) {
    eventMetrics(pixelIds: $pixelIds, timeWindowMin: $window) {
      timeWindowMin stepMin pixelIds
      activity { windowStart eventsReceived eventsPublished publishErrors }
      incoming { totalEvents pixelsWithTraffic byPixel { pixelID eventsReceived lastEventAt } }
      outgoing {
        totalPublished totalErrors
        byPixel { pixelID eventsPublished publishErrors apiErrorCode }
      }
      domainActivity { domain eventsReceived lastEventAt }
    }
  }
}
"""


def signal_mutation(body: dict[str, Any], name: str) -> Any:
    return body["data"]["tenantMutations"]["signalMutations"][name]


def test_the_served_sdl_is_the_published_contract() -> None:
    served = print_schema(build_engine().schema) + "\n"
    assert CONTRACT.read_text(encoding="utf-8") == served, (
        "capig.graphql changed: review the change, then copy print_schema's output to "
        "docs/contracts/capig.graphql"
    )


def test_setting_up_and_listing_pixels(capig: Capig) -> None:
    config = capig.setup_pixel("1234567890", name="Shop pixel", apiVersion="v20.0")
    assert config == {
        "id": config["id"],
        "pixelID": "1234567890",
        "name": "Shop pixel",
        "businessID": "987654321",
        "externalID": "ext-1234567890",
        "apiVersion": "v20.0",
        "eventsStatus": 1,
        "capiPublishEnabled": True,
        "connectionStatus": {
            "connected": False,
            "active": True,
            "eventBridgeActive": True,
            "publishingEnabled": True,
            "apiErrorCode": None,
            "pixelID": "1234567890",
        },
    }
    capig.setup_pixel("42")
    account = capig.data(ACCOUNT, {"tenantId": capig.tenant.id})["tenantQueries"]["account"]
    assert (account["id"], account["name"], account["status"]) == (capig.tenant.id, "Shop", 0)
    assert [c["pixelID"] for c in account["signalConfigs"]] == ["1234567890", "42"]
    assert account["signalConfigs"][1]["name"] == "Pixel 42"
    assert "EAAB-secret" not in str(account)


def test_switching_a_pixel_off_and_on(capig: Capig) -> None:
    config_id = capig.setup_pixel("111")["id"]
    off = signal_mutation(
        capig.call(EVENTS_STATUS, {"tenantId": capig.tenant.id, "id": config_id, "status": 0}),
        "updateSignalConfigEventsStatus",
    )
    assert off == {
        "id": config_id,
        "eventsStatus": 0,
        "connectionStatus": {"active": False, "eventBridgeActive": False},
    }
    unpublished = signal_mutation(
        capig.call(CAPI_PUBLISH, {"tenantId": capig.tenant.id, "id": config_id, "enabled": False}),
        "updateSignalConfigCapiPublish",
    )
    assert unpublished == {
        "capiPublishEnabled": False,
        "connectionStatus": {"publishingEnabled": False, "eventBridgeActive": False},
    }
    error = only_error(
        capig.call(EVENTS_STATUS, {"tenantId": capig.tenant.id, "id": config_id, "status": 2})
    )
    assert error["extensions"]["code"] == 400
    assert error["extensions"]["field"] == "status"


def test_deleting_a_data_source(capig: Capig) -> None:
    config_id = capig.setup_pixel("111")["id"]
    deleted = capig.call(DELETE, {"tenantId": capig.tenant.id, "id": config_id})
    assert signal_mutation(deleted, "deleteDataSource") is True
    again = capig.call(DELETE, {"tenantId": capig.tenant.id, "id": config_id})
    error = only_error(again)
    assert error["extensions"]["code"] == 404
    assert error["extensions"]["type"] == "NOT_FOUND"
    assert signal_mutation(again, "deleteDataSource") is None


def test_event_and_domain_filters(capig: Capig) -> None:
    capig.setup_pixel("111")
    capig.setup_pixel("222")
    some = capig.call(
        EVENT_FILTER,
        {
            "tenantId": capig.tenant.id,
            "input": {"eventName": "Purchase", "pixelIds": ["111"], "filterState": "DROP"},
        },
    )
    assert signal_mutation(some, "updateEventFilter") == {
        "eventName": "Purchase",
        "filterState": "MIXED",
        "pixels": [
            {"pixelID": "111", "filterState": "DROP"},
            {"pixelID": "222", "filterState": "PUBLISH"},
        ],
    }
    every = capig.call(
        DOMAIN_FILTER,
        {
            "tenantId": capig.tenant.id,
            "input": {"domain": "Spam.Example", "filterState": "DROP"},
        },
    )
    assert signal_mutation(every, "updateDomainFilter") == {
        "domain": "spam.example",
        "filterState": "DROP",
    }
    filters = capig.data(FILTERS, {"tenantId": capig.tenant.id})["tenantQueries"]
    assert filters["eventFilters"] == [{"eventName": "Purchase", "filterState": "MIXED"}]
    assert filters["domainFilters"][0]["filterState"] == "DROP"

    mixed = capig.call(
        EVENT_FILTER,
        {
            "tenantId": capig.tenant.id,
            "input": {"eventName": "Purchase", "filterState": "MIXED"},
        },
    )
    assert only_error(mixed)["extensions"]["code"] == 400
    unknown = capig.call(
        EVENT_FILTER,
        {
            "tenantId": capig.tenant.id,
            "input": {"eventName": "Lead", "pixelIds": ["999"], "filterState": "DROP"},
        },
    )
    assert only_error(unknown)["extensions"]["code"] == 404


def test_event_metrics_from_reported_traffic(capig: Capig) -> None:
    capig.setup_pixel("111")
    capig.setup_pixel("222")
    minute = minute_now()
    response = capig.report(
        {
            "tenantId": capig.tenant.id,
            "reports": [
                {
                    "pixelId": "111",
                    "windowStart": minute,
                    "eventsReceived": 12,
                    "eventsPublished": 10,
                    "publishErrors": 2,
                    "errorCode": "190.460",
                },
                {"pixelId": "222", "windowStart": minute, "eventsReceived": 3},
            ],
        }
    )
    assert response.status_code == 202, response.text
    metrics = capig.data(METRICS, {"tenantId": capig.tenant.id})["tenantQueries"]["eventMetrics"]
    assert (metrics["timeWindowMin"], metrics["stepMin"]) == (60, 1)
    assert metrics["pixelIds"] == ["111", "222"]
    assert len(metrics["activity"]) == 60
    assert metrics["activity"][-1]["eventsReceived"] == 15
    assert metrics["incoming"]["totalEvents"] == 15
    assert metrics["incoming"]["pixelsWithTraffic"] == 2
    assert metrics["outgoing"]["totalPublished"] == 10
    assert metrics["outgoing"]["totalErrors"] == 2
    assert metrics["outgoing"]["byPixel"][0]["apiErrorCode"] == "190.460"
    assert metrics["domainActivity"] == []

    only = capig.data(METRICS, {"tenantId": capig.tenant.id, "pixelIds": ["222"], "window": 5})
    assert only["tenantQueries"]["eventMetrics"]["incoming"]["totalEvents"] == 3

    account = capig.data(ACCOUNT, {"tenantId": capig.tenant.id})["tenantQueries"]["account"]
    status = account["signalConfigs"][0]["connectionStatus"]
    assert status["connected"] is True
    assert status["apiErrorCode"] == "190.460"

    bad_window = capig.call(METRICS, {"tenantId": capig.tenant.id, "window": 0})
    assert only_error(bad_window)["extensions"]["code"] == 400


def test_errors_read_as_the_documents_list_them(capig: Capig, ctx: ServiceContext) -> None:
    invalid = only_error(capig.call(ACCOUNT, {"tenantId": "not an id"}))
    assert invalid["extensions"]["code"] == 400
    missing = only_error(capig.call(ACCOUNT, {"tenantId": "Zz0Zz0Zz"}))
    assert missing["extensions"]["code"] == 404

    other = accounts.create_account(
        ctx, OPERATOR, name="Other", kind=AccountKind.ADVERTISER, parent_id=capig.host.id
    )
    stranger = api_token_of(ctx, capig.client, other, "otherclient")
    forbidden = capig.call(ACCOUNT, {"tenantId": capig.tenant.id}, token=stranger)
    assert only_error(forbidden)["extensions"] == {
        "code": 401,
        "type": "UNAUTHORIZED",
        "reason": "forbidden",
    }
    setup = capig.call(
        """mutation($t: String!) { tenantMutations(tenantId: $t) { signalMutations {
             setupPixelSignalConfig(input: {businessId: "1", pixelId: "2", accessToken: "x",
                                            externalId: "e"}) { id } } } }""",
        {"t": capig.tenant.id},
        token=stranger,
    )
    assert only_error(setup)["extensions"]["code"] == 401


def test_a_call_without_a_token_is_http_401(capig: Capig) -> None:
    for path in ("/capig/graphql", "/capig/graphql/"):
        response = capig.client.post(path, json={"query": "{ __typename }"})
        assert response.status_code == 401
    served = capig.client.post(
        "/capig/graphql",
        json={"query": "{ __typename }"},
        headers={"Authorization": f"Bearer {capig.token}"},
    )
    assert served.json() == {"data": {"__typename": "Query"}}
    assert capig.client.get("/capig/graphql/").status_code == 200


def test_the_account_query_takes_the_same_statements_for_1_or_10_pixels(
    capig: Capig, ctx: ServiceContext
) -> None:
    capig.setup_pixel("100")
    variables = {"tenantId": capig.tenant.id}
    capig.data(ACCOUNT, variables)  # warm: the token's last use is written once a minute
    with statements(ctx) as seen:
        capig.data(ACCOUNT, variables)
    for_one = len(seen)
    for number in range(1, 10):
        capig.setup_pixel(str(100 + number))
    capig.data(ACCOUNT, variables)  # warm again: the writes cleared what authenticating read
    with statements(ctx) as seen:
        account = capig.data(ACCOUNT, variables)
    assert len(account["tenantQueries"]["account"]["signalConfigs"]) == 10
    assert len(seen) == for_one


PIXEL_WITH_A_BELL = """
mutation($tenantId: String!) {
  tenantMutations(tenantId: $tenantId) {
    signalMutations {
      setupPixelSignalConfig(input: {
        businessId: "987654321", pixelId: "222", accessToken: "EAAB-secret",
        externalId: "ext-222", name: "Shop \\u0007"
      }) { id }
    }
  }
}
"""


def test_a_control_character_is_a_400_and_stores_nothing(capig: Capig, ctx: ServiceContext) -> None:
    capig.setup_pixel("111")  # the token's first use, which is recorded, is behind us
    before = stored(ctx)
    spec = {
        "businessId": "987654321",
        "pixelId": "222",
        "accessToken": "EAAB-secret\x00",
        "externalId": "ext-222",
    }
    response = capig.client.post(
        "/capig/graphql/",
        json={"query": SETUP_PIXEL, "variables": {"tenantId": capig.tenant.id, "input": spec}},
        headers={"Authorization": f"Bearer {capig.token}"},
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"message": describe("\x00"), "extensions": {"code": 400, "type": "BAD_REQUEST"}}
    ]
    error = only_error(capig.call(PIXEL_WITH_A_BELL, {"tenantId": capig.tenant.id}))
    assert error["message"] == describe("\x07")
    assert error["extensions"] == {"code": 400, "type": "GRAPHQL_VALIDATION_FAILED"}
    assert stored(ctx) == before
