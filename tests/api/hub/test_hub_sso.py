"""Single sign-on over /hub/graphql/: set, read (never the secret) and remove an account's
identity provider, through the one policy."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from tenantry.domain.errors import Conflict
from tenantry.services import sso_config
from tenantry.services.context import ServiceContext
from tenantry.services.sso_config import ProviderSettings

from factories import OPERATOR, make_account
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


def test_only_the_operator_assigns_domains(hub: Hub, ctx: ServiceContext) -> None:
    tenant = make_account(ctx, parent=hub.host)
    wanted = {
        "tenantId": tenant.id,
        "issuer": "https://login.example.com/realms/acme",
        "clientId": "tenantry",
        "clientSecret": "very-secret-value",
    }
    for domains in (["victimcorp.test", "gmail.com"], ["acme.example"]):
        refused = only_error(hub.call(SET, {"input": {**wanted, "domains": domains}}))
        assert refused["message"] == "Only the operator assigns e-mail domains to a provider."
    made = hub.call(SET, {"input": wanted})["data"]["tenantMutations"]["setSingleSignOn"]
    assert made["singleSignOn"]["domains"] == []
    sso_config.set_identity_provider(
        ctx,
        OPERATOR,
        tenant.id,
        ProviderSettings(
            issuer=wanted["issuer"],
            client_id="tenantry",
            client_secret=None,
            domains=["acme.example"],
        ),
    )
    for domains in ([], ["acme.example", "gmail.com"]):
        refused = only_error(hub.call(SET, {"input": {**wanted, "domains": domains}}))
        assert refused["message"] == "Only the operator assigns e-mail domains to a provider."
    same = hub.call(SET, {"input": {**wanted, "domains": ["ACME.example"], "clientId": "other"}})
    assert same["data"]["tenantMutations"]["setSingleSignOn"]["singleSignOn"]["clientId"] == "other"
    read = hub.call(READ, {"id": tenant.id})
    assert read["data"]["singleSignOn"]["domains"] == ["acme.example"]


def test_set_read_and_remove(hub: Hub, ctx: ServiceContext) -> None:
    tenant = make_account(ctx, parent=hub.host)
    wanted = {
        "tenantId": tenant.id,
        "issuer": "https://login.example.com/realms/acme",
        "clientId": "tenantry",
        "clientSecret": "very-secret-value",
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
        "domains": [],
        "jitRoleName": f"advertiser-view-{tenant.id}",
        "requireVerifiedEmail": False,
    }
    sso_config.set_identity_provider(
        ctx,
        OPERATOR,
        tenant.id,
        ProviderSettings(
            issuer=wanted["issuer"],
            client_id="tenantry",
            client_secret=None,
            domains=["acme.example"],
        ),
    )
    read = hub.call(READ, {"id": tenant.id})
    assert read["data"]["singleSignOn"]["domains"] == ["acme.example"]
    assert "very-secret-value" not in str(read)

    # A change without the secret keeps it; another tenant cannot take the domain.
    kept = hub.call(SET, {"input": {**wanted, "clientSecret": None, "jitRoleName": None}})
    assert kept["data"]["tenantMutations"]["setSingleSignOn"]["singleSignOn"]["jitRoleName"] is None
    other = make_account(ctx, parent=hub.host)
    with pytest.raises(Conflict):
        sso_config.set_identity_provider(
            ctx,
            OPERATOR,
            other.id,
            ProviderSettings(
                issuer=wanted["issuer"],
                client_id="x",
                client_secret="secret-value",
                domains=["acme.example"],
            ),
        )
    bad = only_error(hub.call(SET, {"input": {**wanted, "issuer": "ftp://x"}}))
    assert bad["extensions"]["code"] == 400

    assert hub.call(REMOVE, {"id": tenant.id})["data"]["tenantMutations"]["removeSingleSignOn"]
    assert hub.call(READ, {"id": tenant.id})["data"]["singleSignOn"] is None
    gone = only_error(hub.call(REMOVE, {"id": tenant.id}))
    assert gone["extensions"]["code"] == 404
