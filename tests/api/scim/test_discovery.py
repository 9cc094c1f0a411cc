"""Discovery, authentication and the shape of errors."""

from __future__ import annotations

from tenantry.entrypoints.scim.schema import BULK_MAX_PAYLOAD

from scim_support import ENTERPRISE, GROUP, USER, Scim, error_of


def test_service_provider_config_announces_what_is_honoured(scim: Scim) -> None:
    response = scim.get("/ServiceProviderConfig", headers={"Authorization": ""})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/scim+json")
    config = response.json()
    assert config["patch"] == {"supported": True}
    assert config["bulk"]["supported"] is True
    assert config["bulk"]["maxOperations"] == 100
    assert config["bulk"]["maxPayloadSize"] == min(
        BULK_MAX_PAYLOAD, scim.ctx.settings.max_body_bytes
    )
    assert config["filter"] == {"supported": True, "maxResults": 1000}
    assert config["sort"] == {"supported": True}
    assert config["etag"] == {"supported": True}
    assert config["changePassword"] == {"supported": False}
    assert config["authenticationSchemes"][0]["type"] == "oauthbearertoken"


def test_resource_types_and_schemas(scim: Scim) -> None:
    types = scim.get("/ResourceTypes").json()
    assert types["totalResults"] == 2
    by_name = {t["name"]: t for t in types["Resources"]}
    assert by_name["User"]["endpoint"] == "/Users"
    assert by_name["User"]["schemaExtensions"] == [{"schema": ENTERPRISE, "required": False}]
    assert by_name["Group"]["schema"] == GROUP
    assert scim.get("/ResourceTypes/User").json()["schema"] == USER
    schemas = {s["id"]: s for s in scim.get("/Schemas").json()["Resources"]}
    assert set(schemas) == {USER, ENTERPRISE, GROUP}
    user = {a["name"]: a for a in schemas[USER]["attributes"]}
    assert user["userName"]["mutability"] == "readOnly"
    assert user["groups"]["mutability"] == "readOnly"
    assert scim.get(f"/Schemas/{GROUP}").json()["name"] == "Group"
    error_of(scim.get("/Schemas/urn:nothing"), 404)
    error_of(scim.get("/ResourceTypes/Nothing"), 404)


def test_discovery_takes_get_only(scim: Scim) -> None:
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = scim.request(method, "/ServiceProviderConfig")
        error_of(response, 405)
        assert response.headers["allow"] == "GET"


def test_unknown_paths_and_methods_are_scim_errors(scim: Scim) -> None:
    error_of(scim.get("/Nothing"), 404)
    error_of(scim.get("/Users/a/b"), 404)
    error_of(scim.get(""), 404)
    error_of(scim.request("PUT", "/Users"), 405)
    error_of(scim.request("GET", "/Users/.search"), 405)
    error_of(scim.request("GET", "/Bulk"), 405)


def test_credentials_are_required_and_checked(scim: Scim) -> None:
    response = scim.get("/Users", headers={"Authorization": ""})
    error_of(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    error_of(scim.get("/Users", token="tnt_nope_nope"), 401)


def test_bad_bodies_are_invalid_syntax(scim: Scim) -> None:
    response = scim.request(
        "POST", "/Users", content=b"{not json", headers={"Content-Type": "application/scim+json"}
    )
    error_of(response, 400, "invalidSyntax")
    error_of(scim.post("/Users", [1, 2]), 400, "invalidSyntax")
