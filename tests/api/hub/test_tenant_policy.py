"""`tenantMutations.updateTenantPolicy` and `Tenant.policy` over HTTP: the policy changed and
read back, the members a stricter policy affects, defaults restored with null, and refusals
in this face's error format."""

from __future__ import annotations

from typing import Any

import pytest

from tenantry.services import accounts
from tenantry.services.context import ServiceContext

from factories import OPERATOR, make_account, make_member
from hub_support import Hub, only_error

UPDATE = """mutation ($input: UpdateTenantPolicyInput!) {
  tenantMutations {
    updateTenantPolicy(input: $input) {
      tenant { id policy { sso } }
      policy {
        multiAccountUsers twoFactorRequired sso invitationDays allowedEmailDomains sessionMinutes
      }
      affectedMembers { reason consequence count users { id email } }
      sessionsShortened
    }
  }
}"""
READ = """query ($tenantId: String!) {
  tenant(tenantId: $tenantId) {
    policy {
      multiAccountUsers twoFactorRequired sso invitationDays allowedEmailDomains sessionMinutes
    }
  }
}"""


def update(hub: Hub, **fields: Any) -> dict[str, Any]:
    return hub.call(UPDATE, {"input": fields})


def test_the_policy_is_changed_and_read_back(hub: Hub, ctx: ServiceContext) -> None:
    tenant = make_account(ctx, parent=hub.host)
    body = update(
        hub,
        tenantId=tenant.id,
        multiAccountUsers=False,
        twoFactorRequired=True,
        sso="REQUIRED",
        invitationDays=14,
        allowedEmailDomains=["Example.com", "bücher.example"],
        sessionMinutes=60,
    )
    assert "errors" not in body, body
    answer = body["data"]["tenantMutations"]["updateTenantPolicy"]
    policy = {
        "multiAccountUsers": False,
        "twoFactorRequired": True,
        "sso": "REQUIRED",
        "invitationDays": 14,
        "allowedEmailDomains": ["example.com", "xn--bcher-kva.example"],
        "sessionMinutes": 60,
    }
    assert answer["policy"] == policy
    assert answer["tenant"] == {"id": tenant.id, "policy": {"sso": "REQUIRED"}}
    assert answer["affectedMembers"] == []
    assert answer["sessionsShortened"] == 0
    read = hub.call(READ, {"tenantId": tenant.id})
    assert read == {"data": {"tenant": {"policy": policy}}}
    stored = accounts.get_account(ctx, OPERATOR, tenant.id)
    assert (stored.sso_enabled, stored.sso_required, stored.two_factor_required) == (
        True,
        True,
        True,
    )


def test_left_out_fields_stay_and_null_restores_the_default(hub: Hub, ctx: ServiceContext) -> None:
    tenant = make_account(ctx, parent=hub.host)
    update(
        hub, tenantId=tenant.id, invitationDays=3, sessionMinutes=30, allowedEmailDomains=["a.io"]
    )
    body = update(hub, tenantId=tenant.id, twoFactorRequired=True)
    policy = body["data"]["tenantMutations"]["updateTenantPolicy"]["policy"]
    assert (policy["invitationDays"], policy["sessionMinutes"]) == (3, 30)
    assert policy["allowedEmailDomains"] == ["a.io"]
    body = update(
        hub, tenantId=tenant.id, invitationDays=None, sessionMinutes=None, allowedEmailDomains=None
    )
    policy = body["data"]["tenantMutations"]["updateTenantPolicy"]["policy"]
    assert (policy["invitationDays"], policy["sessionMinutes"]) == (None, None)
    assert policy["allowedEmailDomains"] == []
    assert policy["twoFactorRequired"] is True


def test_the_answer_names_the_members_affected(hub: Hub, ctx: ServiceContext) -> None:
    tenant = make_account(ctx, parent=hub.host)
    other = make_account(ctx, parent=hub.host)
    both = make_member(ctx, tenant, role="view", email="both@example.com")
    make_member(ctx, other, role="view", email=both.email)
    body = update(hub, tenantId=tenant.id, multiAccountUsers=False, twoFactorRequired=True)
    affected = body["data"]["tenantMutations"]["updateTenantPolicy"]["affectedMembers"]
    assert [(a["reason"], a["count"], a["users"]) for a in affected] == [
        ("WITHOUT_TWO_FACTOR", 1, [{"id": both.id, "email": both.email}]),
        ("IN_OTHER_TENANTS", 1, [{"id": both.id, "email": both.email}]),
    ]
    assert affected[0]["consequence"].endswith("must set one up at their next sign-in.")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"invitationDays": 0}, "invitation_days"),
        ({"sessionMinutes": 100000}, "session_minutes"),
        ({"allowedEmailDomains": ["not a domain"]}, "allowed_email_domains"),
    ],
)
def test_bad_values_are_400_and_change_nothing(
    hub: Hub, ctx: ServiceContext, fields: dict[str, Any], field: str
) -> None:
    tenant = make_account(ctx, parent=hub.host)
    error = only_error(update(hub, tenantId=tenant.id, twoFactorRequired=True, **fields))
    assert error["extensions"]["code"] == 400
    assert error["extensions"]["field"] == field
    assert not accounts.get_account(ctx, OPERATOR, tenant.id).two_factor_required


def test_refusals_in_the_face_format(hub: Hub, ctx: ServiceContext) -> None:
    assert only_error(update(hub, tenantId="nope"))["extensions"]["code"] == 400
    assert only_error(update(hub, tenantId="zzzzzzzz"))["extensions"]["code"] == 404
    elsewhere = make_account(ctx)  # another top-level account: out of the host's reach
    error = only_error(update(hub, tenantId=elsewhere.id, twoFactorRequired=True))
    assert error["extensions"]["code"] == 401
    assert not accounts.get_account(ctx, OPERATOR, elsewhere.id).two_factor_required
    unknown = hub.call(UPDATE, {"input": {"tenantId": elsewhere.id, "sso": "SOMETIMES"}})
    assert only_error(unknown)["extensions"]["code"] == 400


ADD = """mutation ($input: AddUserWithRoleInput!) {
  userMutations { addUserWithRole(input: $input) { user { email } } }
}"""


def test_allowed_domains_refuse_new_members_with_a_409(hub: Hub, ctx: ServiceContext) -> None:
    tenant = make_account(ctx, parent=hub.host)
    update(hub, tenantId=tenant.id, allowedEmailDomains=["example.com"])
    role = f"advertiser-view-{tenant.id}"
    refused = hub.call(ADD, {"input": {"email": "ann@elsewhere.example", "roleName": role}})
    error = only_error(refused)
    assert error["extensions"]["code"] == 409
    assert error["extensions"]["reason"] == "email_domain_not_allowed"
    assert error["message"].endswith("only accepts addresses at example.com.")
    added = hub.call(ADD, {"input": {"email": "ann@example.com", "roleName": role}})
    assert "errors" not in added, added
