"""Single sign-on over /hub/graphql/: set, read (never the secret) and remove an account's
identity provider, through the one policy."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from tenantry.services.context import ServiceContext

from factories import make_account
from hub_support import Hub, only_error

SET = """mutation set($input: SetSingleSignOnInput!) {
  tenantMutations { setSingleSignOn(input: $input) {
    singleSignOn { tenantId issuer clientId scopes domains jitRoleName requireVerifiedEmail }
  } }
}"""
READ = """query read($id: String!) {
  singleSignOn(tenantId: $id) { issuer domains jitRoleName requireVerifiedEmail }
}"""
REMOVE = (
    """mutation remove($id: String!) { tenantMutations { removeSingleSignOn(tenantId: $id) } }"""
)


@pytest.fixture(autouse=True)
def secret_key(ctx: ServiceContext) -> None:
    ctx.settings.secret_key = SecretStr("k" * 40)


def test_set_read_and_remove(hub: Hub, ctx: ServiceContext) -> None:
    tenant = make_account(ctx, parent=hub.host)
    wanted = {
        "tenantId": tenant.id,
        "issuer": "https://login.example.com/realms/acme",
        "clientId": "tenantry",
        "clientSecret": "very-secret-value",
        "domains": ["acme.example"],
        "jitRoleName": f"advertiser-view-{tenant.id}",
        "requireVerifiedEmail": False,
    }
    body = hub.call(SET, {"input": wanted})
    assert "errors" not in body, body
    made = body["data"]["tenantMutations"]["setSingleSignOn"]["singleSignOn"]
    assert made == {
        "tenantId": tenant.id,
        "issuer": "https://login.example.com/realms/acme",
        "clientId": "tenantry",
        "scopes": ["openid", "email", "profile"],
        "domains": ["acme.example"],
        "jitRoleName": f"advertiser-view-{tenant.id}",
        "requireVerifiedEmail": False,
    }
    read = hub.call(READ, {"id": tenant.id})
    assert read["data"]["singleSignOn"]["domains"] == ["acme.example"]
    assert "very-secret-value" not in str(read)

    # A change without the secret keeps it; another tenant cannot take the domain.
    kept = hub.call(SET, {"input": {**wanted, "clientSecret": None, "jitRoleName": None}})
    assert kept["data"]["tenantMutations"]["setSingleSignOn"]["singleSignOn"]["jitRoleName"] is None
    other = make_account(ctx, parent=hub.host)
    taken = only_error(hub.call(SET, {"input": {**wanted, "tenantId": other.id}}))
    assert taken["extensions"]["code"] == 409
    bad = only_error(hub.call(SET, {"input": {**wanted, "issuer": "ftp://x"}}))
    assert bad["extensions"]["code"] == 400

    assert hub.call(REMOVE, {"id": tenant.id})["data"]["tenantMutations"]["removeSingleSignOn"]
    assert hub.call(READ, {"id": tenant.id})["data"]["singleSignOn"] is None
    gone = only_error(hub.call(REMOVE, {"id": tenant.id}))
    assert gone["extensions"]["code"] == 404
