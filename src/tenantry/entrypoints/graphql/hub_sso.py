"""/hub/graphql/'s single sign-on fields: an account's identity provider, read without its
secret, set and removed (`services.sso_config`)."""

from __future__ import annotations

import re
from typing import Any

from graphql import GraphQLResolveInfo

from tenantry.domain.errors import ErrorCode, InvalidInput
from tenantry.domain.ids import is_account_id
from tenantry.entrypoints.graphql.roles import parse_role_name, role_view
from tenantry.services import accounts, sso_config
from tenantry.services.sso_config import ProviderSettings, ProviderView

Info = GraphQLResolveInfo[Any]
_ROLE_NAME = re.compile(r"^(agency|advertiser)-", re.I)


def _tenant(tenant_id: str) -> str:
    if not is_account_id(tenant_id):
        raise InvalidInput(ErrorCode.INVALID_INPUT, "Invalid tenantId.", field="tenantId")
    return tenant_id


def _view(info: Info, view: ProviderView) -> dict[str, Any]:
    request = info.context
    role_name = view.jit_role_key
    predefined = request.ctx.roles.find(role_name) if role_name is not None else None
    if predefined is not None:
        account = accounts.get_account(request.ctx, request.actor, view.account_id)
        role_name = role_view(request.ctx.roles, account, predefined)["name"]
    return {
        "tenantId": view.account_id,
        "issuer": view.issuer,
        "clientId": view.client_id,
        "scopes": list(view.scopes),
        "domains": list(view.domains),
        "jitRoleName": role_name,
        "requireVerifiedEmail": view.require_verified_email,
        "updatedAt": view.updated_at.isoformat(),
    }


def resolve_single_sign_on(_: Any, info: Info, tenantId: str) -> Any:
    request = info.context
    view = sso_config.identity_provider(request.ctx, request.actor, _tenant(tenantId))
    return _view(info, view) if view is not None else None


def resolve_set_single_sign_on(_: Any, info: Info, input: dict[str, Any]) -> dict[str, Any]:
    request = info.context
    tenant_id = _tenant(input["tenantId"])
    role = input.get("jitRoleName")
    if role and _ROLE_NAME.match(role.strip()):
        _, role = parse_role_name(request.ctx.roles, role)
    view = sso_config.set_identity_provider(
        request.ctx,
        request.actor,
        tenant_id,
        ProviderSettings(
            issuer=input["issuer"],
            client_id=input["clientId"],
            client_secret=input.get("clientSecret"),
            domains=input["domains"],
            scopes=input.get("scopes"),
            jit_role_key=role or None,
            require_verified_email=input.get("requireVerifiedEmail", True) is not False,
        ),
    )
    return {"singleSignOn": _view(info, view)}


def resolve_remove_single_sign_on(_: Any, info: Info, tenantId: str) -> bool:
    request = info.context
    sso_config.remove_identity_provider(request.ctx, request.actor, _tenant(tenantId))
    return True


def add_sso_resolvers(resolvers: dict[str, dict[str, Any]]) -> None:
    resolvers["Query"]["singleSignOn"] = resolve_single_sign_on
    resolvers["TenantMutations"]["setSingleSignOn"] = resolve_set_single_sign_on
    resolvers["TenantMutations"]["removeSingleSignOn"] = resolve_remove_single_sign_on
