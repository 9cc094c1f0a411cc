"""Every sample request of the CAPIG documents, replayed verbatim: the answers have the samples'
shape and values wherever those are not ids or tokens.

The printed samples have slips, kept visible here: the sendInvitation answer lacks its outer
braces, the createTenant answer lists fields the request did not select, and the tenantUsage
answer leaves out a field its request selected. A GraphQL server answers exactly the selection,
so those answers are compared with the selection.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tenantry.domain.accounts import AccountKind
from tenantry.services import gateway_pixels, members
from tenantry.services.context import ServiceContext
from tenantry.services.gateway_pixels import PixelSetup
from tenantry.services.members import NewMember

import samples
from factories import OPERATOR, make_account, make_member
from hub_support import Hub

LINK = re.compile(r"^http://testserver/auth/verify/\?token=[A-Za-z0-9_-]{16,}&et=inv&email=(.+)$")


def test_add_user_with_role(hub: Hub, ctx: ServiceContext) -> None:
    tenant = make_account(ctx, parent=hub.host, name="Test Account")
    body = hub.call(
        samples.ADD_USER_WITH_ROLE,
        {
            "addUserWithRoleInput": {
                "email": "tempUser1@testaccount.com",
                "roleName": f"advertiser-manage-{tenant.id}",
            }
        },
    )
    result = body["data"]["userMutations"]["addUserWithRole"]
    link = result["invitationLink"]
    assert LINK.match(link), link
    assert parse_qs(urlsplit(link).query)["email"] == ["tempUser1@testaccount.com"]
    user_id = result["user"]["id"]
    assert re.fullmatch(r"[0-9a-f-]{36}", user_id)
    assert body == {
        "data": {
            "userMutations": {
                "addUserWithRole": {
                    "userAlreadyExist": False,
                    "invitationLink": link,
                    "user": {
                        "id": user_id,
                        "email": "tempuser1@testaccount.com",
                        "status": 2,
                        "roles": [
                            {"name": f"advertiser-manage-{tenant.id}", "displayName": "manage"}
                        ],
                    },
                }
            }
        }
    }


def test_add_user_with_role_schema_block(hub: Hub, ctx: ServiceContext) -> None:
    tenant = make_account(ctx, parent=hub.host)
    body = hub.call(
        samples.ADD_USER_WITH_ROLE_SCHEMA,
        {"addUserWithRoleInput": {"email": "a@b.co", "roleName": f"advertiser-admin-{tenant.id}"}},
    )
    user = body["data"]["userMutations"]["addUserWithRole"]["user"]
    assert "errors" not in body
    # API accounts are never "self"; a pending admin is not an active last admin.
    assert user["isSelf"] is False
    assert user["canBeDeleted"] is True
    assert user["defaultTenantId"] == tenant.id


def test_change_role_for_user(hub: Hub, ctx: ServiceContext) -> None:
    tenant = make_account(ctx, parent=hub.host)
    added = members.add_member(
        ctx, OPERATOR, tenant.id, NewMember("tempuser1@testaccount.com", "admin")
    )
    body = hub.call(
        samples.CHANGE_ROLE_FOR_USER,
        {
            "changeRoleForUserInput": {
                "userId": added.user.id,
                "roleToRevoke": f"advertiser-admin-{tenant.id}",
                "roleToAdd": "agency-admin",
            }
        },
    )
    assert body == {
        "data": {
            "userMutations": {
                "changeRoleForUser": {
                    "user": {
                        "id": added.user.id,
                        "email": "tempuser1@testaccount.com",
                        "roles": [{"name": "agency-admin", "displayName": "admin"}],
                    }
                }
            }
        }
    }


def test_send_invitation(hub: Hub, ctx: ServiceContext) -> None:
    tenant = make_account(ctx, parent=hub.host)
    members.add_member(ctx, OPERATOR, tenant.id, NewMember("tempuser1@testaccount.com", "manage"))
    body = hub.call(
        samples.SEND_INVITATION,
        {
            "sendInvitationInput": {
                "email": "tempuser1@testaccount.com",
                "tenantId": tenant.id,
                "userType": "ADVERTISER",
            }
        },
    )
    link = body["data"]["userMutations"]["sendInvitation"]
    assert LINK.match(link), link
    assert body == {"data": {"userMutations": {"sendInvitation": link}}}


def test_create_tenant(hub: Hub) -> None:
    body = hub.call(
        samples.CREATE_TENANT,
        {
            "input": {
                "name": "TestAdvertiserViaAPI",
                "canPartnerManage": True,
                "eventEnrichment": True,
            }
        },
    )
    tenant = body["data"]["tenantMutations"]["createTenant"]["tenant"]
    assert re.fullmatch(r"[A-Za-z0-9]{8}", tenant["id"])
    assert body == {
        "data": {
            "tenantMutations": {
                "createTenant": {
                    "tenant": {
                        "id": tenant["id"],
                        "name": "TestAdvertiserViaAPI",
                        "status": 0,
                        "canPartnerManage": True,
                    }
                }
            }
        }
    }


def test_create_tenant_schema_block(hub: Hub) -> None:
    body = hub.call(
        samples.CREATE_TENANT_SCHEMA,
        {
            "input": {
                "name": "Managed with its own admin",
                "canPartnerManage": True,
                "adminEmail": "Owner@Example.com",
                "eventEnrichment": False,
            }
        },
    )
    assert "errors" not in body, body
    tenant = body["data"]["tenantMutations"]["createTenant"]["tenant"]
    [admin] = tenant["users"]
    assert admin["email"] == "owner@example.com"
    assert admin["roles"] == [{"name": f"advertiser-admin-{tenant['id']}", "displayName": "admin"}]
    assert admin["tenants"][0]["id"] == tenant["id"]
    assert {"name": f"advertiser-view-{tenant['id']}", "displayName": "view"} in tenant[
        "availableRoles"
    ]
    assert tenant["tenantUsage"]["totalPixels"] == 0
    # The "...InUI" flags describe the caller, and an API account has no UI.
    assert tenant["canEditTenantSettingsInUI"] is False
    assert tenant["canViewTenantInUI"] is False
    assert tenant["canEditTenantUsersInUI"] is False


def test_a_tenant_its_partner_may_not_manage_hides_its_users(hub: Hub) -> None:
    body = hub.call(
        samples.CREATE_TENANT_SCHEMA,
        {
            "input": {
                "name": "Managed elsewhere",
                "canPartnerManage": False,
                "adminEmail": "owner@example.com",
                "eventEnrichment": False,
            }
        },
    )
    tenant = body["data"]["tenantMutations"]["createTenant"]["tenant"]
    assert tenant["name"] == "Managed elsewhere"
    assert tenant["users"] is None
    assert body["errors"][0]["path"][-1] == "users"
    assert body["errors"][0]["extensions"]["code"] == 401


def test_tenant(hub: Hub, ctx: ServiceContext) -> None:
    tenant = make_account(ctx, parent=hub.host, name="Test Account")
    user = make_member(ctx, tenant, role="manage", email="tempuser@test.com", active=False)
    body = hub.call(samples.TENANT, {"tenantId": tenant.id})
    assert body == {
        "data": {
            "tenant": {
                "id": tenant.id,
                "name": "Test Account",
                "users": [
                    {
                        "id": user.id,
                        "email": "tempuser@test.com",
                        "roles": [
                            {"name": f"advertiser-manage-{tenant.id}", "displayName": "manage"}
                        ],
                    }
                ],
            }
        }
    }


def test_tenant_schema_block(hub: Hub, ctx: ServiceContext) -> None:
    tenant = make_account(ctx, parent=hub.host, name="Test Account")
    make_member(ctx, tenant, role="admin")
    body = hub.call(samples.TENANT_SCHEMA, {"tenantId": tenant.id})
    assert "errors" not in body, body
    data = body["data"]["tenant"]
    assert data["status"] == 0
    assert data["users"][0]["canBeDeleted"] is False  # the only active admin
    assert data["tenantUsage"]["tenantUsageByTraffic"]["totalEventsReceived"] == 0


def test_update_tenant(hub: Hub, ctx: ServiceContext) -> None:
    tenant = make_account(ctx, parent=hub.host, name="Old name")
    body = hub.call(
        samples.UPDATE_TENANT,
        {
            "input": {
                "tenantId": tenant.id,
                "name": "Test Account Name Update",
                "status": 0,
                "canPartnerManage": True,
            }
        },
    )
    assert body == {
        "data": {
            "tenantMutations": {
                "updateTenant": {
                    "tenant": {
                        "id": tenant.id,
                        "name": "Test Account Name Update",
                        "status": 0,
                        "canPartnerManage": True,
                    }
                }
            }
        }
    }


def test_delete_tenant(hub: Hub, ctx: ServiceContext) -> None:
    tenant = make_account(ctx, parent=hub.host)
    body = hub.call(samples.DELETE_TENANT, {"tenantId": tenant.id})
    assert body == {"data": {"tenantMutations": {"deleteTenant": True}}}
    with ctx.uow(readonly=True) as uow:
        assert uow.accounts.find(tenant.id) is None


def _four_pixels_three_active(ctx: ServiceContext, tenant_id: str) -> None:
    statuses = [
        gateway_pixels.setup_pixel(
            ctx,
            OPERATOR,
            tenant_id,
            PixelSetup(
                pixel_id=f"55500{n}",
                business_id="1001",
                access_token=f"EAAB-secret-{n}",
                external_id=f"ext-{n}",
                name=f"Pixel {n}",
            ),
        )
        for n in range(4)
    ]
    gateway_pixels.set_events_enabled(ctx, OPERATOR, tenant_id, statuses[0].pixel.id, False)


def test_tenant_usage(hub: Hub, ctx: ServiceContext) -> None:
    tenant = make_account(ctx, parent=hub.host, kind=AccountKind.ADVERTISER)
    _four_pixels_three_active(ctx, tenant.id)
    body = hub.call(samples.TENANT_USAGE.replace("IaoreXfj", tenant.id))
    assert body == {
        "data": {
            "tenantUsage": {"totalActivePixels": 3, "totalInactivePixels": 1, "totalPixels": 4}
        }
    }


def test_tenant_usage_schema_block(hub: Hub, ctx: ServiceContext) -> None:
    tenant = make_account(ctx, parent=hub.host)
    _four_pixels_three_active(ctx, tenant.id)
    body = hub.call(samples.TENANT_USAGE_SCHEMA, {"tenantId": tenant.id})
    usage = body["data"]["tenantUsage"]
    assert usage["totalPixels"] == 4
    assert usage["totalInactivePixels"] == 1
    assert usage["totalPipelines"] == 4
    assert usage["tenantUsageByTraffic"] == {"totalEventsReceived": 0, "totalPixelsWithTraffic": 0}


@pytest.mark.parametrize("path", ["/hub/graphql/", "/hub/graphql"])
def test_the_trailing_slash_is_optional(hub: Hub, path: str) -> None:
    response = hub.client.post(
        path,
        json={"query": "{ tenants { nodes { id } } }"},
        headers={"Authorization": f"Bearer {hub.token}"},
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"tenants": {"nodes": []}}}
