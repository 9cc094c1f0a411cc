"""/hub/graphql/: resolvers over the services, bound to `hub.graphql`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from graphql import GraphQLResolveInfo

from tenantry.domain.accounts import Account, AccountKind
from tenantry.domain.errors import ErrorCode, InvalidInput
from tenantry.domain.ids import is_account_id
from tenantry.domain.roles import Need
from tenantry.domain.users import User
from tenantry.entrypoints.graphql import hub_pages
from tenantry.entrypoints.graphql.endpoint import graphql_app
from tenantry.entrypoints.graphql.engine import GraphQLEngine, load_schema
from tenantry.entrypoints.graphql.hub_audit import resolve_audit_events
from tenantry.entrypoints.graphql.hub_loaders import HubLoaders
from tenantry.entrypoints.graphql.hub_policy import policy_changes, policy_view, update_view
from tenantry.entrypoints.graphql.hub_sso import add_sso_resolvers
from tenantry.entrypoints.graphql.hub_views import ingress_view, usage_view
from tenantry.entrypoints.graphql.hub_webhooks import WEBHOOK_RESOLVERS
from tenantry.entrypoints.graphql.paging import page_size
from tenantry.entrypoints.graphql.roles import parse_role_name, role_view
from tenantry.services import account_policy, accounts, directory, gateway, invitations, members
from tenantry.services.accounts import AccountChanges
from tenantry.services.context import Actor, ServiceContext
from tenantry.services.delivery import invitation_link
from tenantry.services.member_query import UserFacts
from tenantry.services.members import NewMember, RoleRef

SDL = Path(__file__).with_name("hub.graphql")
FACE = "graphql"
HUB_PATH = "/hub/graphql"


@dataclass(slots=True)
class HubRequest:
    ctx: ServiceContext
    actor: Actor
    loaders: HubLoaders
    selected: frozenset[str] = frozenset()
    """The paths the document selects without arguments (`selections.plain_selections`)."""


Info = GraphQLResolveInfo[HubRequest]


@dataclass(slots=True)
class TenantNode:
    account: Account


@dataclass(slots=True)
class UserNode:
    user: User | UserFacts


def _request(info: Info) -> HubRequest:
    return info.context


def _tenant_of(request: HubRequest, tenant_id: str | None) -> str:
    """A null tenant id means the partner (host) account, as the documents say."""
    return _checked(tenant_id) if tenant_id else request.loaders.host_account_id()


def _checked(tenant_id: str) -> str:
    """Tenant ids are 8 letters and digits; anything else is invalid input, not a lookup."""
    if not is_account_id(tenant_id):
        raise InvalidInput(ErrorCode.INVALID_INPUT, "Invalid tenantId.", field="tenantId")
    return tenant_id


# -- queries -----------------------------------------------------------------------------------


def resolve_tenant(_: Any, info: Info, tenantId: str) -> TenantNode:
    request, tenant_id = _request(info), _checked(tenantId)
    if "tenant.users" in request.selected:
        request.loaders.read_ahead_users(tenant_id)
    return TenantNode(request.loaders.account(tenant_id))


def resolve_tenant_usage(_: Any, info: Info, tenantId: str) -> dict[str, Any]:
    request = _request(info)
    return usage_view(gateway.tenant_usage(request.ctx, request.actor, _checked(tenantId)))


def resolve_tenants(
    _: Any,
    info: Info,
    first: int | None = 50,
    after: str | None = None,
    search: str | None = None,
) -> dict[str, Any]:
    first = page_size(first, default=50, most=500)
    request = _request(info)
    found = accounts.list_accounts(
        request.ctx,
        request.actor,
        kind=AccountKind.ADVERTISER,
        search=search,
        limit=first + 1,
        after=after,
    )
    page = [TenantNode(request.loaders.remember(a)) for a in found[:first]]
    return {
        "nodes": page,
        "hasNextPage": len(found) > first,
        "endCursor": page[-1].account.id if len(found) > first else None,
    }


def resolve_user(_: Any, info: Info, userId: str) -> UserNode:
    request = _request(info)
    user, placements = directory.visible_user(request.ctx, request.actor, userId)
    request.loaders.prime_placements(user.id, placements)
    return UserNode(user)


def resolve_ingress_domain(_: Any, info: Info, tenantId: str) -> dict[str, Any] | None:
    request = _request(info)
    found = gateway.get_ingress_domain(request.ctx, request.actor, _checked(tenantId))
    return None if found is None else ingress_view(request.loaders.account(tenantId), found)


def resolve_upsert_ingress_domain(
    _: Any,
    info: Info,
    input: dict[str, Any],
    tenantId: str,
) -> dict[str, Any]:
    request = _request(info)
    saved = gateway.upsert_ingress_domain(
        request.ctx,
        request.actor,
        _checked(tenantId),
        ingress=input["ingress"],
        target_domain=input["targetDomain"],
    )
    return ingress_view(request.loaders.account(tenantId), saved)


# -- user mutations ----------------------------------------------------------------------------


def resolve_add_user_with_role(_: Any, info: Info, input: dict[str, Any]) -> dict[str, Any]:
    request = _request(info)
    ctx, actor = request.ctx, request.actor
    tenant_id, role_key = parse_role_name(ctx.roles, input["roleName"])
    account_id = _tenant_of(request, tenant_id)
    added = members.add_member(ctx, actor, account_id, NewMember(input["email"], role_key))
    # The link carries the address as the caller wrote it, as the documented sample does.
    link = (
        invitation_link(ctx, added.invitation_token, input["email"].strip())
        if added.invitation_token
        else None
    )
    return {
        "userAlreadyExist": added.user_already_existed,
        "invitationLink": link,
        "user": UserNode(added.user),
    }


def resolve_change_role_for_user(
    _: Any,
    info: Info,
    input: dict[str, Any],
) -> dict[str, Any]:
    request = _request(info)
    user = members.reassign_role(
        request.ctx,
        request.actor,
        input["userId"],
        revoke=_role_ref(request, input.get("roleToRevoke")),
        add=_role_ref(request, input.get("roleToAdd")),
    )
    return {"user": UserNode(user)}


def _role_ref(request: HubRequest, name: str | None) -> RoleRef | None:
    if not name:
        return None
    tenant_id, role_key = parse_role_name(request.ctx.roles, name)
    return RoleRef(_tenant_of(request, tenant_id), role_key)


def resolve_send_invitation(_: Any, info: Info, input: dict[str, Any]) -> str:
    request = _request(info)
    tenant_id, user_type = input.get("tenantId"), input["userType"]
    if user_type == "AGENCY" and tenant_id:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT, "Partner (AGENCY) users take no tenantId.", field="tenantId"
        )
    if user_type == "ADVERTISER" and not tenant_id:
        raise InvalidInput(
            ErrorCode.INVALID_INPUT, "ADVERTISER users need a tenantId.", field="tenantId"
        )
    account_id = _tenant_of(request, tenant_id)
    token = invitations.renew_invitation(request.ctx, request.actor, account_id, input["email"])
    return invitation_link(request.ctx, token, input["email"].strip().lower())


def resolve_remove_user_from_tenant(_: Any, info: Info, input: dict[str, Any]) -> bool:
    request = _request(info)
    account_id = _tenant_of(request, input.get("tenantId"))
    members.remove_member(request.ctx, request.actor, account_id, input["userId"])
    return True


def _set_active(info: Info, data: dict[str, Any], active: bool) -> UserNode:
    request = _request(info)
    account_id = _tenant_of(request, data.get("tenantId"))
    user = members.set_user_active(request.ctx, request.actor, account_id, data["userId"], active)
    return UserNode(user)


def resolve_deactivate_user(_: Any, info: Info, input: dict[str, Any]) -> UserNode:
    return _set_active(info, input, active=False)


def resolve_reactivate_user(_: Any, info: Info, input: dict[str, Any]) -> UserNode:
    return _set_active(info, input, active=True)


def resolve_revoke_invitation(_: Any, info: Info, input: dict[str, Any]) -> bool:
    request = _request(info)
    account_id = _tenant_of(request, input.get("tenantId"))
    return invitations.revoke_invitation(request.ctx, request.actor, account_id, input["email"]) > 0


# -- tenant mutations --------------------------------------------------------------------------


def resolve_create_tenant(_: Any, info: Info, input: dict[str, Any]) -> dict[str, Any]:
    request = _request(info)
    account = accounts.create_account(
        request.ctx,
        request.actor,
        name=input["name"],
        kind=AccountKind.ADVERTISER,
        parent_id=request.loaders.host_account_id(),
        can_partner_manage=input["canPartnerManage"],
        event_enrichment=input["eventEnrichment"],
        admin_email=input.get("adminEmail"),
    )
    return {"tenant": TenantNode(request.loaders.remember(account))}


def resolve_update_tenant(_: Any, info: Info, input: dict[str, Any]) -> dict[str, Any]:
    request = _request(info)
    account = accounts.update_account(
        request.ctx,
        request.actor,
        _checked(input["tenantId"]),
        AccountChanges(
            name=input.get("name"),
            status=input.get("status"),
            can_partner_manage=input.get("canPartnerManage"),
        ),
    )
    request.loaders.replace(account)
    return {"tenant": TenantNode(account)}


def resolve_transfer_tenant_ownership(_: Any, info: Info, input: dict[str, Any]) -> dict[str, Any]:
    request = _request(info)
    account, _ = accounts.transfer_ownership(
        request.ctx, request.actor, _checked(input["tenantId"]), input["userId"]
    )
    request.loaders.replace(account)
    return {"tenant": TenantNode(account)}


def resolve_update_tenant_policy(_: Any, info: Info, input: dict[str, Any]) -> dict[str, Any]:
    request = _request(info)
    changes = policy_changes(input)
    update = account_policy.update_account_policy(
        request.ctx, request.actor, _checked(input["tenantId"]), changes
    )
    request.loaders.replace(update.account)
    return update_view(update, TenantNode(update.account))


def resolve_delete_tenant(_: Any, info: Info, tenantId: str) -> bool:
    request = _request(info)
    accounts.delete_account(request.ctx, request.actor, _checked(tenantId))
    return True


# -- object fields -----------------------------------------------------------------------------


def _tenant_users(
    node: TenantNode, info: Info, first: int | None = None, after: str | None = None
) -> list[UserNode]:
    found = hub_pages.tenant_users(_request(info).loaders, node.account.id, first, after)
    return [UserNode(user) for user in found]


def _tenant_users_connection(
    node: TenantNode, info: Info, first: int | None = None, after: str | None = None
) -> dict[str, Any]:
    page = hub_pages.users_page(_request(info).loaders, node.account.id, first, after)
    return {"nodes": [UserNode(m.user) for m in page.items], **hub_pages.page_info(page)}


def _tenant_roles(node: TenantNode, info: Info) -> list[dict[str, Any]]:
    request = _request(info)
    return [
        role_view(request.ctx.roles, node.account, role)
        for role in request.loaders.available_roles(node.account)
    ]


def _tenant_usage(node: TenantNode, info: Info) -> dict[str, Any] | None:
    usage = _request(info).loaders.usage(node.account.id)
    return None if usage is None else usage_view(usage)


def _ui_flag(need: tuple[str, str, Any]) -> Any:
    def resolve(node: TenantNode, info: Info) -> bool:
        role = _request(info).loaders.own_role(node.account.id)
        return role is not None and role.allows(need)

    return resolve


def _user_roles(node: UserNode, info: Info) -> list[dict[str, Any]]:
    request = _request(info)
    return request.loaders.role_views(request.loaders.listed_roles(node.user.id, "roles"))


def _user_tenants(node: UserNode, info: Info) -> list[TenantNode]:
    held = _request(info).loaders.listed_roles(node.user.id, "tenants")
    return [TenantNode(h.account) for h in held]


def _user_default_tenant(node: UserNode, info: Info) -> str | None:
    held = _request(info).loaders.roles_held(node.user.id)
    advertisers = [h for h in held if h.account.kind is AccountKind.ADVERTISER]
    chosen = (advertisers or held)[:1]
    return chosen[0].account.id if chosen else None


def _marker(*_: Any) -> dict[str, Any]:
    return {}


RESOLVERS: dict[str, dict[str, Any]] = {
    "Query": {
        "tenant": resolve_tenant,
        "tenantUsage": resolve_tenant_usage,
        "tenants": resolve_tenants,
        "user": resolve_user,
        "ingressDomain": resolve_ingress_domain,
        "auditEvents": resolve_audit_events,
    },
    "Mutation": {
        "userMutations": _marker,
        "tenantMutations": _marker,
        "upsertIngressDomain": resolve_upsert_ingress_domain,
    },
    "UserMutations": {
        "addUserWithRole": resolve_add_user_with_role,
        "changeRoleForUser": resolve_change_role_for_user,
        "sendInvitation": resolve_send_invitation,
        "removeUserFromTenant": resolve_remove_user_from_tenant,
        "deactivateUser": resolve_deactivate_user,
        "reactivateUser": resolve_reactivate_user,
        "revokeInvitation": resolve_revoke_invitation,
    },
    "TenantMutations": {
        "createTenant": resolve_create_tenant,
        "updateTenant": resolve_update_tenant,
        "deleteTenant": resolve_delete_tenant,
        "transferTenantOwnership": resolve_transfer_tenant_ownership,
        "updateTenantPolicy": resolve_update_tenant_policy,
    },
    "Tenant": {
        "id": lambda n, _: n.account.id,
        "name": lambda n, _: n.account.name,
        "status": lambda n, _: int(n.account.status),
        "canPartnerManage": lambda n, _: n.account.can_partner_manage,
        "eventEnrichment": lambda n, _: n.account.event_enrichment,
        "users": _tenant_users,
        "usersConnection": _tenant_users_connection,
        "availableRoles": _tenant_roles,
        "tenantUsage": _tenant_usage,
        "canEditTenantSettingsInUI": _ui_flag(Need.MANAGE_SETTINGS),
        "canViewTenantInUI": _ui_flag(Need.READ_ACCOUNT),
        "canEditTenantUsersInUI": _ui_flag(Need.MANAGE_USERS),
        "policy": lambda n, _: policy_view(n.account),
    },
    "User": {
        "id": lambda n, _: n.user.id,
        "email": lambda n, _: n.user.email,
        "status": lambda n, _: int(n.user.status),
        "roles": _user_roles,
        "tenants": _user_tenants,
        "isSelf": lambda n, info: _request(info).actor.user_id == n.user.id,
        "canBeDeleted": lambda n, info: not _request(info).loaders.placements(n.user.id).sole_admin,
        "defaultTenantId": _user_default_tenant,
        "userExpiry": lambda n, _: n.user.expires_on.isoformat() if n.user.expires_on else None,
    },
}


add_sso_resolvers(RESOLVERS)


def _with_webhooks() -> dict[str, dict[str, Any]]:
    merged = {name: dict(fields) for name, fields in RESOLVERS.items()}
    for name, fields in WEBHOOK_RESOLVERS.items():
        merged.setdefault(name, {}).update(fields)
    return merged


def build_hub_engine() -> GraphQLEngine:
    return GraphQLEngine(load_schema(SDL, _with_webhooks()))


def hub_app(ctx: ServiceContext, engine: GraphQLEngine | None = None) -> FastAPI:
    return graphql_app(
        HUB_PATH,
        engine=engine or build_hub_engine(),
        ctx=ctx,
        face=FACE,
        make_context=lambda c, actor, selected: HubRequest(
            c, actor, HubLoaders(c, actor), selected
        ),
        title="Control plane",
    )
