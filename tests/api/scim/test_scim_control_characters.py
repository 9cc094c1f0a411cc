"""Control characters no field accepts: a 400 invalidValue, and nothing stored. Filters and PATCH
paths quote values with escapes of their own (`"a\\u0000"`), which the face reads itself."""

from __future__ import annotations

import json

import pytest

from tenantry.entrypoints.http.control_characters import describe
from tenantry.services.context import ServiceContext

from factories import stored
from scim_support import BULK, PATCH_OP, SEARCH, Scim, error_of, new_user

NUL = describe("\x00")


def test_a_control_character_in_a_resource_is_400_and_stores_nothing(
    scim: Scim, ctx: ServiceContext
) -> None:
    scim.get("/Users")  # the token's first use, which is recorded, is behind us
    before = stored(ctx)
    created = scim.post("/Users", new_user(displayName="Bar\x00bara"))
    assert error_of(created, 400, "invalidValue") == NUL
    assert error_of(scim.get("/Users/a%00b"), 400, "invalidValue") == NUL
    assert stored(ctx) == before


@pytest.mark.parametrize(
    ("scim_filter", "character"),
    [
        ('userName eq "a\\u0000b"', "\x00"),
        ('emails[value sw "a\\b"]', "\b"),
        ('displayName co "\\\\\\u001F"', "\x1f"),  # an escaped backslash, then U+001F
    ],
)
def test_a_control_character_in_a_filter_is_400(
    scim: Scim, scim_filter: str, character: str
) -> None:
    for response in (
        scim.get("/Users", params={"filter": scim_filter}),
        scim.get("/Groups", params={"filter": scim_filter}),
        scim.post("/.search", {"schemas": [SEARCH], "filter": scim_filter}),
    ):
        assert error_of(response, 400, "invalidValue") == describe(character)


def test_a_backslash_in_a_filter_is_text(scim: Scim) -> None:
    user = scim.create_user(displayName="Back\\u0000slash")  # a backslash, then text
    found = scim.find('displayName eq "Back\\\\u0000slash"')
    assert [u["id"] for u in found] == [user["id"]]
    assert found[0]["displayName"] == "Back\\u0000slash"


def test_a_control_character_in_a_patch_path_is_400_and_stores_nothing(
    scim: Scim, ctx: ServiceContext
) -> None:
    user = scim.create_user()
    # Without it, the path's filter would make a new e-mail entry of that type.
    operation = {"op": "replace", "path": 'emails[type eq "w\\u0000"].value', "value": "x@ex.com"}
    before = stored(ctx)
    assert error_of(scim.patch(f"/Users/{user['id']}", operation), 400, "invalidValue") == NUL
    bulk = scim.post(
        "/Bulk",
        {
            "schemas": [BULK],
            "Operations": [
                {
                    "method": "PATCH",
                    "path": f"/Users/{user['id']}",
                    "data": {"schemas": [PATCH_OP], "Operations": [operation]},
                }
            ],
        },
    )
    assert bulk.status_code == 200
    [result] = bulk.json()["Operations"]
    assert (result["status"], result["response"]["scimType"]) == ("400", "invalidValue")
    assert result["response"]["detail"] == NUL
    assert stored(ctx) == before


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "multipart/form-data; boundary=X", "text/plain"],
)
def test_json_sent_under_another_type_is_checked_as_json(
    scim: Scim, ctx: ServiceContext, content_type: str
) -> None:
    """The face reads JSON whatever the type says, so the guard does too."""
    user = scim.create_user()
    operation = {"op": "replace", "path": "externalId", "value": "x\x00\x1b[31m"}
    body = json.dumps({"schemas": [PATCH_OP], "Operations": [operation]}).encode()
    before = stored(ctx)
    response = scim.request(
        "PATCH", f"/Users/{user['id']}", content=body, headers={"Content-Type": content_type}
    )
    assert error_of(response, 400, "invalidValue") == NUL
    assert stored(ctx) == before


def test_a_form_in_a_charset_the_guard_cannot_read_is_400(scim: Scim) -> None:
    body = b"--X\r\nContent-Disposition: form-data; name=a\r\n\r\nab+AAA-cd\r\n--X--\r\n"
    response = scim.request(
        "POST",
        "/Users",
        content=body,
        headers={"Content-Type": "multipart/form-data; boundary=X; charset=utf-7"},
    )
    assert response.status_code == 400
    assert "UTF-8" in response.json()["detail"]
