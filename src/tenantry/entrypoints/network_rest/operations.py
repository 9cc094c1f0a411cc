"""What each route of the network integration does once the caller is known: call one
service, render its answer. Runs in the server's thread pool."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tenantry.domain.network import BLANK, NOT_OBJECT, InvalidNetworkInput
from tenantry.entrypoints.network_rest.views import (
    advertiser_json,
    network_json,
    user_json,
    users_json,
)
from tenantry.services import network, network_advertisers
from tenantry.services.context import Actor, ServiceContext


@dataclass(frozen=True, slots=True)
class Call:
    """One request, parsed: the version and network in its path, the other path parameters,
    and its JSON body (an object, without the token it may carry)."""

    version: str
    network_id: str
    params: Mapping[str, str]
    body: Mapping[str, Any] | None


Answer = tuple[Any, int]
Operation = Callable[[ServiceContext, Actor, Call], Answer]


# -- the network ---------------------------------------------------------------------------------


def get_network(ctx: ServiceContext, actor: Actor, call: Call) -> Answer:
    return network_json(ctx, network.get_network(ctx, actor, call.network_id)), 200


def replace_network(status: int) -> Operation:
    """POST and PUT do the same; POST answers 201, PUT 200, as the documents say."""

    def operation(ctx: ServiceContext, actor: Actor, call: Call) -> Answer:
        users = (call.body or {}).get("users")
        view = network.replace_network_users(ctx, actor, call.network_id, users)
        return network_json(ctx, view), status

    return operation


# -- advertisers ---------------------------------------------------------------------------------


def list_advertisers(ctx: ServiceContext, actor: Actor, call: Call) -> Answer:
    views = network_advertisers.list_advertisers(ctx, actor, call.network_id)
    return [_advertiser(ctx, call, v) for v in views], 200


def get_advertiser(ctx: ServiceContext, actor: Actor, call: Call) -> Answer:
    view = network_advertisers.get_advertiser(
        ctx, actor, call.network_id, call.params["advertiser_id"]
    )
    return _advertiser(ctx, call, view), 200


def create_advertiser(ctx: ServiceContext, actor: Actor, call: Call) -> Answer:
    """POST: 201 when it created the advertiser, 200 when it updated it."""
    result = network_advertisers.upsert_advertiser(
        ctx,
        actor,
        call.network_id,
        _advertiser_body(call),
        advertiser_id=call.params.get("advertiser_id"),
    )
    return _advertiser(ctx, call, result.advertiser), 201 if result.created else 200


def update_advertiser(ctx: ServiceContext, actor: Actor, call: Call) -> Answer:
    """PUT: creates a missing advertiser too, and answers 200 either way."""
    result = network_advertisers.upsert_advertiser(
        ctx,
        actor,
        call.network_id,
        _advertiser_body(call),
        advertiser_id=call.params["advertiser_id"],
    )
    return _advertiser(ctx, call, result.advertiser), 200


def delete_advertiser(ctx: ServiceContext, actor: Actor, call: Call) -> Answer:
    network_advertisers.delete_advertiser(ctx, actor, call.network_id, call.params["advertiser_id"])
    return {}, 200


def _advertiser(ctx: ServiceContext, call: Call, view: network_advertisers.AdvertiserView) -> Any:
    return advertiser_json(ctx, view, version=call.version, network_id=call.network_id)


def _advertiser_body(call: Call) -> Mapping[str, Any]:
    """The advertiser object: the body itself, or the object under `advertiser` for
    callers that wrap it."""
    body = call.body or {}
    wrapped = body.get("advertiser")
    if isinstance(wrapped, Mapping) and set(body) == {"advertiser"}:
        return wrapped
    return body


# -- an advertiser's users -----------------------------------------------------------------------


def list_users(ctx: ServiceContext, actor: Actor, call: Call) -> Answer:
    members = network.list_advertiser_users(
        ctx, actor, call.network_id, call.params["advertiser_id"]
    )
    return users_json(ctx, members), 200


def get_user(ctx: ServiceContext, actor: Actor, call: Call) -> Answer:
    member = network.get_advertiser_user(
        ctx, actor, call.network_id, call.params["advertiser_id"], call.params["user_id"]
    )
    return user_json(ctx, member), 200


def create_user(ctx: ServiceContext, actor: Actor, call: Call) -> Answer:
    """POST: 201 when the user joined the advertiser, 200 when it was updated."""
    result = network.upsert_advertiser_user(
        ctx, actor, call.network_id, call.params["advertiser_id"], _user_body(call)
    )
    return user_json(ctx, result.member), 201 if result.created else 200


def update_user(ctx: ServiceContext, actor: Actor, call: Call) -> Answer:
    """PUT: creates a missing user too, and answers 200 either way."""
    result = network.upsert_advertiser_user(
        ctx,
        actor,
        call.network_id,
        call.params["advertiser_id"],
        _user_body(call),
        user_id=call.params["user_id"],
    )
    return user_json(ctx, result.member), 200


def delete_user(ctx: ServiceContext, actor: Actor, call: Call) -> Answer:
    network.delete_advertiser_user(
        ctx, actor, call.network_id, call.params["advertiser_id"], call.params["user_id"]
    )
    return {}, 200


def _user_body(call: Call) -> Mapping[str, Any]:
    user = (call.body or {}).get("user")
    if user is None:
        raise InvalidNetworkInput.one(("user",), BLANK)
    if not isinstance(user, Mapping):
        raise InvalidNetworkInput.one(("user",), NOT_OBJECT)
    return user
