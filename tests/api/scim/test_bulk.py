"""/Bulk: bulkId references, failOnErrors and the announced limits."""

from __future__ import annotations

from typing import Any

from tenantry.entrypoints.scim.schema import BULK_MAX_PAYLOAD

from factories import unique_email
from scim_support import BULK, GROUP, PATCH_OP, Scim, error_of, new_user


def bulk(scim: Scim, *operations: dict[str, Any], **fields: Any) -> list[dict[str, Any]]:
    response = scim.post("/Bulk", {"schemas": [BULK], "Operations": list(operations), **fields})
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["Operations"]
    return results


def test_bulk_ids_reference_earlier_and_later_operations(scim: Scim) -> None:
    results = bulk(
        scim,
        {  # references a user created by a later operation: it waits for it
            "method": "POST",
            "path": "/Groups",
            "bulkId": "team",
            "data": {
                "schemas": [GROUP],
                "displayName": "Bulk Team",
                "members": [{"value": "bulkId:ann"}],
            },
        },
        {"method": "POST", "path": "/Users", "bulkId": "ann", "data": new_user()},
        {
            "method": "PATCH",
            "path": "/Users/bulkId:ann",
            "data": {
                "schemas": [PATCH_OP],
                "Operations": [{"op": "replace", "value": {"active": False}}],
            },
        },
    )
    by_id = {r.get("bulkId", r["method"]): r for r in results}
    assert by_id["ann"]["status"] == "201"
    assert by_id["team"]["status"] == "201", by_id["team"]
    assert by_id["PATCH"]["status"] == "200"
    assert by_id["ann"]["version"].startswith('W/"')
    ann_id = by_id["ann"]["location"].rsplit("/", 1)[1]
    assert scim.role_of(ann_id) == "bulk_team"
    assert scim.get(f"/Users/{ann_id}").json()["active"] is False


def test_errors_are_reported_per_operation_and_fail_on_errors_stops(scim: Scim) -> None:
    taken = scim.create_user()
    operations = [
        {"method": "POST", "path": "/Users", "bulkId": "a", "data": new_user(taken["userName"])},
        {
            "method": "POST",
            "path": "/Users",
            "bulkId": "b",
            "data": new_user(userName="x", emails=[]),
        },
        {"method": "POST", "path": "/Users", "bulkId": "c", "data": new_user()},
    ]
    results = bulk(scim, *operations, failOnErrors=2)
    assert [r["status"] for r in results] == ["409", "400"]
    assert results[0]["response"]["scimType"] == "uniqueness"
    everything = bulk(scim, *operations)
    assert [r["status"] for r in everything] == ["409", "400", "201"]
    missing = bulk(scim, {"method": "DELETE", "path": "/Users/bulkId:nobody"})
    assert missing[0]["status"] == "409"
    version = bulk(
        scim,
        {"method": "DELETE", "path": f"/Users/{taken['id']}", "version": 'W/"old"'},
    )
    assert version[0]["status"] == "412"


def test_limits_are_honoured(scim: Scim) -> None:
    too_many = [{"method": "DELETE", "path": f"/Users/x{i}"} for i in range(101)]
    response = scim.post("/Bulk", {"schemas": [BULK], "Operations": too_many})
    error_of(response, 413, "tooMany")
    limit = min(BULK_MAX_PAYLOAD, scim.ctx.settings.max_body_bytes)
    big = {"schemas": [BULK], "Operations": [], "padding": "x" * limit}
    assert "maxPayloadSize" in error_of(scim.post("/Bulk", big), 413)
    error_of(scim.post("/Bulk", {"schemas": [BULK], "Operations": []}), 400, "invalidSyntax")
    email = unique_email("bulk")
    results = bulk(scim, {"method": "POST", "path": "/Users", "data": new_user(email)})
    assert results[0]["status"] == "400"  # a POST needs a bulkId
