"""Every error code each operation documents, as `errors[].extensions.code`, plus HTTP 401
for a missing or bad token. Failed calls change nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tenantry.domain.accounts import Account
from tenantry.entrypoints.http.control_characters import describe
from tenantry.services import credentials, invitations, members, tenant_members
from tenantry.services.context import ServiceContext
from tenantry.services.members import NewMember

import samples
from factories import OPERATOR, make_account, make_member, stored
from hub_support import Hub, only_error


def view_token(ctx: ServiceContext, tenant: Account) -> str:
    """A bearer token acting as a `view` member of the tenant: may read, may not change."""
    viewer = make_member(ctx, tenant, role="view")
    _, token, _ = credentials.create_api_token(ctx, OPERATOR, tenant.id, user_email=viewer.email)
    return token


def code_of(body: dict[str, Any]) -> int:
    code: int = only_error(body)["extensions"]["code"]
    return code


def add_user(hub: Hub, email: str, role: str, token: str | None = None) -> dict[str, Any]:
    return hub.call(
        samples.ADD_USER_WITH_ROLE,
        {"addUserWithRoleInput": {"email": email, "roleName": role}},
        token=token,
    )


@pytest.fixture
def tenant(hub: Hub, ctx: ServiceContext) -> Account:
    tenant = make_account(ctx, parent=hub.host, name="Errors Inc")
    make_member(ctx, tenant, role="admin")
    return tenant


# -- addUserWithRole: 400, 401, 404, 409, 500 --------------------------------------------------


def test_add_user_400_invalid_email(hub: Hub, tenant: Account) -> None:
    body = add_user(hub, "not-an-email", f"advertiser-view-{tenant.id}")
    error = only_error(body)
    assert error["extensions"] == {
        "code": 400,
        "type": "BAD_REQUEST",
        "reason": "invalid_email",
        "field": "email",
    }
    assert error["message"] == "Invalid email address."
    assert body["data"]["userMutations"]["addUserWithRole"] is None


def test_add_user_401_not_authorized(hub: Hub, ctx: ServiceContext, tenant: Account) -> None:
    body = add_user(hub, "x@example.com", f"advertiser-view-{tenant.id}", view_token(ctx, tenant))
    assert code_of(body) == 401
    assert members.list_members(ctx, OPERATOR, tenant.id).items[-1].user.email != "x@example.com"


def test_add_user_401_for_another_accounts_tenant(
    hub: Hub, ctx: ServiceContext, tenant: Account
) -> None:
    other = make_account(ctx, parent=hub.host)
    body = add_user(hub, "x@example.com", f"advertiser-view-{tenant.id}", view_token(ctx, other))
    assert code_of(body) == 401


@pytest.mark.parametrize("role", ["advertiser-boss-{id}", "advertiser-manage-ZZZZZZZZ", "owner"])
def test_add_user_404_role_not_found(hub: Hub, tenant: Account, role: str) -> None:
    body = add_user(hub, "x@example.com", role.format(id=tenant.id))
    assert code_of(body) == 404


def test_add_user_409_already_in_account(hub: Hub, ctx: ServiceContext, tenant: Account) -> None:
    assert "errors" not in add_user(hub, "dup@example.com", f"advertiser-view-{tenant.id}")
    body = add_user(hub, "DUP@example.com", f"advertiser-view-{tenant.id}")
    error = only_error(body)
    assert error["extensions"]["code"] == 409
    assert error["message"] == "This user already exists in this account."


def test_add_user_500_hides_the_cause(
    hub: Hub, tenant: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(members, "add_member", broken)
    body = add_user(hub, "x@example.com", f"advertiser-view-{tenant.id}")
    error = only_error(body)
    assert error["extensions"]["code"] == 500
    assert error["extensions"]["type"] == "INTERNAL_SERVER_ERROR"
    assert error["message"] == "Internal server error."
    assert "hunter2" not in str(body)


# -- changeRoleForUser: 400, 401, 404, 500 -----------------------------------------------------


def change_role(
    hub: Hub, user_id: str, revoke: str | None, add: str | None, token: str | None = None
) -> dict[str, Any]:
    return hub.call(
        samples.CHANGE_ROLE_FOR_USER,
        {"changeRoleForUserInput": {"userId": user_id, "roleToRevoke": revoke, "roleToAdd": add}},
        token=token,
    )


def test_change_role_400_without_roles(hub: Hub, ctx: ServiceContext, tenant: Account) -> None:
    user = make_member(ctx, tenant, role="view")
    assert code_of(change_role(hub, user.id, None, None)) == 400


def test_change_role_401(hub: Hub, ctx: ServiceContext, tenant: Account) -> None:
    user = make_member(ctx, tenant, role="view")
    body = change_role(
        hub, user.id, None, f"advertiser-manage-{tenant.id}", view_token(ctx, tenant)
    )
    assert code_of(body) == 401
    assert members.get_member(ctx, OPERATOR, tenant.id, user.id).membership.role_key == "view"


def test_change_role_404_unknown_user(hub: Hub, tenant: Account) -> None:
    body = change_role(
        hub, "00000000-0000-4000-8000-000000000000", None, f"advertiser-view-{tenant.id}"
    )
    assert code_of(body) == 404


def test_change_role_404_role_not_held(hub: Hub, ctx: ServiceContext, tenant: Account) -> None:
    user = make_member(ctx, tenant, role="view")
    body = change_role(
        hub, user.id, f"advertiser-admin-{tenant.id}", f"advertiser-manage-{tenant.id}"
    )
    assert code_of(body) == 404
    assert members.get_member(ctx, OPERATOR, tenant.id, user.id).membership.role_key == "view"


def test_change_role_500(
    hub: Hub, ctx: ServiceContext, tenant: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_member(ctx, tenant, role="view")
    monkeypatch.setattr(members, "reassign_role", lambda *a, **k: 1 / 0)
    assert code_of(change_role(hub, user.id, None, f"advertiser-manage-{tenant.id}")) == 500


# -- sendInvitation: 400, 401, 404, 500 --------------------------------------------------------


def invite(
    hub: Hub, email: str, tenant_id: str | None, user_type: str, token: str | None = None
) -> dict[str, Any]:
    return hub.call(
        samples.SEND_INVITATION,
        {"sendInvitationInput": {"email": email, "tenantId": tenant_id, "userType": user_type}},
        token=token,
    )


def test_send_invitation_400_agency_with_tenant(hub: Hub, tenant: Account) -> None:
    assert code_of(invite(hub, "x@example.com", tenant.id, "AGENCY")) == 400


def test_send_invitation_400_bad_user_type(hub: Hub, tenant: Account) -> None:
    assert code_of(invite(hub, "x@example.com", tenant.id, "ROBOT")) == 400


def test_send_invitation_401(hub: Hub, ctx: ServiceContext, tenant: Account) -> None:
    members.add_member(ctx, OPERATOR, tenant.id, NewMember("p@example.com", "view"))
    body = invite(hub, "p@example.com", tenant.id, "ADVERTISER", view_token(ctx, tenant))
    assert code_of(body) == 401


def test_send_invitation_404_no_such_user_in_tenant(hub: Hub, tenant: Account) -> None:
    assert code_of(invite(hub, "nobody@example.com", tenant.id, "ADVERTISER")) == 404


def test_send_invitation_500(
    hub: Hub, ctx: ServiceContext, tenant: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tenantry.services import invitations

    members.add_member(ctx, OPERATOR, tenant.id, NewMember("p@example.com", "view"))
    monkeypatch.setattr(invitations, "renew_invitation", lambda *a, **k: 1 / 0)
    assert code_of(invite(hub, "p@example.com", tenant.id, "ADVERTISER")) == 500


# -- createTenant: 400, 401, 500 ---------------------------------------------------------------


def create_tenant(hub: Hub, token: str | None = None, **fields: Any) -> dict[str, Any]:
    data = {"name": "New", "canPartnerManage": True, "eventEnrichment": False} | fields
    return hub.call(samples.CREATE_TENANT, {"input": data}, token=token)


def test_create_tenant_400_unmanaged_without_admin(hub: Hub, ctx: ServiceContext) -> None:
    body = create_tenant(hub, canPartnerManage=False)
    assert code_of(body) == 400
    assert hub.call("{ tenants { nodes { id } } }")["data"]["tenants"]["nodes"] == []


def test_create_tenant_400_blank_name(hub: Hub) -> None:
    assert code_of(create_tenant(hub, name="   ")) == 400


def test_create_tenant_401(hub: Hub, ctx: ServiceContext, tenant: Account) -> None:
    assert code_of(create_tenant(hub, view_token(ctx, tenant))) == 401


def test_create_tenant_500(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    from tenantry.services import accounts

    monkeypatch.setattr(accounts, "create_account", lambda *a, **k: 1 / 0)
    assert code_of(create_tenant(hub)) == 500


# -- tenant, tenantUsage: 401, 404, 500 --------------------------------------------------------


@pytest.mark.parametrize("query", [samples.TENANT, samples.TENANT_USAGE_SCHEMA])
def test_reads_401_for_another_account(
    hub: Hub, ctx: ServiceContext, tenant: Account, query: str
) -> None:
    other = make_account(ctx, parent=hub.host)
    assert code_of(hub.call(query, {"tenantId": tenant.id}, token=view_token(ctx, other))) == 401


def test_usage_401_for_a_parent_without_partner_management(hub: Hub, ctx: ServiceContext) -> None:
    # The parent still sees the child as an account of its tree, but not its pixels or traffic.
    closed = make_account(
        ctx, parent=hub.host, can_partner_manage=False, admin_email="own@closed.example"
    )
    managed = make_account(ctx, parent=hub.host)
    assert code_of(hub.call(samples.TENANT_USAGE_SCHEMA, {"tenantId": closed.id})) == 401
    answer = hub.call(samples.TENANT_USAGE_SCHEMA, {"tenantId": managed.id})
    assert answer["data"]["tenantUsage"]["totalPixels"] == 0


@pytest.mark.parametrize("query", [samples.TENANT, samples.TENANT_USAGE_SCHEMA])
def test_reads_404_unknown_tenant(hub: Hub, query: str) -> None:
    assert code_of(hub.call(query, {"tenantId": "ZZZZZZZZ"})) == 404


def test_tenant_500(hub: Hub, tenant: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tenant_members, "tenant_members", lambda *a, **k: 1 / 0)
    body = hub.call(samples.TENANT, {"tenantId": tenant.id})
    assert code_of(body) == 500
    assert body["data"]["tenant"]["users"] is None


# -- updateTenant, deleteTenant: 400, 401, 500 -------------------------------------------------


def update(hub: Hub, token: str | None = None, **fields: Any) -> dict[str, Any]:
    return hub.call(samples.UPDATE_TENANT, {"input": fields}, token=token)


def test_update_tenant_400_bad_status(hub: Hub, ctx: ServiceContext, tenant: Account) -> None:
    assert code_of(update(hub, tenantId=tenant.id, status=7)) == 400
    with ctx.uow(readonly=True) as uow:
        assert int(uow.accounts.get(tenant.id).status) == 0


def test_update_tenant_401(hub: Hub, ctx: ServiceContext, tenant: Account) -> None:
    assert code_of(update(hub, view_token(ctx, tenant), tenantId=tenant.id, name="Mine")) == 401


def test_update_tenant_500(hub: Hub, tenant: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    from tenantry.services import accounts

    monkeypatch.setattr(accounts, "update_account", lambda *a, **k: 1 / 0)
    assert code_of(update(hub, tenantId=tenant.id, name="x")) == 500


def test_delete_tenant_400_malformed_id(hub: Hub) -> None:
    assert code_of(hub.call(samples.DELETE_TENANT, {"tenantId": "not an id!"})) == 400


def test_delete_tenant_401(hub: Hub, ctx: ServiceContext, tenant: Account) -> None:
    body = hub.call(samples.DELETE_TENANT, {"tenantId": tenant.id}, token=view_token(ctx, tenant))
    assert code_of(body) == 401
    with ctx.uow(readonly=True) as uow:
        assert uow.accounts.find(tenant.id) is not None


def test_delete_tenant_500(hub: Hub, tenant: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    from tenantry.services import accounts

    monkeypatch.setattr(accounts, "delete_account", lambda *a, **k: 1 / 0)
    assert code_of(hub.call(samples.DELETE_TENANT, {"tenantId": tenant.id})) == 500


# -- transport-level errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer tna_nope_nope"}, {"Authorization": "Basic abc"}],
)
def test_missing_or_bad_token_is_http_401(hub: Hub, headers: dict[str, str]) -> None:
    response = hub.client.post(
        "/hub/graphql/", json={"query": "{ tenants { nodes { id } } }"}, headers=headers
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == 401


def test_syntax_errors_are_400_in_the_body(hub: Hub) -> None:
    error = only_error(hub.call("{ tenants { nodes { id } "))
    assert error["extensions"]["code"] == 400
    assert error["extensions"]["type"] == "GRAPHQL_VALIDATION_FAILED"


def test_a_body_that_is_not_graphql_is_http_400(hub: Hub) -> None:
    response = hub.client.post(
        "/hub/graphql/",
        content=b"[1, 2]",
        headers={"Authorization": f"Bearer {hub.token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400


def test_lists_nested_in_lists_are_refused(hub: Hub, tenant: Account) -> None:
    # Each level multiplies the answer: 100 characters could ask for hundreds of megabytes.
    nested = "users { tenants { " * 5 + "id" + " } }" * 5
    deep = f'{{ tenant(tenantId: "{tenant.id}") {{ {nested} }} }}'
    error = only_error(hub.call(deep))
    assert error["extensions"]["code"] == 400
    assert error["message"] == "The query nests lists 4 deep; the limit is 3."
    cubed = "{ tenants(first: 500) { nodes { users { tenants { users { tenants { id } } } } } } }"
    assert "nests lists" in only_error(hub.call(cubed))["message"]


def test_three_levels_of_lists_are_fine(hub: Hub, tenant: Account) -> None:
    body = hub.call("{ tenants { nodes { users { roles { name } } } } }")
    assert "errors" not in body
    assert body["data"]["tenants"]["nodes"]


def test_many_lists_side_by_side_are_refused(hub: Hub) -> None:
    listing = "tenants(first: 500) { nodes { users { id } } }"
    wide = "{ " + " ".join(f"a{i}: {listing}" for i in range(13)) + " }"
    error = only_error(hub.call(wide))
    assert error["extensions"]["code"] == 400
    assert error["message"] == "The query selects more than 25 lists."


def test_many_changes_in_one_request_are_refused_and_none_is_made(
    hub: Hub, ctx: ServiceContext, tenant: Account
) -> None:
    invite = (
        'sendInvitation(input: {{email: "{email}", tenantId: "{tenant}", userType: ADVERTISER}})'
    )
    calls = " ".join(
        f"i{n}: " + invite.format(email=f"many{n}@example.com", tenant=tenant.id) for n in range(11)
    )
    error = only_error(hub.call(f"mutation {{ userMutations {{ {calls} }} }}"))
    assert error["extensions"]["code"] == 400
    assert error["message"] == "A request may make at most 10 changes."
    invited = {i.invitation.email for i in invitations.list_invitations(ctx, OPERATOR, tenant.id)}
    assert not {e for e in invited if e.startswith("many")}


def test_oversized_queries_are_refused(hub: Hub) -> None:
    huge = "{ " + " ".join(f"a{i}: tenants {{ hasNextPage }}" for i in range(2000)) + " }"
    error = only_error(hub.call(huge))
    assert error["extensions"]["code"] == 400


# -- control characters: 400, nothing stored ---------------------------------------------------

NEW_TENANT = {"name": "New", "canPartnerManage": True, "eventEnrichment": False}
LITERAL_NUL = """mutation {
  tenantMutations {
    createTenant(input: {name: "New\\u0000", canPartnerManage: true, eventEnrichment: false}) {
      tenant { id }
    }
  }
}"""


def test_a_control_character_in_variables_is_a_400_and_stores_nothing(
    hub: Hub, ctx: ServiceContext
) -> None:
    hub.call("{ __typename }")  # a token's first use is recorded; the next ones are not
    before = stored(ctx)
    response = hub.client.post(
        "/hub/graphql/",
        json={
            "query": samples.CREATE_TENANT,
            "variables": {"input": NEW_TENANT | {"name": "N\x00"}},
        },
        headers={"Authorization": f"Bearer {hub.token}"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {"message": describe("\x00"), "extensions": {"code": 400, "type": "BAD_REQUEST"}}
        ]
    }
    assert stored(ctx) == before


def test_a_control_character_in_a_string_literal_is_a_400_and_stores_nothing(
    hub: Hub, ctx: ServiceContext
) -> None:
    # GraphQL's own escape: JSON carries `\\u0000` (text), which GraphQL reads as NUL.
    hub.call("{ __typename }")
    before = stored(ctx)
    body = hub.call(LITERAL_NUL)
    error = only_error(body)
    assert error["message"] == describe("\x00")
    assert error["extensions"] == {"code": 400, "type": "GRAPHQL_VALIDATION_FAILED"}
    assert "data" not in body
    assert stored(ctx) == before


def test_tabs_newlines_and_backslashes_are_text_a_name_may_hold(hub: Hub) -> None:
    body = create_tenant(hub, name="Tab\tand\nnew line, \\u0000 and C:\\files")
    assert "errors" not in body, body
    tenant = body["data"]["tenantMutations"]["createTenant"]["tenant"]
    # The core folds white space in names; the backslashes stay text.
    assert tenant["name"] == "Tab and new line, \\u0000 and C:\\files"
